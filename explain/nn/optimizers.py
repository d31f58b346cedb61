"""Optimizers as pairs of pure functions, after optax: ``init(params) -> state`` and
``update(grads, state, params) -> (updates, state)``; the caller applies ``params + updates``.

Serves the optimization pages (momentum, adaptive rates, schedules) and the training loop.
Hyperparameters are bound in a factory (``adam(eta, beta1=0.9)``), the state is a small
NamedTuple whose per-parameter arrays are ``Params``, and nothing is mutated, so the training
loop never needs to know which optimizer runs. Every factory takes eta as a float or a
schedule t -> eta_t (``explain.nn.schedules``), and every state counts its steps in
``count``, so t = count is the 0-based step being taken. Elementwise, with g the gradient:

    sgd        u = -eta_t g
    momentum   v <- beta v + g;  u = -eta_t v                    (heavy ball, Goh 2017)
    nesterov   v <- beta v + g;  u = -eta_t (g + beta v)         (PyTorch / optax form)
    adagrad    G <- G + g^2;     u = -eta_t g / (sqrt(G) + eps)
    rmsprop    s <- rho s + (1 - rho) g^2;  u = -eta_t g / (sqrt(s) + eps)
    adam       m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
               u = -eta_t (mhat / (sqrt(vhat) + eps) + weight_decay W)

The last three scale each coordinate by its own effective rate eta_t / (sqrt(.) + eps);
``effective_rate`` reads it from a state for a chart. ``params`` may be left out of
``update`` (it defaults to None, as in optax) by every rule except decoupled weight decay.

Non-goals: parameter groups, gradient clipping, second-order methods.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from explain.nn.network import Params
from explain.nn.schedules import Schedule, as_schedule

Array = np.ndarray
Rate = float | Schedule


class Optimizer(NamedTuple):
    """init(params) -> state; update(grads, state, params) -> (updates, state)."""

    init: Callable[[Params], Any]
    update: Callable[..., tuple[Params, Any]]


# --- trees of parameters -------------------------------------------------------------------


def tree_map(fn: Callable[..., Array], *trees: Params) -> Params:
    """fn applied leafwise over the trainable fields W, b, gamma; the result has running=().

    Leaves are zipped field by field, so a tree whose gamma is () gives a result with gamma ().
    """
    return Params(*(tuple(fn(*xs) for xs in zip(*(t[i] for t in trees))) for i in range(3)))


def zeros_like(params: Params) -> Params:
    """Zeros shaped like W, b and gamma (running dropped): the start of every optimizer state."""
    return tree_map(np.zeros_like, params)


def _leafwise(fn: Callable[..., tuple[Array, ...]], n_out: int, *trees: Params) -> tuple:
    """Like tree_map for an fn returning n_out arrays per leaf; returns n_out Params."""
    fields = []
    for i in range(3):  # W, b, gamma
        outs = tuple(fn(*xs) for xs in zip(*(t[i] for t in trees)))
        fields.append(tuple(zip(*outs)) if outs else ((),) * n_out)
    return tuple(Params(W, b, gamma) for W, b, gamma in zip(*fields))


def _scale(tree: Params, c: float) -> Params:
    """c * tree, leafwise."""
    return Params(
        tuple(x * c for x in tree.W), tuple(x * c for x in tree.b), tuple(x * c for x in tree.gamma)
    )


# --- plain and momentum methods ------------------------------------------------------------


class SGDState(NamedTuple):
    """Plain SGD keeps only its step count."""

    count: int


class MomentumState(NamedTuple):
    """Steps taken and the velocity v, shaped like the parameters."""

    count: int
    v: Params


def sgd(eta: Rate) -> Optimizer:
    """Plain gradient descent: u = -eta_t g.

    eta: a float or a schedule t -> eta_t.
    """
    rate = as_schedule(eta)

    def init(params: Params) -> SGDState:
        return SGDState(0)

    def update(grads: Params, state: SGDState, params: Params | None = None):
        return _scale(grads, -rate(state.count)), SGDState(state.count + 1)

    return Optimizer(init, update)


def momentum(eta: Rate, beta: float = 0.9) -> Optimizer:
    """Heavy ball in Goh's form ("Why momentum really works", Distill 2017).

    v <- beta v + g; u = -eta_t v. eta: float or schedule; beta: the momentum in [0, 1).
    """
    rate = as_schedule(eta)

    def velocity(g: Array, v: Array) -> Array:
        v = v * beta  # a new array: the state's own v is never touched
        v += g
        return v

    def init(params: Params) -> MomentumState:
        return MomentumState(0, zeros_like(params))

    def update(grads: Params, state: MomentumState, params: Params | None = None):
        v = tree_map(velocity, grads, state.v)
        return _scale(v, -rate(state.count)), MomentumState(state.count + 1, v)

    return Optimizer(init, update)


def nesterov(eta: Rate, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum in the PyTorch / optax form: a look-ahead along the new velocity.

    v <- beta v + g; u = -eta_t (g + beta v). eta: float or schedule; beta in [0, 1).
    """
    rate = as_schedule(eta)

    def init(params: Params) -> MomentumState:
        return MomentumState(0, zeros_like(params))

    def update(grads: Params, state: MomentumState, params: Params | None = None):
        c = -rate(state.count)

        def leaf(g: Array, v: Array) -> tuple[Array, Array]:
            v = v * beta
            v += g
            u = v * beta
            u += g
            u *= c
            return u, v

        u, v = _leafwise(leaf, 2, grads, state.v)
        return u, MomentumState(state.count + 1, v)

    return Optimizer(init, update)


