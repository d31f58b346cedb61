"""The overfitting and regularization page: one small network that overfits, and four remedies.

Nielsen's chapter 3 set-up on our digits: a [784, 30, 10] sigmoid network with a sigmoid
output under the cross-entropy cost, trained with plain SGD (eta = 0.5, mini-batch 10) on
only the first 1,000 training digits for hundreds of epochs, and measured every epoch on
the 1,000 validation digits. Each remedy (``KINDS``: none, L2, L1, dropout, early stopping)
trains that same run again, from the same initial weights on the same mini-batches: the
seed draws the weights and then the shuffles, and dropout's masks come from a second stream
(``SplitRng``) so that they do not change which digits share a mini-batch. The 1,000 test
digits are used for nothing but the reported test accuracy, so no choice (a best epoch,
early stopping's epoch, the page's lambda) ever saw them.

What the page shows, and where it comes from:

- overfitting, seen: ``run_remedy`` gives the curves (``History``); ``overfit`` reads off
  where validation accuracy peaked and validation cost was lowest, how far the cost rose
  after and whether training cost kept falling; ``overfit_sentence`` puts it into words;
- each remedy against none: ``remedy_sentence``, and for early stopping ``early_sentence``;
  a table, ``summary_rows`` and ``summary_sentence``;
- L2 as ridge regression: ``ridge_demo`` solves (X^T X + lambda I)^-1 X^T y for a small
  polynomial fit (``ridge_sentence``), ``decay_demo`` gives the network's decay factor
  1 - eta lambda / n with the page's numbers (``decay_sentence``);
- L1's exact zeros (``RegRun.zero_fraction``) and the first layer's weights as 28 x 28
  images (``weight_images``, ``weight_histogram``), with ``roughness`` to say in numbers
  which picture is smooth;
- dropout: one mini-batch's mask (``dropout_mask``), and why evaluation uses the whole
  network (``dropout_check``, ``dropout_sentence``: evaluation is deterministic, training
  is not, and the inverted scaling 1 / keep leaves the mean activation unchanged).

Measured defaults (seed 0, seeds 1 and 2 in brackets; accuracies on the validation digits):

- Weights N(0, 1), Nielsen's "large" initialization in his overfitting section. Without
  regularization the run ends at 84.1% (84.2, 85.1), 100% on its training digits: a gap of
  15.9 points (15.8, 14.9); validation cost is lowest at epoch 16 and ends 38% higher.
  (Nielsen, on MNIST's test digits: 82.3%, and 87.1% with L2.) With the N(0, 1/n_in) weights
  of the other pages the same network reaches 90% unregularized, and L2 at lambda 0.1 or 1
  leaves the gap where it was (10.8 points both, against 10.6; 400 epochs): much of what L2
  does here is shrink large initial weights, as Nielsen says of this very experiment.
- lambda = 1 (L2): 89.7% (90.2, 88.9), gap 10.2 (9.8, 11.1). Nielsen's 0.1 narrows the gap
  nearly as much (88.8%, gap 11.2) but over 300 epochs its decay factor compounds to only
  0.22, so the first layer's weights keep much of their random start and their images look
  like noise (roughness 0.83); at lambda = 1 it compounds to 3 x 10^-7 and the images are
  smooth (roughness 0.39, against 0.97 unregularized). lambda = 3 narrows the gap to 8.1 but
  holds training back (97.7% of the training digits).
- lambda1 = 0.2 (L1): 52% of all weights exactly zero (53%, 50%) at 88.9% (88.5, 88.6), gap
  11.1. 183 of the 784 pixels are blank in all 1,000 digits, but 38% of the weights from the
  other pixels are zero too. lambda1 = 0.5 zeroes 57% and ends at 86.3%; 1 zeroes 61% but
  fits only 94% of the training digits.
- keep = 0.5 (dropout, as in the notes): 86.4% (86.8, 88.2), gap 13.2, within noise of none;
  with 30 hidden units, half of them is few, and keep = 0.8 does a little better (87.9%).
  Validation cost still rises 43% after epoch 55.
- patience = 10 (early stopping): the unregularized run stops at epoch 34 and keeps epoch
  24's network: 83.6% validation, 83.8% test, against 84.8% test for all 300 epochs and
  88.5% for L2 (seeds 1, 2: kept epochs 35 and 41, test 82.5% and 83.3%).
- 300 epochs, not Nielsen's 400. Cold, one thread, median of three runs on a lightly loaded
  machine: L1 8.0 s (its sign and clamp every step), L2 6.0 s, none and dropout 5.5 s, early
  stopping 0.7 s; L1 at 400 epochs 10.6 s. With the machine busy (load 3 on 2 cores) the same
  runs took up to 1.5 to 2 times as long (L1 at 300 epochs up to 11.7 s, none at 400 up to
  16.8 s), so 400 epochs could pass 15 s. Every epoch is recorded: with the engine's layer
  statistics on 100 digits only, recording costs under a tenth of a run. The slowest offered
  setting, ``LARGEST`` (8,000 digits, 50 epochs, L1), takes 8.8 s.

Non-goals: dropout on the inputs, max-norm, data augmentation, tuning lambda per seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from explain.activation_verdicts import accuracy_noise
from explain.nn.datasets import load_mnist
from explain.nn.layers import dropout_forward
from explain.nn.network import NetworkSpec, Params, forward, init_params
from explain.nn.training import Divergence, History, SplitRng, TrainConfig, evaluate, train
from explain.words import amount, names

SIZES = (784, 30, 10)
KINDS = ("none", "l2", "l1", "dropout", "early")
KIND_LABELS = {
    "none": "no regularization",
    "l2": "L2",
    "l1": "L1",
    "dropout": "dropout",
    "early": "early stopping",
}
PROBE = 100  # digits for the engine's per-layer statistics, which this page does not plot

# What the page offers. A run's time grows with n_train x epochs (mini-batch steps); BUDGET
# bounds it (``epoch_choices``): 1,000 digits x 400 epochs, Nielsen's run, where L1, the
# slowest remedy, takes 10.6 s cold on one lightly loaded core (up to about 16 s busy); at
# 8,000 digits the budget allows 50 epochs (``LARGEST``, 8.8 s: evaluating is vectorized).
N_TRAIN_CHOICES = (1000, 2000, 4000, 8000)
EPOCH_CHOICES = (30, 50, 100, 200, 300, 400)
BUDGET = 400_000
LAMBDA_CHOICES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LAMBDA1_CHOICES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
KEEP_CHOICES = (0.2, 0.3, 0.5, 0.7, 0.8, 0.9)
PATIENCE_CHOICES = (3, 5, 10, 20, 50)

# Validation cost counts as "turned upwards" once it ends RISE (10%) above its lowest value.
# Measured on the default runs cut at 30, 50, 100, 200 and 300 epochs: without regularization
# it ends 4% above its lowest at 30 epochs, 10% at 50, 38% at 300 (a smooth climb, 0.05% an
# epoch); dropout 12% by 100 epochs, 43% at 300. L2's and L1's stay within 5% and 8% of their
# lowest, though they wobble by 2 to 3% from one epoch to the next; L1's run also has rare
# shocks (around epoch 260 validation cost jumps by half for two epochs, then recovers).
RISE = 0.10
N_EVAL = 1000  # validation digits, and test digits


def epoch_choices(n_train: int) -> tuple[int, ...]:
    """The offered epoch counts that keep n_train x epochs within BUDGET (at least the
    smallest)."""
    fit = tuple(e for e in EPOCH_CHOICES if n_train * e <= BUDGET)
    return fit or EPOCH_CHOICES[:1]


def label(kind: str) -> str:
    """How the page names a remedy: 'L2', 'early stopping', 'no regularization'."""
    return KIND_LABELS.get(kind, kind)


# --- the setup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegSetup:
    """One run: the shared network and data, and the remedy ``kind`` with its strength.

    ``lmbda`` is L2's lambda and ``lmbda1`` L1's (both divided by n_train, as Nielsen does),
    ``keep_prob`` dropout's keep probability for the hidden units, ``patience`` early
    stopping's epochs without a new best validation accuracy. A run uses only its own kind's
    parameter; ``remedy(kind)`` gives the setup with the others at their defaults, so that
    moving one remedy's control leaves the other runs' cache keys alone.

    Defaults measured (module docstring). Raises ValueError for an unknown kind, sizes
    outside 1..8,000 digits, a non-positive count or rate, a negative penalty, a keep
    probability outside (0, 1], or eta lambda / n >= 1 (the decay factor would not be
    positive: every step would flip the weights' signs).
    """

    kind: str = "none"
    n_train: int = 1000
    epochs: int = 300
    eta: float = 0.5
    batch_size: int = 10
    lmbda: float = 1.0
    lmbda1: float = 0.2
    keep_prob: float = 0.5
    patience: int = 10
    seed: int = 0
    weight_init: str = "gaussian"  # N(0, 1), Nielsen's large weights; "scaled": N(0, 1/n_in)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} not among {KINDS}")
        if not 1 <= self.n_train <= 8000:
            raise ValueError(f"n_train must lie in 1..8000 (the training digits): {self.n_train}")
        if min(self.epochs, self.batch_size, self.patience) < 1:
            raise ValueError("epochs, batch_size and patience must be at least 1")
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise ValueError(f"eta must be positive, got {self.eta}")
        if not (self.lmbda >= 0 and self.lmbda1 >= 0 and math.isfinite(self.lmbda1)):
            raise ValueError(f"lambdas must be >= 0: {self.lmbda}, {self.lmbda1}")
        if self.eta * self.lmbda / self.n_train >= 1:
            raise ValueError("eta lambda / n must stay below 1 (a positive decay factor)")
        if not 0 < self.keep_prob <= 1:
            raise ValueError(f"keep_prob must lie in (0, 1], got {self.keep_prob}")

    def remedy(self, kind: str) -> RegSetup:
        """This setup run with remedy ``kind``; the other remedies' parameters at their
        defaults (they do not change that run)."""
        own = {"l2": "lmbda", "l1": "lmbda1", "dropout": "keep_prob", "early": "patience"}
        base = RegSetup()
        reset = {f: getattr(base, f) for f in own.values() if f != own.get(kind)}
        return replace(self, kind=kind, **reset)

    def spec(self) -> NetworkSpec:
        """[784, 30, 10], sigmoid units, cross-entropy; dropout on the hidden layer if asked."""
        keep = self.keep_prob if self.kind == "dropout" else 1.0
        return NetworkSpec(
            SIZES, "sigmoid", "cross_entropy", weight_init=self.weight_init, keep_prob=keep
        )

    def config(self) -> TrainConfig:
        """Plain SGD with this run's penalty, or early stopping's patience."""
        k = self.kind
        return TrainConfig(
            self.epochs,
            self.batch_size,
            self.eta,
            lmbda=self.lmbda if k == "l2" else 0.0,
            lmbda1=self.lmbda1 if k == "l1" else 0.0,
            patience=self.patience if k == "early" else 0,
        )

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)

    def describe(self) -> str:
        """The remedy with its strength: 'L2 (λ = 1)', 'dropout (keep 0.5)'."""
        what = {
            "l2": f" (λ = {amount(self.lmbda)})",
            "l1": f" (λ₁ = {amount(self.lmbda1)})",
            "dropout": f" (keep {amount(self.keep_prob)})",
            "early": f" (patience {self.patience})",
        }
        return label(self.kind) + what.get(self.kind, "")


DEFAULT = RegSetup()
LARGEST = RegSetup(kind="l1", n_train=max(N_TRAIN_CHOICES), epochs=max(epoch_choices(8000)))


# --- running one remedy ----------------------------------------------------------------------


class RegRun(NamedTuple):
    """One remedy's run.

    ``history`` has a row per epoch (row 0 at initialization): training cost (with the
    penalty term, as Nielsen plots it) and accuracy on the n_train digits, validation cost
    and accuracy. ``params`` is the returned network: the last epoch's, or with early
    stopping the kept (best validation) epoch's, ``kept_epoch``. The accuracies (fractions)
    and costs (without any penalty) are that network's on training, validation and test
    digits; None if training diverged (``diverged_at``). ``best_epoch``, ``best_accuracy``:
    the first recorded epoch with the highest validation accuracy. ``zero_fraction``:
    weights exactly 0 over all layers, ``zero_first`` over the first layer, ``zero_lit``
    over the first layer's weights from pixels lit in some training digit. ``stopped_at``:
    the epoch where early stopping's patience ran out (None: it never did, or no early
    stopping).
    """

    setup: RegSetup
    history: History
    params: Params
    train_accuracy: float | None
    eval_accuracy: float | None
    test_accuracy: float | None
    train_cost: float | None
    eval_cost: float | None
    test_cost: float | None
    best_epoch: int
    best_accuracy: float
    zero_fraction: float
    zero_first: float
    zero_lit: float
    kept_epoch: int
    stopped_at: int | None
    diverged_at: Divergence | None

    @property
    def kind(self) -> str:
        return self.setup.kind

    @property
    def W1(self) -> np.ndarray:
        """The first layer's weights (784, 30)."""
        return self.params.W[0]

    @property
    def gap(self) -> float | None:
        """Training minus validation accuracy of the returned network (a fraction)."""
        if self.train_accuracy is None or self.eval_accuracy is None:
            return None
        return self.train_accuracy - self.eval_accuracy

    @property
    def cost_gap(self) -> float | None:
        """Validation minus training cost of the returned network (no penalty term)."""
        if self.train_cost is None or self.eval_cost is None:
            return None
        return self.eval_cost - self.train_cost


