"""The learning-rate page, section "Schedules": one network trained under each schedule.

Every schedule (constant, step decay, exponential, 1/t, cosine, cosine with warm restarts,
each with an optional linear warm-up) trains the same network, [784, 30, 10] with sigmoid
hidden units and a softmax output under the log-likelihood cost, from the same initial
weights on the same mini-batches: each run seeds one ``np.random.Generator`` from the setup's
seed, draws the weights from it and then shuffles with it, and nothing else draws from it.
The page shows the rates against step (``schedule_curves``), validation accuracy and cost
per epoch (``History``), the training cost averaged over windows of mini-batches with the
rate (``Windows``), and a table (``schedule_table``, ``schedule_sentence``).

The lesson, measured rather than asserted: with a constant rate the training cost stops
falling and hovers at a level set by the rate and the mini-batch noise (``plateau``); when
the rate decays, it falls again (``decay_sentence``). At small rates the constant rate can
end lower, because a decay only shortens its steps; the sentence then says so. The batch
section (``BatchPair``) trains one schedule at two batch sizes and two rates, and reads off
how noisy the per-step cost is and which rate suits which batch (``batch_sentence``).

Measured defaults (seed 0; 3,000 digits, mini-batch 10, 20 epochs; see ``ScheduleRace``):
eta = 3 is where the constant rate clearly hovers: by epoch 12 its windowed training cost
stops falling and sits near 0.23, give or take 0.05, while the decays end 2.6 to 3.5 times
lower (step decay and cosine near 0.08; seeds 1 and 2 give 0.12 and 0.17 against 0.02 to
0.07). At eta = 0.3 or 1 the constant rate keeps falling to the end and ends lower than
the decays (the rate, not the noise, limits it). Time, cold, one thread, on a shared and
busy machine: the default race (six runs) about 7 s; the largest settings (``LARGEST``: 4,000
digits, 30 epochs, six schedules) 13 to 14.5 s; the batch pair 4 to 5 s, at most 7 s.

Non-goals: schedules that react to the cost (reduce-on-plateau), other optimizers than plain
SGD (the optimizers page races those), regularization.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.activation_verdicts import accuracy_noise
from explain.nn.datasets import Dataset, load_mnist
from explain.nn.network import NetworkSpec, init_params
from explain.nn.schedules import SCHEDULES, ScheduleSpec, rates
from explain.nn.training import Divergence, History, StepRecord, TrainConfig, train
from explain.words import amount, names

SIZES = (784, 30, 10)  # one hidden layer of sigmoids: a run of 20 epochs takes about 1 s
SCHEDULE_LABELS: dict[str, str] = {
    "constant": "constant",
    "step_decay": "step decay",
    "exponential": "exponential",
    "inverse_time": "1/t",
    "cosine": "cosine",
    "cosine_restarts": "cosine with restarts",
}

# What the page offers (select-sliders). The products n_train x epochs are bounded by the
# largest, 4,000 x 30, where six runs take about 13 s on one idle core (see LARGEST).
ETA_CHOICES = (0.1, 0.3, 1.0, 2.0, 3.0, 5.0)
N_TRAIN_CHOICES = (1000, 2000, 3000, 4000)
EPOCH_CHOICES = (10, 15, 20, 30)
WARMUP_CHOICES = (0, 1, 2)
BATCH_CHOICES = (10, 30, 100, 300)  # no smaller than 10: the time grows with the steps

WINDOWS_PER_EPOCH = 5  # the hovering chart averages the mini-batch costs over a fifth of an epoch
TAIL = 1 / 3  # "the last part" of a run, where plateau measures the level
MIN_TAIL = 6  # windows in the tail, at least: 3 a half, to compare the halves
BAND = 2.0  # the hover band is level +- BAND x spread: the windows stay inside it
# Two final training costs within 2x either way are "about the same" (batch_sentence): a
# hovering run's cost moves that much between epochs (eta 3, batch 10: 0.17 to 0.28 over
# epochs 13-20), so a smaller gap could be where each run happened to stop.
SAME_COST = 2.0
# a decayed schedule ends "about where" the constant rate did within 1.2x either way: the
# constant's level itself moves about that much between the windows of its last third
SAME_END = 1.2


def label(name: str) -> str:
    """How the page names a schedule: 'step decay', '1/t'."""
    return SCHEDULE_LABELS.get(name, name)


# --- the setup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRace:
    """The race: which schedules, their shared starting rate eta and parameters, the data.

    Schedule parameters are in epochs, as ``ScheduleSpec`` takes them: step decay multiplies
    the rate by ``drop`` every ``every_epochs``; exponential by ``rate`` per epoch; 1/t is
    eta / (1 + k epoch); cosine falls to ``eta_min`` at the end of the run; cosine with
    restarts falls to ``eta_min`` over ``period_epochs``, each cycle ``mult`` times longer.
    ``warmup_epochs`` (0: off) ramps every schedule, the constant one too, linearly up to eta.

    Defaults, measured (seed 0): eta = 3 makes the constant rate hover (module docstring);
    each decay's parameters bring the rate down by about 10x over 20 epochs, so every decay
    ends well below the constant's level: step decay halves it every 5 epochs (eta / 8 at
    the end), exponential 0.85 per epoch (0.04 eta), 1/t with k = 0.5 (eta / 11), cosine to 0,
    restarts every 5 epochs, so that a run of 10, 15, 20 or 30 epochs ends at a cycle's end.
    """

    schedules: tuple[str, ...] = SCHEDULES
    eta: float = 3.0
    drop: float = 0.5
    every_epochs: float = 5
    rate: float = 0.85
    k: float = 0.5
    eta_min: float = 0.0
    period_epochs: float = 5
    mult: float = 1.0
    warmup_epochs: float = 0
    n_train: int = 3000
    epochs: int = 20
    batch_size: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        _check_names(self.schedules)
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise ValueError(f"eta must be positive, got {self.eta}")
        if min(self.n_train, self.epochs, self.batch_size) < 1 or self.warmup_epochs < 0:
            raise ValueError("n_train, epochs and batch_size must be >= 1, warmup_epochs >= 0")

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    def spec(self, name: str) -> ScheduleSpec:
        """The ScheduleSpec of schedule ``name`` with this race's parameters and warm-up."""
        return ScheduleSpec(
            name,
            drop=self.drop,
            every_epochs=self.every_epochs,
            rate=self.rate,
            k=self.k,
            period_epochs=self.period_epochs,
            mult=self.mult,
            eta_min=self.eta_min,
            warmup_epochs=self.warmup_epochs,
        )

    def config(self, name: str) -> TrainConfig:
        """Plain SGD at this race's batch size, rate and schedule ``name``."""
        return TrainConfig(self.epochs, self.batch_size, self.eta, schedule=self.spec(name))


