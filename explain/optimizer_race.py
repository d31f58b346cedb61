"""The optimizers page, section "On a real network": one deep sigmoid network, several optimizers.

Every optimizer trains the same network [784, 30 x k, 10] (sigmoid, cross-entropy, the
N(0, 1/n_in) weights of the vanishing-gradient page) from the same initial weights on the
same mini-batches: ``run_mnist`` seeds both from the one ``seed``. The page shows validation
accuracy and cost per epoch and, per optimizer, how far each hidden layer's weights move in
an epoch relative to their size, ||Delta W^l|| / ||W^l|| (``History.update_ratio``).

The lesson: with plain SGD the last hidden layer's weights move several times as far as the
first layer's early on (the gradient shrinks on its way back), and the gap changes as
training goes on; adaptive methods divide each coordinate's step by its own gradient size,
which narrows the gap or even reverses it. The functions here measure that gap
(``layer_gap``), put it into words (``gap_sentence``), and tabulate the race
(``race_table``, ``race_summary``). Every sentence is chosen by the numbers it quotes.

Non-goals: tuning each optimizer (the page offers a rate per optimizer instead), schedules,
regularization, AdamW (without weight decay, which ``MnistExperiment`` does not carry, it is
Adam).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.activation_verdicts import accuracy_noise
from explain.experiments import MnistExperiment, run_mnist
from explain.nn.optimizers import OPTIMIZER_LABELS
from explain.nn.training import Divergence, History, TrainResult
from explain.words import amount, names

# A learning rate per optimizer for the default race (3 hidden layers of 30, 2,000 digits,
# mini-batch 10, 10 epochs). Measured on that setup (seed 0), final validation accuracy:
#   sgd 0.3: 86%. Nielsen's 0.1 (chapter 5) reaches only 42% in 10 epochs here, and 0.03
#       does not learn at all; 1.0 does as well as 0.3 but hides the lesson: by the end of
#       epoch 1 its first layer already moves twice as far as its last.
#   momentum, nesterov 0.03 with beta 0.9: 85%, 86%. The same effective step
#       eta / (1 - beta) = 0.3 as SGD, so the comparison isolates what momentum adds.
#   adagrad 0.03: 86%. Its rate only falls, so it starts higher than RMSProp's; 0.05 (88%)
#       learns as well but is off the offered grid.
#   rmsprop 0.001: 74%; adam 0.001: 79%. The authors' defaults (Hinton's lecture 6e;
#       Kingma and Ba 2015); 0.003 would end near 88% for both.
# So every default learns and all end within 12 points: the race is about how fast.
DEFAULT_ETAS: dict[str, float] = {
    "sgd": 0.3,
    "momentum": 0.03,
    "nesterov": 0.03,
    "adagrad": 0.03,
    "rmsprop": 0.001,
    "adam": 0.001,
}

# Rates offered per optimizer (a select-slider): half-decade steps around the default, from
# far too small (does not learn in 10 epochs) to far too large (the sigmoids saturate and the
# network stops learning; with a sigmoid network and cross-entropy nothing here overflows).
ETA_CHOICES: dict[str, tuple[float, ...]] = {
    "sgd": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "momentum": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "nesterov": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "adagrad": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "rmsprop": (3e-5, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1),
    "adam": (3e-5, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1),
}

WIDTH = 30  # units per hidden layer
EVEN = 1.5  # a gap within 1.5x either way reads "about as far": epoch-to-epoch noise is ~1.3x
LEARNED = 0.2  # validation accuracy a run must reach to count as learning (chance is 0.1)


@dataclass(frozen=True)
class RaceSetup:
    """The race: which optimizers (by name, keys of DEFAULT_ETAS), their rates (one per
    optimizer, None: DEFAULT_ETAS) and the network and data they share.

    Raises ValueError for an unknown or repeated name, a wrong number of rates, a rate that is
    not positive, fewer than two hidden layers (the gap compares the first and the last), or
    a non-positive size or count.
    """

    optimizers: tuple[str, ...] = ("sgd", "momentum", "adam")
    etas: tuple[float, ...] | None = None
    hidden_layers: int = 3
    n_train: int = 2000
    epochs: int = 10
    batch_size: int = 10
    beta: float = 0.9  # momentum and Nesterov
    rho: float = 0.9  # RMSProp
    beta1: float = 0.9  # Adam
    beta2: float = 0.999
    bias_correction: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [o for o in self.optimizers if o not in DEFAULT_ETAS]
        if unknown or not self.optimizers:
            raise ValueError(f"optimizers {unknown or '()'} not among {tuple(DEFAULT_ETAS)}")
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ValueError(f"optimizer named twice in {self.optimizers}")
        if self.etas is not None:
            if len(self.etas) != len(self.optimizers):
                raise ValueError(f"{len(self.etas)} rates for {len(self.optimizers)} optimizers")
            if not all(math.isfinite(e) and e > 0 for e in self.etas):
                raise ValueError(f"learning rates must be positive: {self.etas}")
        if self.hidden_layers < 2:
            raise ValueError("the gap needs at least two hidden layers")
        if min(self.n_train, self.epochs, self.batch_size) < 1:
            raise ValueError("n_train, epochs and batch_size must be at least 1")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (784, *(WIDTH,) * self.hidden_layers, 10)

    def eta_of(self, name: str) -> float:
        """The learning rate this race gives optimizer ``name`` (KeyError if not racing)."""
        if name not in self.optimizers:
            raise KeyError(f"{name!r} is not in this race {self.optimizers}")
        if self.etas is None:
            return DEFAULT_ETAS[name]
        return self.etas[self.optimizers.index(name)]

    def experiments(self) -> list[MnistExperiment]:
        """One experiment per optimizer, in order; they differ only in optimizer and eta."""
        base = MnistExperiment(
            sizes=self.sizes,
            activation="sigmoid",
            cost="cross_entropy",
            weight_init="scaled",
            n_train=self.n_train,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lmbda=0.0,
            seed=self.seed,
            record_every=1,
            beta=self.beta,
            rho=self.rho,
            beta1=self.beta1,
            beta2=self.beta2,
            bias_correction=self.bias_correction,
        )
        return [base.with_(optimizer=o, eta=self.eta_of(o)) for o in self.optimizers]


def run_race(setup: RaceSetup) -> list[TrainResult]:
    """Run every optimizer of the race, in order (uncached: pages cache per experiment)."""
    return [run_mnist(exp) for exp in setup.experiments()]


def label(name: str) -> str:
    """How the pages name an optimizer: 'SGD', 'momentum', 'Adam'."""
    return OPTIMIZER_LABELS.get(name, name)


# --- the gap between the first and the last hidden layer -----------------------------------


class LayerGap(NamedTuple):
    """How far the last hidden layer's weights moved relative to the first's, per epoch.

    ratio = update_ratio[last hidden] / update_ratio[first hidden] (the output layer, the
    last column of update_ratio, is left out): > 1, the last hidden layer moves further.
    Conventions: inf where only the first layer did not move (its ratio is exactly 0), 0 where
    only the last did not, nan where neither moved. With no epoch recorded (a run that
    diverged in its first epoch), ``epochs`` and ``ratio`` are empty, ``first``, ``last`` and
    ``typical`` nan and the epochs None.
    """

    epochs: np.ndarray  # (E,) the recorded epochs >= 1
    ratio: np.ndarray  # (E,) last hidden / first hidden, per epoch
    first: float  # ratio in the first recorded epoch
    last: float  # ratio in the last recorded epoch
    typical: float  # geometric mean of the finite, positive ratios (nan if there are none)
    first_epoch: int | None
    last_epoch: int | None
    per_layer: np.ndarray  # (n_hidden,) each hidden layer's mean over epochs; empty if E = 0
    diverged_at: Divergence | None  # passed through, for the sentence


def layer_gap(history: History, diverged_at: Divergence | None = None) -> LayerGap:
    """Measure the gap from a run's History (row 0, initialization, has no update: skipped).

    history.update_ratio: (rows, n_hidden + 1), the output layer last; diverged_at: the run's
    ``TrainResult.diverged_at``, kept for ``gap_sentence``.
    """
    ur = np.asarray(history.update_ratio, dtype=float)
    if ur.ndim != 2 or len(ur) < 2:
        none = np.array([])
        return LayerGap(none, none, math.nan, math.nan, math.nan, None, None, none, diverged_at)
    if ur.shape[1] < 3:
        raise ValueError("the gap needs at least two hidden layers (and the output layer)")
    hidden = ur[1:, :-1]
    ratio = _ratio(hidden[:, -1], hidden[:, 0])
    epochs = np.asarray(history.epoch[1:], dtype=int)
    usable = ratio[np.isfinite(ratio) & (ratio > 0)]
    typical = float(np.exp(np.mean(np.log(usable)))) if len(usable) else math.nan
    return LayerGap(
        epochs,
        ratio,
        float(ratio[0]),
        float(ratio[-1]),
        typical,
        int(epochs[0]),
        int(epochs[-1]),
        hidden.mean(axis=0),
        diverged_at,
    )


def _ratio(last: np.ndarray, first: np.ndarray) -> np.ndarray:
    """last / first elementwise with the conventions of LayerGap: x/0 = inf, 0/0 = nan."""
    out = np.full(len(last), math.nan)
    moved = first > 0
    out[moved] = last[moved] / first[moved]
    out[~moved & (last > 0)] = math.inf
    return out


def gap_phrase(ratio: float, relative: bool = True) -> str:
    """One epoch's gap in words, chosen by the ratio: within EVEN either way "about as far",
    otherwise which layer moved how many times as far; the zero cases say who did not move.

    ``relative`` adds ", relative to their size" (say it once a sentence).
    """
    size = ", relative to their size" if relative else ""
    if math.isnan(ratio):
        return "neither the first nor the last hidden layer's weights moved"
    if math.isinf(ratio):
        return "the first hidden layer's weights did not move at all, while the last's did"
    if ratio == 0:
        return "the last hidden layer's weights did not move at all, while the first's did"
    if 1 / EVEN <= ratio <= EVEN:
        return f"the first and the last hidden layers' weights moved about as far{size}"
    if ratio > EVEN:
        return f"the last hidden layer's weights moved {times(ratio)} as far as the first's{size}"
    return f"the first hidden layer's weights moved {times(1 / ratio)} as far as the last's{size}"


def times(ratio: float) -> str:
    """'6.5×', or '1.1 × 10¹⁰ times' where a power of ten would run into the × sign."""
    text = sig2(ratio)
    return f"{text} times" if "×" in text else f"{text}×"


def gap_sentence(name_or_label: str, gap: LayerGap) -> str:
    """The gap of one optimizer's run in a sentence: its first epoch, and its last.

    "SGD: in epoch 1, the last hidden layer's weights moved 5× as far as the first's, relative
    to their size; by epoch 10, the first hidden layer's weights moved 3.2× as far as the
    last's." A diverged run says where, then what it measured before; a run with no recorded
    epoch says there is nothing to compare.
    """
    who = label(name_or_label)
    d = gap.diverged_at
    if gap.first_epoch is None:
        if d is None:
            return f"{who}: no epoch recorded, so no update sizes to compare."
        if d.epoch == 0:
            return f"{who} {d}: no update sizes to compare."
        return f"{who} {d}, so no epoch was recorded: no update sizes to compare."
    head = f"{who} {d}; before that," if d is not None else f"{who}:"
    text = f"{head} in epoch {gap.first_epoch}, {gap_phrase(gap.first)}"
    if gap.last_epoch != gap.first_epoch:
        text += f"; by epoch {gap.last_epoch}, {gap_phrase(gap.last, relative=False)}"
    return text + "."


def gap_overview(items: list[tuple[str, LayerGap]]) -> str:
    """One sentence across optimizers: whose first-epoch gap is widest and narrowest, and
    where the gaps stand in the last epoch (all within EVEN of even, all reversed, or mixed).
    Empty when fewer than two runs have a measurable first epoch."""
    usable = [
        (label(n), g)
        for n, g in items
        if g.first_epoch is not None and math.isfinite(g.first) and g.first > 0
    ]
    if len(usable) < 2:
        return ""
    (hi_name, hi), (lo_name, lo) = (
        max(usable, key=lambda x: x[1].first),
        min(usable, key=lambda x: x[1].first),
    )
    if hi.first == lo.first:
        text = f"In epoch {hi.first_epoch} every optimizer shows the same gap ({times(hi.first)})."
    else:
        text = (
            f"In epoch {hi.first_epoch} the last hidden layer is furthest ahead with {hi_name} "
            f"({times(hi.first)} the first layer's step) and least with {lo_name} "
            f"({times(lo.first)})."
        )
    ends = [g.last for _, g in usable if math.isfinite(g.last) and g.last > 0]
    last = max(g.last_epoch for _, g in usable)
    if len(ends) == len(usable):
        if all(1 / EVEN <= r <= EVEN for r in ends):
            text += f" By epoch {last} every optimizer moves both layers about as far."
        elif all(r < 1 / EVEN for r in ends):
            text += (
                f" By epoch {last} every optimizer moves the first hidden layer further than the "
                "last: the gap has turned round."
            )
        elif all(r > EVEN for r in ends):
            text += f" In epoch {last} the last layer is still ahead with every optimizer."
    return text


def sig2(x: float) -> str:
    """A positive number to two significant digits for prose (``explain.words.amount``)."""
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"sig2 formats positive finite numbers, not {x}")
    return amount(x)


# --- the race: who got how far, how fast ---------------------------------------------------


class RaceRow(NamedTuple):
    """One optimizer's run as the race table shows it; accuracies are fractions of the
    validation digits, nan (and epochs None) where no trained epoch was recorded."""

    name: str
    label: str
    start_accuracy: float  # at initialization (row 0), nan if not even that was recorded
    final_accuracy: float  # the last recorded epoch's
    best_accuracy: float
    best_epoch: int | None  # the first epoch at the best accuracy
    final_cost: float
    learned: bool  # the best accuracy reached LEARNED and beat the start
    target: float | None  # the common target (see common_target)
    epochs_to_target: int | None  # the first epoch at or above the target; None if never
    diverged_at: Divergence | None


def _trained(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, validation accuracy, validation cost) of the rows after initialization."""
    n = len(history.epoch)
    if n < 2:
        return np.array([], dtype=int), np.array([]), np.array([])
    return (
        np.asarray(history.epoch[1:], dtype=int),
        np.asarray(history.eval_accuracy[1:], dtype=float),
        np.asarray(history.eval_cost[1:], dtype=float),
    )


