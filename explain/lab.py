"""The training lab: the reader configures a network, trains it, and sees what holds it back.

Serves the "training lab" page. ``LabConfig`` holds every choice the page offers (one URL
widget per field; a fix the diagnosis panel proposes is a dict of these field names);
``problems`` turns a bad combination into sentences instead of exceptions; ``run_lab``
trains and keeps a History row for every epoch, and for the 2-D toy sets the parameters
after each epoch (``snapshots``) so the page can draw the decision regions at any epoch
(``decision_grid``). ``PRESETS`` are the lab's ready-made stories: chapter 5's deep sigmoid
network that barely learns, the same network fixed, ReLUs that die, weights that explode,
and a small training set that is overfitted.

Randomness: the seed is split into independent streams (initial weights, training data,
validation data, mini-batch shuffles, dropout masks), so turning dropout on does not change
which samples share a mini-batch, and the toy validation points are not the training ones.

Non-goals: early stopping, max-norm and the other optimizers' second hyperparameters (their
pages cover them); the test digits, which the lab never touches.

Measured (seed 0, one thread, a busy two-core machine; see tests/test_lab.py):

- default config (MNIST 2,000 digits, [784, 30, 30, 10] sigmoid, 10 epochs): ~1.4 s cold,
  91.6% validation accuracy; each preset 0.3 to 1.2 s;
- ``LARGEST`` (8,000 digits, 6 x 100 ELU with group norm, dropout, L1 and Adam, mini-batch
  10, 15 epochs): 33 s, ~50 s on a loaded machine (20 epochs took 65 s under load, hence
  the MAX_SAMPLE_PASSES budget).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np

from explain.nn.activations import ACTIVATIONS
from explain.nn.costs import COSTS
from explain.nn.datasets import TOY_SETS, Dataset, load_mnist, toy_dataset
from explain.nn.initializers import WEIGHT_INITS
from explain.nn.network import NORMS, NetworkSpec, Params, forward, init_params
from explain.nn.optimizers import OPTIMIZERS
from explain.nn.schedules import SCHEDULES, ScheduleSpec
from explain.nn.training import (
    Divergence,
    History,
    SplitRng,
    TrainConfig,
    finite_row,
    history_row,
    sgd_epoch,
    stack_history,
)

DATA_SETS: tuple[str, ...] = ("mnist", *TOY_SETS)
MNIST_TRAIN = 8_000  # digits in the training split
TOY_VALIDATION = 500  # fresh toy points the lab validates on
PROBE = 500  # samples the per-layer statistics are measured on
MAX_SAMPLE_PASSES = 120_000  # n_train x epochs: the lab's time budget (8,000 digits, 15 epochs)
MAX_SNAPSHOTS = 31  # parameter snapshots kept for a 2-D set (epoch 0 included)


@dataclass(frozen=True)
class LabConfig:
    """Everything the lab page lets the reader choose; frozen, so it keys a cache.

    data: "mnist" or a toy set (``TOY_SETS``); n_train: training digits (from the training
    split) or toy points; noise: the toy set's noise. depth hidden layers of width units.
    lmbda, lmbda1: L2 and L1 strengths, divided by n_train as Nielsen does. beta: the
    momentum of "momentum" and "nesterov" (the other optimizers keep their defaults).
    """

    data: str = "mnist"
    n_train: int = 2000
    noise: float = 0.2
    depth: int = 2
    width: int = 30
    activation: str = "sigmoid"
    weight_init: str = "scaled"
    cost: str = "cross_entropy"
    norm: str = "none"
    groups: int = 5
    keep_prob: float = 1.0
    lmbda: float = 0.0
    lmbda1: float = 0.0
    optimizer: str = "sgd"
    eta: float = 0.5
    beta: float = 0.9
    schedule: str = "constant"
    batch_size: int = 10
    epochs: int = 10
    seed: int = 0


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LabConfig))

# The names the page offers for each string field.
CHOICES: dict[str, tuple[str, ...]] = {
    "data": DATA_SETS,
    "activation": tuple(ACTIVATIONS),
    "weight_init": tuple(WEIGHT_INITS),
    "cost": tuple(COSTS),
    "norm": NORMS,
    "optimizer": tuple(OPTIMIZERS),
    "schedule": SCHEDULES,
}

# The values the page offers for each numeric field (seed: a range). Chosen so that the
# slowest combination, ``LARGEST``, trains in under a minute on one core.
LIMITS: dict[str, tuple | range] = {
    "n_train": (100, 200, 500, 1000, 2000, 4000, 8000),
    "noise": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
    "depth": tuple(range(1, 7)),
    "width": (4, 8, 10, 16, 20, 30, 40, 50, 60, 80, 100),
    "groups": (1, 2, 4, 5, 8, 10),
    "keep_prob": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    "lmbda": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "lmbda1": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
    "eta": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 3.0, 10.0),
    "beta": (0.0, 0.5, 0.9, 0.95, 0.99),
    "batch_size": (10, 20, 50, 100, 500),
    "epochs": (1, 2, 3, 5, 10, 15, 20, 30),
    "seed": range(0, 1000),
}

# The slowest run the page allows: every size at its limit, the smallest mini-batch, and the
# costliest extras (group norm, dropout, L1's sign and clamp, Adam's moments).
LARGEST = LabConfig(
    n_train=max(LIMITS["n_train"]),
    depth=max(LIMITS["depth"]),
    width=max(LIMITS["width"]),
    activation="elu",
    norm="group",
    groups=10,
    keep_prob=0.5,
    lmbda1=0.1,
    optimizer="adam",
    eta=0.001,
    batch_size=min(LIMITS["batch_size"]),
    epochs=MAX_SAMPLE_PASSES // max(LIMITS["n_train"]),
)


# --- checking a configuration --------------------------------------------------------------


def problems(config: LabConfig) -> list[str]:
    """What is wrong with ``config``, as sentences for the page (empty: it can run)."""
    out = _unknown_names(config) + _out_of_range(config)
    if out:
        return out
    return _group_problem(config) + _batch_problem(config) + _decay_problems(config)


def _unknown_names(config: LabConfig) -> list[str]:
    out = []
    for name, options in CHOICES.items():
        value = getattr(config, name)
        if value not in options:
            out.append(
                f"Unknown {name.replace('_', ' ')} {value!r}: choose one of {_join(options)}."
            )
    return out


def _out_of_range(config: LabConfig) -> list[str]:
    """Numbers outside the page's limits (a hand-edited URL can carry anything)."""
    out = []
    for name, allowed in LIMITS.items():
        value = getattr(config, name)
        lo, hi = min(allowed), max(allowed)
        if not lo <= value <= hi:
            out.append(f"{name.replace('_', ' ').capitalize()} {value} is outside {lo} to {hi}.")
    if config.n_train * config.epochs > MAX_SAMPLE_PASSES:
        out.append(
            f"{config.n_train:,} samples for {config.epochs} epochs is more than the lab trains "
            f"in one go ({MAX_SAMPLE_PASSES:,} samples in all): use at most "
            f"{MAX_SAMPLE_PASSES // config.n_train} epochs, or fewer samples."
        )
    if config.data == "mnist" and config.n_train > MNIST_TRAIN:
        out.append(f"There are only {MNIST_TRAIN:,} training digits, not {config.n_train:,}.")
    return out