def run_remedy(setup: RegSetup, on_progress: Callable[[int, int], None] | None = None) -> RegRun:
    """Train ``setup`` from its seed and measure the returned network on all three parts of
    the digits; ``on_progress(epoch, epochs)`` after every epoch (early stopping may end
    before ``epochs``)."""
    data = load_mnist()
    train_set = data.train.take(setup.n_train)
    spec = setup.spec()
    rng = np.random.default_rng(setup.seed)
    params = init_params(spec, rng=rng)
    streams = SplitRng(rng, np.random.default_rng([setup.seed, 1]))
    result = train(
        spec,
        params,
        train_set,
        setup.config(),
        rng=streams,  # a Generator's two methods that training uses
        eval_data=data.validation,
        probe=train_set.take(PROBE),
        on_epoch=on_progress,
    )
    h, p = result.history, result.params
    scores = [None] * 6
    if result.diverged_at is None:
        parts = (train_set, data.validation, data.test)
        costs, accs = zip(*(evaluate(spec, p, part) for part in parts))
        scores = [*accs, *costs]
    best = int(np.argmax(h.eval_accuracy)) if len(h.epoch) else 0
    last = int(h.epoch[-1]) if len(h.epoch) else 0
    kept = result.best_epoch if result.best_epoch is not None else last
    lit = train_set.x.max(axis=0) > 0
    return RegRun(
        setup,
        h,
        p,
        *scores,
        int(h.epoch[best]) if len(h.epoch) else 0,
        float(h.eval_accuracy[best]) if len(h.epoch) else 0.0,
        float(np.mean(np.concatenate([w.ravel() for w in p.W]) == 0)),
        float(np.mean(p.W[0] == 0)),
        float(np.mean(p.W[0][lit] == 0)),
        kept,
        result.stopped_at,
        result.diverged_at,
    )


