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
from explain.nn.surfaces import (
    Path,
    Point,
    Surface,
    contraction,
    get_surface,
    run_path,
    steps_to_reach,
)
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

    final_gap f(p_end) - f_min (None where f has no minimum, the saddle); reached_at the step
    from which the path stays within REACH_TOL of a minimum to its end (None: it is not there
    at the end); final_distance the end's distance to the nearest minimum (None: no minimum);
    minimum the index of that minimum; reversals the share of steps whose update points back
    against the one before (negative dot product), the zig-zag; detour the path's length over
    the straight distance from its start to its end (1 for a straight path, inf for a path
    back to its start);
    escaped_at (saddle only) the first step with f < ESCAPE_LEVEL; settled the median gap (or
    f) over the last quarter of the path, the level a noisy run hovers at; diverged_at as in
    Path.
    """

    label: str
    steps: int
    final_gap: float | None
    final_f: float
    reached_at: int | None
    final_distance: float | None
    minimum: int | None
    reversals: float
    detour: float
    escaped_at: int | None
    settled: float
    diverged_at: int | None
    off_ridge: float = 0.0  # the saddle: the largest |y| the path reached (0: never left y = 0)


def settled_at(path: Path, minimum: Point, tol: float) -> int | None:
    """The first step k from which |p_j - p*| <= tol for every j >= k, or None if the path
    does not end within tol (a path that passes close and leaves again has not arrived)."""
    d = np.hypot(path.xy[:, 0] - minimum[0], path.xy[:, 1] - minimum[1])
    outside = np.flatnonzero(d > tol)
    if not outside.size:
        return 0
    return None if outside[-1] == len(d) - 1 else int(outside[-1]) + 1


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
    reached, nearest, distance = None, None, None
    if surface.minima:
        end = path.xy[-1]
        d_end = [math.hypot(end[0] - x, end[1] - y) for x, y in surface.minima]
        nearest = int(np.argmin(d_end))
        distance = float(d_end[nearest])
        reached = settled_at(path, surface.minima[nearest], REACH_TOL)
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
        distance,
        nearest,
        reversals(path),
        detour(path),
        escaped,
        float(np.median(tail)),
        path.diverged_at,
        float(np.max(np.abs(path.xy[:, 1]))) if surface.min_value is None else 0.0,
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
        head = "Turning back (with noise, partly the noise's jitter): " if noise else "Zig-zag: "
        out.append(head + "; ".join(parts) + ".")
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
    out = []
    if arrived:
        first = [s for s in arrived if s.reached_at == arrived[0].reached_at]
        verb = "both" if len(first) == 2 else "all" if len(first) > 2 else ""
        out.append(
            f"Within {REACH_TOL:g} of a minimum for good (to the last step) first: "
            f"**{names([s.label for s in first])}**"
            + (f", {verb}" if verb else "")
            + f" from step {arrived[0].reached_at}"
            + "".join(f"; {s.label} from step {s.reached_at}" for s in arrived if s not in first)
            + "."
        )
    ends = [
        f"{s.label} (ends {amount(s.final_distance)} from the nearest minimum, f − f_min = "
        f"{amount(s.final_gap)})"
        for s in alive
        if s.reached_at is None
    ]
    if ends:
        out.append(f"Not within {REACH_TOL:g} of a minimum after {steps} steps: {names(ends)}.")
    return out


def _saddle_findings(alive: list[PathSummary], steps: int) -> list[str]:
    escaped = sorted((s for s in alive if s.escaped_at is not None), key=lambda s: s.escaped_at)
    out = []
    if escaped:
        out.append(
            "Escaped the saddle (f fell below −1): "
            + "; ".join(f"**{s.label}** at step {s.escaped_at}" for s in escaped)
            + "."
        )
    ridge = [s.label for s in alive if s.escaped_at is None and s.off_ridge == 0]
    drift = [s for s in alive if s.escaped_at is None and s.off_ridge > 0]
    if ridge:
        out.append(
            f"Still at the saddle after {steps} steps: **{names(ridge)}**, never off the ridge "
            "y = 0: there the gradient has no component across the ridge, points straight at "
            "the saddle point and vanishes there."
        )
    if drift:
        out.append(
            f"Still at the saddle after {steps} steps: **{names([s.label for s in drift])}**, "
            "drifting off the ridge too slowly to escape (largest |y| reached: "
            + ", ".join(f"{s.label} {amount(s.off_ridge)}" for s in drift)
            + ")."
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
    """GD and momentum (beta) on the quadratic for each eta: after ``steps`` steps, the final
    distance to the minimum over the starting one, d_N / d_0 (floored at FLOOR, inf where the
    run overflowed), and whether the distance was still growing: its largest value over the
    last quarter of the steps exceeds that over the quarter before (a run that swings but
    converges, as momentum with beta near 1 does, is not growing). first_diverging_* the
    smallest eta of the scan that grows (None: none did); limit_* the theory, 2 / lam_max
    and 2 (1 + beta) / lam_max."""

    etas: np.ndarray
    gd: np.ndarray
    momentum: np.ndarray
    gd_growing: np.ndarray
    momentum_growing: np.ndarray
    limit_gd: float
    limit_momentum: float
    first_diverging_gd: float | None
    first_diverging_momentum: float | None
    beta: float
    steps: int


FLOOR = 1e-12  # d_N / d_0 below this is round-off, and would stretch a log axis for nothing
NEAR_LIMIT = (0.98, 0.995, 1.005, 1.02)  # extra etas either side of each limit


def growing(path: Path) -> bool:
    """Whether the distance to the origin still grows at the end of the path (or overflowed)."""
    if path.diverged_at is not None:
        return True
    d = np.hypot(path.xy[:, 0], path.xy[:, 1])
    if len(d) < 2:  # no step taken: nothing has grown
        return False
    q = max(1, len(d) // 4)
    return bool(d[-q:].max() > d[-2 * q : -q].max() * (1 + 1e-9))


def rate_scan(
    kappa: float, beta: float, steps: int = 200, n: int = 41, lo: float = 0.05, hi: float = 10.0
) -> RateScan:
    """GD and momentum on quadratic(kappa) for n log-spaced etas in [lo, hi], plus etas a
    hair either side of each limit, so the scan resolves where divergence begins."""
    surface = Terrain("quadratic", kappa, 0.0).build()
    limit_gd, limit_m = stability_limits(surface.curvatures[1], beta)
    near = [lim * f for lim in (limit_gd, limit_m) for f in NEAR_LIMIT]
    etas = np.unique(np.concatenate([np.geomspace(lo, hi, n), near]))
    d0 = math.hypot(*surface.start)

    def runs(name: str) -> tuple[np.ndarray, np.ndarray]:
        paths = [run_path(surface, make_optimizer(name, e, beta=beta), None, steps) for e in etas]
        end = [
            math.inf if p.diverged_at is not None else max(math.hypot(*p.xy[-1]) / d0, FLOOR)
            for p in paths
        ]
        return np.array(end), np.array([growing(p) for p in paths])

    (gd, gd_up), (mom, mom_up) = runs("sgd"), runs("momentum")

    def first(up: np.ndarray) -> float | None:
        return float(etas[np.argmax(up)]) if up.any() else None

    return RateScan(
        etas, gd, mom, gd_up, mom_up, limit_gd, limit_m, first(gd_up), first(mom_up), beta, steps
    )


def theory_sentence(run: OptimalRun) -> str:
    """Theory's rates against the measured contraction and step counts (markdown)."""
    r = run.rates
    if not (math.isfinite(run.measured_gd) and math.isfinite(run.measured_momentum)):
        same = run.steps_gd == run.steps_momentum
        steps = (
            f"both in {_steps(run.steps_gd)}"
            if same
            else f"in {_steps(run.steps_gd)} and {_steps(run.steps_momentum)}"
        )
        return (
            f"At κ = {amount(r.kappa)} the valley is round: at their optimal η gradient descent "
            f"and momentum land on the minimum {steps}, so there is no rate of shrinking to "
            "measure (theory's rates are 0)."
        )
    text = (
        "Measured on the paths, the distance to the minimum shrank by a factor of "
        f"**{amount(run.measured_gd, 3)}** per step with gradient descent (theory "
        f"{amount(r.gd_rate, 3)}) and **{amount(run.measured_momentum, 3)}** with momentum "
        f"(theory {amount(r.momentum_rate, 3)}). "
    )
    tol = amount(run.tol)
    if run.steps_gd is None or run.steps_momentum is None:
        return text + f"Not both came within {tol} of the minimum within the steps run."
    text += (
        f"To come within {tol} of the minimum gradient descent took **{run.steps_gd}** steps "
        f"and momentum **{run.steps_momentum}**"
    )
    if run.steps_gd == run.steps_momentum:
        return text + ": the same number."
    if run.steps_momentum > run.steps_gd:
        return text + ": here momentum needed more."
    return text + (
        f": momentum needed **{amount(run.measured_ratio, 3)}×** fewer steps, where the rates "
        f"predict {amount(run.predicted_ratio, 3)}× (the ratio of their logarithms). At its "
        "optimal β momentum's two roots coincide, which multiplies rateᵏ by a factor that grows "
        "with k: it arrives a little later than the rate alone says."
    )


