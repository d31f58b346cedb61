"""The learning-rate page, section "Too small, right, too large".

The lecture notes: too large a learning rate overshoots the point where the loss falls, too
small converges slowly. This module measures both on three things of growing size.

1. The quadratic valley of the optimizer page, f = 1/2 p^T A p (``quadratic_regime``). Along
   the steep eigenvector gradient descent multiplies the distance to the minimum by
   1 - eta lambda_max every step, so the rate has two thresholds computed from the surface:
   above 1 / lambda_max the factor is negative (the steep component flips sign every step,
   the path zig-zags across the valley) and above 2 / lambda_max its size exceeds 1 (the
   zig-zag grows: the path diverges). The verdict is read off the path, not off the
   formula (``swing``).
2. The sigmoid neuron of the one-neuron pages (``neuron_regime``): the same thresholds from
   the Hessian of its cost at the minimum, and the same measured verdict. They are the
   curvature at the minimum; ``neuron_onsets`` measures where crossing the valley floor and
   failing to settle actually begin.
3. A network on MNIST: a scan of learning rates (``run_scan``), and the range test that
   raises the rate each mini-batch over one short run (``run_range_test``), compared with
   the scan's best rate.

Every sentence (``regime_sentence``, ``scan_sentence``, ``range_sentence``) is chosen by the
numbers it quotes.

Non-goals: schedules (the rate decays elsewhere on the page), momentum and adaptive methods
(the optimizer page), the range test's fastai variants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from explain.activation_verdicts import accuracy_noise
from explain.descent import Setting, Terrain, growing, stability_limits
from explain.experiments import MnistExperiment, run_mnist
from explain.neuron import NeuronSetup, train_neuron
from explain.nn.activations import sigmoid, sigmoid_prime
from explain.nn.datasets import load_mnist
from explain.nn.network import init_params
from explain.nn.schedules import SMOOTHING, range_test, smoothed_losses
from explain.nn.surfaces import Path, run_path
from explain.nn.training import (
    Divergence,
    History,
    TrainConfig,
    TrainResult,
    evaluate,
    lr_range_test,
)
from explain.words import amount, names

# --- the verdict on a path: what its steep-direction component did ---------------------------

VERDICTS = ("crawls", "smooth", "one step", "oscillates", "bounces", "stalls", "diverges")
SETTLED = 1e-10  # |s| below this fraction of the start's distance is round-off: arrived
TURNING = 0.5  # "oscillates": at least this share of the last half of the steps flip sign
FLAT = 0.1  # "stalls": the slope where the path stopped is under a tenth of lam_max |s|
# a swing that shrinks by less than 5% from one quarter of the steps to the next does not
# settle: the neuron's cycles above 2 / lambda_max wander by a few percent from quarter to
# quarter (on the quadratic the swing at 1.999 / lambda_max, 0.999 per step, counts as steady
# over 100 steps too: it is)
STEADY = 0.05


class Swing(NamedTuple):
    """What the steep-direction component s_k of a path (its coordinate along the Hessian's
    eigenvector of lambda_max, measured from the minimum) did, and the verdict (one of
    VERDICTS) it earns.

    flips: the share of steps on which s changed sign, over the last half of the steps taken
    before s fell to round-off (SETTLED) or the path ended (0 with fewer than 2 such steps);
    factor: |s| after the last step before round-off over |s| before it (None when s reached
    round-off in one step, or the path has no step); halved_at: the first step with
    |s| <= |s_0| / 2 (None: never); swing: the largest |s| over the last quarter of the steps
    over the largest over the quarter before (1: a steady swing, below 1: shrinking, inf:
    left the plane); settled: s reached round-off; crossings: how many steps, over the whole
    path before round-off, changed the sign of s (crossed the floor of the valley).
    """

    verdict: str
    flips: float
    factor: float | None
    halved_at: int | None
    swing: float
    settled: bool
    crossings: int


def swing(s: np.ndarray, scale: float, diverged_at: int | None, slope: float = 1.0) -> Swing:
    """Classify a path's steep-direction component s (k+1,), s_0 at the start.

    scale: the start's distance to the minimum (round-off is judged against it);
    diverged_at: the path's (None: it ran all its steps); slope: the steep component of the
    gradient at the last position over lambda_max |s| there (1 on a quadratic; near 0 where
    the cost has gone flat). Verdicts, in the order checked: "diverges" (left the plane, or
    |s| still grows (``descent.growing``) and has grown past |s_0|), "one step" (|s| at
    round-off after the first step: eta = 1 / lambda_max), then, if s never reached round-off
    and its swing shrinks by less than STEADY a quarter, "bounces" (it still crosses the
    floor), "stalls" (it does not, and slope < FLAT: stuck where the cost is flat) or
    "crawls"; otherwise "oscillates" (TURNING of the last half of the steps flip sign),
    "smooth" (|s| halved) or "crawls" (it did not).
    """
    a = np.abs(s)
    floor = SETTLED * scale
    below = np.flatnonzero(a <= floor)
    n = int(below[0]) if below.size else len(a)  # s_0 .. s_{n-1} above round-off
    halved = np.flatnonzero(a <= a[0] / 2)
    halved_at = int(halved[0]) if halved.size and a[0] > floor else None
    trend = _trend(np.where(a > floor, a, 0.0))
    flips, factor = _flips(s[:n]), float(a[n - 1] / a[n - 2]) if n >= 2 else None
    grown = _grows(np.where(a > floor, s, 0.0), None) and a[-max(1, len(a) // 4) :].max() > a[0]
    if diverged_at is not None or grown:
        verdict = "diverges"
    elif n == 1 and len(a) > 1:
        verdict = "one step"
    elif n == len(a) and trend >= 1 - STEADY:
        verdict = "bounces" if flips > 0 else "stalls" if slope < FLAT else "crawls"
    elif flips >= TURNING:
        verdict = "oscillates"
    else:
        verdict = "smooth" if halved_at is not None else "crawls"
    swing_ = trend if diverged_at is None else math.inf
    crossings = int(np.count_nonzero(np.sign(s[1:n]) != np.sign(s[: n - 1])))
    return Swing(verdict, flips, factor, halved_at, swing_, n < len(a), crossings)


def _grows(s: np.ndarray, diverged_at: int | None) -> bool:
    """``descent.growing`` on the path's steep component alone (a path of points (0, s_k),
    round-off already set to 0, or its jitter would look like growth): the flat component
    would hide a slow growth behind its own slow shrinking. False for a path of no step
    (``growing`` needs two positions)."""
    if len(s) < 2:
        return False
    xy = np.column_stack([np.zeros(len(s)), s])
    return growing(Path(xy, np.zeros(len(s)), xy[1:], xy[1:], (), diverged_at))


def _trend(a: np.ndarray) -> float:
    """max |s| over the last quarter of the steps / max over the quarter before (1.0 if the
    path is too short to have two quarters, inf if only the earlier quarter is 0)."""
    q = len(a) // 4
    if q < 1:
        return 1.0
    before, last = float(a[-2 * q : -q].max()), float(a[-q:].max())
    if before == 0:
        return 1.0 if last == 0 else math.inf
    return last / before


def _flips(s: np.ndarray) -> float:
    """Share of sign changes among consecutive pairs of the last half of s (0 if < 2)."""
    tail = s[len(s) // 2 :] if len(s) >= 4 else s
    if len(tail) < 2:
        return 0.0
    return float(np.mean(np.sign(tail[1:]) != np.sign(tail[:-1])))


# --- the quadratic -----------------------------------------------------------------------------


class Regime(NamedTuple):
    """Gradient descent at rate eta on a surface, against its thresholds.

    lam_min, lam_max: the Hessian's eigenvalues (on the neuron: at the minimum, where
    lam_min = 0 along the valley floor); oscillate_at = 1 / lam_max, diverge_at = 2 / lam_max;
    minimum the point the path heads for; steep (k+1,) the path's component along the
    eigenvector of lam_max, measured from the minimum; flat (k+1,) along the other; path the
    run (``surfaces.Path``); swing the measured verdict; predicted the factor 1 - eta lam_max
    by which theory multiplies the steep component each step (exact on the quadratic, near
    the minimum on the neuron); local: the thresholds are the curvature at the minimum only
    (the neuron), not everywhere (the quadratic).
    """

    eta: float
    lam_min: float
    lam_max: float
    oscillate_at: float
    diverge_at: float
    minimum: tuple[float, float]
    path: Path
    steep: np.ndarray
    flat: np.ndarray
    swing: Swing
    predicted: float
    local: bool

    @property
    def verdict(self) -> str:
        return self.swing.verdict


def quadratic_regime(kappa: float, angle: float, eta: float, steps: int = 100) -> Regime:
    """Gradient descent at rate eta on the optimizer page's quadratic(kappa, angle) from its
    default start, measured along the steep eigenvector (-sin angle, cos angle)."""
    surface = Terrain("quadratic", kappa, angle).build()
    lam_min, lam_max = surface.curvatures
    t = math.radians(angle)
    steep_dir = np.array([-math.sin(t), math.cos(t)])
    flat_dir = np.array([math.cos(t), math.sin(t)])
    path = run_path(surface, Setting("sgd", eta).build(), None, steps)
    return _measure(eta, path, (0.0, 0.0), (lam_min, lam_max), (steep_dir, flat_dir), False)


def _measure(eta, path, minimum, lams, dirs, local) -> Regime:
    """Measure a gradient-descent path against the thresholds of the curvatures lams =
    (lam_min, lam_max), along their eigenvectors dirs = (steep, flat)."""
    offset = path.xy - np.asarray(minimum)
    steep, flat = offset @ dirs[0], offset @ dirs[1]
    scale = float(np.hypot(*offset[0]))
    lam_min, lam_max = lams
    slope = 1.0
    if len(path.grad) and steep[-2] != 0:  # the gradient at the last position that has one
        slope = abs(float(path.grad[-1] @ dirs[0])) / (lam_max * abs(steep[-2]))
    return Regime(
        eta,
        lam_min,
        lam_max,
        1.0 / lam_max,
        stability_limits(lam_max, 0.0)[0],
        tuple(float(m) for m in minimum),
        path,
        steep,
        flat,
        swing(steep, scale, path.diverged_at, slope),
        1.0 - eta * lam_max,
        local,
    )


# --- one sigmoid neuron ------------------------------------------------------------------------

# The neuron of the one-neuron pages (input x = 1, Nielsen's "badly wrong" start w = b = 2),
# asked for a target it can reach: y = 0.5, where the sigmoid is steepest. There the
# thresholds hold along the whole path, not only near the minimum (see ``neuron_regime``).
NEURON = NeuronSetup(w0=(2.0,), b0=(2.0,), x=1.0, y=0.5, eta=1.0, epochs=60, cost="cross_entropy")


def cost_curvature(cost: str, z: np.ndarray, y: float) -> np.ndarray:
    """c''(z), the second derivative of one example's cost in its weighted input z.

    Cross-entropy: sigma'(z) (the cost's 1 / (a (1 - a)) cancels, as in delta). Quadratic:
    sigma'^2 + (a - y) sigma'' with sigma'' = sigma' (1 - 2a); at the minimum a = y and only
    sigma'^2 is left, which is why the quadratic cost's thresholds are so much larger.
    """
    z = np.asarray(z, dtype=float)
    a, sp = sigmoid(z), sigmoid_prime(z)
    if cost == "cross_entropy":
        return sp
    if cost == "quadratic":
        return sp * sp + (a - y) * sp * (1.0 - 2.0 * a)
    raise ValueError(f"no curvature for cost {cost!r}")


def neuron_hessian(setup: NeuronSetup, w: float, b: float) -> np.ndarray:
    """(2, 2) Hessian of the neuron's cost in (w, b) at the point (w, b):
    c''(z) (x, 1)(x, 1)^T with z = w x + b. Its eigenvalues are 0 (along the valley floor
    w x + b = const, where the cost does not change) and (1 + x^2) c''(z)."""
    xt = np.array([setup.x, 1.0])
    return float(cost_curvature(setup.cost, w * setup.x + b, setup.y)) * np.outer(xt, xt)


def neuron_minimum(setup: NeuronSetup, k: int = 0) -> tuple[float, float]:
    """The point of the valley floor w x + b = logit(y) that gradient descent from start k
    heads for: every gradient is a multiple of (x, 1), so the path stays on the line through
    the start along (x, 1). ValueError unless 0 < y < 1 (else the minimum is at infinity)."""
    if not 0 < setup.y < 1:
        raise ValueError(f"the target must lie strictly between 0 and 1, not {setup.y}")
    w0, b0, x = setup.w0[k], setup.b0[k], setup.x
    t = (w0 * x + b0 - _logit(setup.y)) / (1.0 + x * x)
    return (w0 - t * x, b0 - t)


def _logit(y: float) -> float:
    return math.log(y / (1.0 - y))


def neuron_lam_max(setup: NeuronSetup) -> float:
    """lambda_max of the neuron's Hessian at the minimum: (1 + x^2) c''(z*), z* = logit(y)."""
    if not 0 < setup.y < 1:
        raise ValueError(f"the target must lie strictly between 0 and 1, not {setup.y}")
    return (1.0 + setup.x**2) * float(cost_curvature(setup.cost, _logit(setup.y), setup.y))


