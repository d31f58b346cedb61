"""Mini-batch training with a per-epoch record of how each layer is learning.

The record is what the deep-network pages plot: cost and accuracy on training and
evaluation data, and for every hidden layer Nielsen's "speed of learning" ||dC/db^l||
(the norm of the bias gradient averaged over a fixed probe set), plus the mean,
standard deviation and saturated fraction of its activations.

Training never prints and never plots. If a cost or a weight stops being finite it
stops, and says where in ``TrainResult.diverged_at``; the history then holds only the
epochs that completed, so no NaN reaches a chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.nn.datasets import Dataset
from explain.nn.network import (
    NetworkSpec,
    Params,
    backward,
    forward,
    l2_penalty,
    running_after,
)
from explain.nn.optimizers import Optimizer, apply_updates, is_finite, make_optimizer
from explain.nn.regularizers import (
    add_l1,
    add_l2,
    clamp_zero_crossings,
    early_stopping_init,
    early_stopping_update,
    l1_penalty,
    max_norm,
)
from explain.nn.schedules import Schedule, ScheduleSpec, range_test, suggest_range


@dataclass(frozen=True)
class TrainConfig:
    """How to train; frozen, so it keys a cache.

    epochs, mini-batch size, learning rate eta (the schedule's starting rate), L2 strength
    lmbda and L1 strength lmbda1 (both divided by the training-set size n, as Nielsen
    does), the optimizer by name with all hyperparameters any optimizer takes (each one
    uses its own), a learning-rate schedule, max-norm c (0: off), and early stopping's
    patience in epochs (0: off; it watches validation accuracy and needs a row per epoch).
    """

    epochs: int = 30
    batch_size: int = 10
    eta: float = 0.1
    lmbda: float = 0.0
    optimizer: str = "sgd"
    beta: float = 0.9  # momentum, nesterov
    rho: float = 0.9  # rmsprop
    beta1: float = 0.9  # adam
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = True
    weight_decay: float = 0.0  # adamw's decoupled decay
    schedule: ScheduleSpec = ScheduleSpec()
    lmbda1: float = 0.0
    max_norm: float = 0.0
    patience: int = 0

    def steps_per_epoch(self, n: int) -> int:
        return -(-n // self.batch_size)

    def make_schedule(self, n: int) -> Schedule:
        """The learning rate at each global step for a training set of n samples."""
        per_epoch = self.steps_per_epoch(n)
        return self.schedule.build(self.eta, per_epoch, per_epoch * self.epochs)

    def make_optimizer(self, n: int = 1) -> Optimizer:
        """The optimizer, its rate following the schedule for a training set of n samples."""
        return make_optimizer(self.optimizer, self.make_schedule(n), **_hyper(self))


def _hyper(config: TrainConfig) -> dict:
    """Every optimizer hyperparameter of ``config``; each factory takes the ones it uses."""
    return dict(
        beta=config.beta,
        rho=config.rho,
        beta1=config.beta1,
        beta2=config.beta2,
        eps=config.eps,
        bias_correction=config.bias_correction,
        weight_decay=config.weight_decay,
    )


class Divergence(NamedTuple):
    """Where training stopped: the epoch (1-based) and the global mini-batch step.

    Epoch 0, step 0 means the initial network already overflowed, before any step.
    """

    epoch: int
    step: int

    def __str__(self) -> str:
        if self.epoch == 0:
            return "diverged at initialization: the untrained network already overflows"
        return f"diverged at epoch {self.epoch} (step {self.step})"


class LayerStats(NamedTuple):
    """One snapshot of the hidden layers, each array of shape (n_hidden,)."""

    grad_norm: np.ndarray  # ||mean over the probe set of dC/db^l||
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray  # fraction of units x samples with act'(z) < 5% of its maximum
    dead: np.ndarray  # fraction of units with z <= 0 on every probe sample (never active)
    no_gradient: np.ndarray  # fraction of units whose delta is exactly 0 on every probe sample


class History(NamedTuple):
    """Per-epoch record, row 0 at initialization; per-layer arrays are (rows, n_hidden).

    ``epoch`` names the epoch of each row (0, 1, 2, ... unless training recorded sparsely).
    ``lr`` is the learning rate of the epoch's last step (row 0: of the first step).
    ``update_ratio`` (rows, L) is ||Delta W^l|| / ||W^l|| for every weight layer, the output
    layer last, averaged over the epoch's last few steps (row 0: 0, nothing moved yet).
    """

    epoch: np.ndarray
    train_cost: np.ndarray
    train_accuracy: np.ndarray
    eval_cost: np.ndarray
    eval_accuracy: np.ndarray
    grad_norm: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    no_gradient: np.ndarray
    lr: np.ndarray = np.array([])
    update_ratio: np.ndarray = np.array([])


class StepRecord(NamedTuple):
    """Per mini-batch step (only when asked for): global step (1-based), the mini-batch
    cost before the step (no penalty term), and the learning rate used."""

    step: np.ndarray
    loss: np.ndarray
    lr: np.ndarray


class TrainResult(NamedTuple):
    """The final parameters (the best epoch's, with early stopping), the history, and
    where training diverged, if it did; with early stopping, the best epoch and the epoch
    at which patience ran out (None if it never did)."""

    params: Params
    history: History
    diverged_at: Divergence | None
    best_epoch: int | None = None
    stopped_at: int | None = None
    steps: StepRecord | None = None


def layer_stats(spec: NetworkSpec, params: Params, probe: Dataset) -> LayerStats:
    """Gradient norm and activation statistics of every hidden layer on ``probe``.

    A normalized network is measured as training sees it (batch norm with the probe's own
    statistics), without dropout.
    """
    fwd = forward(spec, params, probe.x, train=spec.normalized)
    grads = backward(spec, params, fwd, probe.y)
    hidden = spec.hidden
    zs, acts = fwd.zs[:-1], fwd.activations[1:-1]
    return LayerStats(
        grad_norm=np.array([np.linalg.norm(db) for db in grads.db[:-1]]),
        act_mean=np.array([a.mean() for a in acts]),
        act_std=np.array([a.std() for a in acts]),
        saturated=np.array([np.mean(hidden.prime(z) < 0.05 * hidden.max_slope) for z in zs]),
        dead=np.array([dead_fraction(z) for z in zs]),
        no_gradient=np.array([float(np.mean(np.all(d == 0, axis=0))) for d in grads.deltas[:-1]]),
    )


def dead_fraction(z: np.ndarray) -> float:
    """Fraction of units (columns of z, (N, n)) that are never active: z <= 0 for every sample.

    A dead ReLU unit gets no gradient through its activation, so nothing revives it; a
    leaky ReLU unit in the same state still passes a gradient of slope * delta.
    """
    return float(np.mean(np.all(z <= 0, axis=0)))


def evaluate(spec: NetworkSpec, params: Params, data: Dataset) -> tuple[float, float]:
    """(mean cost, accuracy) on ``data``."""
    z = forward(spec, params, data.x).zs[-1]
    return spec.cost_fn(z, data.y), float(np.mean(np.argmax(z, axis=1) == data.labels))


class EpochResult(NamedTuple):
    """One epoch: the parameters and optimizer state after it, the failing step within the
    epoch (1-based) or None, ||Delta W^l|| / ||W^l|| per weight layer averaged over the
    epoch's last ``RATIO_STEPS`` steps, and per-step (loss, rate) pairs if asked for."""

    params: Params
    state: object
    bad_step: int | None
    update_ratio: np.ndarray
    steps: list


RATIO_STEPS = 10


class SplitRng:
    """A stand-in for the Generator ``train`` and ``sgd_epoch`` take, split in two: mini-batch
    shuffles (``permutation``) from ``batches``, dropout masks (``random``) from ``masks``.
    With one stream for both, a run with dropout would shuffle differently from the second
    epoch on; split, runs with and without dropout see the same mini-batches. Any other draw
    raises AttributeError, rather than pass unnoticed.
    """

    def __init__(self, batches: np.random.Generator, masks: np.random.Generator) -> None:
        self.batches, self.masks = batches, masks

    def permutation(self, n):
        return self.batches.permutation(n)

    def random(self, size=None):
        return self.masks.random(size)


def sgd_epoch(
    spec: NetworkSpec,
    params: Params,
    opt_state,
    data: Dataset,
    config: TrainConfig,
    optimizer: Optimizer,
    *,
    rng: np.random.Generator,
    schedule: Schedule | None = None,
    step0: int = 0,
    record_steps: bool = False,
) -> EpochResult:
    """One pass over shuffled mini-batches with any optimizer and regularizer.

    ``step0`` is the global step the epoch starts at and ``schedule`` the rate per step,
    used only for the per-step record (the optimizer keeps its own count).
    """
    n = len(data)
    l2, l1 = config.lmbda / n, config.lmbda1 / n
    order = rng.permutation(n)
    starts = range(0, n, config.batch_size)
    watch_from = len(starts) - RATIO_STEPS  # the steps whose update ratio is recorded
    normalized, clip = spec.normalized, config.max_norm
    ratios, steps = [], []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for step, start in enumerate(starts):
            idx = order[start : start + config.batch_size]
            x, y = data.x[idx], data.y[idx]
            fwd = forward(spec, params, x, train=True, rng=rng)
            if record_steps:
                rate = schedule(step0 + step) if schedule is not None else config.eta
                steps.append((spec.cost_fn(fwd.zs[-1], y), rate))
            grads = add_l2(backward(spec, params, fwd, y).as_params(), params, l2)
            if l1:
                grads = add_l1(grads, params, l1)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            new = apply_updates(params, updates)
            if l1:
                new = clamp_zero_crossings(params, new)
            if clip:
                new = max_norm(new, clip)
            if normalized:
                new = new._replace(running=running_after(spec, params, fwd))
            if step >= watch_from:
                ratios.append(_update_ratio(params, new))
            params = new
            if not _finite_sum(params):
                return EpochResult(params, opt_state, step + 1, np.zeros(len(params.W)), steps)
    return EpochResult(params, opt_state, None, np.mean(ratios, axis=0), steps)


def _finite_sum(params: Params) -> bool:
    """``is_finite`` without its own np.errstate: the epoch loop already holds one."""
    total = 0.0
    for p in params.W + params.b + params.gamma:
        total += p.sum()
    return bool(np.isfinite(total))


def _update_ratio(before: Params, after: Params) -> np.ndarray:
    """||W_after - W_before|| / ||W_before|| per layer (0 where W_before is all zero)."""
    out = []
    for w0, w1 in zip(before.W, after.W):
        size = np.sqrt(np.sum(w0 * w0))
        out.append(np.sqrt(np.sum((w1 - w0) ** 2)) / size if size > 0 else 0.0)
    return np.array(out)


def train(
    spec: NetworkSpec,
    params: Params,
    data: Dataset,
    config: TrainConfig,
    *,
    rng: np.random.Generator,
    eval_data: Dataset | None = None,
    probe: Dataset | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
    record_every: int = 1,
    record_steps: bool = False,
) -> TrainResult:
    """Train with mini-batches, any optimizer, schedule and regularizer; a History row per
    epoch.

    ``batch_size >= len(data)`` gives full-batch gradient descent. ``probe`` (default:
    the first 1,000 training samples) is where the per-layer statistics are measured.
    ``on_epoch(done, total)`` is called after each epoch, e.g. to move a progress bar.
    ``record_every = k`` records epoch 0, every k-th epoch and the last one only (for
    long full-batch runs, where recording would cost more than training); early stopping
    records every epoch. ``record_steps`` keeps each mini-batch's cost and rate.
    """
    eval_data = data if eval_data is None else eval_data
    probe = data.take(1000) if probe is None else probe
    n, patience = len(data), config.patience
    schedule, optimizer = config.make_schedule(n), config.make_optimizer(n)
    state, per_epoch = optimizer.init(params), config.steps_per_epoch(n)
    record_every = 1 if patience else record_every
    rows, steps, stopper, diverged = [], [], early_stopping_init(), None
    zero_ratio = np.zeros(len(params.W))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        row = history_row(spec, params, data, eval_data, probe, config, 0, schedule(0), zero_ratio)
        if not finite_row(row):
            return TrainResult(params, stack_history([]), Divergence(0, 0))
        rows.append(row)
        stopper = early_stopping_update(stopper, 0, row[4], params, max(patience, 1))
        for epoch in range(1, config.epochs + 1):
            step0 = (epoch - 1) * per_epoch
            out = sgd_epoch(
                spec,
                params,
                state,
                data,
                config,
                optimizer,
                rng=rng,
                schedule=schedule,
                step0=step0,
                record_steps=record_steps,
            )
            params, state = out.params, out.state
            steps.extend(out.steps)
            due = epoch % record_every == 0 or epoch == config.epochs
            if out.bad_step is None and due:
                rate = schedule(step0 + per_epoch - 1)
                row = history_row(
                    spec, params, data, eval_data, probe, config, epoch, rate, out.update_ratio
                )
            if out.bad_step is not None or (due and not finite_row(row)):
                diverged = Divergence(epoch, step0 + (out.bad_step or per_epoch))
                break
            if due:
                rows.append(row)
            if on_epoch is not None:
                on_epoch(epoch, config.epochs)
            if patience:
                stopper = early_stopping_update(stopper, epoch, row[4], params, patience)
                if stopper.stopped_at is not None:
                    break
    best = stopper.best_epoch if patience else None
    if patience and stopper.best_params is not None:
        params = stopper.best_params
    return TrainResult(
        params,
        stack_history(rows),
        diverged,
        best,
        stopper.stopped_at,
        _steps(steps) if record_steps else None,
    )


def history_row(spec, params, data, eval_data, probe, config, epoch, rate, ratio) -> tuple:
    """One History row: costs (training with the penalty term) and accuracies on ``data`` and
    ``eval_data``, the layer statistics on ``probe``, the rate and the update ratios."""
    n = len(data)
    penalty = l2_penalty(params, config.lmbda, n) + l1_penalty(params, config.lmbda1, n)
    train_cost, train_acc = evaluate(spec, params, data)
    eval_cost, eval_acc = evaluate(spec, params, eval_data)
    stats = layer_stats(spec, params, probe)
    return (epoch, train_cost + penalty, train_acc, eval_cost, eval_acc, *stats, rate, ratio)


def finite_row(row: tuple) -> bool:
    """Every cost, accuracy and layer statistic of a History row is finite."""
    return all(np.all(np.isfinite(v)) for v in row)


def stack_history(rows: list[tuple]) -> History:
    """Stack recorded rows; with no rows, empty arrays of the right kind."""
    if not rows:
        return History(*(np.array([]) for _ in History._fields))
    return History(*(np.array(c) for c in zip(*rows)))


def _steps(steps: list[tuple[float, float]]) -> StepRecord:
    """Per-step pairs as arrays; a non-finite loss (the diverging step) is dropped."""
    loss = np.array([s[0] for s in steps], dtype=float)
    rate = np.array([s[1] for s in steps], dtype=float)
    keep = np.isfinite(loss)
    return StepRecord(np.arange(1, len(loss) + 1)[keep], loss[keep], rate[keep])


class RangeTest(NamedTuple):
    """The learning-rate range test: the rate and mini-batch cost of each step, the step at
    which the cost diverged (or None), and the suggested range (lo, hi)."""

    lr: np.ndarray
    loss: np.ndarray
    diverged_at: int | None
    suggestion: tuple[float, float]


def lr_range_test(
    spec: NetworkSpec,
    params: Params,
    data: Dataset,
    config: TrainConfig,
    *,
    lr_min: float,
    lr_max: float,
    steps: int,
    rng: np.random.Generator,
    blow_up: float = 4.0,
) -> RangeTest:
    """Smith's range test (2017): raise the rate exponentially from lr_min to lr_max, one
    mini-batch step each, and record the cost; stop once the cost is non-finite or above
    ``blow_up`` times the lowest seen (the rate has passed the point of divergence).

    ``config`` gives the optimizer, its hyperparameters and the mini-batch size; its eta
    and schedule are replaced by the test's rising rate.
    """
    schedule = range_test(lr_min, lr_max, steps)
    optimizer = make_optimizer(config.optimizer, schedule, **_hyper(config))
    state, lrs, losses, diverged = optimizer.init(params), [], [], None
    order = np.concatenate(
        [rng.permutation(len(data)) for _ in range(-(-steps * config.batch_size // len(data)))]
    )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for t in range(steps):
            idx = order[t * config.batch_size : (t + 1) * config.batch_size]
            x, y = data.x[idx], data.y[idx]
            fwd = forward(spec, params, x, train=True, rng=rng)
            loss = spec.cost_fn(fwd.zs[-1], y)
            if not np.isfinite(loss) or (losses and loss > blow_up * min(losses)):
                diverged = t
                break
            lrs.append(schedule(t))
            losses.append(loss)
            grads = backward(spec, params, fwd, y).as_params()
            updates, state = optimizer.update(grads, state, params)
            params = apply_updates(params, updates)
            if spec.normalized:
                params = params._replace(running=running_after(spec, params, fwd))
            if not is_finite(params):
                diverged = t + 1
                break
    lr, loss = np.array(lrs), np.array(losses)
    return RangeTest(lr, loss, diverged, suggest_range(lr, loss))