def _steps(n: int | None) -> str:
    return "no step" if not n else "one step" if n == 1 else f"{n} steps"


def scan_sentence(scan: RateScan) -> str:
    """Where each method's distance first keeps growing, against its limit."""

    def where(first: float | None, limit: float, name: str) -> str:
        if first is None:
            return f"no η tried made {name} diverge"
        rel = first / limit
        if rel > 1:
            place = (
                f"just past its limit {amount(limit, 3)}"
                if rel <= 1.05
                else f"above its limit {amount(limit, 3)}"
            )
        else:
            place = f"at or below its limit {amount(limit, 3)}"
        return f"{name}'s distance first keeps growing at η = {amount(first, 3)}, {place}"

    return (
        "Each point is a separate run. Below the dashed line at 1 the run ended closer to the "
        "minimum than it started. A run diverges when its distance keeps growing (its largest "
        "value over the last quarter of the steps beats the quarter before). Here "
        + where(scan.first_diverging_gd, scan.limit_gd, "gradient descent")
        + "; "
        + where(scan.first_diverging_momentum, scan.limit_momentum, "momentum")
        + ". Runs that grew past 10⁶ are drawn at 10⁶."
    )


# --- the adaptive methods ---------------------------------------------------------------------


def rate_trace(path: Path, setting: Setting) -> np.ndarray:
    """(k, 2) each coordinate's effective rate eta / (sqrt(acc) + eps) after each step of an
    Adagrad, RMSProp or Adam path (acc = G, s or vhat), NaN while a coordinate has had no
    gradient at all (sqrt(acc) <= eps); ValueError for other optimizers."""
    if setting.name not in ADAPTIVE:
        raise ValueError(f"{setting.name} has no per-coordinate rate")
    kw = dict(eps=setting.eps, beta2=setting.beta2, bias_correction=setting.bias_correction)
    with np.errstate(over="ignore", divide="ignore"):
        rows = [effective_rate(s, setting.eta, **kw).W[0] for s in path.states]
    rates = np.array(rows, dtype=float).reshape(len(rows), 2)
    # sqrt(acc) <= eps: no gradient in that coordinate yet; eta / eps would be an artefact
    rates[rates >= setting.eta / (2 * setting.eps)] = np.nan
    return rates


