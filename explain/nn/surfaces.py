"""Two-dimensional test functions on which optimizers draw their paths, for the optimizer lesson.

Each ``Surface`` carries f and its analytic gradient, both vectorized over points of shape
(..., 2) so that a page can evaluate a whole contour grid in one call, plus its known minima, a
default start and plotting bounds. ``run_path`` runs any optimizer from ``explain.nn.optimizers``
on a surface, optionally with Gaussian gradient noise standing in for mini-batch noise, and
stops cleanly when the path diverges. ``contraction`` and ``steps_to_reach`` turn a path into the
numbers that theory predicts (for GD on a quadratic, contraction (kappa - 1) / (kappa + 1)).

Glossary: p = (x, y) a point; A the quadratic's Hessian with eigenvalues lambda_min <= lambda_max;
kappa = lambda_max / lambda_min its condition number; g a gradient; eta the learning rate;
sigma (``noise``) the std of the noise added to each gradient component.

Non-goals: surfaces in more than two dimensions, automatic differentiation, plotting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from explain.nn.network import Params
from explain.nn.optimizers import Optimizer, apply_updates

Point = tuple[float, float]


class Surface(NamedTuple):
    """A 2-D test function, its gradient, its minima and how to plot it.

    f(xy (..., 2)) -> (...); grad(xy (..., 2)) -> (..., 2). ``minima`` lists every global
    minimum (empty, with ``min_value`` None, for a surface unbounded below). ``curvatures`` is
    (lambda_min, lambda_max) of the Hessian where the Hessian is constant, else None.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    minima: tuple[Point, ...]
    min_value: float | None
    start: Point
    bounds: tuple[Point, Point]
    curvatures: Point | None = None


class Path(NamedTuple):
    """One optimizer run on a surface, k steps long (k = steps, or fewer if it diverged).

    xy (k+1, 2) positions from the start; loss (k+1,) f at each position; grad (k, 2) the
    (noisy) gradients used; updates (k, 2) the steps taken; states the optimizer state after
    each step (k entries); diverged_at the index of the first position that was not finite,
    had |coordinate| > clip or a non-finite f (so len(xy) == diverged_at), None if the run
    finished.
    """

    xy: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    updates: np.ndarray
    states: tuple[Any, ...]
    diverged_at: int | None


