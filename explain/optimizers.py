"""Optimizers as pairs of pure functions, after optax: ``init(params) -> state`` and
``update(grads, state) -> (updates, state)``; the caller applies ``params + updates``.

Hyperparameters are bound in a factory (``sgd(eta)``), state is a small NamedTuple,
and nothing is mutated, so the training loop never needs to know which optimizer runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from explain.network import Params


class Optimizer(NamedTuple):
    """init(params) -> state; update(grads, state) -> (updates, state)."""

    init: Callable[[Params], Any]
    update: Callable[[Params, Any], tuple[Params, Any]]


class EmptyState(NamedTuple):
    """Plain SGD keeps no state."""


def sgd(eta: float) -> Optimizer:
    """Plain gradient descent: the update is -eta * grad."""

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(grads: Params, state: EmptyState) -> tuple[Params, EmptyState]:
        return Params(tuple(-eta * g for g in grads.W), tuple(-eta * g for g in grads.b)), state

    return Optimizer(init, update)


def add_weight_decay(grads: Params, params: Params, coeff: float) -> Params:
    """L2 regularization: dW + coeff * W (coeff = lmbda / n); biases are not decayed.

    With SGD this is Nielsen's w <- (1 - eta lmbda / n) w - eta dW.
    """
    if coeff == 0.0:
        return grads
    return Params(tuple(g + coeff * W for g, W in zip(grads.W, params.W)), grads.b)


def apply_updates(params: Params, updates: Params) -> Params:
    """params + updates, as a new Params."""
    return Params(
        tuple(W + u for W, u in zip(params.W, updates.W)),
        tuple(b + u for b, u in zip(params.b, updates.b)),
    )


def is_finite(params: Params) -> bool:
    """True when no weight or bias is inf or NaN, and their sum does not overflow.

    One sum is far cheaper than a check of every element; a sum that overflows from
    finite terms (weights near 1e308) counts as diverged too, which it is in practice.
    """
    return bool(np.isfinite(sum(p.sum() for p in params.W + params.b)))


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"sgd": sgd}