def run_remedies(
    setup: RegSetup,
    kinds: tuple[str, ...] = KINDS,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, RegRun]:
    """Every remedy of ``kinds`` on ``setup`` (uncached; pages cache per remedy);
    ``on_progress(done, total)`` counts epochs over all runs (early stopping's unused
    epochs are skipped at its end)."""
    out, total = {}, len(kinds) * setup.epochs
    for i, kind in enumerate(kinds):
        done = i * setup.epochs
        tick = None if on_progress is None else (lambda e, _n, d=done: on_progress(d + e, total))
        out[kind] = run_remedy(setup.remedy(kind), tick)
    return out


# --- overfitting, measured -------------------------------------------------------------------


class Overfit(NamedTuple):
    """What a run's curves did, read from its History (to the last recorded epoch, whatever
    network early stopping returned). Accuracies are fractions.

    peak_epoch, peak_accuracy: validation accuracy's first maximum. low_epoch, low_cost:
    validation cost's lowest, and at_low the validation accuracy then. final_*: the last
    row's validation numbers; rise = final_cost / low_cost - 1. train_at_low, train_final:
    training cost (with any penalty term) at low_epoch and at the end; train_accuracy at the
    end. overfitting: validation cost ended more than RISE above its lowest while training
    cost kept falling.
    """

    peak_epoch: int
    peak_accuracy: float
    low_epoch: int
    low_cost: float
    at_low: float
    final_epoch: int
    final_accuracy: float
    final_cost: float
    rise: float
    train_at_low: float
    train_final: float
    train_accuracy: float
    overfitting: bool

    @property
    def gap(self) -> float:
        """Training minus validation accuracy at the end (a fraction)."""
        return self.train_accuracy - self.final_accuracy

    @property
    def train_falling(self) -> bool:
        """Training cost ended below where it was when validation cost was lowest."""
        return self.train_final < self.train_at_low