def _group_problem(config: LabConfig) -> list[str]:
    if config.norm != "group" or config.width % config.groups == 0:
        return []
    widths = [w for w in LIMITS["width"] if w % config.groups == 0]
    counts = [g for g in LIMITS["groups"] if config.width % g == 0]
    return [
        f"Group norm splits each layer's {config.width} units into groups of equal size, "
        f"so the group count must divide the width: {config.groups} does not. With "
        f"{config.groups} groups choose a width of {_join(widths, 'or')}; with width "
        f"{config.width}, {_join(counts, 'or')} groups."
    ]


def _batch_problem(config: LabConfig) -> list[str]:
    if config.batch_size <= config.n_train:
        return []
    return [
        f"The mini-batch ({config.batch_size}) is larger than the training set "
        f"({config.n_train} samples): choose a mini-batch of at most {config.n_train}, "
        f"or more training samples."
    ]


def _decay_problems(config: LabConfig) -> list[str]:
    """L2 multiplies each weight by 1 - eta lmbda / n per SGD step, and L1 moves it by
    eta lmbda1 / n towards 0: a factor <= 0, or a move as large as a typical initial weight
    (1 / sqrt(n_in)), wipes out the weights instead of regularizing them."""
    if config.optimizer not in ("sgd", "momentum", "nesterov"):
        return []
    out, n = [], config.n_train
    factor = 1.0 - config.eta * config.lmbda / n
    if factor <= 0.0:
        out.append(
            f"L2 is too strong for this learning rate: each step multiplies every weight by "
            f"1 - eta lambda / n = {factor:.3g}, which must stay positive. Use lambda below "
            f"{n / config.eta:.3g} (or a smaller eta)."
        )
    shrink, typical = config.eta * config.lmbda1 / n, 1.0 / math.sqrt(_n_in(config.data))
    if shrink >= typical:
        out.append(
            f"L1 is too strong for this learning rate: each step moves every weight "
            f"{shrink:.3g} towards zero, more than a typical weight ({typical:.3g}), so all "
            f"weights are zeroed at once. Use lambda1 below {typical * n / config.eta:.3g}."
        )
    return out


