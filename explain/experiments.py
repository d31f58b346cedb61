"""Named, reproducible experiments on the shipped MNIST digits.

An experiment is a frozen dataclass of plain parameters (so it hashes, and keys a
cache) and a function that runs it from those parameters alone: the same parameters
give the same arrays, run after run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from explain.nn.datasets import Dataset, load_mnist
from explain.nn.network import NetworkSpec, init_params
from explain.nn.training import TrainConfig, TrainResult, train


@dataclass(frozen=True)
class MnistExperiment:
    """Train a network on the first ``n_train`` training digits, evaluate on validation.

    ``batch_size >= n_train`` is full-batch gradient descent; ``record_every`` thins the
    History of long runs.
    """

    sizes: tuple[int, ...] = (784, 30, 10)
    activation: str = "sigmoid"
    cost: str = "cross_entropy"
    weight_init: str = "scaled"
    bias_init: str = "normal"
    n_train: int = 2000
    epochs: int = 10
    batch_size: int = 10
    eta: float = 0.5
    lmbda: float = 0.0
    seed: int = 0
    record_every: int = 1
    bias_value: float = 0.0  # for bias_init == "constant"
    centre: bool = False  # subtract the training digits' mean pixel values
    slope: float = 0.01  # leaky ReLU's negative slope
    optimizer: str = "sgd"  # any name of explain.nn.optimizers.OPTIMIZERS
    beta: float = 0.9  # momentum and Nesterov
    rho: float = 0.9  # RMSProp
    beta1: float = 0.9  # Adam
    beta2: float = 0.999
    bias_correction: bool = True

    @property
    def spec(self) -> NetworkSpec:
        return NetworkSpec(
            self.sizes,
            self.activation,
            self.cost,
            slope=self.slope,
            weight_init=self.weight_init,
            bias_init=self.bias_init,
            bias_value=self.bias_value,
        )

    def with_(self, **changes) -> MnistExperiment:
        return replace(self, **changes)


def run_mnist(
    exp: MnistExperiment, on_epoch: Callable[[int, int], None] | None = None
) -> TrainResult:
    """Initialize from ``exp.seed`` (the same weights, and the same mini-batches, for every
    cost and optimizer), train, and record."""
    data = load_mnist()
    train_set, validation = data.train.take(exp.n_train), data.validation
    if exp.centre:
        mean = train_set.x.mean(axis=0)
        train_set, validation = centred(train_set, mean), centred(validation, mean)
    rng = np.random.default_rng(exp.seed)
    params = init_params(exp.spec, rng=rng)
    config = TrainConfig(
        exp.epochs,
        exp.batch_size,
        exp.eta,
        exp.lmbda,
        optimizer=exp.optimizer,
        beta=exp.beta,
        rho=exp.rho,
        beta1=exp.beta1,
        beta2=exp.beta2,
        bias_correction=exp.bias_correction,
    )
    return train(
        exp.spec,
        params,
        train_set,
        config,
        rng=rng,
        eval_data=validation,
        probe=train_set.take(1000),
        on_epoch=on_epoch,
        record_every=exp.record_every,
    )


def centred(data: Dataset, mean: np.ndarray) -> Dataset:
    """The same samples minus ``mean`` (the training set's mean, also for evaluation data)."""
    return Dataset(data.x - mean, data.y, data.labels)