def overfit(run: RegRun) -> Overfit | None:
    """Measure the run's curves; None without a trained epoch (a run that diverged in its
    first epoch). Row 0, the untrained network, counts for neither peak nor lowest cost."""
    h = run.history
    if len(h.epoch) < 2:
        return None
    acc, cost = h.eval_accuracy[1:], h.eval_cost[1:]
    peak, low = int(np.argmax(acc)), int(np.argmin(cost))
    rise = float(cost[-1] / cost[low] - 1)
    train_low, train_end = float(h.train_cost[1:][low]), float(h.train_cost[-1])
    return Overfit(
        int(h.epoch[1:][peak]),
        float(acc[peak]),
        int(h.epoch[1:][low]),
        float(cost[low]),
        float(acc[low]),
        int(h.epoch[-1]),
        float(acc[-1]),
        float(cost[-1]),
        rise,
        train_low,
        train_end,
        float(h.train_accuracy[-1]),
        rise > RISE and train_end < train_low,
    )


def _pct(fraction: float) -> str:
    """0.8412 -> '84.1%'."""
    return f"{100 * fraction:.1f}%"


def _points(fraction: float) -> str:
    """A difference of fractions in percentage points, one decimal: 0.159 -> '15.9'."""
    return f"{abs(100 * fraction):.1f}"


def _noise(a: float, b: float, n: int = N_EVAL) -> float:
    """accuracy_noise of two fractions, as a fraction."""
    return accuracy_noise(100 * a, 100 * b, n) / 100


def overfit_sentence(run: RegRun) -> str:
    """What the curves did, in words: the costs, validation accuracy, and the gap at the end."""
    o = overfit(run)
    if o is None:
        return f"Training {_where(run.diverged_at)}, before a single epoch was recorded."
    return " ".join([_cost_clause(o), _accuracy_clause(o), _gap_clause(o, run)]) + _cut(run)


def _cost_clause(o: Overfit) -> str:
    if o.overfitting:
        return (
            f"Training cost kept falling, from {amount(o.train_at_low)} at epoch {o.low_epoch} "
            f"to {amount(o.train_final)} at epoch {o.final_epoch}, while validation cost was "
            f"lowest at epoch {o.low_epoch} ({amount(o.low_cost)}) and then rose by "
            f"{amount(100 * o.rise)}% to {amount(o.final_cost)}: from there on the network "
            "learned things about its training digits that do not hold for new ones."
        )
    if o.low_epoch == o.final_epoch:
        return (
            f"Validation cost was still falling at the end (its lowest, {amount(o.low_cost)}, "
            "at the last epoch): no sign of overfitting in the cost."
        )
    text = (
        f"Validation cost was lowest ({amount(o.low_cost)}) at epoch {o.low_epoch} and ended "
        f"{amount(100 * o.rise)}% above it"
    )
    if o.rise > RISE:  # it rose, but training cost did not keep falling either
        return text + ", but training cost did not keep falling: this is not overfitting."
    return text + f", less than {amount(100 * RISE)}%: no clear turn upwards."


def _accuracy_clause(o: Overfit) -> str:
    if o.final_epoch == o.peak_epoch:
        head = f"Validation accuracy was highest at the end, {_pct(o.peak_accuracy)}"
    else:
        head = (
            f"Validation accuracy peaked at {_pct(o.peak_accuracy)} in epoch {o.peak_epoch} "
            f"and ended at {_pct(o.final_accuracy)}"
        )
    after = o.final_epoch - o.low_epoch
    change = o.final_accuracy - o.at_low
    if not o.overfitting or after == 0:
        return head + "."
    if abs(change) <= _noise(o.final_accuracy, o.at_low):
        return (
            f"{head}; over the {after} epochs after validation cost's lowest it moved from "
            f"{_pct(o.at_low)} by {_points(change)} points, within the noise of "
            f"{N_EVAL:,} digits: it stopped improving."
        )
    verb = "rose" if change > 0 else "fell"
    return f"{head}; over the {after} epochs after validation cost's lowest it {verb} by " + (
        f"{_points(change)} points from {_pct(o.at_low)}."
    )


def _gap_clause(o: Overfit, run: RegRun) -> str:
    return (
        f"At epoch {o.final_epoch} the network classifies {_pct(o.train_accuracy)} of its "
        f"{run.setup.n_train:,} training digits correctly and {_pct(o.final_accuracy)} of the "
        f"{N_EVAL:,} validation digits: a gap of {_points(o.gap)} points."
    )


def _cut(run: RegRun) -> str:
    if run.diverged_at is not None:
        return f" Training {_where(run.diverged_at)}; the curves end there."
    if run.stopped_at is not None:
        return f" Early stopping ended training at epoch {run.stopped_at}."
    return ""


