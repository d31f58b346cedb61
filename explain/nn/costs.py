"""Cost functions with their output-layer delta: the learning-slowdown lesson in code.

The two sigmoid-output costs sit side by side on purpose:

    quadratic:      delta^L = (a - y) * sigma'(z)    -> tiny when the neuron saturates
    cross-entropy:  delta^L = (a - y)                -> the sigma' factor has cancelled
    log-likelihood: delta^L = (a - y)                -> same, for a softmax output layer

Costs are computed from z in log space (ln sigma(z) = -softplus(-z)), so a saturated
output never takes the log of 0 and never produces NaN or a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from explain.nn.activations import log_softmax, sigmoid, sigmoid_prime, softmax, softplus

Array = np.ndarray


class Cost(NamedTuple):
    """A cost C = mean over samples of C_x, with its output activation and delta^L."""

    name: str
    output: Callable[[Array], Array]  # a^L from z^L
    per_sample: Callable[[Array, Array], Array]  # C_x from (z^L, y), shape (N,)
    delta: Callable[[Array, Array], Array]  # dC_x/dz^L from (z^L, y), shape (N, K)

    def __call__(self, z: Array, y: Array) -> float:
        """The mean cost over the batch."""
        return float(np.mean(self.per_sample(z, y)))


def quadratic_cost(z: Array, y: Array) -> Array:
    """C_x = ||a - y||^2 / 2 with a = sigma(z)."""
    return 0.5 * np.sum((sigmoid(z) - y) ** 2, axis=-1)


def quadratic_delta(z: Array, y: Array) -> Array:
    """(a - y) sigma'(z): the sigma' factor is what slows a saturated neuron down."""
    return (sigmoid(z) - y) * sigmoid_prime(z)


def cross_entropy_cost(z: Array, y: Array) -> Array:
    """C_x = -sum[y ln a + (1 - y) ln(1 - a)], computed in log space.

    ln a = -softplus(-z) and ln(1 - a) = -softplus(z), so a saturated output costs a large
    finite number instead of log(0).
    """
    return np.sum(y * softplus(-z) + (1.0 - y) * softplus(z), axis=-1)


def cross_entropy_delta(z: Array, y: Array) -> Array:
    """a - y: sigma'(z) has cancelled against the cost's 1 / (a (1 - a))."""
    return sigmoid(z) - y


def log_likelihood_cost(z: Array, y: Array) -> Array:
    """C_x = -sum y ln softmax(z) (= -ln a_y for a one-hot y)."""
    return -np.sum(y * log_softmax(z), axis=-1)


def log_likelihood_delta(z: Array, y: Array) -> Array:
    """softmax(z) - y."""
    return softmax(z) - y


COSTS: dict[str, Cost] = {
    "quadratic": Cost("quadratic", sigmoid, quadratic_cost, quadratic_delta),
    "cross_entropy": Cost("cross-entropy", sigmoid, cross_entropy_cost, cross_entropy_delta),
    "log_likelihood": Cost(
        "softmax + log-likelihood", softmax, log_likelihood_cost, log_likelihood_delta
    ),
}


def get_cost(name: str) -> Cost:
    """The registry entry for ``name``."""
    if name not in COSTS:
        raise KeyError(f"unknown cost {name!r}; choose from {sorted(COSTS)}")
    return COSTS[name]