def _learned(history: History) -> bool:
    """Whether a run's best trained accuracy reached LEARNED and beat its start."""
    _, acc, _ = _trained(history)
    start = float(history.eval_accuracy[0]) if len(history.eval_accuracy) else 0.0
    return bool(len(acc)) and acc.max() >= LEARNED and acc.max() > start


def common_target(results: list[TrainResult]) -> float | None:
    """The highest whole percent (as a fraction, 0.85) that every run that did not diverge
    and did learn (best accuracy >= LEARNED, above its start) reached at some epoch.

    Runs that did not learn are left out, or the target would be the ~11% a stuck run sits
    at, which every run "reaches" in one epoch; the table shows them as never reaching it.
    None if no run that did not diverge learned.
    """
    bests = [
        _trained(r.history)[1].max()
        for r in results
        if r.diverged_at is None and _learned(r.history)
    ]
    if not bests:
        return None
    # round first: 0.29 * 100 is 28.999999999999996
    return math.floor(round(100 * min(bests), 6)) / 100


def race_row(name: str, result: TrainResult, target: float | None) -> RaceRow:
    """One optimizer's row; ``target`` from ``common_target`` over the whole race."""
    h = result.history
    epochs, acc, cost = _trained(h)
    start = float(h.eval_accuracy[0]) if len(h.eval_accuracy) else math.nan
    if not len(acc):
        nothing = (math.nan, math.nan, None, math.nan, False, target, None)
        return RaceRow(name, label(name), start, *nothing, result.diverged_at)
    best = int(np.argmax(acc))
    reached = np.flatnonzero(acc >= target - 1e-9) if target is not None else []
    return RaceRow(
        name,
        label(name),
        start,
        float(acc[-1]),
        float(acc[best]),
        int(epochs[best]),
        float(cost[-1]),
        _learned(h),
        target,
        int(epochs[reached[0]]) if len(reached) else None,
        result.diverged_at,
    )