def _diverged(run: RegRun) -> str:
    """'L2 (λ = 0.1) diverged in epoch 3'."""
    return f"{run.setup.describe()} {_where(run.diverged_at)}"


def _where(diverged: Divergence | None) -> str:
    if diverged is None or diverged.epoch == 0:
        return "diverged at initialization"
    return f"diverged in epoch {diverged.epoch}"


# --- a remedy against none -------------------------------------------------------------------


def _finished(run: RegRun) -> bool:
    return run.diverged_at is None and run.eval_accuracy is not None


def remedy_sentence(none_run: RegRun, remedy: RegRun) -> str:
    """The remedy's returned network against the unregularized one's: the train/validation
    gap, validation accuracy (with a verdict: helped, within noise, held back, no help) and
    the test accuracy. Early stopping gets ``early_sentence``."""
    if remedy.kind == "early":
        return early_sentence(none_run, remedy)
    what = remedy.setup.describe()
    if remedy.kind == "none":
        return f"This is the run without regularization: {_gap_of(remedy)}."
    if not _finished(remedy) or not _finished(none_run):
        gone = [r for r in (none_run, remedy) if not _finished(r)]
        return "No comparison: " + names([f"{_diverged(r)}" for r in gone]) + "."
    g0, g1 = none_run.gap, remedy.gap
    gap_noise = math.hypot(
        _noise(none_run.train_accuracy, remedy.train_accuracy, remedy.setup.n_train),
        _noise(none_run.eval_accuracy, remedy.eval_accuracy),
    )
    if abs(g1 - g0) <= gap_noise:
        change = "the same within noise"
    else:
        change = f"{_points(g1 - g0)} points {'narrower' if g1 < g0 else 'wider'}"
    first = (
        f"With {what} the network ends at {_pct(remedy.train_accuracy)} on its training digits "
        f"and {_pct(remedy.eval_accuracy)} on the validation digits: a gap of {_points(g1)} "
        f"points against {_points(g0)} without regularization, {change}."
    )
    verdict = _verdict(none_run, remedy, g1 < g0 - gap_noise, g1 > g0 + gap_noise)
    return " ".join([first, verdict, _test_clause(remedy, none_run, "without regularization")])


def _gap_of(run: RegRun) -> str:
    if not _finished(run):
        return f"training {_where(run.diverged_at)}"
    return (
        f"{_pct(run.train_accuracy)} on training digits, {_pct(run.eval_accuracy)} on "
        f"validation digits, a gap of {_points(run.gap)} points"
    )


def _verdict(none_run: RegRun, remedy: RegRun, narrower: bool, wider: bool) -> str:
    v0, v1 = none_run.eval_accuracy, remedy.eval_accuracy
    up, down = v1 - v0 > _noise(v0, v1), v0 - v1 > _noise(v0, v1)
    name = _cap(label(remedy.kind))
    if narrower and up:
        return f"{name} helped: a narrower gap, and validation accuracy up from {_pct(v0)}."
    if narrower and down:
        return (
            f"{name} narrowed the gap by fitting the training digits less well, not by doing "
            f"better on new ones (validation accuracy down from {_pct(v0)}): at this strength "
            "it holds the network back."
        )
    if narrower:
        return (
            f"{name} narrowed the gap, but validation accuracy is within noise of the "
            f"unregularized {_pct(v0)}."
        )
    if up:
        return f"The gap did not narrow beyond noise, yet validation accuracy rose from {_pct(v0)}."
    if wider:
        return f"Here {label(remedy.kind)} widened the gap: it did not help."
    moved = "fell" if down else "stayed within noise"
    return f"Here {label(remedy.kind)} did not help: validation accuracy {moved} (from {_pct(v0)})."


def _test_clause(run: RegRun, other: RegRun, other_name: str) -> str:
    t1, t0 = run.test_accuracy, other.test_accuracy
    close = abs(t1 - t0) <= _noise(t0, t1)
    noise = f", within the noise of {N_EVAL:,} digits" if close else ""
    return (
        f"On the test digits, which no choice saw, it scores {_pct(t1)} against {_pct(t0)} "
        f"{other_name}{noise}."
    )


def early_sentence(none_run: RegRun, early: RegRun, l2_run: RegRun | None = None) -> str:
    """Where early stopping ends the unregularized run, what it keeps (validation accuracy,
    which chose the epoch, and test accuracy, which did not), against training on to the end
    and, if given, against L2."""
    if not _finished(early) or not _finished(none_run):
        return f"No comparison: training {_where(early.diverged_at or none_run.diverged_at)}."
    p, kept = early.setup.patience, early.kept_epoch
    if early.stopped_at is None:
        head = (
            f"In {early.setup.epochs} epochs validation accuracy never went {p} epochs without "
            f"a new best, so early stopping ran to the end and keeps epoch {kept}'s network"
        )
    else:
        head = (
            f"With a patience of {p} epochs, early stopping ends the unregularized run at epoch "
            f"{early.stopped_at}, {p} epochs after its best validation accuracy, and keeps "
            f"epoch {kept}'s network"
        )
    parts = [
        f"{head}: {_pct(early.eval_accuracy)} on the validation digits that chose it, "
        f"{_pct(early.test_accuracy)} on the test digits, which it never saw.",
        _onward(none_run, early),
    ]
    if l2_run is not None and _finished(l2_run):
        parts.append(_against_l2(early, l2_run))
    return " ".join(parts)


