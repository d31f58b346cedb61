"""What the activation-functions page concludes from its measurements, one verdict a sentence.

Each function takes numbers a section of the page measured and returns a small NamedTuple:
a ``code`` naming the case (which sentence the page writes) and the facts that sentence
quotes. The page maps codes to words; it never decides a case itself. Also here: the one
measurement the depth section adds to the chart's, the size of delta per digit, which is
the quantity the variance argument (Var(delta^l) = n Var(w) E[f'(z)^2] Var(delta^{l+1}))
is about.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, backward, forward, init_params
from explain.nn.training import History
from explain.propagation import predicted_weight_std

FLAT = 2.0  # a gradient that changes less than 2x from the last hidden layer to the first
VANISH = 100.0  # more than 100x: it vanishes (or explodes)
STUCK_BELOW = 20.0  # % validation accuracy: barely above guessing (10% for ten digits)


# --- section 2: the gradient through depth ---------------------------------------------------


class DepthTrend(NamedTuple):
    """How the gradient changes from the last hidden layer back to the first."""

    ratio: float  # ||dC/db^L|| / ||dC/db^1|| (inf when the first layer gets nothing)
    per_layer: float  # (||dC/db^1|| / ||dC/db^L||)^(1/(L-1)): factor per layer going back
    code: str  # "vanishes", "shrinks", "flat", "grows", "explodes", "cut" or "none"


def depth_trend(norms: np.ndarray) -> DepthTrend:
    """Classify one line of the depth chart.

    norms: (L,) ||dC/db^l|| of hidden layers 1..L (L >= 2), layer 1 nearest the input.
    "cut": nothing reaches layer 1 while layer L gets a gradient; "none": not even layer L.
    """
    first, last, gaps = float(norms[0]), float(norms[-1]), len(norms) - 1
    if last == 0:
        return DepthTrend(math.nan, math.nan, "none")
    if first == 0:
        return DepthTrend(math.inf, 0.0, "cut")
    ratio = last / first
    per_layer = (first / last) ** (1 / gaps)
    if ratio >= VANISH:
        code = "vanishes"
    elif ratio > FLAT:
        code = "shrinks"
    elif ratio >= 1 / FLAT:  # within FLAT either way, the edges included
        code = "flat"
    elif ratio > 1 / VANISH:
        code = "grows"
    else:
        code = "explodes"
    return DepthTrend(ratio, per_layer, code)


class BackwardSizes(NamedTuple):
    """Per hidden layer l = 1..L of a fresh network, over the probe digits."""

    averaged: np.ndarray  # (L,) ||dC/db^l|| = ||mean_i delta_i^l||, what the chart shows
    per_digit: np.ndarray  # (L,) sqrt(mean_i ||delta_i^l||^2), the size of delta per digit


def backward_sizes(spec: NetworkSpec, seed: int, n_images: int = 500) -> BackwardSizes:
    """Sizes of delta in every hidden layer at initialization (the chart's network: same
    spec, same seed, the same first ``n_images`` training digits)."""
    probe = load_mnist().train.take(n_images)
    params = init_params(spec, rng=np.random.default_rng(seed))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        grads = backward(spec, params, forward(spec, params, probe.x), probe.y)
        deltas = grads.deltas[:-1]  # (N, n_l) for each hidden layer
        averaged = np.array([np.linalg.norm(d.mean(axis=0)) for d in deltas])
        per_digit = np.array([np.sqrt(np.mean(np.sum(d**2, axis=1))) for d in deltas])
    return BackwardSizes(averaged, per_digit)


def per_layer_factor(sizes: np.ndarray) -> float:
    """Geometric-mean factor by which one layer going back (towards the input) multiplies
    a size: (sizes[0] / sizes[-1])^(1/(L-1)); 0 if nothing reaches layer 1.

    sizes: (L,) one size per hidden layer, layer 1 first.
    """
    first, last = float(sizes[0]), float(sizes[-1])
    if last == 0 or not np.isfinite(first) or not np.isfinite(last):
        return math.nan
    return (first / last) ** (1 / (len(sizes) - 1))


class ReluVariance(NamedTuple):
    """The variance rule for ReLU layers, predicted and measured, per layer going back."""

    n_var_w: float  # n Var(w) of a square hidden layer: 1 for N(0, 1/n) and Xavier, 2 for He
    predicted: float  # n Var(w) E[f'(z)^2] = n Var(w) / 2: the variance factor per layer
    per_digit: float  # measured variance factor of delta per digit, per layer
    averaged: float  # measured size factor of the chart's ||dC/db||, per layer
    code: str  # what the measured per-digit variance does: "halves", "kept", "shrinks", "grows"
    agreement: tuple[float, float]  # ||dC/db^l|| / size of delta per digit, layers 1 and L


def relu_variance(sizes: BackwardSizes, weight_init: str, width: int) -> ReluVariance:
    """Compare the ReLU network's measured backward factors with the variance rule.

    sizes: of a ReLU network of square hidden layers ``width`` wide, from ``backward_sizes``.
    """
    n_var_w = width * predicted_weight_std(weight_init, width, width) ** 2
    per_digit = per_layer_factor(sizes.per_digit) ** 2
    if 0.35 <= per_digit <= 0.65:
        code = "halves"
    elif 0.8 <= per_digit <= 1.25:
        code = "kept"
    else:
        code = "grows" if per_digit > 1 else "shrinks"
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = sizes.averaged / sizes.per_digit  # 1 when every digit's delta points one way
    averaged = per_layer_factor(sizes.averaged)
    return ReluVariance(
        n_var_w, n_var_w / 2, per_digit, averaged, code, (float(agree[0]), float(agree[-1]))
    )


def lines_coincide(a: np.ndarray, b: np.ndarray, tol: float = 0.1) -> bool:
    """Whether two positive lines of a log chart lie within ``tol`` in natural log at every
    point (within about 10%: one hides the other). Points where either is 0 are not drawn.

    a, b: (L,) the two lines' values.
    """
    drawn = (a > 0) & (b > 0)
    if not drawn.any() or not np.array_equal(a > 0, b > 0):
        return False
    return bool(np.max(np.abs(np.log(a[drawn] / b[drawn]))) < tol)


# --- section 4: dead ReLUs ---------------------------------------------------------------------


class UnitsRun(NamedTuple):
    """One network's training run as the dead-ReLU section reads it."""

    accuracy: float  # final validation accuracy, %
    start: float  # validation accuracy at initialization, %
    stuck: bool  # ended below STUCK_BELOW
    layer: int  # 1-based hidden layer with the largest share of units without gradient at the end
    no_gradient: float  # that share, %
    all_get_gradient: bool  # no unit of any layer is without gradient at the end


