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

from explain.datasets import Dataset
from explain.network import NetworkSpec, Params, backward, forward, l2_penalty
from explain.optimizers import (
    OPTIMIZERS,
    Optimizer,
    add_weight_decay,
    apply_updates,
    is_finite,
)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: epochs, mini-batch size, learning rate eta and L2 strength lmbda."""

    epochs: int = 30
    batch_size: int = 10
    eta: float = 0.1
    lmbda: float = 0.0
    optimizer: str = "sgd"

    def make_optimizer(self) -> Optimizer:
        return OPTIMIZERS[self.optimizer](self.eta)


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


class TrainResult(NamedTuple):
    params: Params
    history: History
    diverged_at: Divergence | None


def layer_stats(spec: NetworkSpec, params: Params, probe: Dataset) -> LayerStats:
    """Gradient norm and activation statistics of every hidden layer on ``probe``."""
    fwd = forward(spec, params, probe.x)
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


def sgd_epoch(
    spec: NetworkSpec,
    params: Params,
    opt_state,
    data: Dataset,
    config: TrainConfig,
    optimizer: Optimizer,
    *,
    rng: np.random.Generator,
) -> tuple[Params, object, int | None]:
    """One pass over shuffled mini-batches; returns (params, state, failing step or None)."""
    n = len(data)
    decay = config.lmbda / n
    order = rng.permutation(n)
    for step, start in enumerate(range(0, n, config.batch_size)):
        idx = order[start : start + config.batch_size]
        x, y = data.x[idx], data.y[idx]
        grads = backward(spec, params, forward(spec, params, x), y)
        grads = add_weight_decay(Params(grads.dW, grads.db), params, decay)
        updates, opt_state = optimizer.update(grads, opt_state)
        params = apply_updates(params, updates)
        if not is_finite(params):
            return params, opt_state, step + 1
    return params, opt_state, None


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
) -> TrainResult:
    """Train with mini-batch SGD (and L2), recording a History row per epoch.

    ``batch_size >= len(data)`` gives full-batch gradient descent. ``probe`` (default:
    the first 1,000 training samples) is where the per-layer statistics are measured.
    ``on_epoch(done, total)`` is called after each epoch, e.g. to move a progress bar.
    ``record_every = k`` records epoch 0, every k-th epoch and the last one only (for
    long full-batch runs, where recording would cost more than training).
    """
    eval_data = data if eval_data is None else eval_data
    probe = data.take(1000) if probe is None else probe
    optimizer = config.make_optimizer()
    state = optimizer.init(params)
    rows = []
    steps_per_epoch = -(-len(data) // config.batch_size)
    diverged = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        row = (0, *_record(spec, params, data, eval_data, probe, config.lmbda))
        if not _finite(row):
            return TrainResult(params, _history([]), Divergence(0, 0))
        rows.append(row)
        for epoch in range(1, config.epochs + 1):
            params, state, bad_step = sgd_epoch(
                spec, params, state, data, config, optimizer, rng=rng
            )
            due = epoch % record_every == 0 or epoch == config.epochs
            if bad_step is None and due:
                row = (epoch, *_record(spec, params, data, eval_data, probe, config.lmbda))
            if bad_step is not None or (due and not _finite(row)):
                step = (epoch - 1) * steps_per_epoch + (bad_step or steps_per_epoch)
                diverged = Divergence(epoch, step)
                break
            if due:
                rows.append(row)
            if on_epoch is not None:
                on_epoch(epoch, config.epochs)
    return TrainResult(params, _history(rows), diverged)


def _record(spec, params, data, eval_data, probe, lmbda) -> tuple:
    penalty = l2_penalty(params, lmbda, len(data))
    train_cost, train_acc = evaluate(spec, params, data)
    eval_cost, eval_acc = evaluate(spec, params, eval_data)
    stats = layer_stats(spec, params, probe)
    return (train_cost + penalty, train_acc, eval_cost, eval_acc, *stats)


def _finite(row: tuple) -> bool:
    """Every cost, accuracy and layer statistic of a History row is finite."""
    return all(np.all(np.isfinite(v)) for v in row)


def _history(rows: list[tuple]) -> History:
    """Stack recorded rows; with no rows, empty arrays of the right kind."""
    if not rows:
        return History(*(np.array([]) for _ in History._fields))
    return History(*(np.array(c) for c in zip(*rows)))