def _onward(none_run: RegRun, early: RegRun) -> str:
    """Training on to the end instead."""
    t0, t1 = none_run.test_accuracy, early.test_accuracy
    close = abs(t1 - t0) <= _noise(t0, t1)
    how = "within noise of" if close else ("better than" if t0 > t1 else "worse than")
    text = (
        f"Training on to epoch {none_run.setup.epochs} ends at {_pct(none_run.test_accuracy)} "
        f"on the test digits, {how} the network early stopping keeps"
    )
    if none_run.best_epoch > early.kept_epoch and none_run.best_accuracy > early.eval_accuracy:
        text += (
            f"; the full run's best validation accuracy, {_pct(none_run.best_accuracy)} in "
            f"epoch {none_run.best_epoch}, came after patience ran out"
        )
    return text + "."


def _against_l2(early: RegRun, l2_run: RegRun) -> str:
    t1, t2 = early.test_accuracy, l2_run.test_accuracy
    close = abs(t1 - t2) <= _noise(t1, t2)
    if close:
        how = "within noise of early stopping's"
    else:
        how = f"{_points(t2 - t1)} points {'above' if t2 > t1 else 'below'} early stopping's"
    return f"{l2_run.setup.describe()} ends at {_pct(t2)} on the test digits, {how}."


# --- the summary table -----------------------------------------------------------------------


class SummaryRow(NamedTuple):
    """One remedy in the table; accuracies are fractions, None where training diverged.

    best_accuracy, best_epoch: the best recorded validation epoch; final_accuracy,
    train_accuracy, gap, cost_gap, test_accuracy: the returned network's (early stopping's
    kept epoch); epochs: how many epochs were trained.
    """

    kind: str
    label: str
    best_accuracy: float
    best_epoch: int
    final_accuracy: float | None
    train_accuracy: float | None
    gap: float | None
    cost_gap: float | None
    test_accuracy: float | None
    zero_fraction: float
    epochs: int


def summary_rows(runs: dict[str, RegRun]) -> list[SummaryRow]:
    """A row per run, in KINDS order (kinds not run are left out)."""
    rows = []
    for kind in (k for k in KINDS if k in runs):
        r = runs[kind]
        epochs = int(r.history.epoch[-1]) if len(r.history.epoch) else 0
        rows.append(
            SummaryRow(
                kind,
                r.setup.describe(),
                r.best_accuracy,
                r.best_epoch,
                r.eval_accuracy,
                r.train_accuracy,
                r.gap,
                r.cost_gap,
                r.test_accuracy,
                r.zero_fraction,
                epochs,
            )
        )
    return rows


def summary_sentence(rows: list[SummaryRow], n_test: int = N_EVAL) -> str:
    """Which remedy scored best on the test digits, which are within noise of it, which
    below; and which left the smallest train/validation gap."""
    done = [r for r in rows if r.test_accuracy is not None]
    gone = [r.label for r in rows if r.test_accuracy is None]
    tail = f" Diverged: {names(gone)}." if gone else ""
    if not done:
        return "No run finished." + tail
    if len(done) == 1:
        only = done[0]
        return (
            f"{_cap(label(only.kind))} scored {_pct(only.test_accuracy)} on the test digits.{tail}"
        )
    return " ".join([_test_ranking(done, n_test), _smallest_gap(done)]) + tail


def _test_ranking(done: list[SummaryRow], n_test: int) -> str:
    top = max(round(r.test_accuracy, 3) for r in done)
    leaders = [r for r in done if round(r.test_accuracy, 3) == top]
    others = sorted((r for r in done if r not in leaders), key=lambda r: -r.test_accuracy)
    close = [r for r in others if top - r.test_accuracy <= _noise(top, r.test_accuracy, n_test)]
    below = [r for r in others if r not in close]
    who = _cap(names([label(r.kind) for r in leaders]))
    text = f"On the {n_test:,} test digits, {who} scored highest, {_pct(top)}"
    if len(leaders) > 1:
        text = f"On the {n_test:,} test digits, {who} tie for the top, at {_pct(top)}"
    if close:
        verb = "is" if len(close) == 1 else "are"
        text += f"; {_with_test(close)} {verb} within noise of it"
    text += "."
    if below:
        text += f" Below that: {_with_test(below)}."
    return text


def _smallest_gap(done: list[SummaryRow]) -> str:
    least = min(done, key=lambda r: r.gap)
    most = max(done, key=lambda r: r.gap)
    if least.gap == most.gap:
        return f"Every run ends with the same gap, {_points(least.gap)} points."
    return (
        f"The smallest train/validation gap at the end is {label(least.kind)}'s, "
        f"{_points(least.gap)} points; the largest {label(most.kind)}'s, {_points(most.gap)}."
    )


def _with_test(rows: list[SummaryRow]) -> str:
    return names([f"{label(r.kind)} ({_pct(r.test_accuracy)})" for r in rows])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- L2 as ridge regression ------------------------------------------------------------------


class RidgeDemo(NamedTuple):
    """A polynomial fit by ridge regression, w = (X^T X + lambda I)^-1 X^T y, beside lambda = 0.

    x (n,) inputs in [-1, 1], X (n, k) the features 1, x, ..., x^degree, y (n,) targets (a
    line plus noise); w0, w (k,) the solutions at 0 and at ``lmbda``, norm0, norm their
    lengths; grid (G,) and fit0, fit (G,) the two curves for a chart; error0, error the mean
    squared error on the n points, new_error0, new_error on fresh points from the same line.
    """

    x: np.ndarray
    X: np.ndarray
    y: np.ndarray
    lmbda: float
    w0: np.ndarray
    w: np.ndarray
    norm0: float
    norm: float
    grid: np.ndarray
    fit0: np.ndarray
    fit: np.ndarray
    error0: float
    error: float
    new_error0: float
    new_error: float


