"""Why weights must start different: equal weights give equal hidden units, forever.

If every weight of a layer starts equal (zero, or any constant) and biases start equal,
every hidden unit computes the same activation, receives the same delta in backprop and
so gets the same update: the units stay copies of each other and the layer behaves like
a single neuron, however wide it is. Random initialization breaks the symmetry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, Params, init_params
from explain.nn.training import TrainConfig, evaluate, sgd_epoch


class SymmetryRun(NamedTuple):
    epoch: np.ndarray  # (epochs + 1,)
    spread: np.ndarray  # largest difference between two hidden units' incoming weights
    distinct: np.ndarray  # number of distinct hidden units (columns equal to 1e-9)
    accuracy: np.ndarray  # validation accuracy


def unit_spread(W: np.ndarray) -> float:
    """max_j max_i |W[i, j] - W[i, 0]|: 0 when every unit (column) has the same weights."""
    return float(np.max(np.abs(W - W[:, :1])))


def distinct_units(W: np.ndarray, tol: float = 1e-9) -> int:
    """How many different incoming-weight vectors the units (columns) of W have."""
    reps: list[np.ndarray] = []
    for col in W.T:
        if not any(np.max(np.abs(col - r)) <= tol for r in reps):
            reps.append(col)
    return len(reps)


def symmetry_run(
    weight_init: str,
    *,
    hidden: int = 30,
    epochs: int = 5,
    n_train: int = 1000,
    eta: float = 0.5,
    seed: int = 0,
    value: float = 0.5,
    on_epoch: Callable[[int, int], None] | None = None,
) -> SymmetryRun:
    """Train [784, hidden, 10] (sigmoid, cross-entropy, zero biases) from ``weight_init``."""
    spec = NetworkSpec(
        (784, hidden, 10),
        "sigmoid",
        "cross_entropy",
        weight_init=weight_init,
        bias_init="zeros",
        init_value=value,
    )
    data = load_mnist()
    train_set = data.train.take(n_train)
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng=rng)
    config = TrainConfig(epochs=1, batch_size=10, eta=eta)
    optimizer = config.make_optimizer()
    state = optimizer.init(params)
    rows = [_row(spec, params, data.validation)]
    for e in range(epochs):
        out = sgd_epoch(spec, params, state, train_set, config, optimizer, rng=rng)
        params, state = out.params, out.state
        rows.append(_row(spec, params, data.validation))
        if on_epoch is not None:
            on_epoch(e + 1, epochs)
    spread, distinct, acc = (np.array(c) for c in zip(*rows))
    return SymmetryRun(np.arange(epochs + 1), spread, distinct, acc)


def _row(spec: NetworkSpec, params: Params, data) -> tuple[float, int, float]:
    W = params.W[0]
    return unit_spread(W), distinct_units(W), evaluate(spec, params, data)[1]
