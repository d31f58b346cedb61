"""The optimizer lesson on surfaces the reader can see: SGD's three problems and their fixes.

The lecture notes give plain (stochastic) gradient descent three problems: a valley steep one
way and shallow the other, where it zig-zags; saddle points, where the gradient vanishes; and
noisy mini-batch gradients. This module races several optimizers from one start on a 2-D
surface (``race``), measures what each path did (``summarize``: steps to the minimum,
reversals, divergence, escape from the saddle, the level it settles at under noise), states
it in words (``race_findings``), and sets the paths against theory on the quadratic
(``optimal_run``, ``rate_scan``: Goh 2017's rates and stability limits). The adaptive
methods get their own measurements: each coordinate's effective rate along a path
(``rate_trace``), Adam's first steps with and without bias correction (``adam_first_steps``)
and Adam's indifference to the scale of the cost (``scale_check``). ``step_numbers`` gives
the quantities of one step, for the formulas shown with live numbers.

Non-goals: surfaces in more than two dimensions, line searches, second-order methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from explain.nn.network import Params
from explain.nn.optimizers import (
    OPTIMIZER_LABELS,
    AdagradState,
    AdamState,
    MomentumState,
    Optimizer,
    RMSPropState,
    effective_rate,
    make_optimizer,
)
from explain.nn.surfaces import Path, Surface, contraction, get_surface, run_path, steps_to_reach
from explain.words import amount, names

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
ADAPTIVE = ("adagrad", "rmsprop", "adam")
SURFACE_NAMES = ("quadratic", "scaled_rosenbrock", "beale", "himmelblau", "saddle")
SURFACE_LABELS = {
    "quadratic": "narrow valley: quadratic ½pᵀAp",
    "scaled_rosenbrock": "curved valley: scaled Rosenbrock",
    "beale": "Beale: flat plateaus, sharp ridges",
    "himmelblau": "Himmelblau: four minima",
    "saddle": "saddle: x² − y²",
}
# learning rates the page offers: 1-2-5 steps, and 1.5 to 2.5 around GD's limit 2 / lambda_max (= 2
# on the quadratic)
ETA_OPTIONS = (
    1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 1.9, 2.0, 2.1,
    2.5, 5.0
)  # fmt: skip
# a rate per optimizer per surface at which each makes visible progress in ~150 steps without
# diverging (picked by scanning ETA_OPTIONS; the page says they are starting points)
SUGGESTED_ETAS: dict[str, dict[str, float]] = {
    "quadratic": dict(sgd=1.0, momentum=0.2, nesterov=0.2, adagrad=1.0, rmsprop=0.1, adam=0.2),
    "scaled_rosenbrock": dict(
        sgd=0.002, momentum=0.002, nesterov=0.002, adagrad=0.5, rmsprop=0.02, adam=0.1
    ),
    "beale": dict(sgd=0.02, momentum=0.002, nesterov=0.002, adagrad=0.5, rmsprop=0.02, adam=0.1),
    "himmelblau": dict(
        sgd=0.01, momentum=0.002, nesterov=0.002, adagrad=0.5, rmsprop=0.1, adam=0.2
    ),
    "saddle": dict(sgd=0.05, momentum=0.01, nesterov=0.01, adagrad=0.1, rmsprop=0.02, adam=0.05),
}
ESCAPE_LEVEL = -1.0  # on the saddle f = x^2 - y^2, a path has escaped once f < -1 (|y| > 1)
REACH_TOL = 1e-3
# a path zig-zags if a fifth of its steps turn back (a straight or curving descent turns back
# on almost none; an overshoot that swings round once turns back on a few)
ZIGZAG_TURNS = 0.2  # a path has "reached" a minimum within this distance of it


@dataclass(frozen=True)
class Setting:
    """One optimizer with its hyperparameters (each optimizer uses the ones it takes)."""

    name: str
    eta: float
    beta: float = 0.9  # momentum, Nesterov
    rho: float = 0.9  # RMSProp
    beta1: float = 0.9  # Adam
    beta2: float = 0.999
    bias_correction: bool = True
    eps: float = 1e-8

    def build(self) -> Optimizer:
        hyper = dict(beta=self.beta, rho=self.rho, beta1=self.beta1, beta2=self.beta2)
        return make_optimizer(
            self.name, self.eta, eps=self.eps, bias_correction=self.bias_correction, **hyper
        )

    @property
    def label(self) -> str:
        return OPTIMIZER_LABELS[self.name]


@dataclass(frozen=True)
class Terrain:
    """A surface by name, with the quadratic's condition number and rotation, and a factor
    ``scale`` that multiplies the whole function (for Adam's scale invariance)."""

    surface: str = "quadratic"
    kappa: float = 20.0
    angle: float = 30.0
    scale: float = 1.0

    def build(self) -> Surface:
        params = dict(kappa=self.kappa, angle_deg=self.angle) if self.surface == "quadratic" else {}
        s = get_surface(self.surface, **params)
        return s if self.scale == 1.0 else scaled(s, self.scale)


def scaled(surface: Surface, c: float) -> Surface:
    """c * f: the same minima and picture, every gradient c times larger."""
    return surface._replace(
        name=f"{c:g} × {surface.name}",
        f=lambda xy: c * surface.f(xy),
        grad=lambda xy: c * surface.grad(xy),
        min_value=None if surface.min_value is None else c * surface.min_value,
        curvatures=None if surface.curvatures is None else tuple(c * k for k in surface.curvatures),
    )


@dataclass(frozen=True)
class Race:
    """Several optimizers from one start on one terrain, with the same gradient noise each.

    start None is the surface's default; noise the std of the Gaussian added to each gradient
    component (mini-batch noise), drawn from ``seed`` so every optimizer sees the same draws.
    """

    terrain: Terrain = Terrain()
    settings: tuple[Setting, ...] = field(default_factory=tuple)
    start: tuple[float, float] | None = None
    steps: int = 150
    noise: float = 0.0
    seed: int = 0


def race(r: Race) -> dict[str, Path]:
    """Each setting's path, keyed by optimizer label, in the order of ``r.settings``."""
    surface = r.terrain.build()
    return {
        s.label: run_path(
            surface, s.build(), r.start, r.steps, noise=r.noise, rng=np.random.default_rng(r.seed)
        )
        for s in r.settings
    }


# --- what a path did --------------------------------------------------------------------------


class PathSummary(NamedTuple):
    """What one path did, in numbers.

    final_gap f(p_end) - f_min (None where f has no minimum, the saddle); reached_at the first
    step within REACH_TOL of a minimum (None: never); minimum the index of the nearest minimum
    at the end; reversals the share of steps whose update points back against the one before
    (negative dot product), the zig-zag; detour the path's length over the straight distance
    from its start to its end (1 for a straight path, inf for a path back to its start);
    escaped_at (saddle only) the first step with f < ESCAPE_LEVEL; settled the median gap (or
    f) over the last quarter of the path, the level a noisy run hovers at; diverged_at as in
    Path.
    """

    label: str
    steps: int
    final_gap: float | None
    final_f: float
    reached_at: int | None
    minimum: int | None
    reversals: float
    detour: float
    escaped_at: int | None
    settled: float
    diverged_at: int | None


def reversals(path: Path) -> float:
    """Share of consecutive update pairs with u_k . u_{k-1} < 0 (0 for fewer than 2 steps)."""
    u = path.updates
    if len(u) < 2:
        return 0.0
    return float(np.mean(np.einsum("ij,ij->i", u[1:], u[:-1]) < 0))


def detour(path: Path) -> float:
    """Length of the path (sum of |u_k|) over |p_end - p_0|; 1.0 for a path of no steps."""
    if len(path.updates) == 0:
        return 1.0
    length = float(np.sum(np.hypot(*path.updates.T)))
    straight = float(np.hypot(*(path.xy[-1] - path.xy[0])))
    return length / straight if straight > 0 else math.inf


def summarize(label: str, path: Path, surface: Surface) -> PathSummary:
    """The numbers ``race_findings`` speaks from, for one path."""
    f_end = float(path.loss[-1])
    gaps = path.loss - (surface.min_value if surface.min_value is not None else 0.0)
    tail = gaps[-max(1, len(gaps) // 4) :]
    reached, nearest = None, None
    if surface.minima:
        hits = [steps_to_reach(path, m, REACH_TOL) for m in surface.minima]
        found = [h for h in hits if h is not None]
        reached = min(found) if found else None
        end = path.xy[-1]
        nearest = int(np.argmin([math.hypot(end[0] - x, end[1] - y) for x, y in surface.minima]))
    escaped = None
    if surface.min_value is None:
        below = np.flatnonzero(path.loss < ESCAPE_LEVEL)
        escaped = int(below[0]) if below.size else None
    return PathSummary(
        label,
        len(path.xy) - 1,
        None if surface.min_value is None else float(gaps[-1]),
        f_end,
        reached,
        nearest,
        reversals(path),
        detour(path),
        escaped,
        float(np.median(tail)),
        path.diverged_at,
    )


def race_findings(summaries: list[PathSummary], steps: int, noise: float) -> list[str]:
    """Sentences, each chosen by the measurement: who diverged, who reached a minimum and
    when (ties named as ties), who zig-zagged, who escaped the saddle, and under noise the
    level each settled at."""
    out = [f"**{s.label}** diverged at step {s.diverged_at}." for s in summaries if s.diverged_at]
    alive = [s for s in summaries if s.diverged_at is None]
    if not alive:
        return out
    if alive[0].final_gap is None:
        return out + _saddle_findings(alive, steps)
    out += _arrival_findings(alive, steps)
    zigzag = [s for s in alive if s.reversals >= ZIGZAG_TURNS]
    if zigzag:
        parts = [
            f"{100 * s.reversals:.0f}% of {s.label}'s steps turn back against the step before "
            f"(its path is {amount(s.detour)}× as long as the straight line between its ends)"
            for s in zigzag
        ]
        out.append("Zig-zag: " + "; ".join(parts) + ".")
    if noise > 0:
        levels = sorted(alive, key=lambda s: s.settled)
        parts = [f"{s.label} {amount(s.settled)}" for s in levels]
        out.append(
            f"With gradient noise σ = {noise:g} a path cannot settle exactly: over its last "
            "quarter of steps the median distance above the minimum value, f − f_min, was "
            + names(parts)
            + "."
        )
    return out


def _arrival_findings(alive: list[PathSummary], steps: int) -> list[str]:
    arrived = sorted((s for s in alive if s.reached_at is not None), key=lambda s: s.reached_at)
    missed = [s.label for s in alive if s.reached_at is None]
    out = []
    if arrived:
        first = [s for s in arrived if s.reached_at == arrived[0].reached_at]
        verb = "both" if len(first) == 2 else "all" if len(first) > 2 else ""
        out.append(
            f"First within {REACH_TOL:g} of a minimum: **{names([s.label for s in first])}**"
            + (f", {verb}" if verb else "")
            + f" at step {arrived[0].reached_at}"
            + "".join(f"; {s.label} at step {s.reached_at}" for s in arrived if s not in first)
            + "."
        )
    if missed:
        ends = [
            f"{s.label} (ends at f − f_min = {amount(s.final_gap)})"
            for s in alive
            if s.reached_at is None
        ]
        out.append(f"Not within {REACH_TOL:g} of a minimum after {steps} steps: {names(ends)}.")
    return out


def _saddle_findings(alive: list[PathSummary], steps: int) -> list[str]:
    escaped = sorted((s for s in alive if s.escaped_at is not None), key=lambda s: s.escaped_at)
    stuck = [s.label for s in alive if s.escaped_at is None]
    out = []
    if escaped:
        out.append(
            "Escaped the saddle (f fell below −1): "
            + "; ".join(f"**{s.label}** at step {s.escaped_at}" for s in escaped)
            + "."
        )
    if stuck:
        out.append(
            f"Still at the saddle after {steps} steps: **{names(stuck)}**. On the ridge the "
            "gradient points straight at the saddle point and vanishes there."
        )
    return out


# --- theory on the quadratic ------------------------------------------------------------------


class Rates(NamedTuple):
    """Goh (2017) for f = 1/2 p^T A p, eigenvalues lam_min .. lam_max, kappa their ratio:
    GD at eta = 2 / (lam_min + lam_max) contracts by (kappa - 1) / (kappa + 1) per step;
    heavy-ball momentum at eta = (2 / (sqrt(lam_min) + sqrt(lam_max)))^2 and
    beta = rate^2 contracts by (sqrt(kappa) - 1) / (sqrt(kappa) + 1)."""

    kappa: float
    lam_min: float
    lam_max: float
    gd_eta: float
    gd_rate: float
    momentum_eta: float
    momentum_beta: float
    momentum_rate: float


def optimal_rates(kappa: float, lam_max: float = 1.0) -> Rates:
    """The best settings and rates of GD and momentum on a quadratic of condition ``kappa``."""
    lam_min = lam_max / kappa
    root = math.sqrt(kappa)
    m_rate = (root - 1) / (root + 1)
    return Rates(
        kappa,
        lam_min,
        lam_max,
        2.0 / (lam_min + lam_max),
        (kappa - 1) / (kappa + 1),
        (2.0 / (math.sqrt(lam_min) + math.sqrt(lam_max))) ** 2,
        m_rate**2,
        m_rate,
    )


def stability_limits(lam_max: float, beta: float) -> tuple[float, float]:
    """The largest stable eta of GD, 2 / lam_max, and of heavy-ball momentum,
    2 (1 + beta) / lam_max: above them the steep direction's error grows every step."""
    return 2.0 / lam_max, 2.0 * (1.0 + beta) / lam_max


class OptimalRun(NamedTuple):
    """GD and momentum at their optimal settings on the quadratic, against theory.

    measured_* the per-step contraction of the distance to the minimum over the tail of each
    path; steps_* the steps to come within ``tol`` of it (None: not within max_steps);
    predicted_ratio = log(momentum_rate) / log(gd_rate), the ratio of step counts theory
    expects (GD's steps / momentum's); measured_ratio the same from the paths.
    """

    rates: Rates
    gd: Path
    momentum: Path
    measured_gd: float
    measured_momentum: float
    steps_gd: int | None
    steps_momentum: int | None
    predicted_ratio: float
    measured_ratio: float | None
    tol: float


def optimal_run(kappa: float, angle: float = 0.0, tol: float = 1e-6, max_steps: int = 4000):
    """Run GD and momentum at their theoretical best on quadratic(kappa, angle)."""
    rates = optimal_rates(kappa)
    surface = Terrain("quadratic", kappa, angle).build()
    gd = run_path(surface, make_optimizer("sgd", rates.gd_eta), None, max_steps)
    mom = run_path(
        surface, make_optimizer("momentum", rates.momentum_eta, beta=rates.momentum_beta),
        None, max_steps,
    )  # fmt: skip
    minimum = surface.minima[0]
    steps_gd, steps_m = steps_to_reach(gd, minimum, tol), steps_to_reach(mom, minimum, tol)
    return OptimalRun(
        rates,
        _trim(gd, steps_gd),
        _trim(mom, steps_m),
        contraction(gd, minimum, floor=tol),
        contraction(mom, minimum, floor=tol),
        steps_gd,
        steps_m,
        math.log(rates.momentum_rate) / math.log(rates.gd_rate) if kappa > 1 else 1.0,
        steps_gd / steps_m if steps_gd and steps_m else None,
        tol,
    )


def _trim(path: Path, k: int | None) -> Path:
    """The path up to step k (the whole path if k is None): the chart stops at arrival."""
    if k is None:
        return path
    return path._replace(
        xy=path.xy[: k + 1],
        loss=path.loss[: k + 1],
        grad=path.grad[:k],
        updates=path.updates[:k],
        states=path.states[:k],
    )


class RateScan(NamedTuple):
    """Final distance to the minimum over the starting distance, d_N / d_0, after ``steps``
    steps of GD and of momentum (beta) for each eta; a ratio above 1 means the path moved away:
    it diverges. first_diverging_* the smallest eta of the scan whose ratio exceeds 1 (None:
    none did); limit_* the theory, 2 / lam_max and 2 (1 + beta) / lam_max. Diverged paths
    (overflow) are inf."""

    etas: np.ndarray
    gd: np.ndarray
    momentum: np.ndarray
    limit_gd: float
    limit_momentum: float
    first_diverging_gd: float | None
    first_diverging_momentum: float | None
    beta: float
    steps: int


def rate_scan(
    kappa: float, beta: float, steps: int = 100, n: int = 41, lo: float = 0.05, hi: float = 10.0
) -> RateScan:
    """GD and momentum on quadratic(kappa) for n log-spaced etas in [lo, hi], plus each limit
    itself and a hair either side of it, so the scan resolves where divergence begins."""
    surface = Terrain("quadratic", kappa, 0.0).build()
    limit_gd, limit_m = stability_limits(surface.curvatures[1], beta)
    near = [lim * f for lim in (limit_gd, limit_m) for f in (0.98, 1.0, 1.02)]
    etas = np.unique(np.concatenate([np.geomspace(lo, hi, n), near]))
    d0 = math.hypot(*surface.start)

    def ratio(opt: Optimizer) -> float:
        p = run_path(surface, opt, None, steps)
        return math.inf if p.diverged_at is not None else math.hypot(*p.xy[-1]) / d0

    gd = np.array([ratio(make_optimizer("sgd", e)) for e in etas])
    mom = np.array([ratio(make_optimizer("momentum", e, beta=beta)) for e in etas])

    def first(r: np.ndarray) -> float | None:
        bad = np.flatnonzero(r > 1.0)
        return float(etas[bad[0]]) if bad.size else None

    return RateScan(etas, gd, mom, limit_gd, limit_m, first(gd), first(mom), beta, steps)


# --- the adaptive methods ---------------------------------------------------------------------


def rate_trace(path: Path, setting: Setting) -> np.ndarray:
    """(k, 2) each coordinate's effective rate eta / (sqrt(acc) + eps) after each step of an
    Adagrad, RMSProp or Adam path (acc = G, s or vhat); ValueError for other optimizers."""
    if setting.name not in ADAPTIVE:
        raise ValueError(f"{setting.name} has no per-coordinate rate")
    kw = dict(eps=setting.eps, beta2=setting.beta2, bias_correction=setting.bias_correction)
    with np.errstate(over="ignore", divide="ignore"):
        rows = [effective_rate(s, setting.eta, **kw).W[0] for s in path.states]
    return np.array(rows, dtype=float).reshape(len(rows), 2)


class TraceSummary(NamedTuple):
    """One coordinate's effective rate along a path: start, lowest (and its step), end;
    rises counts the steps where it went up (Adagrad's never does)."""

    first: float
    lowest: float
    lowest_at: int
    last: float
    rises: int


def trace_summary(trace: np.ndarray) -> TraceSummary:
    """Summarize one column of ``rate_trace`` ((k,) rates, k >= 1)."""
    k = int(np.argmin(trace))
    return TraceSummary(
        float(trace[0]), float(trace[k]), k + 1, float(trace[-1]), int(np.sum(np.diff(trace) > 0))
    )


def adam_first_steps(
    beta1: float = 0.9, beta2: float = 0.999, steps: int = 60, eps: float = 1e-8
) -> dict[str, np.ndarray]:
    """|u_t| / eta for t = 1..steps of Adam fed a constant gradient, with and without bias
    correction: with it every step is eta (mhat = g, vhat = g^2); without it the first step is
    (1 - beta1) / sqrt(1 - beta2) times eta, and the steps approach eta only slowly."""
    out = {}
    for on in (True, False):
        opt = make_optimizer("adam", 1.0, beta1=beta1, beta2=beta2, eps=eps, bias_correction=on)
        params = Params(W=(np.zeros(1),), b=())
        state, g, sizes = opt.init(params), Params(W=(np.ones(1),), b=()), []
        for _ in range(steps):
            u, state = opt.update(g, state, params)
            sizes.append(abs(float(u.W[0][0])))
        out["with bias correction" if on else "without bias correction"] = np.array(sizes)
    return out


class ScaleCheck(NamedTuple):
    """The same optimizer on f and on factor * f from the same start: the largest distance
    between the two paths' positions (Adam's is ~0: mhat / sqrt(vhat) does not change), and
    where the scaled run diverged, if it did."""

    factor: float
    max_difference: float
    diverged_at: int | None
    steps: int


def scale_check(terrain: Terrain, setting: Setting, steps: int, factor: float = 1000.0):
    """Run ``setting`` on f and on factor * f and compare the paths position by position."""
    a = run_path(terrain.build(), setting.build(), None, steps)
    big = Terrain(terrain.surface, terrain.kappa, terrain.angle, terrain.scale * factor)
    b = run_path(big.build(), setting.build(), None, steps)
    k = min(len(a.xy), len(b.xy))
    diff = float(np.max(np.hypot(*(a.xy[:k] - b.xy[:k]).T))) if k else 0.0
    return ScaleCheck(factor, diff, b.diverged_at, steps)


# --- one step's numbers, for the formulas -----------------------------------------------------


class StepNumbers(NamedTuple):
    """Step t (1-based) of a path: the gradient g used, the update u, the rate, and each state
    quantity (v, G, s, m, vhat ...) before and after the step, as (2,) arrays."""

    t: int
    g: np.ndarray
    u: np.ndarray
    eta: float
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]


def _state_values(state) -> dict[str, np.ndarray]:
    if isinstance(state, MomentumState):
        return {"v": state.v.W[0]}
    if isinstance(state, AdagradState):
        return {"G": state.G.W[0]}
    if isinstance(state, RMSPropState):
        return {"s": state.s.W[0]}
    if isinstance(state, AdamState):
        return {"m": state.m.W[0], "v": state.v.W[0]}
    return {}


def step_numbers(path: Path, setting: Setting, t: int) -> StepNumbers:
    """The numbers of step t (1 <= t <= len(path.updates)) of ``path`` run with ``setting``."""
    if not 1 <= t <= len(path.updates):
        raise ValueError(f"step {t} is not in a path of {len(path.updates)} steps")
    before = (
        _state_values(path.states[t - 2])
        if t > 1
        else {k: np.zeros(2) for k in _state_values(path.states[0])}
    )
    return StepNumbers(
        t,
        path.grad[t - 1],
        path.updates[t - 1],
        setting.eta,
        before,
        _state_values(path.states[t - 1]),
    )
