"""One sigmoid neuron, x -> a = sigma(w x + b), trained by gradient descent on one example.

This is the learning-slowdown lesson (Nielsen, chapter 3). With the quadratic cost

    dC/dw = (a - y) sigma'(z) x,     dC/db = (a - y) sigma'(z),

so a neuron that starts saturated and badly wrong (a near 1 when y = 0) has a tiny
sigma'(z) and barely moves. With cross-entropy, dC/dw = (a - y) x: the sigma' factor
has cancelled and the bigger the mistake, the faster it learns.

Many neurons (different starts, or one learning rate each) train side by side as one
array, so a whole figure costs one short loop over epochs.

What the pages say about a run is chosen by small verdicts (``course``, ``compare_halving``,
``race``, ``relation``, ``arrival``), so that every sentence also holds at the extremes:
nothing to learn, a neuron that never moves, a plateau the run never leaves, steps that
overshoot, and ties.
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
# ... and the rest of the book's setting for them (chapter 3).
PRESET_SETTING = {"x": 1.0, "y": 0.0, "eta": 0.15, "epochs": 300}
# The learning rates the book uses for its two plots of this neuron.
BOOK_ETA = {"quadratic": 0.15, "cross_entropy": 0.005}

# Thresholds the pages' verdicts are chosen by (see ``course``).
NOTHING_TO_LEARN = 0.01  # |a - y| below this at the start: the neuron is at its target
STILL = 0.01  # the output never moves by this fraction of its initial error: it never moved
PLATEAU = 2.0  # |dC/db| grows by at least this factor before its peak: a plateau
SMALL_SIGMA_PRIME = 0.025  # a tenth of sigma's maximum slope 1/4
AT_MAXIMUM = 1.005  # sigma' within half a percent of 1/4 is "at its maximum"
LEARNT = 0.1  # the cost is below this fraction of its start: most of it has been learnt


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

    @property
    def harmless(self) -> bool:
        """By the time the gradient has shrunk tenfold, most of the cost is gone (LEARNT)."""
        return self.cost_ratio is not None and self.cost_ratio <= LEARNT


def arrival(run: NeuronRun, k: int = 0) -> Arrival:
    """When neuron k's gradient has fallen to a tenth of its peak, how far has the cost fallen?"""
    g = np.abs(run.dC_db[:, k])
    peak = int(np.argmax(g))
    after = first_epoch_below(g[peak:], g[peak] / 10)
    if after is None or run.cost[0, k] == 0:
        return Arrival(peak, None, None)
    slow = peak + after
    return Arrival(peak, slow, float(run.cost[slow, k] / run.cost[0, k]))


class Course(NamedTuple):
    """How neuron k of a run fared: the facts that choose every sentence about it."""

    kind: str  # one of KINDS
    error0: float  # |a - y| at epoch 0
    error_end: float  # |a - y| at the last epoch
    halved_at: int | None  # first epoch with |a - y| below error0 / 2
    peak_epoch: int  # where |dC/db| is largest
    growth: float  # |dC/db| at its peak / at epoch 0 (inf if that was 0)
    sigma_prime0: float  # sigma'(z) at epoch 0
    overshoots: bool  # a - y keeps changing sign and the error never settles below error0 / 2


KINDS = (
    "nothing to learn",  # |a - y| < NOTHING_TO_LEARN from the start
    "never moved",  # the output moved less than STILL * error0 in the whole run
    "still on the plateau",  # |dC/db| still growing at the last epoch
    "plateau",  # |dC/db| grew by PLATEAU or more before its peak, then fell
    "overshoots",  # none of the above, and the steps overshoot (``Course.overshoots``)
    "at once",  # |dC/db| largest at epoch 0, or less than PLATEAU times larger later
)


def course(run: NeuronRun, y: float, k: int = 0) -> Course:
    """Classify neuron k of ``run`` (target y) into one of KINDS, with the numbers behind it.

    A start can both wait on a plateau and overshoot once it leaves it: its kind is then the
    plateau's, and ``overshoots`` says the rest.
    """
    a, g = run.a[:, k], np.abs(run.dC_db[:, k])
    error = np.abs(a - y)
    peak = int(np.argmax(g))
    growth = float(g[peak] / g[0]) if g[0] > 0 else float("inf")
    signs = np.sign(a - y)
    flips = int(np.count_nonzero(np.diff(signs[signs != 0])))
    overshoots = bool(flips >= 2 and error[-1] >= error[0] / 2 and error[0] >= NOTHING_TO_LEARN)
    if error[0] < NOTHING_TO_LEARN:
        kind = "nothing to learn"
    elif np.abs(a - a[0]).max() < STILL * error[0]:
        kind = "never moved"
    elif peak == len(g) - 1 and peak > 0:
        kind = "still on the plateau"
    elif growth >= PLATEAU:
        kind = "plateau"
    elif overshoots:
        kind = "overshoots"
    else:
        kind = "at once"
    halved = first_epoch_below(error, error[0] / 2) if error[0] > 0 else None
    sp0 = float(run.sigma_prime[0, k])
    return Course(kind, float(error[0]), float(error[-1]), halved, peak, growth, sp0, overshoots)


def race(n_a: int | None, n_b: int | None) -> str:
    """Who got there first, given the epochs each took (None: never): "a", "b", "tie" or
    "neither"."""
    if n_a is None and n_b is None:
        return "neither"
    if n_b is None or (n_a is not None and n_a < n_b):
        return "a"
    return "tie" if n_a == n_b else "b"


def relation(a: float, b: float, *, rtol: float = 1e-3, atol: float = 0.0) -> str:
    """How a compares with b: "larger", "smaller" or "tie" (within rtol of the larger
    size, or within atol)."""
    if abs(a - b) <= max(atol, rtol * max(abs(a), abs(b))):
        return "tie"
    return "larger" if a > b else "smaller"


class Halving(NamedTuple):
    """The start with the biggest error against the one with the smallest (of those with
    something to learn): which halves its error first."""

    kind: str  # "too few" | "same error" | "bigger first" | "smaller first" | "tie" | "neither"
    bigger: int | None  # index of the start with the biggest initial error
    smaller: int | None
    ratio: float | None  # epochs to halve, bigger / smaller (when both halved)


def compare_halving(courses: list[Course]) -> Halving:
    """Does the bigger mistake take longer to halve? Ties and missing halvings are said."""
    live = [i for i, c in enumerate(courses) if c.kind != "nothing to learn"]
    if len(live) < 2:
        return Halving("too few", None, None, None)
    bigger = max(live, key=lambda i: courses[i].error0)
    smaller = min(live, key=lambda i: courses[i].error0)
    if relation(courses[bigger].error0, courses[smaller].error0, atol=1e-4) == "tie":
        return Halving("same error", bigger, smaller, None)
    n_big, n_small = courses[bigger].halved_at, courses[smaller].halved_at
    kind = {"a": "bigger first", "b": "smaller first"}.get(race(n_big, n_small))
    kind = kind or race(n_big, n_small)
    ratio = n_big / n_small if n_big is not None and n_small is not None else None
    return Halving(kind, bigger, smaller, ratio)


def error_size(error: float) -> str:
    """A word for |a - y|: "almost zero", "small", "moderate" or "large"."""
    if error < NOTHING_TO_LEARN:
        return "almost zero"
    return "small" if error < 0.1 else "moderate" if error <= 0.5 else "large"


def below_max(sigma_prime: float) -> float:
    """How many times sigma'(z) is below its maximum 1/4 (inf once it underflows to 0)."""
    return 0.25 / sigma_prime if sigma_prime > 0 else float("inf")


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
