"""The batch-normalization page: Ioffe and Szegedy's MNIST experiment, and what depth it buys.

Draft for exploration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.nn.datasets import Dataset, load_mnist
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params, running_after
from explain.nn.optimizers import Optimizer, apply_updates, is_finite, make_optimizer
from explain.nn.training import evaluate

NORMS = ("none", "batch")
PERCENTILES = (15.0, 50.0, 85.0)
PAPER_STEPS = 50_000
PROBE_SIZE = 1000


@dataclass(frozen=True)
class IoffeSetup:
    hidden: tuple[int, ...] = (100, 100, 100)
    activation: str = "sigmoid"
    cost: str = "log_likelihood"
    init_sigma: float = 0.01
    eta: float = 0.5
    batch_size: int = 60
    steps: int = 5000
    record_every: int = 100
    n_train: int = 8000
    unit: int = 0
    seed: int = 0

    def spec(self, norm: str) -> NetworkSpec:
        return NetworkSpec(
            (784, *self.hidden, 10),
            self.activation,
            self.cost,
            weight_init="gaussian",
            init_sigma=self.init_sigma,
            bias_init="zeros",
            norm=norm,
        )


class IoffeRun(NamedTuple):
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
    spec = setup.spec(norm)
    data = load_mnist()
    train_set, validation = data.train.take(setup.n_train), data.validation
    probe = train_set.take(PROBE_SIZE)
    rng = np.random.default_rng(setup.seed)
    params = init_params(spec, rng=rng)
    order = _batch_order(setup, rng)
    optimizer = make_optimizer("sgd", setup.eta)
    state = optimizer.init(params)
    rows, diverged = [], None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for t in range(setup.steps + 1):
            if t % setup.record_every == 0 or t == setup.steps:
                row = _record(spec, params, validation, probe, setup.unit, t)
                if not all(np.all(np.isfinite(v)) for v in row):
                    diverged = t
                    break
                rows.append(row)
                if on_progress is not None:
                    on_progress(t, setup.steps)
            if t == setup.steps:
                break
            idx = order[t * setup.batch_size : (t + 1) * setup.batch_size]
            params, state = _step(spec, params, state, optimizer, train_set.x[idx], train_set.y[idx])
            if not is_finite(params):
                diverged = t + 1
                break
    cols = [np.array(c) for c in zip(*rows)]
    return IoffeRun(cols[0].astype(int), cols[1], cols[2], cols[3], cols[4], setup.unit, diverged)


def _batch_order(setup: IoffeSetup, rng: np.random.Generator) -> np.ndarray:
    epochs = -(-setup.steps * setup.batch_size // setup.n_train)
    return np.concatenate([rng.permutation(setup.n_train) for _ in range(max(epochs, 1))])


def _step(spec: NetworkSpec, params: Params, state, optimizer: Optimizer, x, y):
    fwd = forward(spec, params, x, train=True)
    grads = backward(spec, params, fwd, y).as_params()
    updates, state = optimizer.update(grads, state, params)
    new = apply_updates(params, updates)
    if spec.normalized:
        new = new._replace(running=running_after(spec, params, fwd))
    return new, state


def _record(spec, params, validation: Dataset, probe: Dataset, unit: int, t: int) -> tuple:
    val_cost, val_acc = evaluate(spec, params, validation)
    fwd = forward(spec, params, probe.x, train=spec.normalized)
    grads = backward(spec, params, fwd, probe.y)
    z = fwd.zs[-2][:, unit]
    pct = np.percentile(z, PERCENTILES)
    gn = np.array([np.linalg.norm(db) for db in grads.db[:-1]])
    return t, val_acc, val_cost, pct, gn