# --- adaptive methods ----------------------------------------------------------------------


class AdagradState(NamedTuple):
    """Steps taken and the running sum of squared gradients G."""

    count: int
    G: Params


class RMSPropState(NamedTuple):
    """Steps taken and the moving average of squared gradients s."""

    count: int
    s: Params


class AdamState(NamedTuple):
    """Steps taken and the moving averages of g (m) and of g^2 (v)."""

    count: int
    m: Params
    v: Params


def _divide(g: Array, c: float, acc: Array, eps: float) -> Array:
    """c g / (sqrt(acc) + eps) with two new arrays and no temporaries."""
    d = np.sqrt(acc)
    d += eps
    u = g * c
    u /= d
    return u


def adagrad(eta: Rate, eps: float = 1e-8) -> Optimizer:
    """Adagrad (Duchi, Hazan and Singer 2011): each coordinate's rate only ever falls.

    G <- G + g^2; u = -eta_t g / (sqrt(G) + eps). eta: float or schedule.
    """
    rate = as_schedule(eta)

    def init(params: Params) -> AdagradState:
        return AdagradState(0, zeros_like(params))

    def update(grads: Params, state: AdagradState, params: Params | None = None):
        c = -rate(state.count)

        def leaf(g: Array, G: Array) -> tuple[Array, Array]:
            G_new = g * g
            G_new += G
            return _divide(g, c, G_new, eps), G_new

        u, G = _leafwise(leaf, 2, grads, state.G)
        return u, AdagradState(state.count + 1, G)

    return Optimizer(init, update)


def _ema(g: Array, avg: Array, one_minus_rho: float) -> Array:
    """rho avg + (1 - rho) g, written avg + (1 - rho)(g - avg) so only one new array is made."""
    out = g - avg
    out *= one_minus_rho
    out += avg
    return out


def _ema_of_square(g: Array, avg: Array, one_minus_rho: float) -> Array:
    """rho avg + (1 - rho) g^2, with one new array."""
    out = g * g
    out -= avg
    out *= one_minus_rho
    out += avg
    return out