def neuron_regime(setup: NeuronSetup = NEURON, k: int = 0) -> Regime:
    """Gradient descent at setup.eta for setup.epochs steps from start k of the one-neuron
    pages' neuron (``neuron.train_neuron``), against the thresholds of its cost.

    The thresholds come from the curvature at the minimum, lambda_max = (1 + x^2) c''(z*):
    near the minimum the cost is a quadratic to second order, so there they decide what the
    path does, exactly as on the quadratic. Along the way the curvature differs (it is
    largest where sigma is steepest, z = 0, and vanishes where sigma saturates). At y = 0.5
    the minimum sits at z* = 0, where c'' is largest, so no step along the path is steeper
    than at the minimum and the thresholds hold from any start. At other targets they hold
    near the minimum; far from it a path can cross the floor below 1 / lambda_max
    (``neuron_onsets`` measures where crossing and settling actually change). Above
    2 / lambda_max the path cannot run off to infinity as on the quadratic (the gradient is
    bounded): it swings across the floor on a cycle that never reaches it ("bounces"), or is
    thrown where sigma saturates and stops ("stalls").
    """
    run = train_neuron(setup)
    xy = np.column_stack([run.w[:, k], run.b[:, k]])
    grad = np.column_stack([run.dC_dw[:, k], run.dC_db[:, k]])[:-1]
    path = Path(xy, run.cost[:, k], grad, np.diff(xy, axis=0), (), run.diverged_at)
    lam_max = neuron_lam_max(setup)
    norm = math.hypot(setup.x, 1.0)
    dirs = (np.array([setup.x, 1.0]) / norm, np.array([1.0, -setup.x]) / norm)
    return _measure(setup.eta, path, neuron_minimum(setup, k), (0.0, lam_max), dirs, True)