def ridge(X: np.ndarray, y: np.ndarray, lmbda: float) -> np.ndarray:
    """The ridge solution (X^T X + lambda I)^-1 X^T y, for X (n, k), y (n,); solved, not
    inverted. Every coefficient is penalized, the constant one too, as in the notes' formula."""
    k = X.shape[1]
    return np.linalg.solve(X.T @ X + lmbda * np.eye(k), X.T @ y)


def features(x: np.ndarray, degree: int) -> np.ndarray:
    """(n,) -> (n, degree + 1): the columns 1, x, x^2, ..., x^degree."""
    return np.vander(x, degree + 1, increasing=True)


def ridge_demo(
    lmbda: float, seed: int = 0, n_points: int = 6, degree: int = 4, noise: float = 0.3
) -> RidgeDemo:
    """Fit a degree-``degree`` polynomial to ``n_points`` noisy points of the line y = x,
    once without penalty and once with ``lmbda``; n_points > degree keeps X^T X invertible.
    The same seed gives the same points."""
    if n_points <= degree:
        raise ValueError("need more points than the degree, so that X^T X is invertible")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n_points))
    y = x + rng.normal(0, noise, n_points)
    fresh = rng.uniform(-1, 1, 200)
    fresh_y = fresh + rng.normal(0, noise, 200)
    X, grid = features(x, degree), np.linspace(-1, 1, 101)
    w0, w = ridge(X, y, 0.0), ridge(X, y, lmbda)
    G, F = features(grid, degree), features(fresh, degree)
    return RidgeDemo(
        x, X, y, lmbda, w0, w,
        float(np.linalg.norm(w0)), float(np.linalg.norm(w)),
        grid, G @ w0, G @ w,
        _mse(X @ w0, y), _mse(X @ w, y), _mse(F @ w0, fresh_y), _mse(F @ w, fresh_y),
    )  # fmt: skip


def ridge_sentence(r: RidgeDemo) -> str:
    """The two fits' sizes and errors, in words."""
    n, fresh = len(r.x), "new points from the same line"
    head = (
        f"Without a penalty the degree-{r.X.shape[1] - 1} fit has coefficients of length "
        f"{amount(r.norm0)}, a mean squared error of {amount(r.error0)} on its {n} points and "
        f"{amount(r.new_error0)} on {fresh}."
    )
    if r.lmbda == 0:
        return head
    better = "falls" if r.new_error < r.new_error0 else "does not fall"
    return head + (
        f" With λ = {amount(r.lmbda)} the length shrinks to {amount(r.norm)}; the error on its "
        f"points grows to {amount(r.error)}, and on new points it {better}: "
        f"{amount(r.new_error)}."
    )


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((pred - y) ** 2))


class DecayDemo(NamedTuple):
    """The network's weight decay with the page's numbers: each step multiplies every weight
    by ``factor`` = 1 - eta lambda / n (``shrink`` = eta lambda / n) before the gradient step;
    ``per_epoch`` = factor^steps_per_epoch, ``over_run`` = factor^(steps of the whole run).
    ``l1_step`` = eta lambda1 / n, how far L1 moves every weight towards 0 each step."""

    eta: float
    lmbda: float
    n: int
    shrink: float
    factor: float
    steps_per_epoch: int
    per_epoch: float
    epochs: int
    over_run: float
    lmbda1: float
    l1_step: float


def decay_demo(setup: RegSetup) -> DecayDemo:
    """The decay factor and what it compounds to, for ``setup``'s eta, lambda and n."""
    shrink = setup.eta * setup.lmbda / setup.n_train
    factor, steps = 1.0 - shrink, setup.steps_per_epoch
    # log1p keeps 1 - 5 x 10^-5 raised to 30,000 accurate
    per_epoch = math.exp(steps * math.log1p(-shrink))
    over_run = math.exp(steps * setup.epochs * math.log1p(-shrink))
    l1 = setup.eta * setup.lmbda1 / setup.n_train
    return DecayDemo(
        setup.eta, setup.lmbda, setup.n_train, shrink, factor, steps, per_epoch,
        setup.epochs, over_run, setup.lmbda1, l1,
    )  # fmt: skip


def decay_sentence(d: DecayDemo) -> str:
    """The decay rule with its live numbers."""
    if d.lmbda == 0:
        return "With λ = 0 there is no decay: w ← w − η ∂C/∂w, plain gradient descent."
    if d.over_run < 0.01:
        fate = "fades to nothing"
    else:
        fate = f"shrinks to {amount(100 * d.over_run)}% of its size"
    return (
        f"With η = {amount(d.eta)}, λ = {amount(d.lmbda)} and n = {d.n:,}, every step "
        f"multiplies each weight by 1 − ηλ/n = 1 − {amount(d.shrink)} before the gradient "
        f"step: by {amount(d.per_epoch, 3)} over an epoch of {d.steps_per_epoch:,} steps, and "
        f"by {amount(d.over_run)} over {d.epochs:,} epochs. A weight the data do not hold up "
        f"{fate}; one they need stays, because its gradient keeps pushing back."
    )


# --- dropout ---------------------------------------------------------------------------------


def dropout_mask(keep_prob: float, batch: int = 10, units: int = 30, seed: int = 0) -> np.ndarray:
    """One mini-batch's dropout mask (batch, units) from the engine's inverted dropout: 1/keep
    where a unit is kept, 0 where it is dropped (all ones when keep_prob is 1)."""
    a = np.ones((batch, units))
    _, mask = dropout_forward(a, keep_prob, rng=np.random.default_rng(seed))
    return a if mask is None else mask


