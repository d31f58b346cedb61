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

from explain.activations import get_activation
from explain.initializers import weight_init


@dataclass(frozen=True)
class DeepSetup:
    """A plain stack of ``depth`` square layers fed ``n_samples`` Gaussian inputs."""

    depth: int = 10
    width: int = 500
    activation: str = "tanh"
    init: str = "gaussian"  # a name from explain.initializers, or "gaussian" with ``sigma``
    sigma: float = 0.01
    n_samples: int = 1000
    seed: int = 0


class Propagation(NamedTuple):
    """Per layer l = 1..depth: activations a^l and backward gradients dC/dz^l, (N, width) each."""

    activations: tuple[np.ndarray, ...]
    grads: tuple[np.ndarray, ...]
    weight_std: np.ndarray  # std of each layer's weights as drawn


def propagate(setup: DeepSetup) -> Propagation:
    """Forward Gaussian inputs, then backward a Gaussian upstream gradient, with no training.

    The backward pass starts from dC/da^L ~ N(0, 1), so what it shows is only what the
    layers themselves do to a gradient: delta^l = (delta^{l+1} W^T) * act'(z^l).
    """
    rng = np.random.default_rng(setup.seed)
    act = get_activation(setup.activation)
    init = weight_init(setup.init, sigma=setup.sigma)
    a = rng.normal(0.0, 1.0, (setup.n_samples, setup.width))
    Ws, zs, acts = [], [], []
    for _ in range(setup.depth):
        W = init(setup.width, setup.width, rng=rng)
        z = a @ W
        a = act.fn(z)
        Ws.append(W)
        zs.append(z)
        acts.append(a)
    delta = rng.normal(0.0, 1.0, a.shape) * act.prime(zs[-1])
    grads = [delta]
    for l in range(setup.depth - 1, 0, -1):
        delta = (delta @ Ws[l].T) * act.prime(zs[l - 1])
        grads.append(delta)
    return Propagation(tuple(acts), tuple(grads[::-1]), np.array([W.std() for W in Ws]))


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