def race_table(names: list[str] | tuple[str, ...], results: list[TrainResult]) -> list[RaceRow]:
    """A row per optimizer, in the given order; names and results pair up one to one."""
    if len(names) != len(results):
        raise ValueError(f"{len(names)} names for {len(results)} results")
    target = common_target(results)
    return [race_row(n, r, target) for n, r in zip(names, results)]


def race_summary(rows: list[RaceRow], n_eval: int = 1000) -> str:
    """Who reached the common target first, who ended highest, who diverged, in sentences.

    Ties are named as ties: equal epochs to the target, or final accuracies equal to the
    tenth of a percent shown; runs that ended below the top by less than two standard errors
    of the difference (n_eval validation digits: about 3 points at 85%) are said to be within
    noise of it. Runs that diverged do not compete for the highest end.
    """
    if not rows:
        return "No optimizer ran."
    diverged = [r for r in rows if r.diverged_at is not None]
    if len(diverged) == len(rows):
        return f"Every run diverged: {_divergences(diverged)}."
    tail = [f"Diverged: {_divergences(diverged)}."] if diverged else []
    running = [r for r in rows if r.diverged_at is None and math.isfinite(r.final_accuracy)]
    if not running:
        return " ".join(["No run recorded a trained epoch.", *tail])
    if len(rows) == 1:
        return _alone(rows[0])
    target = rows[0].target
    if target is None:
        return " ".join([_none_learned(rows, running), *tail])
    return " ".join([_target_sentence(rows, target), _ended_sentence(running, n_eval), *tail])


