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

N_TRAIN, ETA, VALUE = 1000, 0.5, 0.5  # training digits, learning rate, the constant start


class SymmetryRun(NamedTuple):
    """One run of ``symmetry_run``: per epoch, from 0 (before training) to the last."""

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
    n_train: int = N_TRAIN,
    eta: float = ETA,
    seed: int = 0,
    value: float = VALUE,
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


def one_digit_accuracy(labels: np.ndarray) -> float:
    """The accuracy of always answering the most common digit: what a network that has
    learned nothing about the images can reach."""
    return float(np.bincount(labels, minlength=10).max() / len(labels))


LEARNED_MARGIN = 0.03  # accuracy points above one_digit_accuracy that count as learning


class SymmetryVerdict(NamedTuple):
    """What the symmetry runs show, for the page to put into words.

    ``equal`` and ``learned`` are keyed like the runs; "random" is the run whose name is
    not an equal start (``scaled``).
    """

    equal_stay_equal: bool  # every equal start kept all units identical at every epoch
    equal_distinct: int  # most distinct units any equal start ended with
    random_first: float  # the random start's largest unit difference at epoch 0 ...
    random_last: float  # ... and after the last epoch
    random_distinct: int
    learned: dict[str, bool]  # run -> final accuracy above one_digit_accuracy + margin
    baseline: float  # one_digit_accuracy on the validation digits


def symmetry_verdict(runs: dict[str, SymmetryRun], random: str = "scaled") -> SymmetryVerdict:
    """Judge the runs of ``symmetry_run`` by name; ``random`` names the random start."""
    equal = [r for name, r in runs.items() if name != random]
    rand = runs[random]
    baseline = one_digit_accuracy(load_mnist().validation.labels)
    return SymmetryVerdict(
        all(np.all(r.spread == 0) for r in equal),
        max(int(r.distinct.max()) for r in equal),
        float(rand.spread[0]),
        float(rand.spread[-1]),
        int(rand.distinct[-1]),
        {name: bool(r.accuracy[-1] > baseline + LEARNED_MARGIN) for name, r in runs.items()},
        baseline,
    )