def _check_names(schedules: tuple[str, ...]) -> None:
    unknown = [s for s in schedules if s not in SCHEDULES]
    if unknown or not schedules:
        raise ValueError(f"schedules {unknown or '()'} not among {SCHEDULES}")
    if len(set(schedules)) != len(schedules):
        raise ValueError(f"schedule named twice in {schedules}")


DEFAULT = ScheduleRace()
LARGEST = ScheduleRace(n_train=max(N_TRAIN_CHOICES), epochs=max(EPOCH_CHOICES))  # the slowest


def network() -> NetworkSpec:
    """The page's network: [784, 30, 10], sigmoid hidden layer, softmax + log-likelihood."""
    return NetworkSpec(SIZES, "sigmoid", "log_likelihood", weight_init="scaled")


def schedule_curves(
    setup: ScheduleRace, max_points: int | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The rate against step for each schedule, no training: name -> (steps, rates).

    steps (S,) are 0-based global steps t, rates (S,) eta_t. With ``max_points`` every k-th
    step is kept (k chosen to keep about that many), plus both sides of every jump (a change
    above 2% of the curve's range in one step: step decay's drops, the restarts), so a thinned
    staircase still looks like one.
    """
    total, per_epoch = setup.total_steps, setup.steps_per_epoch
    out = {}
    for name in setup.schedules:
        eta_t = rates(setup.spec(name).build(setup.eta, per_epoch, total), total)
        steps = np.arange(total)
        if max_points is not None and total > max_points:
            keep = _thin(eta_t, max_points)
            steps, eta_t = steps[keep], eta_t[keep]
        out[name] = (steps, eta_t)
    return out


def _thin(eta_t: np.ndarray, max_points: int) -> np.ndarray:
    """Indices to keep: every k-th, the last, and both sides of each jump."""
    n = len(eta_t)
    keep = np.zeros(n, dtype=bool)
    keep[:: -(-n // max_points)] = True
    keep[-1] = True
    jumps = np.flatnonzero(np.abs(np.diff(eta_t)) > 0.02 * np.ptp(eta_t))
    keep[jumps] = keep[jumps + 1] = True
    return np.flatnonzero(keep)


# --- running the race -----------------------------------------------------------------------


class Windows(NamedTuple):
    """The per-step record thinned for a chart: consecutive windows of mini-batches.

    Each (W,): ``epoch`` where the window ends (steps / steps per epoch), ``cost`` the mean
    mini-batch cost over it, ``spread`` their standard deviation (the mini-batch noise),
    ``lr`` the mean rate over it. A run that diverged keeps the windows before the bad step.
    """

    epoch: np.ndarray
    cost: np.ndarray
    spread: np.ndarray
    lr: np.ndarray


def windows(steps: StepRecord, steps_per_epoch: int, per_epoch: int = WINDOWS_PER_EPOCH) -> Windows:
    """Average a run's per-step costs over windows of steps_per_epoch // per_epoch steps
    (at least 1); the last window may be shorter."""
    size = max(1, steps_per_epoch // per_epoch)
    loss, lr = np.asarray(steps.loss, dtype=float), np.asarray(steps.lr, dtype=float)
    ends = np.arange(size, len(loss) + size, size).clip(max=len(loss))
    starts = ends - np.diff(ends, prepend=0)
    stats = [(*_mean_std(loss[s:e]), _mean_std(lr[s:e])[0]) for s, e in zip(starts, ends)]
    mean, spread, rate = (np.array(c, dtype=float) for c in zip(*stats)) if stats else ([],) * 3
    return Windows(ends / steps_per_epoch, np.asarray(mean), np.asarray(spread), np.asarray(rate))


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of finite values (n,), n >= 1, without overflow: a run at
    an absurd rate can record finite costs near 10^300, whose squares are not finite."""
    scale = float(np.max(np.abs(values)))
    if scale == 0:
        return 0.0, 0.0
    unit = values / scale
    return scale * float(unit.mean()), scale * float(unit.std())


class ScheduleRun(NamedTuple):
    """One schedule's run, from its starting rate ``eta``. Accuracies are fractions of the
    validation digits; they, the best epoch and the final cost are None when no trained epoch
    was recorded (a run that diverged in its first epoch), so no NaN reaches a table. A run
    that diverged later reports its last recorded epoch as final."""

    name: str
    eta: float
    history: History
    windows: Windows
    final_accuracy: float | None
    best_accuracy: float | None
    best_epoch: int | None  # the first epoch at the best accuracy
    final_cost: float | None  # training cost on all n_train digits after the last epoch
    end_cost: float | None  # mean mini-batch cost over the last epoch (the chart's end)
    diverged_at: Divergence | None

    @property
    def label(self) -> str:
        return label(self.name)


def run_schedules(
    setup: ScheduleRace, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, ScheduleRun]:
    """Train under every schedule of ``setup``, in order, from the same weights on the same
    mini-batches; ``on_progress(done, total)`` after every epoch of every run."""
    data = load_mnist()
    train_set = data.train.take(setup.n_train)
    total = len(setup.schedules) * setup.epochs
    out = {}
    for i, name in enumerate(setup.schedules):
        tick = _tick(on_progress, i * setup.epochs, total)
        result = _train(setup.config(name), setup.seed, train_set, data.validation, tick)
        out[name] = _schedule_run(name, setup.eta, *result, setup.steps_per_epoch)
    return out


def _tick(on_progress, done_before: int, total: int) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    return lambda epoch, _epochs: on_progress(done_before + epoch, total)


def _train(config: TrainConfig, seed: int, train_set: Dataset, validation: Dataset, on_epoch):
    """(History, StepRecord, Divergence | None) of one run; the seed fixes weights and batches."""
    rng = np.random.default_rng(seed)
    spec = network()
    params = init_params(spec, rng=rng)
    result = train(
        spec,
        params,
        train_set,
        config,
        rng=rng,
        eval_data=validation,
        probe=train_set.take(100),  # layer statistics are not this page's subject
        on_epoch=on_epoch,
        record_steps=True,
    )
    steps = result.steps if result.steps is not None else StepRecord(*(np.array([]),) * 3)
    return result.history, steps, result.diverged_at


def _schedule_run(name, eta, history, steps, diverged_at, steps_per_epoch) -> ScheduleRun:
    win = windows(steps, steps_per_epoch)
    trained = len(history.epoch) >= 2
    acc = np.asarray(history.eval_accuracy[1:], dtype=float)
    best = int(np.argmax(acc)) + 1 if trained else None
    last_epoch = steps.loss[-steps_per_epoch:] if trained else np.array([])
    return ScheduleRun(
        name,
        eta,
        history,
        win,
        float(acc[-1]) if trained else None,
        float(acc[best - 1]) if trained else None,
        int(history.epoch[best]) if trained else None,
        float(history.train_cost[-1]) if trained else None,
        float(last_epoch.mean()) if len(last_epoch) else None,
        diverged_at,
    )


# --- hovering -------------------------------------------------------------------------------


class Plateau(NamedTuple):
    """Where a windowed training cost ended up, measured over the tail (the last third).

    level, spread: mean and standard deviation of the tail's windows. noise: the part of the
    spread a slow trend does not explain, std of successive differences / sqrt(2). fall: mean
    of the tail's first half minus its second half (> 0: still falling). hovering: fall <=
    spread, which for a linear trend plus noise means a trend across the tail below about
    2.4x the noise (sqrt 6: spread^2 = trend^2 / 12 + noise^2, fall = trend / 2). settled_epoch:
    the first epoch whose mean cost (the mean of its ``per_epoch`` windows, a trailing
    average) came within BAND standard errors, BAND x spread / sqrt(per_epoch), of the level
    (None if the cost was there from the start). start: the first window's cost.
    """

    level: float
    spread: float
    noise: float
    fall: float
    hovering: bool
    settled_epoch: int | None
    start: float


def plateau(win: Windows, per_epoch: int = WINDOWS_PER_EPOCH) -> Plateau | None:
    """Measure the hovering of one run's windows (``per_epoch`` of them an epoch); None with
    fewer than 2 x MIN_TAIL windows (a run too short, or one that diverged early)."""
    cost = np.asarray(win.cost, dtype=float)
    if len(cost) < 2 * MIN_TAIL:
        return None
    tail = cost[-max(MIN_TAIL, round(TAIL * len(cost))) :]
    level, spread = _mean_std(tail)
    half = len(tail) // 2
    fall = float(tail[:half].mean() - tail[-half:].mean())
    noise = _mean_std(np.diff(tail))[1] / math.sqrt(2)
    m = max(1, min(per_epoch, len(cost)))
    trailing = np.convolve(cost / m, np.ones(m), mode="valid")  # ends at windows m-1, m, ...
    near = trailing <= level + BAND * spread / math.sqrt(m)
    settled = None
    if not near[0]:
        settled = math.ceil(round(float(win.epoch[m - 1 + int(np.argmax(near))]), 9))
    return Plateau(level, spread, noise, fall, fall <= spread, settled, float(cost[0]))


class DecayGain(NamedTuple):
    """A decayed schedule's end against the constant rate's: ``reference`` is the constant's
    hover level if it hovers, else its end (the mean mini-batch cost of its last epoch);
    ratio = reference / end (> 1: the decay ended lower); ``code`` "lower", "higher" or
    "same" (within the constant's band: reference +- BAND x its spread if it hovers, else
    +- BAND x its noise, as a trend is not noise)."""

    name: str
    end: float
    reference: float
    ratio: float
    code: str


def decay_gains(results: dict[str, ScheduleRun]) -> list[DecayGain]:
    """Each decayed schedule that ran to the end against the constant rate (which must be
    in ``results`` and have a plateau; else an empty list)."""
    const = results.get("constant")
    hover = plateau(const.windows) if const is not None and const.diverged_at is None else None
    if hover is None or const.end_cost is None:
        return []
    reference = hover.level if hover.hovering else const.end_cost
    out = []
    for name, run in results.items():
        if name == "constant" or run.diverged_at is not None or run.end_cost is None:
            continue
        ratio = reference / run.end_cost if run.end_cost > 0 else math.inf
        # a ratio, not a band: a band of a few standard deviations around a hovering level
        # can span a factor of five and call a 1.8x lower end "about where" it ended
        code = "same" if 1 / SAME_END <= ratio <= SAME_END else "lower" if ratio > 1 else "higher"
        out.append(DecayGain(name, run.end_cost, reference, ratio, code))
    return out


def decay_sentence(results: dict[str, ScheduleRun]) -> str:
    """What the constant rate's windowed training cost did, then how much lower (or not)
    each decayed schedule ended; every number measured."""
    const = results.get("constant")
    if const is None:
        return "Without the constant rate in the race there is no hovering to compare with."
    eta = const.eta
    if const.diverged_at is not None:
        where = _where(const.diverged_at)
        return f"With a constant rate of {amount(eta)} training diverged {where}." + _saved(results)
    hover = plateau(const.windows)
    if hover is None:
        return "The run is too short to tell whether the constant rate's cost stopped falling."
    first = _hover_clause(hover, eta)
    gains = decay_gains(results)
    return " ".join([first, *_gain_clauses(gains, hover)]) + _diverged_decays(results)


def _hover_clause(hover: Plateau, eta: float) -> str:
    if not hover.hovering:
        return (
            f"With a constant rate of {amount(eta)} the training cost was still falling at "
            f"the end: over the last third of the run it fell by {amount(hover.fall)}, more "
            f"than the mini-batch noise moves it (give or take {amount(hover.noise)})."
        )
    where = f"near {amount(hover.level)}, give or take {amount(hover.spread)}"
    when = (
        f"stopped falling by epoch {hover.settled_epoch} and hovers"
        if hover.settled_epoch is not None
        else "hovers from the start"
    )
    return f"With a constant rate of {amount(eta)} the training cost {when} {where}."


def _gain_clauses(gains: list[DecayGain], hover: Plateau) -> list[str]:
    ref = "that level" if hover.hovering else "the constant rate's end"
    lower = sorted((g for g in gains if g.code == "lower"), key=lambda g: -g.ratio)
    same = [g for g in gains if g.code == "same"]
    higher = [g for g in gains if g.code == "higher"]
    out = []
    if lower:
        each = [
            f"{label(g.name)} to {amount(g.end)}"
            + (f" ({_times(g.ratio)} lower)" if math.isfinite(g.ratio) else "")
            for g in lower
        ]
        head = (
            "When the rate decays the cost falls further"
            if hover.hovering
            else "The decays ended lower still"
        )
        out.append(f"{head}: {names(each)}.")
    if same:
        where = "hovers" if hover.hovering else "ended"
        who = _cap(names([label(g.name) for g in same]))
        out.append(f"{who} ended about where the constant rate {where}.")
    if higher:
        each = [f"{label(g.name)} ({amount(g.end)})" for g in higher]
        why = (
            ": at this rate the noise is not what holds the constant rate back, so a decay"
            " only shortens steps that were not too long"
            if not hover.hovering
            else ""
        )
        out.append(
            f"{_cap(names(each))} ended higher than {ref} ({amount(gains[0].reference)}){why}."
        )
    return out


def _saved(results: dict[str, ScheduleRun]) -> str:
    kept = [label(n) for n, r in results.items() if n != "constant" and r.diverged_at is None]
    if not kept:
        return ""
    return f" The decayed schedules that kept going: {names(kept)}."


def _diverged_decays(results: dict[str, ScheduleRun]) -> str:
    gone = [r for n, r in results.items() if n != "constant" and r.diverged_at is not None]
    return f" Diverged: {_divergences(gone)}." if gone else ""


def _where(d: Divergence) -> str:
    """'at initialization' or 'at epoch 3 (step 412)'."""
    return "at initialization" if d.epoch == 0 else f"in epoch {d.epoch} (step {d.step:,})"


def _divergences(runs) -> str:
    """'constant in epoch 3 (step 412) and cosine at initialization'."""
    return names([f"{r.label} {_where(r.diverged_at)}" for r in runs])


def _times(ratio: float) -> str:
    text = amount(ratio)
    return f"{text} times" if "×" in text or not math.isfinite(ratio) else f"{text}×"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the table ------------------------------------------------------------------------------


class ScheduleRow(NamedTuple):
    """One schedule as the table shows it (None where no trained epoch was recorded)."""

    name: str
    label: str
    final_accuracy: float | None
    best_accuracy: float | None
    best_epoch: int | None
    final_cost: float | None
    diverged_at: Divergence | None


def schedule_table(results: dict[str, ScheduleRun]) -> list[ScheduleRow]:
    """A row per schedule, in the race's order."""
    return [
        ScheduleRow(
            n, r.label, r.final_accuracy, r.best_accuracy, r.best_epoch, r.final_cost, r.diverged_at
        )
        for n, r in results.items()
    ]


def schedule_sentence(rows: list[ScheduleRow], n_eval: int = 1000) -> str:
    """Which schedule ended highest (ties: the same tenth of a percent; within noise: less
    than ``accuracy_noise`` of n_eval validation digits below the top), and which epoch of
    which schedule was best of all. Diverged runs do not compete."""
    if not rows:
        return "No schedule ran."
    gone = [r for r in rows if r.diverged_at is not None]
    if len(gone) == len(rows):
        return f"Every schedule diverged: {_divergences(gone)}."
    tail = f" Diverged: {_divergences(gone)}." if gone else ""
    running = [r for r in rows if r.diverged_at is None and r.final_accuracy is not None]
    if not running:
        return f"No schedule recorded a trained epoch.{tail}"
    if len(running) == 1:
        r = running[0]
        return f"{_cap(r.label)} ended at {_pct(r.final_accuracy)}.{tail}"
    return _ended(running, n_eval) + " " + _best_of_all(running) + tail


def _ended(running: list[ScheduleRow], n_eval: int) -> str:
    top = max(_tenth(r.final_accuracy) for r in running)
    leaders = [r for r in running if _tenth(r.final_accuracy) == top]
    others = sorted(
        (r for r in running if _tenth(r.final_accuracy) != top), key=lambda r: -r.final_accuracy
    )
    close = [r for r in others if top - _tenth(r.final_accuracy) <= _noise(top, r, n_eval)]
    rest = [r for r in others if r not in close]
    who = _cap(names([r.label for r in leaders]))
    if len(leaders) == 1:
        text = f"{who} ended highest, at {top:.1f}%"
    else:
        text = f"{who} ended level at the top, at {top:.1f}%"
    if close and not rest:
        text += f"; every other schedule is within noise of it ({n_eval:,} validation digits)"
        text += f": {_with_pct(close)}"
    elif close:
        verb = "is" if len(close) == 1 else "are"
        text += f"; {_with_pct(close)} {verb} within noise of it ({n_eval:,} validation digits)"
    return text + (f". {_cap(_with_pct(rest))} ended lower." if rest else ".")


def _best_of_all(running: list[ScheduleRow]) -> str:
    top = max(_tenth(r.best_accuracy) for r in running)
    at = [f"{r.label} in epoch {r.best_epoch}" for r in running if _tenth(r.best_accuracy) == top]
    return f"The best epoch of all reached {top:.1f}% ({names(at)})."


def _tenth(accuracy: float) -> float:
    return round(100 * accuracy, 1)


def _pct(accuracy: float) -> str:
    return f"{_tenth(accuracy):.1f}%"


def _noise(top: float, row: ScheduleRow, n_eval: int) -> float:
    return accuracy_noise(top, _tenth(row.final_accuracy), n_eval)


def _with_pct(rows: list[ScheduleRow]) -> str:
    return names([f"{r.label} ({_pct(r.final_accuracy)})" for r in rows])


# --- batch size and learning rate -----------------------------------------------------------


@dataclass(frozen=True)
class BatchPair:
    """One schedule at two batch sizes, ``small`` and ``large``, for the same epochs (so the
    large batch takes large / small times fewer steps), at rate ``eta``; with ``scaled``,
    also at eta x large / small, the rate scaled with the batch: four runs, a 2 x 2.

    Defaults, measured (seed 0, constant rate, 3,000 digits, 20 epochs): batch 10 ends at a
    training cost of 0.027 with eta = 0.3 but 0.17 with eta = 3, where it hovers; batch 100
    is the other way round (0.042 at 3, 0.27 at 0.3: its 600 steps are too few at the small
    rate). Relative to its mean, a batch of 10's cost spreads 4.6x as much as a batch of 100's.
    """

    schedule: ScheduleSpec = ScheduleSpec()
    eta: float = 0.3
    small: int = 10
    large: int = 100
    scaled: bool = True
    n_train: int = 3000
    epochs: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise ValueError(f"eta must be positive, got {self.eta}")
        if not 1 <= self.small < self.large:
            raise ValueError(f"need 1 <= small < large, got {self.small}, {self.large}")
        if not math.isfinite(self.eta * self.large / self.small):
            raise ValueError(f"the scaled rate eta x large / small is not finite: {self.eta}")
        if min(self.n_train, self.epochs) < 1:
            raise ValueError("n_train and epochs must be at least 1")

    @property
    def etas(self) -> tuple[float, ...]:
        """The rates each batch runs at: eta, and eta x large / small if scaled."""
        return (self.eta, self.eta * self.large / self.small) if self.scaled else (self.eta,)

    def runs(self) -> list[tuple[int, float]]:
        """(batch size, rate) of every run, small batch first."""
        return [(b, e) for b in (self.small, self.large) for e in self.etas]


class BatchRun(NamedTuple):
    """One (batch size, rate) run of a BatchPair. ``level`` and ``noise`` are the mean and
    standard deviation of the per-step (mini-batch) costs over the last epoch; accuracies and
    costs are None when no trained epoch was recorded."""

    batch_size: int
    eta: float
    history: History
    windows: Windows
    level: float | None
    noise: float | None
    final_accuracy: float | None
    final_cost: float | None
    diverged_at: Divergence | None

    @property
    def relative_noise(self) -> float | None:
        """noise / level: how far one mini-batch's cost strays, as a fraction of the mean."""
        if self.noise is None or not self.level:
            return None
        return self.noise / self.level


def run_batch_pair(
    pair: BatchPair, on_progress: Callable[[int, int], None] | None = None
) -> list[BatchRun]:
    """Every run of ``pair`` in ``pair.runs()`` order, from the same weights; each epoch
    visits the digits in the same order whatever the batch size."""
    data = load_mnist()
    train_set = data.train.take(pair.n_train)
    runs, out = pair.runs(), []
    for i, (batch, eta) in enumerate(runs):
        config = TrainConfig(pair.epochs, batch, eta, schedule=pair.schedule)
        tick = _tick(on_progress, i * pair.epochs, len(runs) * pair.epochs)
        history, steps, diverged = _train(config, pair.seed, train_set, data.validation, tick)
        per_epoch = config.steps_per_epoch(pair.n_train)
        out.append(_batch_run(batch, eta, history, steps, diverged, per_epoch))
    return out


def _batch_run(batch, eta, history, steps, diverged, per_epoch) -> BatchRun:
    trained = len(history.epoch) >= 2 and diverged is None
    last = np.asarray(steps.loss[-per_epoch:], dtype=float) if trained else np.array([])
    return BatchRun(
        batch,
        eta,
        history,
        windows(steps, per_epoch),
        _mean_std(last)[0] if len(last) else None,
        _mean_std(last)[1] if len(last) else None,
        float(history.eval_accuracy[-1]) if len(history.epoch) >= 2 else None,
        float(history.train_cost[-1]) if len(history.epoch) >= 2 else None,
        diverged,
    )


def worse_than_untrained(runs: list[BatchRun]) -> list[BatchRun]:
    """Runs whose training cost ended above the untrained network's (the scan's rule for a
    diverged run on the same page): training made them worse at their own digits."""
    return [
        r
        for r in runs
        if r.final_cost is not None
        and len(r.history.train_cost)
        and r.final_cost > float(r.history.train_cost[0])
    ]


def batch_sentence(runs: list[BatchRun], n_eval: int = 1000) -> str:
    """How noisy the per-step cost is at each batch size, and which rate suited which batch,
    from the runs of one BatchPair (``pair.runs()`` order)."""
    if not runs:
        return "Nothing ran."
    gone = [r for r in runs if r.diverged_at is not None]
    what = names(
        [f"batch {r.batch_size} at rate {amount(r.eta)} {_where(r.diverged_at)}" for r in gone]
    )
    if len(gone) == len(runs):
        return f"Every run diverged: {what}."
    body = [s for s in (_noise_sentence(runs), _rate_sentence(runs, n_eval)) if s]
    return " ".join([*body, *([f"Diverged: {what}."] if gone else [])])


def _noise_sentence(runs: list[BatchRun]) -> str:
    """The same rate at both batch sizes: the spread of one mini-batch's cost, relative."""
    batches = sorted({r.batch_size for r in runs})
    eta = runs[0].eta
    pair = [_find(runs, b, eta) for b in batches]
    if len(pair) != 2 or any(r is None or r.relative_noise is None for r in pair):
        return ""
    small, large = pair
    head = (
        f"Over the last epoch at rate {amount(eta)}, one mini-batch's cost strayed from its mean "
        f"by {amount(small.noise)} ({_pct_of(small)}) with {small.batch_size} digits a batch, "
        f"and by {amount(large.noise)} ({_pct_of(large)}) with {large.batch_size}."
    )
    ratio, times = small.relative_noise / large.relative_noise, large.batch_size / small.batch_size
    if ratio > 1:
        verdict = (
            f" Relative to its level, the smaller batch's cost is {_times(ratio)} as noisy "
            f"(averaging {amount(times)}× as many digits divides the spread by "
            f"{amount(math.sqrt(times))} when every digit's cost varies alike)."
        )
    else:
        verdict = " Here the larger batch's cost is not the calmer one, relative to its level."
    return head + verdict


def _pct_of(run: BatchRun) -> str:
    """'100% of the mean 0.026'."""
    return f"{amount(100 * run.relative_noise)}% of the mean {amount(run.level)}"


def _rate_sentence(runs: list[BatchRun], n_eval: int) -> str:
    """Per batch size, the rate that ended with the lower training cost (and the accuracies);
    with one rate, how the large batch's fewer steps compare."""
    etas = sorted({r.eta for r in runs})
    if len(etas) == 1:
        return _same_rate(runs, n_eval)
    picks = [_pick(runs, b, etas, n_eval) for b in sorted({r.batch_size for r in runs})]
    text = " ".join(p[0] for p in picks if p[0])
    best = [p[1] for p in picks]
    if None in best:
        return text
    if best[0] < best[1]:
        text += " The rate that suits a batch grows with the batch: a bigger batch averages away "
        text += "more of the mini-batch noise, so it can take longer steps."
    elif best[0] == best[1]:
        text += f" Both batch sizes did better at {amount(best[0])} here."
    return text


def _pick(runs, batch, etas, n_eval) -> tuple[str, float | None]:
    """The sentence for one batch size across rates, and the rate that won (None: a tie or
    a run missing)."""
    pair = [_find(runs, batch, e) for e in etas]
    if any(r is None or r.final_cost is None or r.diverged_at is not None for r in pair):
        return "", None
    lo, hi = sorted(pair, key=lambda r: r.final_cost)
    if hi.final_cost <= SAME_COST * lo.final_cost:
        return (
            f"Batch {batch} ended about as low at rate {amount(lo.eta)} as at {amount(hi.eta)} "
            f"(training cost {amount(lo.final_cost)} and {amount(hi.final_cost)}).",
            None,
        )
    acc = _acc_compare(lo, hi, n_eval)
    return (
        f"Batch {batch} did better at rate {amount(lo.eta)}: training cost "
        f"{amount(lo.final_cost)} against {amount(hi.final_cost)} at {amount(hi.eta)}{acc}.",
        lo.eta,
    )


def _same_rate(runs: list[BatchRun], n_eval: int) -> str:
    if len(runs) != 2 or any(r.final_cost is None for r in runs):
        return ""
    small, large = runs
    steps = large.batch_size // small.batch_size
    acc = _acc_compare(small, large, n_eval)
    return (
        f"At the same rate, batch {large.batch_size} takes {steps}× fewer steps: it ended at "
        f"training cost {amount(large.final_cost)} against {amount(small.final_cost)} for "
        f"batch {small.batch_size}{acc}."
    )


def _acc_compare(a: BatchRun, b: BatchRun, n_eval: int) -> str:
    """', with 92.7% and 89.2% validation accuracy' (+ ', within noise' when it is)."""
    if a.final_accuracy is None or b.final_accuracy is None:
        return ""
    pa, pb = _tenth(a.final_accuracy), _tenth(b.final_accuracy)
    close = abs(pa - pb) <= accuracy_noise(pa, pb, n_eval)
    noise = f", within noise of {n_eval:,} digits" if close else ""
    return f"; validation accuracy {pa:.1f}% against {pb:.1f}%{noise}"


def _find(runs: list[BatchRun], batch: int, eta: float) -> BatchRun | None:
    return next((r for r in runs if r.batch_size == batch and r.eta == eta), None)


DEFAULT_PAIR = BatchPair()
LARGEST_PAIR = BatchPair(n_train=max(N_TRAIN_CHOICES), epochs=max(EPOCH_CHOICES))  # the slowest
