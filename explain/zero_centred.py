"""Why zero-centred inputs help: a two-weight neuron learning from positive or centred data.

For one example, dC/dw_i = delta * x_i. When every input x_i is positive (raw pixels, or
sigmoid outputs feeding the next layer) all components share the sign of delta, so each
update points into the first or the third quadrant. To reach weights of mixed sign,
such as w* = (1, -1), the weights must zig-zag. The same non-zero mean makes the cost
surface a long narrow valley (one large eigenvalue of E[x x^T] along (1, 1)), which
caps the learning rate that does not diverge.

The neuron is linear, a = w . x, with the quadratic cost against y = w* . x, trained by
stochastic gradient descent one example at a time: the smallest setting that shows both.
"""

from __future__ import annotations

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
