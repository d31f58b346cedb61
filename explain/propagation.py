"""How signals and gradients travel through a deep, freshly initialized network.

The weight-initialization lesson: with Var(z) = n_in Var(w) Var(a), each layer multiplies
the variance of its input by n_in Var(w) (times what the activation keeps), so across ten
layers a slightly wrong scale either collapses the signal to zero or saturates it.
Xavier (Var(w) = 2 / (n_in + n_out)) keeps tanh layers near unit scale, He
(Var(w) = 2 / n_in) makes up for ReLU zeroing half of its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.nn.activations import get_activation
from explain.nn.initializers import weight_init


@dataclass(frozen=True)
class DeepSetup:
    """A plain stack of ``depth`` square layers fed ``n_samples`` Gaussian inputs."""

    depth: int = 10
    width: int = 500
    activation: str = "tanh"
    init: str = "gaussian"  # a name from explain.nn.initializers, or "gaussian" with ``sigma``
    sigma: float = 0.01
    n_samples: int = 1000
    seed: int = 0


class Propagation(NamedTuple):
    """Per layer l = 1..depth: z^l, a^l and backward gradients dC/dz^l, (N, width) each."""

    x: np.ndarray  # the Gaussian inputs a^0
    zs: tuple[np.ndarray, ...]
    activations: tuple[np.ndarray, ...]
    grads: tuple[np.ndarray, ...]
    weight_std: np.ndarray  # std of each layer's weights as drawn
    primes: tuple[np.ndarray, ...]  # f'(z^l), kept because backward already needed them


def propagate(setup: DeepSetup) -> Propagation:
    """Forward Gaussian inputs, then backward a Gaussian upstream gradient, with no training.

    The backward pass starts from dC/da^L ~ N(0, 1), so what it shows is only what the
    layers themselves do to a gradient: delta^l = (delta^{l+1} W^T) * act'(z^l).
    """
    rng = np.random.default_rng(setup.seed)
    act = get_activation(setup.activation)
    init = weight_init(setup.init, sigma=setup.sigma)
    a = x = rng.normal(0.0, 1.0, (setup.n_samples, setup.width))
    Ws, zs, acts = [], [], []
    for _ in range(setup.depth):
        W = init(setup.width, setup.width, rng=rng)
        z = a @ W
        a = act.fn(z)
        Ws.append(W)
        zs.append(z)
        acts.append(a)
    primes = [act.prime(z) for z in zs]
    delta = rng.normal(0.0, 1.0, a.shape) * primes[-1]
    grads = [delta]
    for l in range(setup.depth - 1, 0, -1):
        delta = (delta @ Ws[l].T) * primes[l - 1]
        grads.append(delta)
    weight_std = np.array([W.std() for W in Ws])
    return Propagation(x, tuple(zs), tuple(acts), tuple(grads[::-1]), weight_std, tuple(primes))


class LayerHistograms(NamedTuple):
    """Shared bin edges (bins + 1,) and counts (depth, bins) as fractions of all values."""

    edges: np.ndarray
    fractions: np.ndarray


def layer_histograms(values: tuple[np.ndarray, ...], bins: int = 40, limit: float | None = None):
    """Histograms of every layer on one set of bins, so the small multiples share axes."""
    top = limit if limit is not None else max(float(np.abs(v).max()) for v in values)
    top = top if top > 0 else 1.0
    edges = np.linspace(-top, top, bins + 1)
    counts = np.array([np.histogram(np.clip(v, -top, top), edges)[0] for v in values])
    return LayerHistograms(edges, counts / values[0].size)


def layer_moments(values: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each layer's values."""
    return np.array([v.mean() for v in values]), np.array([v.std() for v in values])


def predicted_weight_std(init: str, n_in: int, n_out: int, sigma: float = 1.0) -> float:
    """The standard deviation an initializer gives each weight (the rule the page states)."""
    return {
        "gaussian": sigma,
        "small": 0.01,
        "normal": 1.0,
        "scaled": np.sqrt(1.0 / n_in),
        "xavier": np.sqrt(2.0 / (n_in + n_out)),
        "xavier_uniform": np.sqrt(2.0 / (n_in + n_out)),
        "he": np.sqrt(2.0 / n_in),
    }[init]


