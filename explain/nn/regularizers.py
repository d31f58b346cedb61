"""Regularizers: penalties on the weights, constraints on them, and early stopping.

With n the size of the training set and eta the learning rate, one SGD step becomes

    L2 (weight decay, ridge):  w <- (1 - eta lmbda / n) w - eta dC0/dw
    L1 (lasso):                w <- w - eta (lmbda1 / n) sgn(w) - eta dC0/dw
    max-norm:                  each unit's incoming weights w_j <- w_j min(1, c / ||w_j||)

Biases are never penalized (Nielsen, chapter 3). L1 uses the subgradient sgn(w) (0 at
w = 0) and clamps a weight that the step carried across zero at exactly zero, so that the
sparsity L1 is known for shows up as exact zeros rather than weights jittering around 0.
Dropout is a layer (``explain.nn.layers``); early stopping is the pair of pure functions at
the end of this module, used by ``explain.nn.training.train``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explain.nn.network import Params, l2_penalty

__all__ = [
    "EarlyStopping",
    "add_l1",
    "add_l2",
    "clamp_zero_crossings",
    "early_stopping_init",
    "early_stopping_update",
    "l1_penalty",
    "l2_penalty",
    "max_norm",
]


def add_l2(grads: Params, params: Params, coeff: float) -> Params:
    """dW + coeff W with coeff = lmbda / n (the gradient of (lmbda / 2n) sum w^2)."""
    if coeff == 0.0:
        return grads
    return Params(tuple(g + coeff * W for g, W in zip(grads.W, params.W)), grads.b, grads.gamma)


def l1_penalty(params: Params, lmbda1: float, n: int) -> float:
    """The L1 term (lmbda1 / n) sum |w|."""
    return lmbda1 / n * sum(float(np.abs(W).sum()) for W in params.W)


def add_l1(grads: Params, params: Params, coeff: float) -> Params:
    """dW + coeff sgn(W) with coeff = lmbda1 / n: the subgradient of (lmbda1 / n) sum |w|."""
    if coeff == 0.0:
        return grads
    W = tuple(g + coeff * np.sign(W) for g, W in zip(grads.W, params.W))
    return Params(W, grads.b, grads.gamma)


def clamp_zero_crossings(before: Params, after: Params) -> Params:
    """``after`` with every weight that changed sign since ``before`` set to exactly 0.

    Applied after an L1 step: a penalty that pushes a weight past zero has overshot the
    minimum of |w| at 0, so the weight stops there (a truncated-gradient rule).
    """
    W = tuple(np.where(w0 * w1 < 0.0, 0.0, w1) for w0, w1 in zip(before.W, after.W))
    return after._replace(W=W)


def max_norm(params: Params, c: float) -> Params:
    """Rescale each unit's incoming weight vector (a column of W, (n_in, n_out)) to norm <= c.

    Srivastava et al. (2014) pair this with dropout: it bounds the weights however large
    the learning rate, so large steps cannot blow them up.
    """
    W = []
    for w in params.W:
        norms = np.sqrt(np.sum(w * w, axis=0))
        W.append(w * np.minimum(1.0, c / np.maximum(norms, 1e-300)))
    return params._replace(W=tuple(W))


class EarlyStopping(NamedTuple):
    """Best validation score so far, its epoch and parameters, epochs waited since, and the
    epoch at which patience ran out (None while training goes on)."""

    best_score: float
    best_epoch: int
    best_params: Params | None
    waited: int
    stopped_at: int | None


def early_stopping_init() -> EarlyStopping:
    """No epoch seen yet."""
    return EarlyStopping(-np.inf, 0, None, 0, None)


def early_stopping_update(
    state: EarlyStopping, epoch: int, score: float, params: Params, patience: int
) -> EarlyStopping:
    """Record epoch ``epoch`` with validation ``score`` (higher is better, e.g. accuracy).

    A strictly better score becomes the best and resets the wait; otherwise the wait grows,
    and once ``patience`` epochs in a row brought no improvement, ``stopped_at`` is set.
    The caller restores ``best_params``. Parameters are immutable, so keeping them is free.
    """
    if score > state.best_score:
        return EarlyStopping(score, epoch, params, 0, None)
    waited = state.waited + 1
    stopped = epoch if waited >= patience else None
    return state._replace(waited=waited, stopped_at=stopped)
