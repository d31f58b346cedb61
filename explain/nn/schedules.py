"""Learning-rate schedules: pure functions from the step count t = 0, 1, 2, ... to a rate eta_t.

Serves the optimization pages: every optimizer in ``explain.nn.optimizers`` takes either a
float eta (constant) or a ``Schedule`` and evaluates it at its own step count, so any
optimizer composes with any schedule. Steps count mini-batches, not epochs; ``ScheduleSpec``
is the hashable, epoch-based description a page or a training config holds, and ``build``
turns it into a step-based ``Schedule``.

Also here: the learning-rate range test (Smith 2017, "Cyclical learning rates for training
neural networks"; fastai's ``lr_find``): ``range_test`` raises the rate exponentially over a
short run, and ``suggest_range`` reads a sensible interval off the recorded losses.

Non-goals: schedules that react to the loss (reduce-on-plateau), which are not functions of t.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Schedule = Callable[[int], float]

SCHEDULES: tuple[str, ...] = (
    "constant",
    "step_decay",
    "exponential",
    "inverse_time",
    "cosine",
    "cosine_restarts",
)

SMOOTHING = 0.98  # beta of the loss EMA in suggest_range, fastai's choice


def as_schedule(eta: float | Schedule) -> Schedule:
    """A schedule unchanged, or a number as the constant schedule."""
    return eta if callable(eta) else constant(eta)


def constant(eta: float) -> Schedule:
    """eta_t = eta."""
    eta = float(eta)

    def schedule(t: int) -> float:
        return eta

    return schedule


def step_decay(eta: float, drop: float = 0.5, every: int = 100) -> Schedule:
    """eta_t = eta * drop^floor(t / every): a staircase, one drop per ``every`` steps."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")

    def schedule(t: int) -> float:
        return eta * drop ** (t // every)

    return schedule


def exponential(eta: float, rate: float, every: float = 1) -> Schedule:
    """eta_t = eta * rate^(t / every): smooth decay by a factor ``rate`` per ``every`` steps."""
    if every <= 0:
        raise ValueError(f"every must be > 0, got {every}")

    def schedule(t: int) -> float:
        return eta * rate ** (t / every)

    return schedule


def inverse_time(eta: float, k: float) -> Schedule:
    """eta_t = eta / (1 + k t), the 1/t decay of stochastic approximation (Robbins-Monro)."""

    def schedule(t: int) -> float:
        return eta / (1.0 + k * t)

    return schedule


def _cosine_between(eta: float, eta_min: float, fraction: float) -> float:
    """Half a cosine from eta (fraction 0) down to eta_min (fraction 1)."""
    return eta_min + 0.5 * (eta - eta_min) * (1.0 + math.cos(math.pi * fraction))


def cosine(eta: float, total: int, eta_min: float = 0.0) -> Schedule:
    """eta_t = eta_min + (eta - eta_min)(1 + cos(pi t / total)) / 2 for t <= total, then eta_min."""
    if total < 1:
        raise ValueError(f"total must be >= 1, got {total}")

    def schedule(t: int) -> float:
        return eta_min if t >= total else _cosine_between(eta, eta_min, t / total)

    return schedule


def cosine_restarts(eta: float, period: float, mult: float = 1.0, eta_min: float = 0.0) -> Schedule:
    """SGDR (Loshchilov and Hutter 2017): cosine from eta to eta_min, restarted to eta.

    Cycle i lasts T_i = period * mult^i steps, so restarts fall at t = 0, period,
    period + period mult, ...; within a cycle eta_t is ``cosine`` at t_cur / T_i.
    """
    if period <= 0 or mult < 1:
        raise ValueError(f"need period > 0 and mult >= 1, got {period}, {mult}")

    def schedule(t: int) -> float:
        if mult == 1:
            start, length = (t // period) * period, period
        else:  # walk the cycles: exact at the boundaries, and only log(t) of them
            start, length = 0.0, period
            while t >= start + length:
                start, length = start + length, length * mult
        return _cosine_between(eta, eta_min, (t - start) / length)

    return schedule


def warmup(schedule: Schedule, steps: int) -> Schedule:
    """Linear warm-up: eta_t = schedule(0) (t + 1) / steps for t < steps, then schedule(t - steps).

    The wrapped schedule starts after the warm-up, so a decay is not eaten by it.
    """
    if steps <= 0:
        return schedule
    eta0 = schedule(0)

    def warmed(t: int) -> float:
        return eta0 * (t + 1) / steps if t < steps else schedule(t - steps)

    return warmed


def range_test(lr_min: float, lr_max: float, steps: int) -> Schedule:
    """eta_t = lr_min (lr_max / lr_min)^(t / (steps - 1)): lr_min at t = 0, lr_max at steps - 1."""
    if not 0 < lr_min < lr_max or steps < 2:
        raise ValueError("need 0 < lr_min < lr_max and steps >= 2")
    ratio = lr_max / lr_min

    def schedule(t: int) -> float:
        return lr_min * ratio ** (t / (steps - 1))

    return schedule


def rates(schedule: Schedule, steps: int) -> np.ndarray:
    """The schedule evaluated at t = 0 .. steps - 1, shape (steps,), for a chart."""
    return np.fromiter((schedule(t) for t in range(steps)), dtype=float, count=steps)


def smoothed_losses(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """Bias-corrected moving average of a loss curve, losses (n,) -> (n,).

    a_i = beta a_{i-1} + (1 - beta) loss_i (a_{-1} = 0), smoothed_i = a_i / (1 - beta^(i+1)).
    The bias correction makes smoothed_0 = loss_0 instead of (1 - beta) loss_0, so the start
    of the curve is not dragged towards 0.
    """
    avg, out = 0.0, np.empty(len(losses))
    for i, loss in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * loss
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def suggest_range(
    lrs: np.ndarray, losses: np.ndarray, beta: float = SMOOTHING
) -> tuple[float, float]:
    """(lo, hi) learning rates from a range test, by the rule below.

    lrs (n,) increasing rates, losses (n,) the mini-batch loss recorded at each.
    Rule: keep the losses before the first inf or NaN (where the run blew up); smooth them
    with ``smoothed_losses`` (beta = 0.98, the bias-corrected EMA fastai uses); hi is the
    rate at the smoothed minimum and lo = hi / 10. Smoothing suppresses mini-batch noise
    but lags by about beta / (1 - beta) = 49 steps, so hi sits slightly past the raw
    minimum; lo, a decade lower, is the safe choice (fastai's "minimum / 10").
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    bad = np.flatnonzero(~np.isfinite(losses))
    n = bad[0] if bad.size else len(losses)
    if n == 0:
        raise ValueError("no finite loss before the first inf or NaN")
    hi = float(lrs[np.argmin(smoothed_losses(losses[:n], beta))])
    return hi / 10.0, hi


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule in epochs, frozen so it hashes and can key a cache; ``build`` makes it steps.

    name: one of SCHEDULES. drop, every_epochs: step_decay's factor and interval.
    rate: exponential's factor per epoch. k: inverse_time's k per epoch (eta / (1 + k epoch)).
    period_epochs, mult: SGDR's first cycle and its growth. eta_min: floor of both cosines.
    warmup_epochs: linear warm-up before the schedule starts (0 for none).
    """

    name: str = "constant"
    drop: float = 0.5
    every_epochs: float = 10
    rate: float = 0.95
    k: float = 0.1
    period_epochs: float = 10
    mult: float = 1.0
    eta_min: float = 0.0
    warmup_epochs: float = 0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.name!r}; choose from {SCHEDULES}")

    def build(self, eta: float, steps_per_epoch: int, total_steps: int) -> Schedule:
        """The step-based schedule for a run of total_steps mini-batches, warm-up included."""
        n_warm = round(self.warmup_epochs * steps_per_epoch)

        def steps(epochs: float) -> int:
            return max(1, round(epochs * steps_per_epoch))

        make = {
            "constant": lambda: constant(eta),
            "step_decay": lambda: step_decay(eta, self.drop, steps(self.every_epochs)),
            "exponential": lambda: exponential(eta, self.rate, every=steps_per_epoch),
            "inverse_time": lambda: inverse_time(eta, self.k / steps_per_epoch),
            "cosine": lambda: cosine(eta, max(1, total_steps - n_warm), self.eta_min),
            "cosine_restarts": lambda: cosine_restarts(
                eta, steps(self.period_epochs), self.mult, self.eta_min
            ),
        }
        return warmup(make[self.name](), n_warm)