def _split(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy = np.asarray(xy, dtype=float)
    return xy[..., 0], xy[..., 1]


def _pair(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """(..., 2) from two broadcastable (...) arrays."""
    if type(gx) is type(gy) is np.float64:  # one point, the runner's hot path
        return np.array((gx, gy))
    out = np.empty(np.broadcast_shapes(np.shape(gx), np.shape(gy)) + (2,))
    out[..., 0], out[..., 1] = gx, gy
    return out


def quadratic(kappa: float = 10.0, angle_deg: float = 0.0, lam_max: float = 1.0) -> Surface:
    """f(p) = 1/2 p^T A p with A = R diag(lam_max / kappa, lam_max) R^T, R a rotation by angle.

    The flat eigenvector (lambda_min) is (cos angle, sin angle), the steep one (lambda_max)
    is (-sin angle, cos angle). GD is stable for eta < 2 / lambda_max.
    """
    lam_min = lam_max / kappa
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    R = np.array([[c, -s], [s, c]])
    A = R @ np.diag([lam_min, lam_max]) @ R.T

    def f(xy):
        xy = np.asarray(xy, dtype=float)
        return 0.5 * np.einsum("...i,ij,...j->...", xy, A, xy)

    def grad(xy):
        return np.asarray(xy, dtype=float) @ A  # A is symmetric

    # the default start lies off both eigenvectors, so both modes show in the path
    start = tuple((R @ np.array([-3.0, 1.0])).tolist())
    return Surface(
        f"quadratic(kappa={kappa:g}, angle={angle_deg:g})",
        f,
        grad,
        ((0.0, 0.0),),
        0.0,
        start,
        ((-4.0, 4.0), (-4.0, 4.0)),
        (lam_min, lam_max),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """f = (a - x)^2 + b (y - x^2)^2: a curved, narrow valley; minimum at (a, a^2)."""

    def f(xy):
        x, y = _split(xy)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(xy):
        x, y = _split(xy)
        r = y - x**2
        return _pair(-2 * (a - x) - 4 * b * x * r, 2 * b * r)

    return Surface(
        f"rosenbrock(a={a:g}, b={b:g})",
        f,
        grad,
        ((a, a * a),),
        0.0,
        (-1.5, 2.0),
        ((-2.0, 2.0), (-1.0, 3.0)),
    )


def scaled_rosenbrock() -> Surface:
    """f = (1 - x)^2 + 20 (3y - x^2)^2: a gentler valley; f = 0 only at x = 1, 3y = x^2 = 1."""

    def f(xy):
        x, y = _split(xy)
        return (1 - x) ** 2 + 20 * (3 * y - x**2) ** 2

    def grad(xy):
        x, y = _split(xy)
        r = 3 * y - x**2
        return _pair(-2 * (1 - x) - 80 * x * r, 120 * r)

    return Surface(
        "scaled rosenbrock",
        f,
        grad,
        ((1.0, 1.0 / 3.0),),
        0.0,
        (-1.5, 1.0),
        ((-2.0, 2.0), (-0.5, 1.5)),
    )


def _beale_terms(xy) -> tuple:
    """x, y, y^2, y^3 and the residuals t_n = c_n - x + x y^n, n = 1, 2, 3."""
    x, y = _split(xy)
    y2 = y * y
    y3 = y2 * y
    return x, y, y2, y3, 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3


def beale() -> Surface:
    """f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimum at (3, 0.5)."""

    def f(xy):
        *_, t1, t2, t3 = _beale_terms(xy)
        return t1 * t1 + t2 * t2 + t3 * t3

    def grad(xy):
        x, y, y2, y3, t1, t2, t3 = _beale_terms(xy)
        return _pair(
            2 * (t1 * (y - 1) + t2 * (y2 - 1) + t3 * (y3 - 1)),
            2 * x * (t1 + 2 * t2 * y + 3 * t3 * y2),
        )

    return Surface("beale", f, grad, ((3.0, 0.5),), 0.0, (1.0, 1.5), ((-4.5, 4.5), (-4.5, 4.5)))


def _himmelblau_f(xy):
    x, y = _split(xy)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_grad(xy):
    x, y = _split(xy)
    u, v = x**2 + y - 11, x + y**2 - 7
    return _pair(4 * x * u + 2 * v, 2 * u + 4 * y * v)


def _himmelblau_hessian(x: float, y: float) -> np.ndarray:
    u, v = x**2 + y - 11, x + y**2 - 7
    return np.array([[4 * u + 8 * x**2 + 2, 4 * x + 4 * y], [4 * x + 4 * y, 4 * v + 8 * y**2 + 2]])


def _newton_polish(x: float, y: float, steps: int = 8) -> Point:
    """Newton's method p <- p - H^{-1} g from a rounded literature value, to machine precision."""
    p = np.array([x, y])
    for _ in range(steps):
        p = p - np.linalg.solve(_himmelblau_hessian(*p), _himmelblau_grad(p))
    return (float(p[0]), float(p[1]))


# Literature values (six decimals), polished once at import by Newton's method.
_HIMMELBLAU_MINIMA = tuple(
    _newton_polish(x, y)
    for x, y in ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
)


def himmelblau() -> Surface:
    """f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2: four global minima with f = 0, e.g. (3, 2)."""
    return Surface(
        "himmelblau",
        _himmelblau_f,
        _himmelblau_grad,
        _HIMMELBLAU_MINIMA,
        0.0,
        (-0.5, 0.5),
        ((-5.0, 5.0), (-5.0, 5.0)),
    )


def saddle() -> Surface:
    """f = x^2 - y^2: a saddle at the origin, unbounded below, so minima == () and
    min_value is None. The default start (1.5, 0) lies on the ridge y = 0, where plain GD
    walks into the saddle and stays; noise or a tiny y offset lets it escape."""

    def f(xy):
        x, y = _split(xy)
        return x**2 - y**2

    def grad(xy):
        x, y = _split(xy)
        return _pair(2 * x, -2 * y)

    return Surface("saddle", f, grad, (), None, (1.5, 0.0), ((-2.0, 2.0), (-2.0, 2.0)), (-2.0, 2.0))


SURFACES: dict[str, Callable[..., Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "scaled_rosenbrock": scaled_rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "saddle": saddle,
}


def get_surface(name: str, **params: float) -> Surface:
    """The surface called ``name``, built with ``params`` (e.g. kappa=100 for the quadratic)."""
    if name not in SURFACES:
        raise KeyError(f"unknown surface {name!r}; choose from {sorted(SURFACES)}")
    return SURFACES[name](**params)


def gradient_noise(
    steps: int, noise: float, *, rng: np.random.Generator | None
) -> np.ndarray | None:
    """(steps, 2) Gaussian draws with std ``noise`` to add to each gradient, None if noise == 0.

    Imitates mini-batch noise: g_t = grad f(p_t) + sigma * z_t with z_t ~ N(0, I).
    """
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    if noise == 0:
        return None
    if rng is None:
        raise ValueError("noise > 0 needs a seeded rng (keyword-only np.random.Generator)")
    return rng.normal(0.0, noise, size=(steps, 2))


def _pack(rows: list, width: int) -> np.ndarray:
    return np.array(rows, dtype=float).reshape(len(rows), width)


def _walk(
    surface: Surface,
    optimizer: Optimizer,
    p: np.ndarray,
    steps: int,
    kicks: np.ndarray | None,
    clip: float,
) -> tuple[list, list, list, list]:
    """The optimizer loop of run_path: positions, gradients, updates, states as lists."""
    params = Params(W=(p,), b=())
    state = optimizer.init(params)
    xy, grads, updates, states = [p], [], [], []
    for t in range(steps):
        g = surface.grad(p) if kicks is None else surface.grad(p) + kicks[t]
        u, state = optimizer.update(Params(W=(g,), b=()), state, params)
        params = apply_updates(params, u)
        p = params.W[0]
        x, y = p.tolist()
        if not (abs(x) <= clip and abs(y) <= clip):  # False for NaN too
            break
        xy.append(p)
        grads.append(g)
        updates.append(u.W[0])
        states.append(state)
    return xy, grads, updates, states


def run_path(
    surface: Surface,
    optimizer: Optimizer,
    start: Point | np.ndarray | None,
    steps: int,
    *,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
    clip: float = 1e6,
) -> Path:
    """Run ``optimizer`` on ``surface`` for ``steps`` steps from ``start`` (None: surface.start).

    Each step: g_t = grad f(p_t) (+ noise), (u_t, state) = update(g_t, state, p_t),
    p_{t+1} = p_t + u_t. Stops before the first position that is not finite, has
    |coordinate| > clip, or whose loss is not finite (Path.diverged_at), so xy and loss are
    always finite. start is (2,); noise the std sigma of the gradient noise, drawn from rng;
    ValueError if noise > 0 without rng.
    """
    kicks = gradient_noise(steps, noise, rng=rng)  # (steps, 2) or None
    p = np.array(surface.start if start is None else start, dtype=float).reshape(2)
    with np.errstate(all="ignore"):  # overflow at a huge eta is expected, and caught
        xy, grads, updates, states = _walk(surface, optimizer, p, steps, kicks, clip)
        loss = surface.f(np.array(xy))  # one vectorized call for the whole path
    diverged_at = len(xy) if len(xy) <= steps else None
    bad = np.flatnonzero(~np.isfinite(loss))  # f can overflow at a finite point if clip = inf
    if bad.size:
        if bad[0] == 0:
            raise ValueError(f"f is not finite at the start {p}")
        diverged_at = int(bad[0])
    k = len(xy) if diverged_at is None else diverged_at  # positions kept
    return Path(
        _pack(xy[:k], 2),
        loss[:k],
        _pack(grads[: k - 1], 2),
        _pack(updates[: k - 1], 2),
        tuple(states[: k - 1]),
        diverged_at,
    )


def _distances(path: Path, minimum: Point) -> np.ndarray:
    return np.hypot(path.xy[:, 0] - minimum[0], path.xy[:, 1] - minimum[1])


def contraction(path: Path, minimum: Point, floor: float = 1e-12, tail: float = 0.5) -> float:
    """Measured per-step contraction of the distance d_k = |p_k - p*|.

    Window: the positions before d_k first drops to ``floor`` (below it round-off, not the
    optimizer, sets the ratio), and of those the last ``tail`` fraction, from i to j; returns
    the geometric mean of d_{k+1} / d_k over it, which telescopes to (d_j / d_i)^(1 / (j - i)).
    Theory: GD on a quadratic with eta = 2 / (lambda_min + lambda_max) gives
    (kappa - 1) / (kappa + 1). NaN when fewer than two positions lie above the floor.
    """
    d = _distances(path, minimum)
    below = np.flatnonzero(~(d > floor))
    n = int(below[0]) if below.size else d.size  # d_0 .. d_{n-1} lie above the floor
    if n < 2:
        return math.nan
    last = n - 1
    first = min(int((1 - tail) * last), last - 1)
    return float((d[last] / d[first]) ** (1.0 / (last - first)))


def steps_to_reach(path: Path, minimum: Point, tol: float) -> int | None:
    """The first k with |p_k - p*| <= tol (the number of steps taken to get there), or None."""
    hits = np.flatnonzero(_distances(path, minimum) <= tol)
    return int(hits[0]) if hits.size else None


def grid(surface: Surface, n: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A contour grid over surface.bounds: xs (n,), ys (n,), values (n, n) with
    values[i, j] = f(xs[j], ys[i]) (rows follow y, as np.meshgrid's default)."""
    (xmin, xmax), (ymin, ymax) = surface.bounds
    xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
    X, Y = np.meshgrid(xs, ys)
    return xs, ys, surface.f(np.stack([X, Y], axis=-1))