def _join(items, word: str = "or") -> str:
    items = [str(i) for i in items]
    if not items:
        return "none of the offered values"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


# --- from a configuration to the engine's objects --------------------------------------------


def _n_in(data: str) -> int:
    return 784 if data == "mnist" else 2


def _n_out(data: str) -> int:
    if data == "mnist":
        return 10
    return toy_dataset(data, 3, 0.0, rng=np.random.default_rng(0)).y.shape[1]  # its classes


def spec(config: LabConfig) -> NetworkSpec:
    """The network: n_in (784 or 2), ``depth`` hidden layers of ``width``, n_out classes."""
    sizes = (_n_in(config.data), *(config.width,) * config.depth, _n_out(config.data))
    return NetworkSpec(
        sizes=sizes,
        activation=config.activation,
        cost=config.cost,
        weight_init=config.weight_init,
        norm=config.norm,
        groups=config.groups if config.norm == "group" else 1,
        keep_prob=config.keep_prob,
    )


def schedule_spec(config: LabConfig) -> ScheduleSpec:
    """The named schedule with settings relative to the run's length: step decay halves
    eta every third of the run, the exponential and 1/t decays end at a tenth of eta, and
    SGDR restarts every third of the run."""
    third = max(1.0, config.epochs / 3)
    return ScheduleSpec(
        config.schedule,
        every_epochs=third,
        rate=0.1 ** (1.0 / config.epochs),
        k=9.0 / config.epochs,
        period_epochs=third,
    )


def train_config(config: LabConfig) -> TrainConfig:
    """The training settings (``beta`` is momentum's, and Nesterov's)."""
    return TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        eta=config.eta,
        lmbda=config.lmbda,
        lmbda1=config.lmbda1,
        optimizer=config.optimizer,
        beta=config.beta,
        schedule=schedule_spec(config),
    )


def _rng(config: LabConfig, stream: int) -> np.random.Generator:
    """Independent streams from one seed: 0 weights, 1 training data, 2 validation data,
    3 mini-batch shuffles, 4 dropout masks."""
    return np.random.default_rng([config.seed, stream])


def datasets(config: LabConfig) -> tuple[Dataset, Dataset]:
    """(training, validation): the first n_train training digits and the validation digits,
    or n_train toy points and TOY_VALIDATION fresh points from another stream."""
    if config.data == "mnist":
        mnist = load_mnist()
        return mnist.train.take(config.n_train), mnist.validation
    train = toy_dataset(config.data, config.n_train, config.noise, rng=_rng(config, 1))
    validation = toy_dataset(config.data, TOY_VALIDATION, config.noise, rng=_rng(config, 2))
    return train, validation


# --- training --------------------------------------------------------------------------------


class LabRun(NamedTuple):
    """One lab run.

    ``history``: a row per epoch, row 0 at initialization, only the epochs that completed.
    ``diverged_at``: where training stopped being finite, or None. ``params``: the last
    finite network (the epoch before divergence, if it diverged). ``snapshots`` (2-D sets
    only, else ()): params at ``snapshot_epochs``, epoch 0 and at most MAX_SNAPSHOTS in
    all, the last completed epoch always among them.
    """

    history: History
    diverged_at: Divergence | None
    params: Params
    snapshots: tuple[Params, ...]
    snapshot_epochs: tuple[int, ...]


def run_lab(config: LabConfig, on_epoch=None) -> LabRun:
    """Train the lab's network; ``on_epoch(done, total)`` after each epoch (a progress bar).

    Same config, same run. Raises ValueError if ``problems(config)`` is not empty.
    """
    found = problems(config)
    if found:
        raise ValueError(" ".join(found))
    net = spec(config)
    params = init_params(net, rng=_rng(config, 0))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        rows, snaps, diverged, params = _train(config, net, params, on_epoch)
    if snaps and snaps[-1][1] is not params:
        snaps.append((len(rows) - 1, params))
    if config.data == "mnist":
        snaps = []
    epochs, snapshots = tuple(e for e, _ in snaps), tuple(p for _, p in snaps)
    return LabRun(stack_history(rows), diverged, params, snapshots, epochs)


