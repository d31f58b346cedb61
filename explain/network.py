"""A fully connected network of any depth, with forward and backward written by hand.

Backpropagation is the subject of the site, so it is spelled out here rather than
borrowed from a framework. With a^0 = x and, for l = 1..L,

    z^l = a^{l-1} W^l + b^l,     a^l = act(z^l)      (a^L = output(z^L), set by the cost)

the backward pass is Nielsen's four equations, batch-first:

    delta^L = cost.delta(z^L, y)                                    (BP1)
    delta^l = (delta^{l+1} (W^{l+1})^T) * act'(z^l)                 (BP2)
    dC/db^l = mean over the batch of delta^l                        (BP3)
    dC/dW^l = (a^{l-1})^T delta^l / N                               (BP4)

BP2 is where vanishing and exploding gradients come from: every layer multiplies the
signal by W^T and by act'(z).  Dropout or a normalization layer slots in as another
step between z and a in ``layer_forward`` / ``layer_backward``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.activations import Activation, get_activation
from explain.costs import Cost, get_cost
from explain.initializers import bias_init, weight_init

Array = np.ndarray


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture and initialization of a network; frozen so it can key a cache."""

    sizes: tuple[int, ...] = (784, 30, 10)
    activation: str = "sigmoid"  # hidden layers; the output layer is set by the cost
    cost: str = "cross_entropy"
    slope: float = 0.01  # leaky ReLU's negative slope
    weight_init: str = "scaled"  # see explain.initializers.WEIGHT_INITS
    bias_init: str = "normal"
    init_sigma: float = 1.0  # for weight_init == "gaussian"
    init_value: float = 0.5  # for weight_init == "constant"
    bias_value: float = 0.0  # for bias_init == "constant"

    @property
    def hidden(self) -> Activation:
        return get_activation(self.activation, slope=self.slope)

    @property
    def cost_fn(self) -> Cost:
        return get_cost(self.cost)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L (hidden layers plus the output layer)."""
        return len(self.sizes) - 1


class Params(NamedTuple):
    """Weights W[l-1] (n_{l-1}, n_l) and biases b[l-1] (n_l,) for l = 1..L."""

    W: tuple[Array, ...]
    b: tuple[Array, ...]


class Forward(NamedTuple):
    """Everything backward needs: z^1..z^L and a^0..a^L, each (N, n_l)."""

    zs: tuple[Array, ...]
    activations: tuple[Array, ...]

    @property
    def output(self) -> Array:
        return self.activations[-1]


class Gradients(NamedTuple):
    """Per-sample deltas (N, n_l) for l = 1..L, and dC/dW, dC/db averaged over the batch."""

    deltas: tuple[Array, ...]
    dW: tuple[Array, ...]
    db: tuple[Array, ...]


def init_params(spec: NetworkSpec, *, rng: np.random.Generator) -> Params:
    """Draw weights and biases for ``spec`` from ``rng``."""
    init = weight_init(spec.weight_init, sigma=spec.init_sigma, value=spec.init_value)
    pairs = list(zip(spec.sizes[:-1], spec.sizes[1:]))
    W = tuple(init(n_in, n_out, rng=rng) for n_in, n_out in pairs)
    b = tuple(
        bias_init(spec.bias_init, n_out, rng=rng, value=spec.bias_value) for _, n_out in pairs
    )
    return Params(W, b)


def forward(spec: NetworkSpec, params: Params, x: Array) -> Forward:
    """Run x (N, n_0) through the network, keeping every z and a."""
    act, out = spec.hidden.fn, spec.cost_fn.output
    zs, activations = [], [np.asarray(x, dtype=float)]
    last = len(params.W) - 1
    for l, (W, b) in enumerate(zip(params.W, params.b)):
        z = activations[-1] @ W + b
        zs.append(z)
        activations.append(out(z) if l == last else act(z))
    return Forward(tuple(zs), tuple(activations))


def backward(spec: NetworkSpec, params: Params, fwd: Forward, y: Array) -> Gradients:
    """Backpropagate the cost of ``fwd`` against targets y (N, n_L): BP1 to BP4."""
    prime = spec.hidden.prime
    n = fwd.activations[0].shape[0]
    delta = spec.cost_fn.delta(fwd.zs[-1], y)
    deltas, dW, db = [delta], [], []
    for l in range(len(params.W) - 1, -1, -1):
        dW.append(fwd.activations[l].T @ (delta / n))  # divide the small array
        db.append(delta.mean(axis=0))
        if l > 0:
            delta = (delta @ params.W[l].T) * prime(fwd.zs[l - 1])
            deltas.append(delta)
    return Gradients(tuple(deltas[::-1]), tuple(dW[::-1]), tuple(db[::-1]))


def cost(spec: NetworkSpec, params: Params, x: Array, y: Array) -> float:
    """The mean cost over (x, y), without any regularization term."""
    return spec.cost_fn(forward(spec, params, x).zs[-1], y)


def l2_penalty(params: Params, lmbda: float, n: int) -> float:
    """The L2 term (lmbda / 2n) sum ||W||^2 of Nielsen's regularized cost."""
    return 0.5 * lmbda / n * sum(float(np.sum(W * W)) for W in params.W)


def accuracy(spec: NetworkSpec, params: Params, x: Array, labels: Array) -> float:
    """Fraction of samples whose largest output is the true label."""
    out = forward(spec, params, x).output
    return float(np.mean(np.argmax(out, axis=1) == labels))