class Onsets(NamedTuple):
    """Where the neuron's behaviour changes, measured on a grid of rates (etas, ascending),
    against the thresholds at the minimum.

    Per rate: verdicts; crossed, whether the path crossed the valley floor at all; settled,
    whether it ended within NEAR of its start's distance from the floor. crossing: the
    smallest rate whose path crossed; unsettled: where the stretch of rates at the top of the
    grid whose paths did not settle begins (a rate so small that it stalls on a plateau far
    below it does not count); None where no rate crossed, or the largest rate settled.
    """

    etas: np.ndarray
    verdicts: tuple[str, ...]
    crossed: tuple[bool, ...]
    settled: tuple[bool, ...]
    crossing: float | None
    unsettled: float | None
    oscillate_at: float
    diverge_at: float


UNSETTLED = ("bounces", "stalls", "diverges")
NEAR = 1e-3  # a path has settled when it ends within a thousandth of its start's distance


def neuron_onsets(
    setup: NeuronSetup = NEURON,
    lo: float = 0.25,
    hi: float = 4.0,
    per_octave: int = 24,
    steps: int = 400,
) -> Onsets:
    """Run the neuron for ``steps`` steps at rates from lo / lambda_max to hi / lambda_max,
    ``per_octave`` to a doubling (2^(1/24): 3% apart), and find where crossing the floor and
    settling change. 400 steps let a path at 0.97 times 2 / lambda_max (its swing x 0.97 a
    step) settle, so the measured onset is not an artefact of a short run (0.4 s)."""
    lam_max = neuron_lam_max(setup)
    n = round(math.log2(hi / lo) * per_octave) + 1
    etas = np.geomspace(lo, hi, n) / lam_max
    regimes = [neuron_regime(replace(setup, eta=float(e), epochs=steps)) for e in etas]
    crossed = tuple(r.swing.crossings > 0 for r in regimes)
    settled = tuple(
        bool(r.swing.settled or abs(r.steep[-1]) <= NEAR * abs(r.steep[0])) for r in regimes
    )
    crossing = next((float(e) for e, c in zip(etas, crossed) if c), None)
    top = max((k + 1 for k, ok in enumerate(settled) if ok), default=0)
    unsettled = float(etas[top]) if top < len(etas) else None
    verdicts = tuple(r.verdict for r in regimes)
    return Onsets(
        etas, verdicts, crossed, settled, crossing, unsettled, 1.0 / lam_max, 2.0 / lam_max
    )