def _train(config: LabConfig, net: NetworkSpec, params: Params, on_epoch) -> tuple:
    """(History rows, (epoch, params) snapshots, Divergence or None, last finite params):
    ``explain.nn.training.train``'s loop, keeping the parameters along the way."""
    tc, (train, validation) = train_config(config), datasets(config)
    probe, n = train.take(PROBE), len(train)
    optimizer, schedule = tc.make_optimizer(n), tc.make_schedule(n)
    state, per_epoch, every = optimizer.init(params), tc.steps_per_epoch(n), _snapshot_every(config)
    rng = SplitRng(_rng(config, 3), _rng(config, 4))
    zero = np.zeros(len(params.W))
    row = history_row(net, params, train, validation, probe, tc, 0, schedule(0), zero)
    if not finite_row(row):
        return [], [], Divergence(0, 0), params
    rows, snaps = [row], [(0, params)]
    for epoch in range(1, config.epochs + 1):
        out = sgd_epoch(net, params, state, train, tc, optimizer, rng=rng)
        step0 = (epoch - 1) * per_epoch
        if out.bad_step is None:
            rate, ratio = schedule(step0 + per_epoch - 1), out.update_ratio
            row = history_row(net, out.params, train, validation, probe, tc, epoch, rate, ratio)
        if out.bad_step is not None or not finite_row(row):
            return rows, snaps, Divergence(epoch, step0 + (out.bad_step or per_epoch)), params
        params, state = out.params, out.state
        rows.append(row)
        if epoch % every == 0 or epoch == config.epochs:
            snaps.append((epoch, params))
        if on_epoch is not None:
            on_epoch(epoch, config.epochs)
    return rows, snaps, None, params


def _snapshot_every(config: LabConfig) -> int:
    return max(1, math.ceil(config.epochs / (MAX_SNAPSHOTS - 1)))


# --- decision regions ------------------------------------------------------------------------


class Grid(NamedTuple):
    """xs (n,), ys (n,), and at point (xs[i], ys[j]) the predicted class ``predicted[j, i]``
    and its share of the outputs ``confidence[j, i]`` (a softmax probability, or for sigmoid
    outputs the largest output over their sum)."""

    xs: np.ndarray
    ys: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray


def decision_grid(config: LabConfig, params: Params, n: int = 60) -> Grid:
    """The network's prediction on an n x n grid over the 2-D data's bounding box, with a
    margin of a tenth of each side."""
    train, validation = datasets(config)
    points = np.concatenate([train.x, validation.x])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.1 * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    gx, gy = np.meshgrid(xs, ys)
    a = forward(spec(config), params, np.column_stack([gx.ravel(), gy.ravel()])).output
    total = np.maximum(a.sum(axis=1), 1e-300)
    predicted = np.argmax(a, axis=1).reshape(n, n)
    confidence = (a.max(axis=1) / total).reshape(n, n)
    return Grid(xs, ys, predicted, confidence)


# --- presets ---------------------------------------------------------------------------------


def _preset(**changes) -> dict:
    return asdict(LabConfig(**changes))


_CHAPTER5 = dict(
    data="mnist",
    n_train=2000,
    depth=4,
    width=30,
    activation="sigmoid",
    weight_init="scaled",
    cost="cross_entropy",
    optimizer="sgd",
    eta=0.1,
    batch_size=10,
    epochs=10,
)

PRESETS: dict[str, dict] = {
    "chapter5": _preset(**_CHAPTER5),
    "fixed": _preset(**{**_CHAPTER5, "activation": "relu", "weight_init": "he"}),
    "dead_relu": _preset(**{**_CHAPTER5, "activation": "relu", "weight_init": "he", "eta": 0.5}),
    "exploding": _preset(
        **{**_CHAPTER5, "depth": 6, "activation": "leaky_relu", "weight_init": "normal"}
    ),
    "overfitting": _preset(
        data="mnist", n_train=200, depth=1, width=100, eta=0.5, epochs=20, batch_size=10
    ),
}

PRESET_LABELS: dict[str, str] = {
    "chapter5": "Chapter 5: four sigmoid layers that barely learn",
    "fixed": "Chapter 5, fixed",
    "dead_relu": "ReLUs that die",
    "exploding": "Exploding weights",
    "overfitting": "Overfitting a small training set",
}