def rmsprop(eta: Rate, rho: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp (Hinton, Coursera lecture 6e): Adagrad with a forgetting average.

    s <- rho s + (1 - rho) g^2; u = -eta_t g / (sqrt(s) + eps). eta: float or schedule.
    """
    rate = as_schedule(eta)
    one_minus_rho = 1.0 - rho

    def init(params: Params) -> RMSPropState:
        return RMSPropState(0, zeros_like(params))

    def update(grads: Params, state: RMSPropState, params: Params | None = None):
        c = -rate(state.count)

        def leaf(g: Array, s: Array) -> tuple[Array, Array]:
            s_new = _ema_of_square(g, s, one_minus_rho)
            return _divide(g, c, s_new, eps), s_new

        u, s = _leafwise(leaf, 2, grads, state.s)
        return u, RMSPropState(state.count + 1, s)

    return Optimizer(init, update)


def adam(
    eta: Rate,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
    weight_decay: float = 0.0,
) -> Optimizer:
    """Adam (Kingma and Ba 2015), with AdamW's decoupled weight decay when weight_decay > 0.

    m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
    mhat = m / (1 - beta1^t), vhat = v / (1 - beta2^t) with t = count + 1 (or mhat = m,
    vhat = v without bias_correction);  u = -eta_t (mhat / (sqrt(vhat) + eps) + weight_decay W).
    The decay (Loshchilov and Hutter 2019) applies to W only, not b or gamma, and needs params.
    """
    rate = as_schedule(eta)
    one_minus_b1, one_minus_b2 = 1.0 - beta1, 1.0 - beta2

    def init(params: Params) -> AdamState:
        return AdamState(0, zeros_like(params), zeros_like(params))

    def update(grads: Params, state: AdamState, params: Params | None = None):
        t, eta_t = state.count + 1, rate(state.count)
        # mhat / (sqrt(vhat) + eps) = m (sqrt(c2) / c1) / (sqrt(v) + eps sqrt(c2)): two scalars
        # per step instead of two more arrays per leaf
        root_c2 = math.sqrt(1.0 - beta2**t) if bias_correction else 1.0
        c1 = 1.0 - beta1**t if bias_correction else 1.0
        step, eps_t = -eta_t * root_c2 / c1, eps * root_c2

        def leaf(g: Array, m: Array, v: Array) -> tuple[Array, Array, Array]:
            m_new, v_new = _ema(g, m, one_minus_b1), _ema_of_square(g, v, one_minus_b2)
            return _divide(m_new, step, v_new, eps_t), m_new, v_new

        u, m, v = _leafwise(leaf, 3, grads, state.m, state.v)
        if weight_decay:
            if params is None:
                raise ValueError(
                    "decoupled weight decay needs params: update(grads, state, params)"
                )
            decay = -eta_t * weight_decay
            for u_W, W in zip(u.W, params.W):
                u_W += decay * W  # u_W was just made above; no caller holds it yet
        return u, AdamState(t, m, v)

    return Optimizer(init, update)


def adamw(
    eta: Rate,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
    weight_decay: float = 0.01,
) -> Optimizer:
    """AdamW: ``adam`` with decoupled weight decay on W only (Loshchilov and Hutter 2019).

    u = -eta_t (mhat / (sqrt(vhat) + eps) + weight_decay W); eta: float or schedule.
    """
    return adam(eta, beta1, beta2, eps, bias_correction, weight_decay)


def effective_rate(
    state: AdagradState | RMSPropState | AdamState,
    eta_t: float,
    *,
    eps: float = 1e-8,
    beta2: float = 0.999,
    bias_correction: bool = True,
) -> Params:
    """Each coordinate's rate after the last step: eta_t / (sqrt(G or s or vhat) + eps).

    Pass the eps (and, for Adam, beta2 and bias_correction) the optimizer was built with.
    The last update was u = -rate * g for Adagrad and RMSProp, u = -rate * mhat for Adam
    (without weight decay); vhat = v / (1 - beta2^count).
    """
    if isinstance(state, AdagradState):
        acc = state.G
    elif isinstance(state, RMSPropState):
        acc = state.s
    elif isinstance(state, AdamState):
        c2 = 1.0 - beta2**state.count if bias_correction and state.count else 1.0
        acc = _scale(state.v, 1.0 / c2)
    else:
        raise TypeError(f"{type(state).__name__} has no per-coordinate rate")
    return tree_map(lambda a: eta_t / (np.sqrt(a) + eps), acc)


# --- shared by every optimizer -------------------------------------------------------------


def add_weight_decay(grads: Params, params: Params, coeff: float) -> Params:
    """L2 regularization: dW + coeff * W (coeff = lmbda / n); b and gamma are not decayed.

    With SGD this is Nielsen's w <- (1 - eta lmbda / n) w - eta dW.
    """
    if coeff == 0.0:
        return grads
    return grads._replace(W=tuple(g + coeff * W for g, W in zip(grads.W, params.W)))


def apply_updates(params: Params, updates: Params) -> Params:
    """params + updates for W, b and gamma (gamma only when updates has it); running is kept."""
    gamma = (
        tuple(g + u for g, u in zip(params.gamma, updates.gamma)) if updates.gamma else params.gamma
    )
    return Params(
        tuple(W + u for W, u in zip(params.W, updates.W)),
        tuple(b + u for b, u in zip(params.b, updates.b)),
        gamma,
        params.running,
    )


def is_finite(params: Params) -> bool:
    """True when no W, b or gamma entry is inf or NaN, and their sum does not overflow.

    One sum is far cheaper than a check of every element; a sum that overflows from
    finite terms (weights near 1e308) counts as diverged too, which it is in practice.
    """
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for p in params.W + params.b + params.gamma:
            total += p.sum()
    return bool(np.isfinite(total))


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}


# How the pages name each optimizer (and key its colour in charts.palette).
OPTIMIZER_LABELS: dict[str, str] = {
    "sgd": "SGD",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "adagrad": "Adagrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "adamw": "AdamW",
}


def make_optimizer(name: str, eta: Rate, **hyper: Any) -> Optimizer:
    """OPTIMIZERS[name](eta, ...) given only the hyperparameters that factory accepts.

    So one frozen config can hold beta, rho, beta1, ... for every optimizer at once.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {tuple(OPTIMIZERS)}")
    factory = OPTIMIZERS[name]
    accepted = set(inspect.signature(factory).parameters) - {"eta"}
    return factory(eta, **{k: v for k, v in hyper.items() if k in accepted})