# --- sentences about a path --------------------------------------------------------------------


def flat_sentence(r: Regime) -> str:
    """How far the path got along the valley (the flat direction, curvature lam_min): where a
    small rate crawls. Empty when the path has no flat component to speak of."""
    if r.lam_min <= 0 or r.flat[0] == 0 or r.path.diverged_at is not None:
        return ""
    left = abs(float(r.flat[-1] / r.flat[0]))
    steps = len(r.flat) - 1
    return (
        f"Along the valley, where the curvature is only λ_min = {amount(r.lam_min, 3)}, each "
        f"step keeps {amount(abs(1 - r.eta * r.lam_min), 3)} of the distance: after {steps} "
        f"steps {100 * left:.0f}% of it is still to go."
    )


def expected_verdict(r: Regime) -> str:
    """What the thresholds alone predict at r.eta (equality within 1e-9): "smooth" below
    1 / lam_max, "one step" at it, "oscillates" between, "bounces" at 2 / lam_max and above
    it "diverges" (on the quadratic) or "bounces" (where the thresholds are local)."""
    rel = r.eta * r.lam_max
    if abs(rel - 1) <= 1e-9:
        return "one step"
    if abs(rel - 2) <= 1e-9:
        return "bounces"
    if rel < 1:
        return "smooth"
    return "oscillates" if rel < 2 else ("bounces" if r.local else "diverges")


_WHAT = {
    "crawls": "the path **crawls**: after {steps} steps {left:.0f}% of the distance across the "
    "valley is still left{half}",
    "smooth": "the path descends **smoothly**: {crossed}, and the distance across it halved by "
    "step {halved}",
    "one step": "the steep direction is done in **one step**: the first step lands on the "
    "floor of the valley, and only the gentle direction is left",
    "oscillates": "the path **oscillates**: it crosses the floor of the valley on {flips} "
    "of its last steps, but its swing shrinks ({shrink})",
    "bounces": "the path **bounces**: it keeps crossing the floor of the valley and its swing "
    "no longer shrinks (over the last quarter of the {steps} steps its largest swing is "
    "{trend} that of the quarter before)",
    "stalls": "the path **stalls**: it has stopped moving, {far} from the floor of the valley "
    "as it started, where the cost is flat (σ has saturated)",
    "diverges": "the path **diverges**: every step overshoots the floor of the valley by more "
    "than the last, so the swing grows; {end}",
}