class TraceSummary(NamedTuple):
    """One coordinate's effective rate along a path: start, lowest (and its step), end;
    rises counts the steps where it went up (Adagrad's never does)."""

    first: float
    lowest: float
    lowest_at: int
    last: float
    rises: int


def trace_summary(trace: np.ndarray) -> TraceSummary:
    """Summarize one column of ``rate_trace`` ((k,) rates, k >= 1, no NaN)."""
    k = int(np.argmin(trace))
    return TraceSummary(
        float(trace[0]), float(trace[k]), k + 1, float(trace[-1]), int(np.sum(np.diff(trace) > 0))
    )


def trace_sentence(label: str, trace: np.ndarray) -> str:
    """What one optimizer's per-coordinate rates did along its path, from ``rate_trace``
    ((k, 2), NaN while a coordinate had no gradient): fell and never rose (Adagrad, always),
    fell then rose again (RMSProp, Adam once the gradients shrink), or only rose."""
    parts = []
    for axis, col in (("x", 0), ("y", 1)):
        column = trace[:, col]
        finite = np.flatnonzero(np.isfinite(column))
        if not finite.size:
            parts.append(f"{axis} has had no gradient at all, so it has no rate yet")
            continue
        t = trace_summary(column[finite[0] :])
        at = int(finite[0]) + t.lowest_at
        if t.rises == 0:
            moved = "stayed at" if t.last == t.first else f"fell from {amount(t.first)} to"
            parts.append(f"for {axis} it {moved} {amount(t.last)} and never rose")
        elif t.lowest_at == 1:
            parts.append(f"for {axis} it went from {amount(t.first)} up to {amount(t.last)}")
        elif t.last > t.lowest * 1.01:
            parts.append(
                f"for {axis} it fell to {amount(t.lowest)} at step {at}, then rose again to "
                f"{amount(t.last)}"
            )
        else:
            parts.append(
                f"for {axis} it fell to {amount(t.lowest)} at step {at} and stayed near it"
            )
    return f"**{label}**: " + "; ".join(parts) + "."


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
