"""The batch-normalization page: Ioffe and Szegedy's MNIST experiment, and the depth it buys.

Section 4.1 of Ioffe and Szegedy (2015) trains three fully connected hidden layers of 100
sigmoid units from small Gaussian weights, softmax and cross-entropy on the ten digits,
mini-batches of 60, with and without batch norm on every hidden layer. It plots accuracy
against the training step and, for one sigmoid of the last hidden layer, the 15th, 50th and
85th percentiles of its input over training: without batch norm that distribution drifts,
with it the distribution holds still. ``run_ioffe`` repeats this on the shipped digits (8,000
for training, the 1,000 validation digits for accuracy) for as many steps as fit in about
20 seconds for both networks (``IoffeSetup.steps``; the paper ran ``PAPER_STEPS``), and also
records each hidden layer's speed of learning ||dC/db^l||, as on the vanishing-gradient page.
``run_depth`` runs the same recipe with more hidden layers (``DepthSetup``).

The two networks of a pair start from the same weights W and see the same mini-batches, both
drawn from ``seed``; they differ only in the normalization. The sentences (``drift_sentence``,
``accuracy_sentence``, ``speed_sentence``, ``depth_sentence``) are chosen by the numbers they
quote, with the thresholds named below.

Measured on this machine (2 cores, one BLAS thread, a cold process, median of 3): the
default pair takes 17.4 s, the depth pair 9.2 s. One SGD step on a mini-batch of 60 costs
1.05 ms without batch norm and 1.3 ms with it (3 hidden layers; 1.5 and 2.0 ms with 6), and
a record 19 and 22 ms (30 and 43 ms with 6), so records are about an eighth of a run.

Non-goals: the paper's Inception experiments; layer and group norm (the engine has them, this
page compares batch norm with nothing); tuning eta separately for each network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.activation_verdicts import accuracy_noise
from explain.nn.activations import ACTIVATIONS
from explain.nn.costs import COSTS
from explain.nn.datasets import SPLIT_SIZES, Dataset, load_mnist
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params, running_after
from explain.nn.optimizers import Optimizer, apply_updates, is_finite, make_optimizer
from explain.nn.training import evaluate
from explain.words import amount

NORMS = ("none", "batch")  # without and with batch norm on every hidden layer
PERCENTILES = (15.0, 50.0, 85.0)  # the paper's Figure 1(b, c)
PAPER_STEPS = 50_000  # how long section 4.1 trained
END_RECORDS = 5  # records averaged for the speed ratio "at the end"
PROBE_SIZE = 1000  # the first training digits, where percentiles and ||dC/db^l|| are measured
N_EVAL = SPLIT_SIZES["validation"]  # validation digits behind every accuracy

# Thresholds of the sentences.
CLEAR = 2.0  # one network's percentiles moved more than twice as far as the other's
STILL = 0.1  # moved less than 0.1 in z: sigma(z) changed by at most 0.025, i.e. held still
SETTLE = 500  # "late" drift is measured from the first record at or after this step
FLAT = 2.0  # speed ratios (last / first hidden layer) within 2x of each other read as alike
LEARNED = 0.2  # validation accuracy above which a network has learned (guessing gives 0.1)


# --- the experiment ------------------------------------------------------------------------


# Defaults, measured on the default pair (seed 0 unless said; the other seeds 1 and 2 agree):
#   init_sigma 0.01, the engine's "small" Gaussian. At initialization the plain network's last
#       hidden layer learns about 1,700x as fast as its first (sigma(z) ~ 1/2, so each layer
#       multiplies delta by ~0.01 * 10 / 4) and its last-layer inputs are all ~0.007, with
#       no spread; it stays at guessing for ~1,000 steps, then learns slowly (66% at 5,000
#       steps, 82% at 6,000). Batch norm learns at once (87% at step 120, 95% at 6,000; seeds
#       1 and 2 at 5,000 steps: 62% and 66% against 95%). With sigma 0.1 the
#       plain network learns as fast as batch norm (95.5% against 93% after 4,000 steps at
#       eta 0.5), so there would be nothing to see.
#   eta 0.5 for both. At 0.1 the plain network does not learn at all in 4,000 steps; at 1.0 it
#       reaches 92-94% by 5,000 steps, within about the noise of 1,000 validation digits of
#       batch norm's 95-96%; at 2.0 batch norm's last-layer median moves by 1.9 (beta learns
#       fast), so its distribution no longer holds still. 0.5 shows both lessons at once.
#   steps 6,000, record_every 120 (51 records): 17.4 s for the pair, cold (7,000 would take
#       about 20 s with no room to spare for a busier server).
#   unit 0: a typical unit. Over all 100 units of the last hidden layer, the percentiles moved
#       3.0 to 7.7 times as far without batch norm as with it (median 4.8; unit 0: 6.1).
@dataclass(frozen=True)
class IoffeSetup:
    """The experiment of Ioffe and Szegedy's section 4.1, at our scale; frozen, it keys a cache.

    ``hidden``: the widths of the hidden layers; ``init_sigma``: W ~ N(0, sigma^2) in every
    layer, biases (and batch norm's beta) 0, gamma 1; ``eta``: plain SGD's rate, the same for
    both networks; ``steps`` mini-batch steps of ``batch_size`` digits drawn from the first
    ``n_train`` training digits, epoch after epoch; a record every ``record_every`` steps and
    after the last; ``unit`` (0-based) is the last hidden layer's unit whose input is tracked.

    Raises ValueError for an unknown activation or cost, a non-positive size, count, sigma or
    rate, a mini-batch of fewer than 2 digits (batch norm needs a variance), more training
    digits than the 8,000 shipped, or a unit the last hidden layer does not have.
    """

    hidden: tuple[int, ...] = (100, 100, 100)
    activation: str = "sigmoid"
    cost: str = "log_likelihood"  # softmax output and cross-entropy over the ten digits
    init_sigma: float = 0.01
    eta: float = 0.5
    batch_size: int = 60
    steps: int = 6000
    record_every: int = 120
    n_train: int = 8000
    unit: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS or self.cost not in COSTS:
            raise ValueError(f"unknown activation {self.activation!r} or cost {self.cost!r}")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden needs at least one layer of at least one unit: {self.hidden}")
        if not all(math.isfinite(v) and v > 0 for v in (self.init_sigma, self.eta)):
            raise ValueError(f"init_sigma and eta must be positive: {self.init_sigma}, {self.eta}")
        if min(self.steps, self.record_every) < 1 or self.batch_size < 2:
            raise ValueError("steps and record_every must be at least 1, batch_size at least 2")
        if not 2 <= self.n_train <= SPLIT_SIZES["train"]:
            raise ValueError(f"n_train must be in 2..{SPLIT_SIZES['train']}, not {self.n_train}")
        if not 0 <= self.unit < self.hidden[-1]:
            raise ValueError(f"unit {self.unit} is not in a last hidden layer of {self.hidden[-1]}")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (784, *self.hidden, 10)

    def spec(self, norm: str) -> NetworkSpec:
        """The network with ``norm`` ("none" or "batch") on every hidden layer."""
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm!r}")
        return NetworkSpec(
            self.sizes,
            self.activation,
            self.cost,
            weight_init="gaussian",
            init_sigma=self.init_sigma,
            bias_init="zeros",
            norm=norm,
        )

    @property
    def record_steps(self) -> np.ndarray:
        """The steps at which a run records: 0, record_every, 2 record_every, ..., steps."""
        return np.unique(np.r_[np.arange(0, self.steps, self.record_every), self.steps])


class IoffeRun(NamedTuple):
    """One network's run, a row per record (R rows; fewer than planned if it diverged).

    step (R,): the step after which the row was measured, 0 = initialization.
    val_accuracy, val_cost (R,): on the validation digits, batch norm with its running averages.
    percentiles (R, 3): the 15th, 50th and 85th percentiles over the probe digits of the
        tracked unit's sigmoid input z (for batch norm z = gamma xhat + beta).
    grad_norm (R, n_hidden): ||dC/db^l|| of each hidden layer, dC/db^l averaged over the probe.
    unit: the tracked unit of the last hidden layer (0-based).
    diverged_at: the step after which the weights or a record stopped being finite, else None.

    The probe is the first ``PROBE_SIZE`` training digits, the same ones at every record.
    Batch norm is measured there as training sees it, with the probe's own statistics (1,000
    digits, so close to the population's), which is what the next sigmoid is fed during
    training, and what the gradient norm sees; the running averages would add their lag
    behind the weights to the drift, which is not the effect on show.
    """

    step: np.ndarray
    val_accuracy: np.ndarray
    val_cost: np.ndarray
    percentiles: np.ndarray
    grad_norm: np.ndarray
    unit: int
    diverged_at: int | None


def run_ioffe(
    setup: IoffeSetup, norm: str, on_progress: Callable[[int, int], None] | None = None
) -> IoffeRun:
    """Train one network of the pair (``norm``: "none" or "batch") and record it.

    The weights and then the mini-batch order are drawn from ``setup.seed``, so both networks
    of a pair start from the same W and see the same digits. ``on_progress(done, total)`` is
    called after each record, with done the step and total ``setup.steps``. Uncached.
    """
    spec, data = setup.spec(norm), load_mnist()
    train_set, validation = data.train.take(setup.n_train), data.validation
    probe = train_set.take(PROBE_SIZE)
    params, order = starting_point(setup, norm)
    optimizer = make_optimizer("sgd", setup.eta)
    state, due = optimizer.init(params), set(setup.record_steps.tolist())
    rows, diverged, b = [], None, setup.batch_size
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for t in range(setup.steps + 1):
            if t in due:
                row = _record(spec, params, validation, probe, setup.unit, t)
                if not all(np.all(np.isfinite(v)) for v in row):
                    diverged = t
                    break
                rows.append(row)
                if on_progress is not None:
                    on_progress(t, setup.steps)
            if t == setup.steps:
                break
            idx = order[t * b : (t + 1) * b]
            batch = (train_set.x[idx], train_set.y[idx])
            params, state = _step(spec, params, state, optimizer, *batch)
            if not is_finite(params):
                diverged = t + 1
                break
    return _run(rows, len(setup.hidden), setup.unit, diverged)


def starting_point(setup: IoffeSetup, norm: str) -> tuple[Params, np.ndarray]:
    """The initial parameters of the ``norm`` network and the order of the training digits,
    (steps * batch_size,) indices, mini-batch after mini-batch, one shuffle per epoch.

    Both come from ``setup.seed`` alone, weights first: W does not depend on ``norm`` (the
    biases are zeros and draw nothing), so neither does the order.
    """
    rng = np.random.default_rng(setup.seed)
    params = init_params(setup.spec(norm), rng=rng)
    epochs = -(-setup.steps * setup.batch_size // setup.n_train)
    order = np.concatenate([rng.permutation(setup.n_train) for _ in range(epochs)])
    return params, order[: setup.steps * setup.batch_size]


def _step(spec: NetworkSpec, params: Params, state, optimizer: Optimizer, x, y):
    """One SGD step on the mini-batch x (B, 784), y (B, 10); batch norm's running averages
    follow the mini-batch's statistics."""
    fwd = forward(spec, params, x, train=True)
    grads = backward(spec, params, fwd, y).as_params()
    updates, state = optimizer.update(grads, state, params)
    new = apply_updates(params, updates)
    if spec.normalized:
        new = new._replace(running=running_after(spec, params, fwd))
    return new, state


def _record(spec, params, validation: Dataset, probe: Dataset, unit: int, t: int) -> tuple:
    """(step, accuracy, cost, percentiles (3,), ||dC/db^l|| (n_hidden,)) of one record."""
    val_cost, val_accuracy = evaluate(spec, params, validation)
    fwd = forward(spec, params, probe.x, train=spec.normalized)  # the probe's own statistics
    grads = backward(spec, params, fwd, probe.y)
    z = fwd.zs[-2][:, unit]
    grad_norm = np.array([np.linalg.norm(db) for db in grads.db[:-1]])
    return t, val_accuracy, val_cost, np.percentile(z, PERCENTILES), grad_norm


def _run(rows: list[tuple], n_hidden: int, unit: int, diverged: int | None) -> IoffeRun:
    """Stack the records; with none (diverged at initialization), empty arrays of the shapes."""
    if not rows:
        empty = np.array([])
        return IoffeRun(
            np.array([], dtype=int), empty, empty, np.zeros((0, 3)), np.zeros((0, n_hidden)),
            unit, diverged,
        )  # fmt: skip
    step, acc, cost, pct, grad = (np.array(c) for c in zip(*rows))
    return IoffeRun(step.astype(int), acc, cost, pct, grad, unit, diverged)


# Measured (2 cores, one BLAS thread, seeds 0 and 1, 2,000-2,500 steps, eta 0.5, sigma 0.01):
# without batch norm, 4, 5, 6 and 8 hidden layers of 100 all stay at guessing (9-12%) for the
# whole run; with it they reach 92-93%, 91-92%, 89-90% and 80-88%. Six is twice the paper's
# depth and still learns well with batch norm in 2,000 steps; the default pair (seed 0) ends
# at 10.8% (best record 11.7%) against 88.9%, in 9.2 s cold for both networks. (With sigma
# 0.1, 5 to 20 layers also stay at guessing without batch norm.)
@dataclass(frozen=True)
class DepthSetup:
    """The recipe of ``IoffeSetup`` with more hidden layers of ``width`` units each."""

    hidden_layers: int = 6
    width: int = 100
    init_sigma: float = 0.01
    eta: float = 0.5
    batch_size: int = 60
    steps: int = 2000
    record_every: int = 100
    n_train: int = 8000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hidden_layers < 1 or self.width < 1:
            raise ValueError(f"{self.hidden_layers} hidden layers of {self.width} units")
        self.ioffe()  # the remaining checks

    def ioffe(self) -> IoffeSetup:
        """The same experiment as an IoffeSetup (the tracked unit is unit 0)."""
        return IoffeSetup(
            hidden=(self.width,) * self.hidden_layers,
            init_sigma=self.init_sigma,
            eta=self.eta,
            batch_size=self.batch_size,
            steps=self.steps,
            record_every=self.record_every,
            n_train=self.n_train,
            seed=self.seed,
        )


def run_depth(
    setup: DepthSetup, norm: str, on_progress: Callable[[int, int], None] | None = None
) -> IoffeRun:
    """One network of the deep pair, trained and recorded exactly as ``run_ioffe`` does."""
    return run_ioffe(setup.ioffe(), norm, on_progress)


# --- the drift of the last hidden layer's input ------------------------------------------


class Drift(NamedTuple):
    """How far the tracked unit's input distribution moved over a run (in units of z).

    median_*: the 50th percentile at the first and the last record, and its lowest and
    highest over the run; spread_*: the 85th minus the 15th percentile at the first and
    last record; moved: the largest distance of any of the three percentiles from its value
    at the first record; moved_late: the same from the first record at or after ``SETTLE``
    steps (``late_step``; nan and None if the run has no such record). All nan (and steps
    None) for a run with no record.
    """

    median_start: float
    median_end: float
    median_low: float
    median_high: float
    spread_start: float
    spread_end: float
    moved: float
    moved_late: float
    late_step: int | None
    first_step: int | None
    last_step: int | None


def drift(run: IoffeRun) -> Drift:
    """Measure the drift of ``run.percentiles`` (R, 3)."""
    p = np.asarray(run.percentiles, dtype=float)
    if not len(p):
        return Drift(*(math.nan,) * 8, None, None, None)
    late = np.flatnonzero(run.step >= SETTLE)
    moved_late = float(np.max(np.abs(p[late] - p[late[0]]))) if len(late) else math.nan
    return Drift(
        float(p[0, 1]),
        float(p[-1, 1]),
        float(p[:, 1].min()),
        float(p[:, 1].max()),
        float(p[0, 2] - p[0, 0]),
        float(p[-1, 2] - p[-1, 0]),
        float(np.max(np.abs(p - p[0]))),
        moved_late,
        int(run.step[late[0]]) if len(late) else None,
        int(run.step[0]),
        int(run.step[-1]),
    )


def drift_sentence(plain: IoffeRun, bn: IoffeRun) -> str:
    """The drift of both runs in words: where the plain network's median and spread went,
    and how far the percentiles moved with batch norm and without, compared within ``CLEAR``
    (and ``STILL`` for no movement at all)."""
    a, b = drift(plain), drift(bn)
    head = _diverged_head(plain, bn)
    if a.first_step is None or b.first_step is None:
        return head + "There is no record of both networks, so no drift to compare."
    if a.last_step == a.first_step or b.last_step == b.first_step:
        return head + "Only the initial record exists for one network, so nothing moved yet."
    text = head + (
        f"Without batch norm the median input z of unit {plain.unit + 1} in the last hidden "
        f"layer moved from {_z(a.median_start)} to {_z(a.median_end)} (between "
        f"{_z(a.median_low)} and {_z(a.median_high)} over the run), and the spread from its "
        f"15th to its 85th percentile {_spread(a)}. "
    )
    text += _compare_moved(a.moved, b.moved)
    if a.late_step is not None and a.late_step == b.late_step and a.late_step < a.last_step:
        text += (
            f" From step {a.late_step:,} on they moved up to {_z(a.moved_late)} without "
            f"batch norm and {_z(b.moved_late)} with it."
        )
    return text


def _compare_moved(plain: float, bn: float) -> str:
    """The sentence comparing the largest distances moved, chosen by CLEAR and STILL."""
    if max(plain, bn) < STILL:
        return (
            f"Neither network moved it: its percentiles stayed within {_z(STILL)} of where "
            "they started, with batch norm and without."
        )
    if bn == 0:
        return (
            f"With batch norm its percentiles did not move at all; without, they moved up to "
            f"{_z(plain)} from where they started."
        )
    if plain > CLEAR * bn:
        return (
            f"With batch norm its percentiles stayed within {_z(bn)} of where they started; "
            f"without, they moved up to {_z(plain)}, {_times(plain / bn)} as far."
        )
    if bn > CLEAR * plain:
        return (
            f"Here batch norm did not hold it still: with it the percentiles moved up to "
            f"{_z(bn)} from where they started, without it only {_z(plain)}."
        )
    return (
        f"Both moved about as far: the percentiles went up to {_z(plain)} from where they "
        f"started without batch norm and {_z(bn)} with it."
    )


def _spread(d: Drift) -> str:
    start, end = _z(d.spread_start), _z(d.spread_end)
    if start == end:
        return f"stayed at {start}"
    return f"{'grew' if d.spread_end > d.spread_start else 'shrank'} from {start} to {end}"


# --- accuracy ------------------------------------------------------------------------------


def accuracy_sentence(plain: IoffeRun, bn: IoffeRun, paper_steps: int | None = PAPER_STEPS) -> str:
    """Both final validation accuracies, who is ahead and from which step on (differences
    within ``accuracy_noise`` of ``N_EVAL`` digits are ties), and the run's length against
    the paper's ``paper_steps``."""
    head = _diverged_head(plain, bn)
    if not len(plain.step) or not len(bn.step):
        return head + "There is no accuracy of both networks to compare."
    steps = max(int(plain.step[-1]), int(bn.step[-1]))
    if steps == 0:
        return head + _untrained(plain, bn)
    length = _plural(steps, "step") + (
        f" (the paper ran {paper_steps:,})" if paper_steps is not None else ""
    )
    return head + f"After {length}, " + _race(plain, bn)


def _untrained(plain: IoffeRun, bn: IoffeRun) -> str:
    a, b = _pct(plain.val_accuracy[0]), _pct(bn.val_accuracy[0])
    return (
        f"No trained step was recorded; at initialization the network with batch norm scored "
        f"{b:.1f}% and the one without {a:.1f}% (guessing gives 10%)."
    )


def _race(plain: IoffeRun, bn: IoffeRun) -> str:
    """'the network with batch norm reached 96.0% ... ahead from step 120 on.' (no capital)"""
    a, b = _pct(plain.val_accuracy[-1]), _pct(bn.val_accuracy[-1])
    both = f"{b:.1f}%{_before(bn)} with batch norm and {a:.1f}%{_before(plain)} without"
    noise = accuracy_noise(a, b, N_EVAL)
    if max(a, b) < 100 * LEARNED:
        return f"neither network learned: {both} (guessing gives 10%)."
    if abs(a - b) <= noise:
        return (
            f"the two networks ended within noise of each other: {both} (two standard errors "
            f"on {N_EVAL:,} validation digits are {noise:.1f} points)."
        )
    leader, lead = ("with", bn) if b > a else ("without", plain)
    since = _ahead_from(lead, plain if lead is bn else bn)
    return (
        f"the network {leader} batch norm was ahead: {both}; it led by more than the noise "
        f"of {N_EVAL:,} validation digits from step {since:,} on."
    )


def _before(run: IoffeRun) -> str:
    return " (before it overflowed)" if run.diverged_at is not None else ""


def _ahead_from(lead: IoffeRun, other: IoffeRun) -> int:
    """The first recorded step from which ``lead`` beat ``other`` by more than the noise at
    every shared record (both runs record at the same steps until one diverges)."""
    n = min(len(lead.step), len(other.step))
    a, b = 100 * lead.val_accuracy[:n], 100 * other.val_accuracy[:n]
    ahead = [x - y > accuracy_noise(x, y, N_EVAL) for x, y in zip(a, b)]
    i = n
    while i > 0 and ahead[i - 1]:
        i -= 1
    return int(lead.step[min(i, n - 1)])


# --- speed of learning per layer -----------------------------------------------------------


def speed_ratios(run: IoffeRun) -> tuple[float, float]:
    """||dC/db|| of the last hidden layer over the first's, at the first record and at the end
    (the geometric mean over the last END_RECORDS records; inf where the first layer's is 0,
    nan where both are or nothing was recorded)."""
    g = np.asarray(run.grad_norm, dtype=float)
    if not len(g):
        return math.nan, math.nan
    # the end: the geometric mean over the last END_RECORDS records, as one record is noisy
    ends = [_ratio_at(run, -k) for k in range(1, min(END_RECORDS, len(g) - 1) + 1)]
    ends = [r for r in ends if math.isfinite(r) and r > 0]
    end = float(np.exp(np.mean(np.log(ends)))) if ends else _ratio_at(run, -1)
    return _ratio_at(run, 0), end


def _ratio(last: float, first: float) -> float:
    if first > 0:
        return float(last / first)
    return math.inf if last > 0 else math.nan


def speed_sentence(plain: IoffeRun, bn: IoffeRun) -> str:
    """How evenly the hidden layers learn with and without batch norm, at initialization and
    at the end: the ratio last / first hidden layer's ||dC/db^l|| of each, and whether batch
    norm brought it closer to 1 than the plain network by more than ``FLAT``."""
    head = _diverged_head(plain, bn)
    if len(plain.grad_norm) == 0 or len(bn.grad_norm) == 0:
        return head + "There is no record of both networks, so no speeds to compare."
    if plain.grad_norm.shape[1] < 2:
        return head + "With a single hidden layer there are no layers to even out."
    text = head + f"At initialization, {_speeds(_ratio_at(plain, 0), _ratio_at(bn, 0))}."
    last = min(len(plain.step), len(bn.step)) - 1  # both record at the same steps
    if last > 0:
        first = max(1, last - END_RECORDS + 1)
        pair = _speeds(_mean_ratio(plain, first, last), _mean_ratio(bn, first, last))
        where = (
            f"at step {int(plain.step[last]):,}"
            if first == last
            else f"over the last {last - first + 1} records (steps {int(plain.step[first]):,} to "
            f"{int(plain.step[last]):,})"
        )
        text += f" At the end, {where}, {pair}."
        even = [
            k
            for k in range(1, last + 1)
            if all(_usable(r) and 1 / FLAT <= r <= FLAT for r in _ratios(plain, k, last))
        ]
        if even and not (1 / FLAT <= _ratio_at(plain, 0) <= FLAT):
            text += (
                f" Without batch norm the layers even out by themselves: from step "
                f"{int(plain.step[even[0]]):,} on they learn within {amount(FLAT)}× of each other."
            )
    return text


def _ratios(run: IoffeRun, first: int, last: int) -> list[float]:
    return [_ratio_at(run, k) for k in range(first, last + 1)]


def _mean_ratio(run: IoffeRun, first: int, last: int) -> float:
    """Geometric mean of the last/first ratio over records first..last (noise of one record)."""
    rs = [r for r in _ratios(run, first, last) if _usable(r)]
    return float(np.exp(np.mean(np.log(rs)))) if rs else _ratio_at(run, last)


def _ratio_at(run: IoffeRun, i: int) -> float:
    return _ratio(run.grad_norm[i, -1], run.grad_norm[i, 0])


def _speeds(plain: float, bn: float) -> str:
    """'without batch norm the last hidden layer learned 1,700× as fast as the first; with
    it, 1.9×: batch norm evened out the layers' (the second ratio short when it reads the
    same way round)."""
    same_way = _usable(plain) and _usable(bn) and amount(bn) != "1" and (plain > 1) == (bn > 1)
    second = _times(bn if bn > 1 else 1 / bn) if same_way else _speed(bn)
    return f"without batch norm {_speed(plain)}; with it, {second}: {_evened(plain, bn)}"


def _speed(r: float) -> str:
    """'the last hidden layer learned 1,700× as fast as the first' (or the other way round)."""
    if math.isnan(r):
        return "neither the first nor the last hidden layer had any gradient"
    if math.isinf(r):
        return "the first hidden layer had no gradient at all, the last did"
    if r == 0:
        return "the last hidden layer had no gradient at all, the first did"
    if amount(r) == "1":
        return "the first and the last hidden layers learned equally fast"
    if r > 1:
        return f"the last hidden layer learned {_times(r)} as fast as the first"
    return f"the first hidden layer learned {_times(1 / r)} as fast as the last"


def _evened(plain: float, bn: float) -> str:
    """Whether batch norm brought the ratio closer to 1, by more than FLAT."""
    if not (_usable(plain) and _usable(bn)):
        return "so the two cannot be compared"
    gap_plain, gap_bn = abs(math.log(plain)), abs(math.log(bn))
    if max(gap_plain, gap_bn) <= math.log(FLAT):
        return f"both within {FLAT:g}× of even"
    if gap_plain - gap_bn > math.log(FLAT):
        return "batch norm evened out the layers"
    if gap_bn - gap_plain > math.log(FLAT):
        return "batch norm made the layers less even"
    return f"about as uneven with batch norm as without (within {FLAT:g}×)"


def _usable(r: float) -> bool:
    return math.isfinite(r) and r > 0


# --- depth ---------------------------------------------------------------------------------


def depth_sentence(plain: IoffeRun, bn: IoffeRun) -> str:
    """Whether the deep network learned without batch norm and with it (``LEARNED``), and
    who ended ahead (ties within the noise of ``N_EVAL`` validation digits)."""
    head = _diverged_head(plain, bn)
    if not len(plain.step) or not len(bn.step):
        return head + "There is no accuracy of both networks to compare."
    steps = max(int(plain.step[-1]), int(bn.step[-1]))
    if steps == 0:
        return head + _untrained(plain, bn)
    a, b = _pct(plain.val_accuracy[-1]), _pct(bn.val_accuracy[-1])
    depth = _plural(plain.grad_norm.shape[1], "hidden layer")
    net = f"With {depth}, after {_plural(steps, 'step')}"
    best = _pct(plain.val_accuracy.max())
    if best < 100 * LEARNED <= b:
        return head + (
            f"{net} the network without batch norm had not learned: {a:.1f}% validation "
            f"accuracy (its best record {best:.1f}%; guessing gives 10%), while the one with "
            f"batch norm reached {b:.1f}%."
        )
    return head + f"{net}, " + _race(plain, bn)


# --- shared wording ------------------------------------------------------------------------


def _diverged_head(plain: IoffeRun, bn: IoffeRun) -> str:
    """'Without batch norm training diverged at step 12. ' for each run that diverged."""
    parts = []
    for name, run in (("Without", plain), ("With", bn)):
        if run.diverged_at is not None:
            when = "at initialization" if run.diverged_at == 0 else f"at step {run.diverged_at:,}"
            parts.append(f"{name} batch norm the network overflowed {when}. ")
    return "".join(parts)


def _z(v: float) -> str:
    return amount(v)


def _times(r: float) -> str:
    """'6.1×', or '1.7 × 10⁴ times' where a power of ten would run into the × sign."""
    text = amount(r)
    return f"{text} times" if "×" in text else f"{text}×"


def _pct(accuracy: float) -> float:
    """An accuracy in percent, rounded to the tenth shown."""
    return round(100 * float(accuracy), 1)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"