def signal_spread(values: tuple[np.ndarray, ...]) -> np.ndarray:
    """Per layer, the spread across inputs of each unit's value, averaged over units.

    This is the signal: it says whether different inputs still give different outputs. (The
    pooled standard deviation also counts fixed per-unit offsets, e.g. sigmoid units
    that sit at 0.5 + a constant whatever the input.)
    """
    return np.array([v.std(axis=0).mean() for v in values])


def saturated_share(values: tuple[np.ndarray, ...], activation: str) -> np.ndarray:
    """Per layer, the share of values in the activation's flat region: |a| > 0.99 for tanh,
    a < 0.01 or a > 0.99 for sigmoid, a = 0 exactly for ReLU (a switched-off unit)."""
    test = {
        "tanh": lambda a: np.abs(a) > 0.99,
        "sigmoid": lambda a: (a < 0.01) | (a > 0.99),
        "relu": lambda a: a == 0,
    }.get(activation, lambda a: np.zeros(a.shape, dtype=bool))
    return np.array([np.mean(test(v)) for v in values])


def histogram_limits(activation: str, values: tuple[np.ndarray, ...]) -> tuple[float, float]:
    """The x-range shared by every layer's histogram: the activation's own range where it
    has one, else the first layer's 99.5th percentile (values beyond are clipped)."""
    if activation == "tanh":
        return -1.0, 1.0
    if activation == "sigmoid":
        return 0.0, 1.0
    top = max(float(np.percentile(np.abs(values[0]), 99.5)), 1e-12)
    return (0.0, top) if activation == "relu" else (-top, top)


class PropagationStats(NamedTuple):
    """Everything the weight-initialization page shows, small enough to cache."""

    act_edges: np.ndarray
    act_hist: np.ndarray  # (depth, bins) shares of values
    act_clipped: float  # share of activations outside the histogram range
    act_mean: np.ndarray
    act_std: np.ndarray
    spread: np.ndarray  # signal_spread
    saturated: np.ndarray
    var_z: np.ndarray  # measured Var(z^l)
    var_z_rule: np.ndarray  # n_in Var(w) E[(a^{l-1})^2], the rule with measured inputs
    grad_edges: np.ndarray
    grad_hist: np.ndarray
    grad_std: np.ndarray
    grad_factor_rule: np.ndarray  # n_out Var(w) E[f'(z^l)^2]: the backward variance factor


def propagation_stats(setup: DeepSetup, bins: int = 40) -> PropagationStats:
    """Run ``propagate`` and reduce it to histograms and per-layer statistics."""
    prop = propagate(setup)
    lo, hi = histogram_limits(setup.activation, prop.activations)
    edges = np.linspace(lo, hi, bins + 1)
    hist = np.array([_counts(a, lo, hi, bins) for a in prop.activations])
    outside = np.mean([np.mean((a < lo) | (a > hi)) for a in prop.activations])
    inputs = (prop.x, *prop.activations[:-1])
    var_w = prop.weight_std**2
    zs = prop.zs
    g_lim = max(float(np.percentile(np.abs(prop.grads[-1]), 99.5)), 1e-300)
    g_edges = np.linspace(-g_lim, g_lim, bins + 1)
    g_hist = np.array([_counts(g, -g_lim, g_lim, bins) for g in prop.grads])
    mean, std = layer_moments(prop.activations)
    return PropagationStats(
        edges,
        hist / prop.activations[0].size,
        float(outside),
        mean,
        std,
        signal_spread(prop.activations),
        saturated_share(prop.activations, setup.activation),
        np.array([z.var() for z in zs]),
        np.array([setup.width * v * np.mean(x**2) for v, x in zip(var_w, inputs)]),
        g_edges,
        g_hist / prop.grads[0].size,
        layer_moments(prop.grads)[1],
        np.array([setup.width * v * np.mean(p * p) for v, p in zip(var_w, prop.primes)]),
    )


def _counts(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Histogram counts on ``bins`` equal bins of [lo, hi]; values outside (however large,
    even infinite) fall into the edge bins, NaN is left out."""
    v = values.ravel()
    v = v[~np.isnan(v)]
    pos = np.clip((np.clip(v, lo, hi) - lo) * (bins / (hi - lo)), 0, bins - 1)
    return np.bincount(pos.astype(np.int64), minlength=bins)