def _alone(row: RaceRow) -> str:
    """A race of one (that did not diverge): where it ended and where it peaked."""
    end = f"{row.label} ended at {_pct(row.final_accuracy):.1f}% validation accuracy"
    if row.best_epoch is None or _pct(row.best_accuracy) == _pct(row.final_accuracy):
        return end + "."
    return f"{end}, after {_pct(row.best_accuracy):.1f}% in epoch {row.best_epoch}."


def _pct(accuracy: float) -> float:
    """An accuracy as the percent shown, to a tenth (nan sorts as -1: no value)."""
    return round(100 * accuracy, 1) if math.isfinite(accuracy) else -1.0


def _names(labels: list[str]) -> str:
    """'SGD', 'SGD and Adam', 'SGD, momentum and Adam'."""
    return names(labels)


def _target_sentence(rows: list[RaceRow], target: float) -> str:
    """Who reached the target first (ties together), then the others, then who never did."""
    goal = f"{100 * target:.0f}% validation accuracy"
    got = sorted((r for r in rows if r.epochs_to_target is not None), key=_epochs_to_target)
    if not got:
        return f"No run reached {goal}."
    first = [r.label for r in got if r.epochs_to_target == got[0].epochs_to_target]
    e = got[0].epochs_to_target
    when = _plural(e, "epoch")
    never = [r.label for r in rows if r.epochs_to_target is None]
    if len(got) == 1:
        return (
            f"Only {first[0]} reached {goal}, in {when}."
            if never
            else f"{first[0]} reached {goal} in {when}."
        )
    if len(first) == 1:
        text = f"{first[0]} reached {goal} first, in {when}"
    else:
        text = f"{_names(first)} {'both' if len(first) == 2 else 'all'} reached {goal} in {when}"
    rest = [
        f"{_names([r.label for r in group])} in {e}"
        for e, group in itertools.groupby(got[len(first) :], key=_epochs_to_target)
    ]
    text += f" ({', '.join(rest)})" if rest else ""
    return text + "." + (f" {_names(never)} never did." if never else "")


