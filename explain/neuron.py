"""One sigmoid neuron, x -> a = sigma(w x + b), trained by gradient descent on one example.

This is the learning-slowdown lesson (Nielsen, chapter 3). With the quadratic cost

    dC/dw = (a - y) sigma'(z) x,     dC/db = (a - y) sigma'(z),

so a neuron that starts saturated and badly wrong (a near 1 when y = 0) has a tiny
sigma'(z) and barely moves. With cross-entropy, dC/dw = (a - y) x: the sigma' factor
has cancelled and the bigger the mistake, the faster it learns.

Many neurons (different starts, or one learning rate each) train side by side as one
array, so a whole figure costs one short loop over epochs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explain.nn.activations import sigmoid, sigmoid_prime
from explain.nn.costs import get_cost

# Nielsen's two starts for x = 1, y = 0: output 0.82 (close) and 0.98 (badly wrong).
PRESETS: dict[str, tuple[float, float]] = {"close": (0.6, 0.9), "wrong": (2.0, 2.0)}
PRESET_LABELS = {"close": "starts close", "wrong": "starts badly wrong"}
# The learning rates the book uses for its two plots of this neuron.
BOOK_ETA = {"quadratic": 0.15, "cross_entropy": 0.005}


@dataclass(frozen=True)
class NeuronSetup:
    """Starts (w0, b0) of K neurons, their input x and target y, and how to train them."""

    w0: tuple[float, ...] = (0.6,)
    b0: tuple[float, ...] = (0.9,)
    x: float = 1.0
    y: float = 0.0
    eta: float = 0.15
    epochs: int = 300
    cost: str = "quadratic"


class NeuronRun(NamedTuple):
    """Each array is (epochs + 1, K): row e is the neuron before its (e+1)-th update."""

    epoch: np.ndarray  # (epochs + 1,)
    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    cost: np.ndarray
    sigma_prime: np.ndarray
    dC_dw: np.ndarray
    dC_db: np.ndarray
    diverged_at: int | None  # first epoch whose state is not finite


def train_neuron(setup: NeuronSetup) -> NeuronRun:
    """Gradient descent on C(a, y) for every start in ``setup``, all at once."""
    cost = get_cost(setup.cost)
    w = np.array(setup.w0, dtype=float)
    b = np.array(setup.b0, dtype=float)
    ws, bs = np.empty((setup.epochs + 1, w.size)), np.empty((setup.epochs + 1, w.size))
    y = np.full((w.size, 1), setup.y)
    with np.errstate(over="ignore", invalid="ignore"):
        for e in range(setup.epochs + 1):
            ws[e], bs[e] = w, b
            if e == setup.epochs:
                break
            delta = cost.delta((w * setup.x + b)[:, None], y)[:, 0]  # dC/dz
            w = w - setup.eta * delta * setup.x
            b = b - setup.eta * delta
    return describe(ws, bs, setup)


def describe(ws: np.ndarray, bs: np.ndarray, setup: NeuronSetup) -> NeuronRun:
    """Everything a page shows about the states (w, b) of a run, computed at once."""
    cost = get_cost(setup.cost)
    bad = ~(np.isfinite(ws) & np.isfinite(bs)).all(axis=1)
    diverged = int(np.argmax(bad)) if bad.any() else None
    if diverged is not None:
        ws, bs = ws[:diverged], bs[:diverged]
    z = ws * setup.x + bs
    zk, yk = z[..., None], np.full(z.shape + (1,), setup.y)
    delta = cost.delta(zk, yk)[..., 0]
    return NeuronRun(
        epoch=np.arange(len(ws)),
        w=ws,
        b=bs,
        z=z,
        a=sigmoid(z),
        cost=cost.per_sample(zk, yk),
        sigma_prime=sigmoid_prime(z),
        dC_dw=delta * setup.x,
        dC_db=delta,
        diverged_at=diverged,
    )


def first_epoch_below(values: np.ndarray, threshold: float) -> int | None:
    """The first epoch at which ``values`` (epochs,) is below ``threshold``, or None."""
    hit = np.asarray(values) < threshold
    return int(np.argmax(hit)) if hit.any() else None


def first_epoch_within(a: np.ndarray, y: float, threshold: float) -> int | None:
    """The first epoch at which the output is within ``threshold`` of the target y."""
    return first_epoch_below(np.abs(np.asarray(a) - y), threshold)


class Surface(NamedTuple):
    """C(w, b) on a grid: w (n,), b (n,), cost (n_b, n_w)."""

    w: np.ndarray
    b: np.ndarray
    cost: np.ndarray


def cost_surface(
    cost_name: str,
    x: float,
    y: float,
    w_range: tuple[float, float],
    b_range: tuple[float, float],
    n: int = 41,
) -> Surface:
    """The cost of one neuron over a grid of (w, b): the landscape gradient descent rolls on."""
    w = np.linspace(*w_range, n)
    b = np.linspace(*b_range, n)
    z = w[None, :] * x + b[:, None]
    c = get_cost(cost_name).per_sample(z[..., None], np.full(z.shape + (1,), y))
    return Surface(w, b, c)


class GradientProfile(NamedTuple):
    """Over a range of z: the error |a - y| and |dC/dz| for each cost, all (n,)."""

    z: np.ndarray
    error: np.ndarray  # |a - y|
    signed_error: np.ndarray  # a - y
    quadratic: np.ndarray
    cross_entropy: np.ndarray


def gradient_profile(y: float, z: np.ndarray) -> GradientProfile:
    """How hard each cost pushes (|dC/db| = |dC/dz|) at every z, against the size of the error."""
    zk, yk = z[:, None], np.full((z.size, 1), y)
    return GradientProfile(
        z=z,
        error=np.abs(sigmoid(z) - y),
        signed_error=sigmoid(z) - y,
        quadratic=np.abs(get_cost("quadratic").delta(zk, yk)[:, 0]),
        cross_entropy=np.abs(get_cost("cross_entropy").delta(zk, yk)[:, 0]),
    )


ETA_CHOICES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)


class Arrival(NamedTuple):
    """The second, harmless slowdown: the gradient also shrinks as a approaches y."""

    peak_epoch: int  # where |dC/db| is largest
    slow_epoch: int | None  # first epoch after the peak with |dC/db| below a tenth of the peak
    cost_ratio: float | None  # cost at slow_epoch / cost at epoch 0


def arrival(run: NeuronRun, k: int = 0) -> Arrival:
    """When neuron k's gradient has fallen to a tenth of its peak, how far has the cost fallen?"""
    g = np.abs(run.dC_db[:, k])
    peak = int(np.argmax(g))
    after = first_epoch_below(g[peak:], g[peak] / 10)
    if after is None or run.cost[0, k] == 0:
        return Arrival(peak, None, None)
    slow = peak + after
    return Arrival(peak, slow, float(run.cost[slow, k] / run.cost[0, k]))