def units_run(history: History) -> UnitsRun:
    """Read a History (needs at least the initial row)."""
    acc = 100 * history.eval_accuracy
    end = 100 * history.no_gradient[-1]
    layer = int(np.argmax(end))
    return UnitsRun(
        float(acc[-1]),
        float(acc[0]),
        bool(acc[-1] < STUCK_BELOW),
        layer + 1,
        float(end[layer]),
        bool(np.all(end == 0)),
    )


def accuracy_noise(a: float, b: float, n_eval: int = 1000) -> float:
    """Two standard errors, in points, of the difference of two accuracies a, b (in %) each
    measured on ``n_eval`` digits: smaller differences are noise."""
    p, q = a / 100, b / 100
    return 200 * math.sqrt((p * (1 - p) + q * (1 - q)) / n_eval)


class DeadVerdict(NamedTuple):
    """ReLU against leaky ReLU after training from the same start."""

    code: str  # see ``dead_verdict``
    relu: UnitsRun | None  # None when that run diverged before its first epoch ended
    leaky: UnitsRun | None
    gap: float  # leaky accuracy - ReLU accuracy, points (nan unless both ran)
    noise: float  # accuracy_noise of the two (nan unless both ran)


def dead_verdict(relu: History | None, leaky: History | None, n_eval: int = 1000) -> DeadVerdict:
    """Which sentence the two runs earn.

    relu, leaky: the runs' histories, or None if a run diverged in its first epoch.
    Codes: "both_diverged", "relu_diverged", "leaky_diverged" (the other one ran),
    "both_stuck", "relu_stuck" (leaky learned), "leaky_stuck" (ReLU learned),
    "tie" (both learned, within noise), "leaky_ahead", "relu_ahead".
    """
    r = units_run(relu) if relu is not None else None
    k = units_run(leaky) if leaky is not None else None
    if r is None or k is None:
        code = {(True, True): "both_diverged", (True, False): "relu_diverged"}
        return DeadVerdict(
            code.get((r is None, k is None), "leaky_diverged"), r, k, math.nan, math.nan
        )
    gap, noise = k.accuracy - r.accuracy, accuracy_noise(r.accuracy, k.accuracy, n_eval)
    if r.stuck or k.stuck:
        code = "both_stuck" if r.stuck and k.stuck else ("relu_stuck" if r.stuck else "leaky_stuck")
    elif abs(gap) <= noise:
        code = "tie"
    else:
        code = "leaky_ahead" if gap > 0 else "relu_ahead"
    return DeadVerdict(code, r, k, gap, noise)