def _epochs_to_target(row: RaceRow) -> int:
    return row.epochs_to_target if row.epochs_to_target is not None else 10**9


def _ended_sentence(running: list[RaceRow], n_eval: int) -> str:
    """Which run that did not diverge ended highest: ties (the same tenth of a percent) named
    together, then the runs within noise of the top (``accuracy_noise`` on n_eval digits),
    then the rest."""
    top = max(_pct(r.final_accuracy) for r in running)
    leaders = [r.label for r in running if _pct(r.final_accuracy) == top]
    others = sorted((r for r in running if _pct(r.final_accuracy) != top), key=_final_down)
    close = [r for r in others if top - _pct(r.final_accuracy) <= _noise(top, r, n_eval)]
    rest = others[len(close) :]
    if len(leaders) == 1:
        text = f"{leaders[0]} ended highest, at {top:.1f}%"
    elif len(leaders) == len(running):
        text = f"{_names(leaders)} ended level, at {top:.1f}%"
    else:
        text = f"{_names(leaders)} ended level at the top, at {top:.1f}%"
    if close:
        verb = "is" if len(close) == 1 else "are"
        text += f"; {_with_pct(close)} {verb} within noise of it ({n_eval:,} validation digits)"
    return text + (f". {_with_pct(rest)} ended lower." if rest else ".")