class Starts(NamedTuple):
    """The book's two starts plus the reader's own (if different); ``current`` indexes it."""

    labels: tuple[str, ...]
    w0: tuple[float, ...]
    b0: tuple[float, ...]
    current: int


def starts_with_presets(w0: float, b0: float) -> Starts:
    """Both presets, and (w0, b0) as 'your start' unless it is one of them."""
    labels = [PRESET_LABELS[n] for n in PRESETS]
    ws = [w for w, _ in PRESETS.values()]
    bs = [b for _, b in PRESETS.values()]
    for k, (w, b) in enumerate(PRESETS.values()):
        if np.isclose(w, w0) and np.isclose(b, b0):
            return Starts(tuple(labels), tuple(ws), tuple(bs), k)
    return Starts((*labels, "your start"), (*ws, w0), (*bs, b0), len(labels))


def window(run: NeuronRun, margin: float = 1.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square-ish (w, b) window that holds every path of ``run`` with a margin."""
    w_lo, w_hi = float(run.w.min()) - margin, float(run.w.max()) + margin
    b_lo, b_hi = float(run.b.min()) - margin, float(run.b.max()) + margin
    return (w_lo, w_hi), (b_lo, b_hi)


def cost_derivation(z: float, y: float, x: float) -> dict[str, float]:
    """The chain-rule pieces of dC/dw at weighted input z, for both costs.

    sigma'(z) is computed from z (not as a(1 - a) from a rounded a), so a saturated
    neuron gets its true tiny value; dC/da of cross-entropy is (a - y) / sigma'(z).
    """
    a = float(sigmoid(np.array(z)))
    sp = float(sigmoid_prime(np.array(z)))
    return {
        "a": a,
        "dC_da": (a - y) / sp if sp > 0 else float("inf"),
        "sigma_prime": sp,
        "cross_entropy": (a - y) * x,  # dC/da * sigma' * x: sigma' cancels
        "quadratic": (a - y) * sp * x,
    }


def by_error(run: NeuronRun, y: float) -> np.ndarray:
    """Indices of the neurons of ``run``, from the largest initial error |a - y| down."""
    return np.argsort(-np.abs(run.a[0] - y), kind="stable")