class DropoutCheck(NamedTuple):
    """Why evaluation uses the whole network, measured on a trained network and some digits.

    eval_difference: the largest difference between two evaluations' outputs (0: evaluation
    is deterministic); train_difference: between two training passes (> 0 with keep < 1:
    each draws its own mask). full_mean: the whole network's mean hidden activation;
    scaled_mean: the mean over ``draws`` training passes of the dropped-out, 1/keep-scaled
    activation; unscaled_mean: the same without the scaling (keep x scaled_mean);
    kept_fraction: the fraction of units the masks kept.
    """

    keep_prob: float
    eval_difference: float
    train_difference: float
    full_mean: float
    scaled_mean: float
    unscaled_mean: float
    kept_fraction: float
    draws: int


def dropout_check(
    params: Params, keep_prob: float, x: np.ndarray, seed: int = 0, draws: int = 100
) -> DropoutCheck:
    """Evaluate twice, train-forward twice, and average ``draws`` masks, for the page's
    network with ``params`` and inputs x (N, 784)."""
    spec = NetworkSpec(SIZES, "sigmoid", "cross_entropy", keep_prob=keep_prob)
    rng = np.random.default_rng(seed)
    e1, e2 = (forward(spec, params, x).output for _ in range(2))
    t1, t2 = (forward(spec, params, x, train=True, rng=rng).output for _ in range(2))
    full = forward(spec, params, x).activations[1]
    passes = [forward(spec, params, x, train=True, rng=rng) for _ in range(draws)]
    scaled = float(np.mean([f.activations[1].mean() for f in passes]))
    kept = [np.mean(f.masks[0] > 0) if f.masks[0] is not None else 1.0 for f in passes]
    return DropoutCheck(
        keep_prob,
        float(np.max(np.abs(e1 - e2))),
        float(np.max(np.abs(t1 - t2))),
        float(full.mean()),
        scaled,
        keep_prob * scaled,
        float(np.mean(kept)),
        draws,
    )


def dropout_sentence(c: DropoutCheck) -> str:
    """Evaluation against training, and the inverted scaling, with the measured numbers."""
    same = "agree exactly" if c.eval_difference == 0 else f"differ by {amount(c.eval_difference)}"
    if c.keep_prob == 1:
        return f"With keep = 1 nothing is dropped: two evaluations {same}, as do training passes."
    moved = (
        f"differ by up to {amount(c.train_difference)} in an output: each draws its own mask"
        if c.train_difference > 0
        else "happen to agree"
    )
    return (
        f"Two evaluations of the trained network {same}: evaluation uses every unit and draws "
        f"nothing. Two training passes on the same digits {moved}. Training keeps each hidden "
        f"unit with probability {amount(c.keep_prob)} (the masks kept {_pct(c.kept_fraction)}) "
        f"and multiplies what it keeps by 1/{amount(c.keep_prob)} = {amount(1 / c.keep_prob)}: "
        f"over {c.draws} masks the mean hidden activation is {amount(c.scaled_mean, 3)}, against "
        f"{amount(c.full_mean, 3)} for the whole network. Without that scaling it would be "
        f"{amount(c.unscaled_mean, 3)}, so the whole network used at evaluation would see "
        f"{amount(1 / c.keep_prob)}× the input its next layer was trained on."
    )


# --- the first layer's weights ---------------------------------------------------------------

DEFAULT_UNITS = (0, 1, 2, 3, 4, 5)  # the same hidden units for every remedy


def weight_images(W1: np.ndarray, units: tuple[int, ...] = DEFAULT_UNITS) -> np.ndarray:
    """Hidden units' incoming weights as pictures: W1 (784, n_hidden) -> (k, 28, 28), one
    image per unit of ``units``, pixel (i, j) the weight from input pixel 28 i + j."""
    return np.asarray(W1)[:, list(units)].T.reshape(len(units), 28, 28)


def weight_edges(*Ws: np.ndarray, bins: int = 41) -> np.ndarray:
    """Shared histogram edges (bins + 1,) symmetric about 0 and covering every weight of
    ``Ws``; an odd ``bins`` centres a bin on 0, where L1's exact zeros pile up."""
    reach = max(float(np.max(np.abs(W))) for W in Ws) if Ws else 1.0
    reach = reach if reach > 0 else 1.0
    return np.linspace(-reach, reach, bins + 1)


def roughness(W1: np.ndarray) -> float:
    """How much the weights of neighbouring pixels differ, relative to their size: the mean
    (w_p - w_q)^2 over horizontally and vertically adjacent pixels p, q of every hidden unit's
    28 x 28 image, over twice the mean w^2. About 1 for independent noise (and for isolated
    specks on zeros, L1's look), near 0 for a smooth picture; 0 for all-zero weights."""
    im = np.asarray(W1).T.reshape(-1, 28, 28)
    dh, dv = np.diff(im, axis=2), np.diff(im, axis=1)
    spread = (np.sum(dh * dh) + np.sum(dv * dv)) / (dh.size + dv.size)
    size = 2 * np.mean(im * im)
    return float(spread / size) if size > 0 else 0.0


def weight_histogram(W1: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts (len(edges) - 1,) of the weights in each bin; weights beyond the edges are
    counted in the end bins, so the counts add up to W1.size."""
    clipped = np.clip(np.asarray(W1).ravel(), edges[0], edges[-1])
    return np.histogram(clipped, bins=edges)[0]