def _final_down(row: RaceRow) -> float:
    return -_pct(row.final_accuracy)


def _noise(top: float, row: RaceRow, n_eval: int) -> float:
    """Two standard errors, in points, of the difference between ``top`` and row's end."""
    return accuracy_noise(top, _pct(row.final_accuracy), n_eval)


def _with_pct(rows: list[RaceRow]) -> str:
    """'SGD (85.5%) and Adam (78.7%)'."""
    return _names([f"{r.label} ({_pct(r.final_accuracy):.1f}%)" for r in rows])


def _none_learned(rows: list[RaceRow], running: list[RaceRow]) -> str:
    """The sentence for a race in which no run that kept going learned (``running``: the
    rows that did not diverge and recorded an epoch)."""
    who = "No run that kept going" if any(r.learned for r in rows) else "No run"
    best = max(running, key=lambda r: _pct(r.final_accuracy))
    end = f"the best final validation accuracy was {_pct(best.final_accuracy):.1f}% ({best.label})"
    if all(r.best_accuracy < LEARNED for r in running):
        return f"{who} learned: none reached {LEARNED:.0%} (guessing gives 10%); {end}."
    return f"{who} learned: none both reached {LEARNED:.0%} and beat its start; {end}."


def _divergences(rows: list[RaceRow]) -> str:
    """'SGD at epoch 3 (step 412) and Adam at initialization'."""
    out = []
    for r in rows:
        d = r.diverged_at
        if d is not None:
            where = "at initialization" if d.epoch == 0 else f"at epoch {d.epoch} (step {d.step})"
            out.append(f"{r.label} {where}")
    return _names(out)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