def regime_sentence(r: Regime) -> str:
    """What the path did at the reader's eta, where eta sits against 1 / lambda_max and
    2 / lambda_max, and the measured numbers behind the verdict (markdown). Where the
    thresholds are local (the neuron) and the path did something else than they predict,
    a second sentence says why."""
    s, steps = r.swing, len(r.steep) - 1
    left = 100 * abs(r.steep[-1] / r.steep[0]) if r.steep[0] != 0 else 0.0
    if r.path.diverged_at is not None:
        end = f"the run was stopped at step {r.path.diverged_at}, far outside the valley"
    else:
        end = f"after {steps} steps it is {amount(left / 100)}× as far across as at the start"
    text = _WHAT[s.verdict].format(
        steps=steps, left=left, halved=s.halved_at,
        flips="every one" if s.flips == 1 else f"{100 * s.flips:.0f}%",
        shrink=_shrink(s, steps), trend=_trend_words(s.swing), end=end,
        crossed=_crossed(s.crossings, s.flips), far=f"{amount(left / 100)}× as far",
        half=", not even half of it covered" if s.halved_at is None else "",
    )  # fmt: skip
    head = (
        f"At η = {amount(r.eta, 3)} ({_where(r)}; 1/λ_max = {amount(r.oscillate_at, 3)}, "
        f"2/λ_max = {amount(r.diverge_at, 3)}) "
    )
    out = head + text + "."
    early = s.crossings > 0 and r.eta * r.lam_max < 1  # crossed where theory says it cannot
    if r.local and (early or s.verdict != expected_verdict(r)) and not _near_threshold(r):
        out += (
            " The thresholds are the curvature at the minimum; where this path runs the cost "
            "curves differently, so it does not do what they predict there."
        )
    return out


def _crossed(n: int, flips: float) -> str:
    """How often a path that did not oscillate crossed the floor: never, or n times of which
    a share ``flips`` of its last steps."""
    if n == 0:
        return "it never crosses the floor of the valley"
    times = "once" if n == 1 else "twice" if n == 2 else f"{n} times"
    if flips == 0:
        return f"it crossed the floor of the valley {times} on the way, but closes in from one side"
    return (
        f"it crossed the floor of the valley {times}, on {100 * flips:.0f}% of its last steps, "
        "without a steady zig-zag"
    )


def _shrink(s: Swing, steps: int) -> str:
    """How an oscillation's swing shrinks: by a steady factor a step where the last step
    shrank it, else from one quarter of the steps to the next."""
    if s.factor is not None and s.factor < 1:
        return f"each swing {amount(s.factor)} times the one before"
    return (
        f"over the last quarter of the {steps} steps its largest swing is "
        f"{_trend_words(s.swing)} that of the quarter before"
    )


