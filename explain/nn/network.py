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
signal by W^T and by act'(z).

Two optional steps slot in between z and a of a hidden layer, each with its own backward
in ``explain.nn.layers``:

- normalization (Ioffe and Szegedy 2015): v^l = a^{l-1} W^l, z^l = gamma^l * norm(v^l) + b^l,
  where norm is batch, layer or group normalization and b^l plays the role of the shift
  beta^l (a bias before the normalization would be cancelled, so there is none). Then
  delta^l is still dC/dz^l, and BP4 uses the gradient at v^l instead.
- inverted dropout: a^l = act(z^l) * mask^l, the mask drawn in training only.

A network whose spec asks for neither computes exactly what it computed before they existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from explain.nn.activations import Activation, get_activation
from explain.nn.costs import Cost, get_cost
from explain.nn.initializers import bias_init, weight_init
from explain.nn.layers import (
    METHODS,
    batchnorm_inference,
    dropout_backward,
    dropout_forward,
    norm_backward,
    normalize,
    update_running,
)

Array = np.ndarray
NORMS = ("none", *METHODS)


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture and initialization of a network; frozen so it can key a cache.

    ``norm`` names the normalization of the hidden layers: one of ``NORMS`` ("none",
    "batch", "layer", "group") for all of them, or a tuple with one name per hidden layer.
    The output layer is never normalized. ``groups`` is group norm's G (it must divide the
    width of every group-normalized layer; G = 1 is layer norm). ``keep_prob`` < 1 applies
    inverted dropout to every hidden layer's activations in training.
    """

    sizes: tuple[int, ...] = (784, 30, 10)
    activation: str = "sigmoid"  # hidden layers; the output layer is set by the cost
    cost: str = "cross_entropy"
    slope: float = 0.01  # leaky ReLU's negative slope
    weight_init: str = "scaled"  # see explain.nn.initializers.WEIGHT_INITS
    bias_init: str = "normal"
    init_sigma: float = 1.0  # for weight_init == "gaussian"
    init_value: float = 0.5  # for weight_init == "constant"
    bias_value: float = 0.0  # for bias_init == "constant"
    norm: str | tuple[str, ...] = "none"
    groups: int = 1
    keep_prob: float = 1.0
    norm_eps: float = 1e-5
    bn_momentum: float = 0.1  # running averages: new = (1 - m) old + m batch

    def __post_init__(self) -> None:
        norms = self.norms
        if len(norms) != self.n_layers:
            raise ValueError(
                f"norm gives {len(norms) - 1} hidden layers, the network has {self.n_layers - 1}"
            )
        if any(n not in NORMS for n in norms):
            raise ValueError(f"unknown normalization in {self.norm!r}; choose from {NORMS}")
        for n, width in zip(norms, self.sizes[1:]):
            if n == "group" and (self.groups < 1 or width % self.groups):
                raise ValueError(
                    f"group norm needs the group count to divide the layer width: "
                    f"{self.groups} groups do not divide {width} units"
                )
        if not 0.0 < self.keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in (0, 1], not {self.keep_prob}")

    # Read on every forward and backward pass, so computed once per spec. (cached_property
    # writes to the instance's __dict__, which a frozen dataclass allows; equality and the
    # hash still use the fields only.)
    @cached_property
    def hidden(self) -> Activation:
        return get_activation(self.activation, slope=self.slope)

    @cached_property
    def cost_fn(self) -> Cost:
        return get_cost(self.cost)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    @cached_property
    def norms(self) -> tuple[str, ...]:
        """The normalization of each weight layer l = 1..L ("none" for the output layer)."""
        hidden = self.n_layers - 1
        per = (self.norm,) * hidden if isinstance(self.norm, str) else tuple(self.norm)
        return (*per, "none")

    @cached_property
    def normalized(self) -> bool:
        return any(n != "none" for n in self.norms)


class Params(NamedTuple):
    """Weights W[l-1] (n_{l-1}, n_l) and biases b[l-1] (n_l,) for l = 1..L.

    ``gamma[l-1]`` (n_l,) is the learnable scale of a normalized layer, shape (0,) for a
    layer without normalization, and ``gamma == ()`` when no layer is normalized. For a
    normalized layer ``b`` plays the role of Ioffe and Szegedy's shift beta. ``running[l-1]``
    is batch norm's (mean, var) pair of running averages for inference, not trained; ``()``
    for other layers. W, b and gamma are trainable; gradients and updates have
    ``running == ()``.
    """

    W: tuple[Array, ...]
    b: tuple[Array, ...]
    gamma: tuple[Array, ...] = ()
    running: tuple = ()


class Forward(NamedTuple):
    """Everything backward needs: z^1..z^L and a^0..a^L, each (N, n_l).

    ``norms[l-1]`` is the NormRecord of a normalized layer (its input v^l = a^{l-1} W^l,
    the normalized values and the statistics, for a page to plot) or None; ``masks[l-1]``
    the dropout mask of a hidden layer or None. Both are () for a plain network.
    """

    zs: tuple[Array, ...]
    activations: tuple[Array, ...]
    norms: tuple = ()
    masks: tuple = ()

    @property
    def output(self) -> Array:
        return self.activations[-1]


class Gradients(NamedTuple):
    """Per-sample deltas (N, n_l) for l = 1..L (delta^l = N dC/dz^l), and dC/dW, dC/db and
    dC/dgamma (() for a plain network; (0,) arrays for layers without normalization)
    averaged over the batch."""

    deltas: tuple[Array, ...]
    dW: tuple[Array, ...]
    db: tuple[Array, ...]
    dgamma: tuple[Array, ...] = ()

    def as_params(self) -> Params:
        """dW, db, dgamma as a Params, the shape an optimizer takes."""
        return Params(self.dW, self.db, self.dgamma)


def init_params(spec: NetworkSpec, *, rng: np.random.Generator) -> Params:
    """Draw weights and biases for ``spec`` from ``rng``; gamma = 1 and beta (b) = 0 for a
    normalized layer, running averages mean 0 and variance 1 for batch norm."""
    init = weight_init(spec.weight_init, sigma=spec.init_sigma, value=spec.init_value)
    pairs = list(zip(spec.sizes[:-1], spec.sizes[1:]))
    W = tuple(init(n_in, n_out, rng=rng) for n_in, n_out in pairs)
    b = tuple(
        bias_init(spec.bias_init, n_out, rng=rng, value=spec.bias_value) for _, n_out in pairs
    )
    if not spec.normalized:
        return Params(W, b)
    norms, widths = spec.norms, spec.sizes[1:]
    b = tuple(np.zeros(n) if m != "none" else bl for m, n, bl in zip(norms, widths, b))
    gamma = tuple(np.ones(n) if m != "none" else np.zeros(0) for m, n in zip(norms, widths))
    running = tuple(
        (np.zeros(n), np.ones(n)) if m == "batch" else () for m, n in zip(norms, widths)
    )
    return Params(W, b, gamma, running)


def forward(
    spec: NetworkSpec,
    params: Params,
    x: Array,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> Forward:
    """Run x (N, n_0) through the network, keeping every z and a.

    ``train``: batch norm uses the batch's statistics (else its running averages), and
    dropout draws its masks from ``rng`` (with no rng, or outside training, no unit is
    dropped: evaluation is deterministic).
    """
    if not spec.normalized and (spec.keep_prob == 1.0 or not train or rng is None):
        return _plain_forward(spec, params, x)
    act, out = spec.hidden.fn, spec.cost_fn.output
    zs, activations, records, masks = [], [np.asarray(x, dtype=float)], [], []
    last = len(params.W) - 1
    for l, method in enumerate(spec.norms):
        z, record = _weighted_input(spec, params, l, method, activations[-1], train)
        zs.append(z)
        records.append(record)
        if l == last:
            activations.append(out(z))
            break
        a, mask = act(z), None
        if train and rng is not None and spec.keep_prob < 1.0:
            a, mask = dropout_forward(a, spec.keep_prob, rng=rng)
        masks.append(mask)
        activations.append(a)
    return Forward(tuple(zs), tuple(activations), tuple(records), (*masks, None))


def _plain_forward(spec: NetworkSpec, params: Params, x: Array) -> Forward:
    act, out = spec.hidden.fn, spec.cost_fn.output
    zs, activations = [], [np.asarray(x, dtype=float)]
    last = len(params.W) - 1
    for l, (W, b) in enumerate(zip(params.W, params.b)):
        z = activations[-1] @ W + b
        zs.append(z)
        activations.append(out(z) if l == last else act(z))
    return Forward(tuple(zs), tuple(activations))


def _weighted_input(spec, params, l, method, a, train) -> tuple[Array, object]:
    """z^l of one layer and its NormRecord (None without normalization or at inference)."""
    if method == "none":
        return a @ params.W[l] + params.b[l], None
    v = a @ params.W[l]
    gamma, beta = params.gamma[l], params.b[l]
    if method == "batch" and not train:
        mean, var = params.running[l]
        return batchnorm_inference(v, gamma, beta, mean, var, eps=spec.norm_eps), None
    return normalize(method, v, gamma, beta, groups=spec.groups, eps=spec.norm_eps)


def backward(spec: NetworkSpec, params: Params, fwd: Forward, y: Array) -> Gradients:
    """Backpropagate the cost of ``fwd`` against targets y (N, n_L): BP1 to BP4, through
    the normalization and dropout steps that ``fwd`` recorded."""
    if not fwd.norms and not fwd.masks:
        return _plain_backward(spec, params, fwd, y)
    prime = spec.hidden.prime
    n = fwd.activations[0].shape[0]
    delta = spec.cost_fn.delta(fwd.zs[-1], y)
    deltas, dW, db, dgamma = [delta], [], [], []
    for l in range(len(params.W) - 1, -1, -1):
        dv, dg = _through_norm(spec, params, fwd, l, delta)
        dW.append(fwd.activations[l].T @ (dv / n))
        db.append(delta.mean(axis=0))
        dgamma.append(dg)
        if l > 0:
            delta = dv @ params.W[l].T
            mask = fwd.masks[l - 1] if fwd.masks else None
            if mask is not None:
                delta = dropout_backward(delta, mask)
            delta = delta * prime(fwd.zs[l - 1])
            deltas.append(delta)
    dgamma = tuple(dgamma[::-1]) if spec.normalized else ()
    return Gradients(tuple(deltas[::-1]), tuple(dW[::-1]), tuple(db[::-1]), dgamma)


def _through_norm(spec, params, fwd, l, delta) -> tuple[Array, Array]:
    """(per-sample gradient at the layer's input v^l, dC/dgamma^l) for delta^l = N dC/dz^l."""
    record = fwd.norms[l] if fwd.norms else None
    method = spec.norms[l]
    if method == "none":
        return delta, np.zeros(0)
    n = delta.shape[0]
    if record is None:  # batch norm at inference: an affine map per unit
        mean, var = params.running[l]
        inv_std = 1.0 / np.sqrt(var + spec.norm_eps)
        v = fwd.activations[l] @ params.W[l]
        dgamma = np.sum(delta * (v - mean) * inv_std, axis=0) / n
        return delta * (params.gamma[l] * inv_std), dgamma
    dv, dgamma, _ = norm_backward(delta, params.gamma[l], record)
    return dv, dgamma / n


def _plain_backward(spec: NetworkSpec, params: Params, fwd: Forward, y: Array) -> Gradients:
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


def running_after(spec: NetworkSpec, params: Params, fwd: Forward) -> tuple:
    """Batch norm's running averages moved toward the statistics of a training forward
    (unchanged after a batch of one sample, whose variance says nothing)."""
    if not any(m == "batch" for m in spec.norms) or fwd.zs[0].shape[0] < 2:
        return params.running
    return tuple(
        update_running(*params.running[l], fwd.norms[l], momentum=spec.bn_momentum)
        if method == "batch"
        else params.running[l]
        for l, method in enumerate(spec.norms)
    )


def cost(
    spec: NetworkSpec,
    params: Params,
    x: Array,
    y: Array,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> float:
    """The mean cost over (x, y), without any regularization term (``train`` as in
    ``forward``: batch statistics, and dropout masks from ``rng``)."""
    return spec.cost_fn(forward(spec, params, x, train=train, rng=rng).zs[-1], y)


def l2_penalty(params: Params, lmbda: float, n: int) -> float:
    """The L2 term (lmbda / 2n) sum ||W||^2 of Nielsen's regularized cost."""
    return 0.5 * lmbda / n * sum(float(np.sum(W * W)) for W in params.W)


def accuracy(spec: NetworkSpec, params: Params, x: Array, labels: Array) -> float:
    """Fraction of samples whose largest output is the true label."""
    out = forward(spec, params, x).output
    return float(np.mean(np.argmax(out, axis=1) == labels))
