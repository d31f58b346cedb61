"""Nonlinearities and their derivatives, in one registry that also feeds the UI.

Every function here is elementwise, accepts any finite float array and never
overflows: sigmoid and its derivative are computed from exp(-|z|) <= 1, so even
z = +-1000 gives exact results (0, 1 or a tiny positive number) without warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

Array = np.ndarray


class Activation(NamedTuple):
    """A nonlinearity, its derivative and the facts a page quotes about it."""

    name: str
    fn: Callable[[Array], Array]
    prime: Callable[[Array], Array]
    max_slope: float
    zero_centred: bool


def sigmoid(z: Array) -> Array:
    """sigma(z) = 1 / (1 + e^{-z}), to full relative precision for any finite z.

    For z < 0, e^{-z} is large and 1 / (1 + e^{-z}) keeps every digit of a tiny sigma
    (sigma(-40) = 4.2e-18, not 0); below z = -709 e^{-z} overflows to inf and sigma is 0,
    where the true value is under 1e-308 anyway. One buffer, four passes: this runs in
    every forward pass.
    """
    z = np.asarray(z, dtype=float)
    t = np.negative(z, out=np.empty(z.shape))
    with np.errstate(over="ignore"):
        np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def sigmoid_prime(z: Array) -> Array:
    """sigma'(z) = sigma(z)(1 - sigma(z)) = e^{-|z|} / (1 + e^{-|z|})^2, at most 1/4."""
    z = np.asarray(z, dtype=float)
    e = np.abs(z, out=np.empty(z.shape))
    np.negative(e, out=e)
    np.exp(e, out=e)  # in (0, 1]: never overflows
    d = np.add(e, 1.0, out=np.empty(z.shape))
    np.reciprocal(d, out=d)
    e *= d
    e *= d
    return np.minimum(e, 0.25, out=e)  # rounding can land one ulp above 1/4 near z = 0


def tanh(z: Array) -> Array:
    """tanh(z) = 2 sigma(2z) - 1."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_prime(z: Array) -> Array:
    """1 - tanh(z)^2 = 4 sigma'(2z), computed the stable way (tiny, not 0, when saturated)."""
    return 4.0 * sigmoid_prime(2.0 * np.asarray(z, dtype=float))


def relu(z: Array) -> Array:
    """max(0, z)."""
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_prime(z: Array) -> Array:
    """1 where z > 0, else 0 (the subgradient at 0 is taken as 0)."""
    return (np.asarray(z) > 0).astype(float)


def leaky_relu(z: Array, slope: float = 0.01) -> Array:
    """z for z > 0, slope * z otherwise."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, slope * z)


def leaky_relu_prime(z: Array, slope: float = 0.01) -> Array:
    """1 for z > 0, slope otherwise."""
    return np.where(np.asarray(z) > 0, 1.0, slope)


def elu(z: Array, alpha: float = 1.0) -> Array:
    """z for z > 0, alpha (e^z - 1) otherwise (a smooth, nearly zero-centred ReLU)."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_prime(z: Array, alpha: float = 1.0) -> Array:
    """1 for z > 0, alpha e^z otherwise."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def linear(z: Array) -> Array:
    """The identity: a network of linear layers is one linear map."""
    return np.array(z, dtype=float)


def linear_prime(z: Array) -> Array:
    """1 everywhere."""
    return np.ones_like(np.asarray(z, dtype=float))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime, 0.25, False),
    "tanh": Activation("tanh", tanh, tanh_prime, 1.0, True),
    "relu": Activation("ReLU", relu, relu_prime, 1.0, False),
    "leaky_relu": Activation("leaky ReLU", leaky_relu, leaky_relu_prime, 1.0, False),
    "elu": Activation("ELU", elu, elu_prime, 1.0, False),
    "linear": Activation("linear", linear, linear_prime, 1.0, True),
}


def get_activation(name: str, *, slope: float = 0.01) -> Activation:
    """The registry entry for ``name``; ``slope`` sets leaky ReLU's negative slope."""
    if name not in ACTIVATIONS:
        raise KeyError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    if name != "leaky_relu":
        return ACTIVATIONS[name]
    return Activation(
        f"leaky ReLU ({slope:g})",
        lambda z: leaky_relu(z, slope),
        lambda z: leaky_relu_prime(z, slope),
        max(1.0, abs(slope)),
        False,
    )


def softmax(z: Array) -> Array:
    """Row-wise softmax of (N, K) scores, shifted by the row maximum so exp never overflows."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z: Array) -> Array:
    """Row-wise log softmax, exact even where softmax underflows to 0."""
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softplus(z: Array) -> Array:
    """ln(1 + e^z) without overflow; -softplus(-z) = ln sigma(z)."""
    return np.logaddexp(0.0, np.asarray(z, dtype=float))


def flat_regions(name: str, z: np.ndarray, *, slope: float = 0.01, share: float = 0.05):
    """The intervals of z (sorted grid) where act'(z) < share * max slope: (start, end) pairs.

    Where a unit's derivative is this small it passes almost no gradient: saturated
    (sigmoid, tanh) or switched off (ReLU for z < 0).
    """
    act = get_activation(name, slope=slope)
    flat = act.prime(z) < share * act.max_slope
    edges = np.flatnonzero(np.diff(np.r_[False, flat, False].astype(int)))
    return [(float(z[s]), float(z[e - 1])) for s, e in zip(edges[::2], edges[1::2])]