def _trend_words(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "beyond measure"
    return "the same as" if amount(ratio, 2) == "1" else f"{amount(ratio, 2)}×"


def _near_threshold(r: Regime, tol: float = 0.05) -> bool:
    """eta within 5% of either threshold, where any measurement over finitely many steps
    sits on the fence."""
    rel = r.eta * r.lam_max
    return abs(rel - 1) <= tol or abs(rel - 2) <= 2 * tol


def _where(r: Regime) -> str:
    """Where eta sits against the two thresholds, in words ("exactly" within 1e-9)."""
    rel = r.eta * r.lam_max
    if abs(rel - 1) <= 1e-9:
        return "exactly 1/λ_max"
    if abs(rel - 2) <= 1e-9:
        return "exactly 2/λ_max"
    if rel < 1:
        return f"{amount(1 / rel)} times smaller than 1/λ_max" if rel < 0.5 else "below 1/λ_max"
    return "between the two thresholds" if rel < 2 else f"{amount(rel / 2)} times 2/λ_max"


# --- MNIST: a scan of learning rates -----------------------------------------------------------

# Half-decade steps from far too small to diverging. On the default network below (seed 0,
# 2,000 digits, 10 epochs, mini-batch 10) the final validation accuracies were 0.003 52.9%,
# 0.01 74.4%, 0.03 87.0%, 0.1 91.2%, 0.3 91.5%, 1 91.8%, 3 86.2%; 10 diverged in epoch 1 (its
# training cost jumped from 6.4 to 22) and ended at 27.9%. Seeds 1 and 2: the same best (1)
# and the same single diverging rate (10, in epoch 1).
SCAN_ETAS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LEARNED = 0.2  # a run learned if its best validation accuracy reached 20% (chance is 10%)
N_EVAL = 1000  # validation digits: differences below ``accuracy_noise`` of them are ties


@dataclass(frozen=True)
class ScanSetup:
    """One network trained once per learning rate, from the same weights on the same
    mini-batches (``run_mnist`` seeds both from ``seed``).

    The network is the book's [784, 30, 10] with sigmoid units and cross-entropy. Such a
    network practically never overflows, so the engine never reports a divergence: too
    large a rate saturates the sigmoids and the cost, though large, stays finite. A run
    therefore counts as diverged (``diverged_epoch``) at the first epoch whose training cost
    ends above the untrained network's, the cost at epoch 0: training made the network
    worse at the very digits it trains on (or the engine stopped on a non-finite number).
    Measured on the default: 3 never comes near (its cost is 1.9 after epoch 1, against 6.4
    at the start), 10 jumps to 22 in epoch 1. ValueError for no rates, a rate that is not
    positive and finite, a rate named twice, or a non-positive size or count.
    """

    etas: tuple[float, ...] = SCAN_ETAS
    hidden: int = 30
    n_train: int = 2000
    epochs: int = 10
    batch_size: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.etas or not all(math.isfinite(e) and e > 0 for e in self.etas):
            raise ValueError(f"learning rates must be positive and finite: {self.etas}")
        if len(set(self.etas)) != len(self.etas):
            raise ValueError(f"a learning rate is named twice in {self.etas}")
        if min(self.hidden, self.n_train, self.epochs, self.batch_size) < 1:
            raise ValueError("hidden, n_train, epochs and batch_size must be at least 1")

    @property
    def base(self) -> MnistExperiment:
        """The experiment every rate shares (its own eta is the first rate's)."""
        return MnistExperiment(
            sizes=(784, self.hidden, 10),
            activation="sigmoid",
            cost="cross_entropy",
            weight_init="scaled",
            n_train=self.n_train,
            epochs=self.epochs,
            batch_size=self.batch_size,
            eta=self.etas[0],
            seed=self.seed,
        )

    def experiments(self) -> list[MnistExperiment]:
        """One experiment per rate, in the order of ``etas`` (the page caches each)."""
        return [self.base.with_(eta=e) for e in self.etas]


class ScanRun(NamedTuple):
    """One rate's run: its History (a row per epoch, row 0 untrained), the epoch at which it
    diverged by the rule of ``ScanSetup`` (None: it did not), and its final and best
    validation accuracy in % with the best's epoch (all three None if no trained epoch was
    recorded, which only a network that overflows in its first epoch can do)."""

    eta: float
    history: History
    diverged_epoch: int | None
    final_accuracy: float | None
    best_accuracy: float | None
    best_epoch: int | None
    learned: bool  # the best accuracy reached LEARNED (as a fraction) and beat the start


class Scan(NamedTuple):
    """The runs, in the order of the setup's rates; best the index of the highest final
    validation accuracy (to the tenth of a percent shown) among the runs that did not
    diverge and learned (the smallest such rate on a tie), None if there is none."""

    setup: ScanSetup
    runs: tuple[ScanRun, ...]
    best: int | None

    @property
    def first_diverging(self) -> float | None:
        """The smallest rate of the scan that diverged (None: none did)."""
        rates = [r.eta for r in self.runs if r.diverged_epoch is not None]
        return min(rates) if rates else None


def diverged_epoch(history: History, stopped: Divergence | None) -> int | None:
    """The first epoch whose training cost is above the initial one (row 0), else the epoch
    at which the engine stopped on a non-finite number, else None."""
    cost = np.asarray(history.train_cost, dtype=float)
    above = np.flatnonzero(cost[1:] > cost[0]) if len(cost) else np.array([], dtype=int)
    if above.size:
        return int(history.epoch[above[0] + 1])
    return None if stopped is None else stopped.epoch


def scan_run(eta: float, result: TrainResult) -> ScanRun:
    """Read one rate's TrainResult."""
    h = result.history
    acc = 100 * np.asarray(h.eval_accuracy, dtype=float)
    diverged = diverged_epoch(h, result.diverged_at)
    if len(acc) < 2:
        return ScanRun(eta, h, diverged, None, None, None, False)
    k = int(np.argmax(acc[1:])) + 1
    learned = bool(acc[k] >= 100 * LEARNED and acc[k] > acc[0])
    return ScanRun(eta, h, diverged, float(acc[-1]), float(acc[k]), int(h.epoch[k]), learned)


def scan_result(setup: ScanSetup, results: list[TrainResult]) -> Scan:
    """Assemble a Scan from one TrainResult per rate of ``setup`` (in its order)."""
    if len(results) != len(setup.etas):
        raise ValueError(f"{len(results)} results for {len(setup.etas)} rates")
    runs = tuple(scan_run(e, r) for e, r in zip(setup.etas, results))
    ok = [i for i, r in enumerate(runs) if r.diverged_epoch is None and r.learned]
    best = max(ok, key=lambda i: (_pct(runs[i].final_accuracy), -runs[i].eta)) if ok else None
    return Scan(setup, runs, best)


def run_scan(setup: ScanSetup = ScanSetup(), on_progress=None) -> Scan:
    """Train once per rate (uncached; the page caches each run). ``on_progress(done, total)``
    is called after every epoch, counted over the whole scan."""
    results, total = [], len(setup.etas) * setup.epochs
    for i, exp in enumerate(setup.experiments()):
        tick = None
        if on_progress is not None:

            def tick(epoch: int, _total: int, base: int = i * setup.epochs) -> None:
                on_progress(base + epoch, total)

        results.append(run_mnist(exp, tick))
    return scan_result(setup, results)


def _pct(accuracy: float | None) -> float:
    """An accuracy in % as shown, to a tenth (None sorts as -1: no value)."""
    return -1.0 if accuracy is None else round(accuracy, 1)


# --- MNIST: the learning-rate range test -------------------------------------------------------


@dataclass(frozen=True)
class RangeSetup:
    """Smith's range test on the scan's network: the same initial weights, training digits,
    mini-batch size and mini-batches in the same order (both draw them from ``scan.seed``), the rate
    raised exponentially from lr_min to lr_max, one mini-batch each, over ``steps`` steps.

    Defaults: 1,000 steps from 0.001 to 100, five decades (0.4 s cold). The suggestion reads the
    minimum of the loss smoothed with beta = 0.98, which lags about 49 steps behind the raw
    loss: here a quarter of a decade, a factor of 1.8 in rate (``smoothing_lag``); over
    fastai's 100 steps across the same five decades it would be 2.5 decades. The test never
    stops early (the engine's stop at 4× the lowest mini-batch loss trips on the noise of
    10-digit mini-batches, measured at rates from 1.8 to 15, before the loss has risen): a
    sigmoid network does not overflow, so the whole curve is drawn, and it rises past ~10.
    """

    scan: ScanSetup = ScanSetup()
    lr_min: float = 1e-3
    lr_max: float = 100.0
    steps: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.lr_min < self.lr_max or self.steps < 2:
            raise ValueError("need 0 < lr_min < lr_max and at least 2 steps")


class RangeResult(NamedTuple):
    """The range test's curve and what it suggests.

    lrs, losses, smoothed (n,): the rate of each step, the mini-batch cost before it and that
    cost smoothed (``schedules.smoothed_losses``); suggestion (lo, hi) from
    ``schedules.suggest_range``: hi the rate at the smoothed minimum, lo = hi / 10;
    start_cost the untrained network's cost on the training digits (the scan's row 0);
    blew_up_at the first rate past the smoothed minimum at which the smoothed loss is above
    start_cost (the scan's rule for a diverged run; None: it never was); stopped_at the rate
    at which the engine stopped on a non-finite cost (None: it ran every step).
    """

    setup: RangeSetup
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: tuple[float, float]
    start_cost: float
    blew_up_at: float | None
    stopped_at: float | None


def run_range_test(setup: RangeSetup = RangeSetup()) -> RangeResult:
    """Run the range test (``training.lr_range_test``) from the scan's initial network."""
    exp = setup.scan.base
    data = load_mnist().train.take(exp.n_train)
    rng = np.random.default_rng(exp.seed)
    params = init_params(exp.spec, rng=rng)  # as run_mnist draws them: the same weights
    start_cost = evaluate(exp.spec, params, data)[0]
    test = lr_range_test(
        exp.spec, params, data, TrainConfig(batch_size=exp.batch_size),
        lr_min=setup.lr_min, lr_max=setup.lr_max, steps=setup.steps, rng=rng, blow_up=math.inf,
    )  # fmt: skip
    smoothed = smoothed_losses(test.loss)
    low = int(np.argmin(smoothed))
    above = np.flatnonzero(smoothed[low:] > start_cost)
    stopped = None
    if test.diverged_at is not None:
        stopped = float(range_test(setup.lr_min, setup.lr_max, setup.steps)(test.diverged_at))
    return RangeResult(
        setup, test.lr, test.loss, smoothed, test.suggestion, float(start_cost),
        float(test.lr[low + above[0]]) if above.size else None, stopped,
    )  # fmt: skip


# --- MNIST sentences ---------------------------------------------------------------------------


def scan_sentence(scan: Scan, n_eval: int = N_EVAL) -> str:
    """Which rate was best and by how much each other rate lost, which diverged and when, in
    sentences (markdown). Rates that ended within ``accuracy_noise`` of the best (two standard
    errors of the difference on n_eval validation digits) are said to be within noise of it;
    equal accuracies to the tenth shown are named together as the best."""
    diverged = [r for r in scan.runs if r.diverged_epoch is not None]
    tail = [_diverged_sentence(diverged)] if diverged else []
    if len(diverged) == len(scan.runs):
        return "Every rate diverged. " + tail[0]
    running = [r for r in scan.runs if r.diverged_epoch is None]
    if scan.best is None:
        return " ".join([_none_learned(running), *tail])
    top = _pct(scan.runs[scan.best].final_accuracy)
    leaders = [r for r in running if _pct(r.final_accuracy) == top]
    others = sorted((r for r in running if r not in leaders), key=lambda r: r.eta)
    close = [r for r in others if r.learned and _lost(top, r) <= _noise(top, r, n_eval)]
    lost = [r for r in others if r not in close]
    if len(leaders) == 1:
        text = f"The best rate was **η = {_eta(leaders[0].eta)}**, at {top:.1f}%"
    else:
        text = f"**{_etas(leaders)}** ended level at the top, at {top:.1f}%"
    text += f" validation accuracy after {_plural(scan.setup.epochs, 'epoch')}."
    if close:
        verb = "is" if len(close) == 1 else "are"
        text += (
            f" {_with_pct(close)} {verb} within noise of it (on {n_eval:,} validation digits "
            f"a difference under about {accuracy_noise(top, top, n_eval):.1f} points is noise)."
        )
    if lost:
        parts = [
            f"η = {_eta(r.eta)} by {_lost(top, r):.1f}"
            + ("" if r.learned else " (it did not learn)")
            for r in lost
        ]
        text += f" {'The others' if close else 'The other rates'} ended lower, in points: "
        text += names(parts) + "."
    return " ".join([text, *tail])


def _with_pct(runs: list[ScanRun]) -> str:
    """'η = 0.1 (91.2%) and 0.3 (91.5%)'."""
    return "η = " + names([f"{_eta(r.eta)} ({_pct(r.final_accuracy):.1f}%)" for r in runs])


def _diverged_sentence(runs: list[ScanRun]) -> str:
    """'Diverged (...): η = 10 in epoch 1 (training cost 6.4 → 22), ending at 27.9%.'"""
    parts = []
    for r in runs:
        end = f", ending at {r.final_accuracy:.1f}%" if r.final_accuracy is not None else ""
        parts.append(f"η = {_eta(r.eta)} in epoch {r.diverged_epoch}{_jump(r)}{end}")
    return (
        "Diverged (the training cost ended an epoch above the untrained network's): "
        + names(parts)
        + "."
    )


def _jump(run: ScanRun) -> str:
    """' (training cost 6.4 → 22)' at the epoch the run diverged, '' if that epoch has no
    row (the engine stopped on a non-finite number)."""
    rows = np.flatnonzero(np.asarray(run.history.epoch) == run.diverged_epoch)
    if not rows.size:
        return ""
    cost = run.history.train_cost
    return f" (training cost {amount(cost[0])} → {amount(cost[rows[0]])})"


def _none_learned(running: list[ScanRun]) -> str:
    """No rate that kept going learned: say so, with the best final accuracy among them."""
    ended = [r for r in running if r.final_accuracy is not None]
    if not ended:
        return "No rate that kept going recorded a trained epoch."
    best = max(ended, key=lambda r: _pct(r.final_accuracy))
    return (
        f"No rate that kept going learned: none reached {LEARNED:.0%} validation accuracy and "
        f"beat its start (guessing gives 10%); the best final accuracy was "
        f"{_pct(best.final_accuracy):.1f}% (η = {_eta(best.eta)})."
    )


def _lost(top: float, run: ScanRun) -> float:
    """Points of validation accuracy a run ended below ``top``, both as shown (to a tenth)."""
    return round(top - _pct(run.final_accuracy), 1)


def _noise(top: float, run: ScanRun, n_eval: int) -> float:
    return accuracy_noise(top, _pct(run.final_accuracy), n_eval)


def _eta(eta: float) -> str:
    return amount(eta, 3)


def _etas(runs: list[ScanRun]) -> str:
    """'η = 0.1', 'η = 0.1 and 0.3', 'η = 0.03, 0.1 and 0.3'."""
    return "η = " + names([_eta(r.eta) for r in runs])


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def range_sentence(rr: RangeResult, scan: Scan | None = None) -> str:
    """What the range test suggests, where its loss rose, and how that compares with the
    scan's best rate and its first diverging one (markdown)."""
    s = rr.setup
    lo, hi = rr.suggestion
    text = (
        f"Raising η from {_eta(s.lr_min)} to {_eta(s.lr_max)} over {s.steps:,} mini-batches, "
        f"the smoothed loss was lowest at η = {amount(hi)}, so the test suggests "
        f"**η from {amount(lo)} to {amount(hi)}** (a decade below that minimum, up to it)."
    )
    if rr.stopped_at is not None:
        text += f" The cost stopped being a finite number at η = {amount(rr.stopped_at)}."
    elif rr.blew_up_at is not None:
        text += (
            " Past the minimum the smoothed loss rose above the untrained network's cost "
            f"({amount(rr.start_cost)}) at η = {amount(rr.blew_up_at)}."
        )
    else:
        text += f" Up to η = {_eta(s.lr_max)} the loss never rose above the untrained network's."
    return text if scan is None else " ".join([text, *_against_scan(rr, scan)])


def smoothing_lag(setup: RangeSetup, beta: float = SMOOTHING) -> float:
    """The factor in rate by which the smoothed loss lags the raw one: its ~beta / (1 - beta)
    steps of delay, at the test's rise of (lr_max / lr_min)^(1 / (steps - 1)) a step."""
    return (setup.lr_max / setup.lr_min) ** (beta / (1.0 - beta) / (setup.steps - 1))


def _against_scan(rr: RangeResult, scan: Scan) -> list[str]:
    """The suggestion against the scan's best rate, the blow-up against its first diverging."""
    lo, hi = rr.suggestion
    out = []
    if scan.best is None:
        out.append("The scan has no best rate to compare with: no rate that kept going learned.")
    else:
        best = scan.runs[scan.best].eta
        if lo <= best <= hi:
            where = "inside the suggested range"
        elif best < lo:
            where = f"{amount(lo / best)} times below its lower end"
        else:
            where = f"{amount(best / hi)} times above its upper end"
        out.append(f"The scan's best rate, η = {_eta(best)}, lies {where}.")
    first = scan.first_diverging
    if first is not None:
        below = [r.eta for r in scan.runs if r.diverged_epoch is None and r.eta < first]
        since = f" (η = {_eta(max(below))} did not)" if below else ""
        out.append(f"In the scan the smallest rate that diverged was η = {_eta(first)}{since}.")
        if rr.blew_up_at is not None:
            out.append(_blow_up_phrase(rr, first))
    return out


def _blow_up_phrase(rr: RangeResult, first: float) -> str:
    """Where the test's loss blew up against the scan's first diverging rate."""
    blew, lag = rr.blew_up_at, smoothing_lag(rr.setup)
    if math.isclose(blew, first, rel_tol=0.05):
        return "The range test's loss blew up at that same rate."
    if blew < first:
        return f"The range test's loss blew up already {amount(first / blew)} times below it."
    return (
        f"The range test's loss blew up at {amount(blew / first)} times that rate; its smoothing "
        f"alone delays the curve by a factor of about {amount(lag)} in rate."
    )
