"""Why zero-centred inputs help: a two-weight neuron learning from positive or centred data.

For one example, dC/dw_i = delta * x_i. When every input x_i is positive (raw pixels, or
sigmoid outputs feeding the next layer) all components share the sign of delta, so each
update points into the first or the third quadrant. To reach weights of mixed sign,
such as w* = (1, -1), the weights must zig-zag. The same non-zero mean makes the cost
surface a long narrow valley (one large eigenvalue of E[x x^T] along (1, 1)), which
caps the learning rate that does not diverge.

The neuron is linear, a = w . x, with the quadratic cost against y = w* . x, trained by
stochastic gradient descent one example at a time: the smallest setting that shows both.
The verdicts at the end (``compare_steps``, ``stability``, ``centring_effect``) decide which
sentence the activation page writes about these runs and about centring real digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

ETA_GRID = tuple(float(e) for e in np.geomspace(0.01, 10.0, 31))


@dataclass(frozen=True)
class TwoWeightSetup:
    """Inputs uniform in [mean - 0.5, mean + 0.5]^2, centred or not; start at w = 0."""

    mean: float = 1.0
    target: tuple[float, float] = (1.0, -1.0)
    eta: float = 0.1
    max_steps: int = 3000
    tol: float = 0.05
    n_examples: int = 200
    seed: int = 0


class WeightPath(NamedTuple):
    w: np.ndarray  # (steps + 1, 2) weights, up to arrival or max_steps
    grads: np.ndarray  # (steps, 2) the per-example gradients used
    steps: int | None  # steps until ||w - w*|| < tol, or None
    diverged: bool


def inputs(setup: TwoWeightSetup) -> tuple[np.ndarray, np.ndarray]:
    """(positive inputs, the same inputs with their mean subtracted), each (n_examples, 2)."""
    rng = np.random.default_rng(setup.seed)
    x = rng.uniform(setup.mean - 0.5, setup.mean + 0.5, (setup.n_examples, 2))
    return x, x - x.mean(axis=0)


def _order(n: int, setup: TwoWeightSetup) -> np.ndarray:
    """Which example each step uses: the same sequence for every run of a setup."""
    return np.random.default_rng(setup.seed + 1).integers(0, n, setup.max_steps)


def sgd_paths(x: np.ndarray, setup: TwoWeightSetup, etas: np.ndarray) -> np.ndarray:
    """Weights (max_steps + 1, len(etas), 2) of one SGD run per learning rate, same examples."""
    order = _order(len(x), setup)
    wstar = np.array(setup.target)
    w = np.zeros((len(etas), 2))
    out = np.empty((setup.max_steps + 1, len(etas), 2))
    out[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for t, i in enumerate(order):
            delta = w @ x[i] - x[i] @ wstar  # a - y
            w = w - etas[:, None] * delta[:, None] * x[i]
            out[t + 1] = w
    return out


def _arrival(ws: np.ndarray, setup: TwoWeightSetup) -> tuple[int | None, bool]:
    """(first step within tol of the target or None, whether the run blew up)."""
    with np.errstate(over="ignore", invalid="ignore"):
        dist = np.sqrt(np.sum((ws - np.array(setup.target)) ** 2, axis=-1))
    finite = np.isfinite(dist)
    hit = finite & (dist < setup.tol)
    if hit.any():
        return int(np.argmax(hit)), False
    return None, bool(~finite.all() or dist[-1] > 1e3)


def path(x: np.ndarray, setup: TwoWeightSetup) -> WeightPath:
    """One SGD run at ``setup.eta``, cut at arrival (or divergence)."""
    ws = sgd_paths(x, setup, np.array([setup.eta]))[:, 0]
    steps, diverged = _arrival(ws, setup)
    end = steps if steps is not None else len(ws) - 1
    if diverged:  # keep the path up to where it left the picture
        with np.errstate(invalid="ignore"):
            end = int(np.argmax(~np.isfinite(ws).all(axis=1) | (np.abs(ws) > 1e3).any(axis=1)))
    ws = ws[: end + 1]
    xs = x[_order(len(x), setup)[:end]]
    deltas = np.einsum("ij,ij->i", ws[:-1], xs) - xs @ np.array(setup.target)  # a - y
    return WeightPath(ws, deltas[:, None] * xs, steps, diverged)


class EtaScan(NamedTuple):
    etas: np.ndarray
    steps: np.ndarray  # steps to arrive per eta (nan where it never did)
    diverged: np.ndarray  # bool per eta


def eta_scan(x: np.ndarray, setup: TwoWeightSetup, etas=ETA_GRID) -> EtaScan:
    """Steps to arrival for every learning rate on a log grid (same examples for all)."""
    etas = np.array(etas)
    ws = sgd_paths(x, setup, etas)
    results = [_arrival(ws[:, j], setup) for j in range(len(etas))]
    steps = np.array([np.nan if s is None else s for s, _ in results])
    return EtaScan(etas, steps, np.array([d for _, d in results]))


def best(scan: EtaScan) -> tuple[float, int] | None:
    """The learning rate that arrives in the fewest steps, and those steps."""
    if np.all(np.isnan(scan.steps)):
        return None
    j = int(np.nanargmin(scan.steps))
    return float(scan.etas[j]), int(scan.steps[j])


def same_sign_fraction(grads: np.ndarray) -> float:
    """Fraction of updates whose two components have the same sign (quadrant I or III)."""
    if len(grads) == 0:
        return float("nan")
    return float(np.mean(np.sign(grads[:, 0]) == np.sign(grads[:, 1])))


# --- the verdicts the page states ------------------------------------------------------------

SAME_STEPS = 1.25  # step counts within 25% of each other count as "about the same"


def compare_steps(positive: WeightPath, centred: WeightPath) -> tuple[str, float]:
    """How the two runs of one setup compare: (code, positive steps / centred steps).

    Codes: "sooner" (positive inputs arrive in fewer steps), "later", "same" (within
    SAME_STEPS), "only_centred", "only_positive" (the other one never arrives), "neither".
    """
    p, c = positive.steps, centred.steps
    if p is None or c is None:
        code = {(True, True): "neither", (True, False): "only_centred"}
        return code.get((p is None, c is None), "only_positive"), math.nan
    ratio = p / c
    if ratio < 1 / SAME_STEPS:
        return "sooner", ratio
    if ratio > SAME_STEPS:
        return "later", ratio
    return "same", ratio


class Stability(NamedTuple):
    """What the learning-rate scans say about the two kinds of inputs."""

    largest_positive: float | None  # largest eta of the grid that arrives, None if none does
    largest_centred: float | None
    top: float  # the largest eta tried
    best_positive: tuple[float, int] | None  # (eta, steps) of the fewest steps
    best_centred: tuple[float, int] | None
    code: str  # "centred_stabler", "positive_stabler", "same", "no_arrival"


def _largest(scan: EtaScan) -> float | None:
    ok = scan.etas[~np.isnan(scan.steps)]
    return float(ok.max()) if len(ok) else None


def stability(positive: EtaScan, centred: EtaScan) -> Stability:
    """Compare the largest learning rate that still arrives, and the best step counts."""
    lp, lc = _largest(positive), _largest(centred)
    if lp is None or lc is None:
        code = "no_arrival"
    elif lc > lp:
        code = "centred_stabler"
    elif lp > lc:
        code = "positive_stabler"
    else:
        code = "same"
    top = float(max(positive.etas.max(), centred.etas.max()))
    return Stability(lp, lc, top, best(positive), best(centred), code)


class CentringEffect(NamedTuple):
    """Centred against raw digits at one epoch, over several seeds (accuracies in %)."""

    gain: float  # mean centred accuracy - mean raw accuracy, points
    code: str  # "better" (every centred seed above every raw one), "worse", "overlap"


def centring_effect(raw: np.ndarray, centred: np.ndarray) -> CentringEffect:
    """Whether centring helped at one epoch beyond the spread of the seeds.

    raw, centred: (seeds,) accuracies of each seed's run at that epoch.
    """
    gain = float(centred.mean() - raw.mean())
    if centred.min() > raw.max():
        return CentringEffect(gain, "better")
    if centred.max() < raw.min():
        return CentringEffect(gain, "worse")
    return CentringEffect(gain, "overlap")
