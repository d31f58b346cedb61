"""Weight and bias initializers: the scale of the first weights decides whether signals
and gradients survive a deep network (the weight-initialization lesson).

Every initializer has the signature ``init(n_in, n_out, *, rng) -> W`` with W of shape
(n_in, n_out), so a network can be built from a name and a seed alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Initializer = Callable[..., np.ndarray]


def zeros(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """All zeros: every hidden unit computes the same thing (the symmetry problem)."""
    return np.zeros((n_in, n_out))


def constant(value: float) -> Initializer:
    """All weights equal to ``value``: still symmetric."""

    def init(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
        return np.full((n_in, n_out), float(value))

    return init


def gaussian(sigma: float) -> Initializer:
    """N(0, sigma^2) regardless of fan-in (sigma = 1 is the 'large' init of Nielsen's ch. 3)."""

    def init(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, sigma, size=(n_in, n_out))

    return init


def scaled_gaussian(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """N(0, 1/n_in): Nielsen's default, keeps Var(z) near 1 for unit-variance inputs."""
    return rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))


def xavier_normal(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """Glorot: N(0, 2 / (n_in + n_out)), for tanh-like activations."""
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def xavier_uniform(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """Glorot: U(-r, r) with r = sqrt(6 / (n_in + n_out)), the same variance as the normal."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_in, n_out))


def he_normal(n_in: int, n_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """He: N(0, 2 / n_in), which makes up for ReLU zeroing half of its inputs."""
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


WEIGHT_INITS: dict[str, Initializer] = {
    "zeros": zeros,
    "small": gaussian(0.01),
    "normal": gaussian(1.0),
    "scaled": scaled_gaussian,
    "xavier": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he": he_normal,
}

WEIGHT_INIT_LABELS: dict[str, str] = {
    "zeros": "zeros",
    "small": "Gaussian, σ = 0.01",
    "normal": "N(0, 1)",
    "scaled": "N(0, 1/n_in)",
    "xavier": "Xavier/Glorot (normal)",
    "xavier_uniform": "Xavier/Glorot (uniform)",
    "he": "He (normal)",
}


def weight_init(name: str, *, sigma: float = 1.0, value: float = 0.5) -> Initializer:
    """An initializer by name; 'gaussian' takes ``sigma`` and 'constant' takes ``value``."""
    if name == "gaussian":
        return gaussian(sigma)
    if name == "constant":
        return constant(value)
    if name not in WEIGHT_INITS:
        raise KeyError(f"unknown initializer {name!r}; choose from {sorted(WEIGHT_INITS)}")
    return WEIGHT_INITS[name]


def bias_init(name: str, n: int, *, rng: np.random.Generator, value: float = 0.0) -> np.ndarray:
    """Biases: 'zeros', 'normal' (N(0, 1), as in Nielsen's networks) or 'constant' (value)."""
    if name == "zeros":
        return np.zeros(n)
    if name == "normal":
        return rng.normal(0.0, 1.0, size=n)
    if name == "constant":
        return np.full(n, float(value))
    raise KeyError(f"unknown bias initializer {name!r}; choose 'zeros', 'normal' or 'constant'")
