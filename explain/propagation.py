"""How signals and gradients travel through a deep, freshly initialized network.

The weight-initialization lesson: with Var(z) = n_in Var(w) Var(a), each layer multiplies
the variance of its input by n_in Var(w) (times what the activation keeps), so across ten
layers a slightly wrong scale either collapses the signal to zero or saturates it.
Xavier (Var(w) = 2 / (n_in + n_out)) keeps tanh layers near unit scale, He
(Var(w) = 2 / n_in) makes up for ReLU zeroing half of its inputs.

The verdicts at the end decide what the page says about one setting (the signal collapses,
saturates, explodes ...; the gradient vanishes, stays steady, explodes ...; which start
leads on MNIST), each from the measured numbers it interprets.
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
    act_beyond: np.ndarray  # per layer, the share of activations outside the histogram range
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
    grad_blocked: np.ndarray  # share of each layer's dC/dz^l cut to (almost) 0 by f'(z) ~ 0
    grad_beyond: np.ndarray  # share of each layer's dC/dz^l beyond the histograms' axis


def propagation_stats(setup: DeepSetup, bins: int = 40) -> PropagationStats:
    """Run ``propagate`` and reduce it to histograms and per-layer statistics."""
    prop = propagate(setup)
    lo, hi = histogram_limits(setup.activation, prop.activations)
    edges = np.linspace(lo, hi, bins + 1)
    hist = np.array([_counts(a, lo, hi, bins) for a in prop.activations])
    beyond = np.array([np.mean((a < lo) | (a > hi)) for a in prop.activations])
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
        float(beyond.mean()),
        beyond,
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
        blocked_share(prop.grads),
        np.array([np.mean(np.abs(g) > g_lim) for g in prop.grads]),
    )


def blocked_share(grads: tuple[np.ndarray, ...], below: float = 1e-3) -> np.ndarray:
    """Per layer, the share of dC/dz^l smaller than ``below`` times the layer's own RMS.

    A Gaussian puts about 0.08% of its values there; anything more is gradient cut off
    by a flat activation (f'(z) ~ 0: a saturated tanh or sigmoid, a switched-off ReLU),
    whatever the scale of the rest.
    """
    out = []
    for g in grads:
        top = float(np.max(np.abs(g)))
        rms = top * float(np.sqrt(np.mean((g / top) ** 2))) if top > 0 else 0.0  # no overflow
        out.append(float(np.mean(np.abs(g) < below * rms)) if rms > 0 else 1.0)
    return np.array(out)


def _counts(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Histogram counts on ``bins`` equal bins of [lo, hi]; values outside (however large,
    even infinite) fall into the edge bins, NaN is left out."""
    v = values.ravel()
    v = v[~np.isnan(v)]
    pos = np.clip((np.clip(v, lo, hi) - lo) * (bins / (hi - lo)), 0, bins - 1)
    return np.bincount(pos.astype(np.int64), minlength=bins)


# --- verdicts: what the weight-initialization page says, chosen by the measurement ---------

HEALTHY_PER_LAYER = (0.8, 1.25)  # spread kept within this factor per layer ...
HEALTHY_TOTAL = (0.1, 10.0)  # ... and within this factor over the whole stack
COLLAPSE, EXPLODE = 1e-3, 1e3  # total change of the spread that counts as collapse/explosion
SATURATED = 0.5  # share of the last layer's values in the flat tails that counts as saturated


class SignalVerdict(NamedTuple):
    """What the forward pass does to the spread across inputs, s^l (signal_spread).

    kind: "dead" (no spread even in layer 1), "collapses" (s^L < 1e-3 s^1), "saturates"
    (tanh/sigmoid with over half of layer L in the flat tails), "explodes" (s^L > 1e3 s^1),
    "healthy" (per layer within 0.8 to 1.25 and overall within 0.1 to 10), "shrinks", "grows".
    """

    kind: str
    first: float  # s^1
    last: float  # s^L
    total: float  # s^L / s^1
    per_layer: float  # (s^L / s^1)^(1 / (L - 1))
    saturated: float  # share of layer L's values in the flat region
    peak: float  # share of layer L's values in its histogram's tallest pair of bins ...
    peak_lo: float  # ... which run from peak_lo to peak_hi (one bar to the eye)
    peak_hi: float
    beyond: float  # share of layer L's values beyond the histograms' axis
    std_last: float  # pooled standard deviation of layer L (between units too)


def signal_verdict(stats: PropagationStats, activation: str) -> SignalVerdict:
    """Classify the forward pass of one setting from its measured spreads."""
    s0, s1 = float(stats.spread[0]), float(stats.spread[-1])
    sat = float(stats.saturated[-1])
    pairs = stats.act_hist[-1, :-1] + stats.act_hist[-1, 1:]
    top = int(np.argmax(pairs))
    shape = (
        float(pairs[top]),
        float(stats.act_edges[top]),
        float(stats.act_edges[top + 2]),
        float(stats.act_beyond[-1]),
        float(stats.act_std[-1]),
    )
    if not s0 > 0:
        return SignalVerdict("dead", s0, s1, 0.0, 0.0, sat, *shape)
    total = s1 / s0
    per_layer = total ** (1 / max(len(stats.spread) - 1, 1))
    kind = _signal_kind(total, per_layer, sat if activation in ("tanh", "sigmoid") else 0.0)
    return SignalVerdict(kind, s0, s1, total, per_layer, sat, *shape)


def _signal_kind(total: float, per_layer: float, saturated: float) -> str:
    if total < COLLAPSE:
        return "collapses"
    if saturated > SATURATED:
        return "saturates"
    if not total <= EXPLODE:  # also catches an overflow to inf
        return "explodes"
    lo, hi = HEALTHY_PER_LAYER
    if lo <= per_layer <= hi and HEALTHY_TOTAL[0] <= total <= HEALTHY_TOTAL[1]:
        return "healthy"
    return "shrinks" if total < 1 else "grows"


# std(dC/dz^1) / std(dC/dz^L) below VANISH vanishes, below SHRINK shrinks, up to STEADY
# is steady, up to GROW grows, beyond it explodes
VANISH, SHRINK, STEADY, GROW = 0.1, 0.5, 2.0, 10.0
BLOCKED = 0.1  # share of layer 1's gradients cut to ~0 worth pointing out


class GradientVerdict(NamedTuple):
    """What the backward pass does to std(dC/dz^l), from layer L back to layer 1.

    kind: by ratio = std^1 / std^L, "vanishes" (< 0.1), "shrinks" (< 0.5), "steady" (up to
    2), "grows" (up to 10), "explodes" (above 10), or "none" (no gradient even at layer L).
    """

    kind: str
    ratio: float  # std(dC/dz^1) / std(dC/dz^L)
    blocked: float  # share of layer 1's gradients cut to (almost) 0 by f' ~ 0
    beyond: float  # share of layer 1's gradients beyond the histograms' axis
    centre: float  # share of layer 1's gradients in the two bins around 0
    factor_lo: float  # smallest and largest per-layer variance factor n Var(w) E[f'(z)^2]
    factor_hi: float
    saturated: float  # mean share of values in the flat region, over the layers


def gradient_verdict(stats: PropagationStats) -> GradientVerdict:
    """Classify the backward pass of one setting from its measured gradient spreads."""
    first, last = float(stats.grad_std[0]), float(stats.grad_std[-1])
    ratio = first / last if last > 0 else 0.0
    kind = "none" if not last > 0 else _gradient_kind(ratio)
    mid = stats.grad_hist.shape[1] // 2
    return GradientVerdict(
        kind,
        ratio,
        float(stats.grad_blocked[0]),
        float(stats.grad_beyond[0]),
        float(stats.grad_hist[0, mid - 1 : mid + 1].sum()),
        float(stats.grad_factor_rule.min()),
        float(stats.grad_factor_rule.max()),
        float(stats.saturated.mean()),
    )


def _gradient_kind(ratio: float) -> str:
    if ratio < VANISH:
        return "vanishes"
    if ratio < SHRINK:
        return "shrinks"
    if ratio <= STEADY:
        return "steady"
    return "grows" if ratio <= GROW else "explodes"


def accuracy_noise(accuracy: float, n: int) -> float:
    """The binomial standard error, in points, of an accuracy (%) measured on n samples."""
    p = min(max(accuracy / 100, 0.0), 1.0)
    return 100 * float(np.sqrt(p * (1 - p) / n))


def rule_deviation(stats: PropagationStats) -> float:
    """Largest relative gap |Var(z) / rule - 1| over the layers where both are positive."""
    ok = (stats.var_z > 0) & (stats.var_z_rule > 0)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(stats.var_z[ok] / stats.var_z_rule[ok] - 1)))


class StartRace(NamedTuple):
    """N(0, 1) against N(0, 1/n_in) on MNIST: who leads after one epoch and at the end.

    early and late: "scaled" (N(0, 1/n_in) ahead by more than ``tol`` points), "normal"
    (N(0, 1) ahead) or "tie".
    """

    early: str
    late: str
    early_gap: float  # scaled minus normal, accuracy points after epoch 1
    late_gap: float  # the same after the last epoch
    tol: float  # the largest gap still called a tie


def start_race(acc_normal: np.ndarray, acc_scaled: np.ndarray, tol: float = 1.5) -> StartRace:
    """Compare two accuracy histories (%, epoch 0 first, at least two entries each)."""
    early = float(acc_scaled[1] - acc_normal[1])
    late = float(acc_scaled[-1] - acc_normal[-1])

    def leader(gap: float) -> str:
        return "tie" if abs(gap) <= tol else ("scaled" if gap > 0 else "normal")

    return StartRace(leader(early), leader(late), early, late, tol)
