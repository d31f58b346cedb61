"""The 2-D test surfaces and the path runner: analytic gradients against finite differences,
the known minima, and the optimizer-theory claims the pages make (GD's and momentum's
contraction on a quadratic, the 2 / lambda_max stability edge, saddle escape, Adam's scale
invariance), plus the runner's divergence handling, noise seeding and speed."""

import math
import time
import warnings

import numpy as np
import pytest

from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.optimizers import adagrad, adam, make_optimizer, momentum, nesterov, rmsprop, sgd
from explain.nn.surfaces import (
    SURFACES,
    Surface,
    contraction,
    get_surface,
    grid,
    quadratic,
    rosenbrock,
    run_path,
    saddle,
    scaled_rosenbrock,
    steps_to_reach,
)

ORIGIN = (0.0, 0.0)
# Surfaces as the pages build them, plus a rotated ill-conditioned quadratic.
CASES = {name: SURFACES[name]() for name in SURFACES} | {
    "quadratic_rotated": quadratic(kappa=50.0, angle_deg=35.0, lam_max=4.0)
}


def random_points(surface: Surface, n: int, seed: int) -> np.ndarray:
    """(n, 2) points drawn uniformly inside the surface's plotting bounds."""
    rng = np.random.default_rng(seed)
    (xmin, xmax), (ymin, ymax) = surface.bounds
    return np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)])


def fd_hessian(surface: Surface, xy, h: float = 1e-5) -> np.ndarray:
    """(2, 2) Hessian by central differences of the analytic gradient, symmetrized."""
    H = np.empty((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        H[:, j] = (surface.grad(np.asarray(xy) + e) - surface.grad(np.asarray(xy) - e)) / (2 * h)
    return (H + H.T) / 2


# ---------------------------------------------------------------- gradients and minima


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    surface = CASES[name]
    for xy in random_points(surface, 8, seed=1):
        x = xy.copy()
        numeric = numerical_gradient(lambda x=x: float(surface.f(x)), x, h=1e-5)
        # f reaches ~1e5 (Beale at the corners) so round-off in the differences is
        # ~1e-16 * 1e5 / 1e-5 = 1e-6 absolute: entries below 1e-2 are compared absolutely
        assert relative_error(surface.grad(xy), numeric, floor=1e-2) < 1e-6, (name, xy)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vectorized_f_and_grad_agree_with_pointwise(name):
    surface = CASES[name]
    pts = random_points(surface, 12, seed=2).reshape(3, 4, 2)
    values, grads = surface.f(pts), surface.grad(pts)
    assert values.shape == (3, 4)
    assert grads.shape == (3, 4, 2)
    for i, j in np.ndindex(3, 4):
        assert values[i, j] == pytest.approx(float(surface.f(pts[i, j])), rel=1e-14)
        np.testing.assert_allclose(grads[i, j], surface.grad(pts[i, j]), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].minima))
def test_known_minima_have_min_value_and_zero_gradient(name):
    surface = CASES[name]
    for xy in surface.minima:
        assert float(surface.f(np.array(xy))) == pytest.approx(surface.min_value, abs=1e-20)
        assert np.abs(surface.grad(np.array(xy))).max() < 1e-10, (name, xy)
        # a true minimum: f rises in every direction around it
        ring = np.array(xy) + 1e-3 * np.column_stack(
            [np.cos(np.linspace(0, 2 * np.pi, 16)), np.sin(np.linspace(0, 2 * np.pi, 16))]
        )
        assert (surface.f(ring) > surface.min_value).all()


def test_minima_locations_from_the_literature():
    assert rosenbrock().minima == ((1.0, 1.0),)
    assert scaled_rosenbrock().minima == (pytest.approx((1.0, 1 / 3)),)
    assert SURFACES["beale"]().minima == ((3.0, 0.5),)
    himmelblau = SURFACES["himmelblau"]()
    literature = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    assert len(himmelblau.minima) == 4
    for found, known in zip(himmelblau.minima, literature):
        np.testing.assert_allclose(found, known, atol=1e-6)


def test_saddle_has_no_minimum_and_a_stationary_point_at_the_origin():
    surface = saddle()
    assert surface.minima == ()
    assert surface.min_value is None
    np.testing.assert_array_equal(surface.grad(np.zeros(2)), 0.0)
    eigvals = np.linalg.eigvalsh(fd_hessian(surface, (0.3, -0.7)))
    np.testing.assert_allclose(eigvals, surface.curvatures, rtol=1e-8)  # (-2, 2)
    assert float(surface.f(np.array([0.0, 1e3]))) < -1e5  # unbounded below along y
    assert surface.start[1] == 0.0  # the default start is on the ridge


@pytest.mark.parametrize(("kappa", "angle", "lam_max"), [(10.0, 0.0, 1.0), (100.0, 30.0, 2.5)])
def test_quadratic_curvatures_and_rotation_match_the_hessian(kappa, angle, lam_max):
    surface = quadratic(kappa=kappa, angle_deg=angle, lam_max=lam_max)
    H = fd_hessian(surface, random_points(surface, 1, seed=3)[0])
    eigvals, eigvecs = np.linalg.eigh(H)
    np.testing.assert_allclose(eigvals, [lam_max / kappa, lam_max], rtol=1e-7)
    np.testing.assert_allclose(surface.curvatures, [lam_max / kappa, lam_max], rtol=1e-12)
    theta = math.radians(angle)
    flat, steep = (math.cos(theta), math.sin(theta)), (-math.sin(theta), math.cos(theta))
    assert abs(eigvecs[:, 0] @ flat) == pytest.approx(1.0, abs=1e-9)
    assert abs(eigvecs[:, 1] @ steep) == pytest.approx(1.0, abs=1e-9)


def test_get_surface_passes_parameters_and_rejects_unknown_names():
    assert get_surface("quadratic", kappa=40.0).curvatures == pytest.approx((1 / 40, 1.0))
    assert get_surface("rosenbrock", a=2.0).minima == ((2.0, 4.0),)
    with pytest.raises(KeyError, match="unknown surface"):
        get_surface("eggholder")


@pytest.mark.parametrize("name", sorted(CASES))
def test_grid_is_finite_and_indexed_rows_by_y(name):
    surface = CASES[name]
    xs, ys, values = grid(surface, n=30)
    assert xs.shape == ys.shape == (30,)
    assert values.shape == (30, 30)
    assert np.isfinite(values).all()
    assert values[7, 3] == pytest.approx(float(surface.f(np.array([xs[3], ys[7]]))))


# ------------------------------------------------------------ theory on the quadratic

KAPPA = 100.0
QUAD = quadratic(kappa=KAPPA, angle_deg=30.0)
L1, LN = QUAD.curvatures
RATE_GD = (KAPPA - 1) / (KAPPA + 1)
# Goh, "Why momentum really works" (2017): the optimal heavy-ball pair for z <- beta z + g,
# p <- p - alpha z, and its rate sqrt(beta) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1).
ALPHA_GOH = (2 / (math.sqrt(L1) + math.sqrt(LN))) ** 2
BETA_GOH = ((math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)) ** 2
RATE_MOM = math.sqrt(BETA_GOH)


def test_gd_contraction_is_kappa_minus_one_over_kappa_plus_one():
    path = run_path(QUAD, sgd(2 / (L1 + LN)), None, 2000)
    assert path.diverged_at is None
    # both eigen-directions shrink by exactly RATE_GD each step, so only round-off differs
    assert contraction(path, ORIGIN) == pytest.approx(RATE_GD, abs=1e-6)


def test_momentum_contraction_at_gohs_optimum_is_sqrt_kappa_rate():
    path = run_path(QUAD, momentum(ALPHA_GOH, BETA_GOH), None, 2000)
    # At the optimum both extreme eigenvalues are critically damped (a double root of the
    # iteration), so the distance decays as (1 + c k) RATE_MOM^k: over the measured window
    # (k ~ 70..140) the factor (k + 1) / k adds ~1 %, hence 0.01 rather than round-off.
    measured = contraction(path, ORIGIN)
    assert measured == pytest.approx(RATE_MOM, abs=0.01)
    assert measured < RATE_GD - 0.1  # and far from GD's rate: the test can tell them apart


def test_momentum_reaches_tolerance_in_fewer_steps_close_to_the_rate_ratio():
    gd = run_path(QUAD, sgd(2 / (L1 + LN)), None, 3000)
    mom = run_path(QUAD, momentum(ALPHA_GOH, BETA_GOH), None, 3000)
    theory = math.log(RATE_MOM) / math.log(RATE_GD)  # steps_gd / steps_mom, about 10
    n_gd, n_mom = (steps_to_reach(p, ORIGIN, 1e-8) for p in (gd, mom))
    assert n_mom < n_gd
    # From the start the ratio falls short of theory: momentum's (1 + c k) factor costs it
    # about ln(k) / ln(1 / RATE_MOM) ~ 24 extra steps (~8.2 measured vs ~10). Tolerance 25 %.
    assert 0.75 * theory < n_gd / n_mom <= theory
    # Per decade of accuracy (1e-4 -> 1e-10) the constant cancels and the ratio is within 10 %.
    per_decade = [
        steps_to_reach(p, ORIGIN, 1e-10) - steps_to_reach(p, ORIGIN, 1e-4) for p in (gd, mom)
    ]
    assert per_decade[0] / per_decade[1] == pytest.approx(theory, rel=0.1)


def test_gd_diverges_just_above_two_over_lambda_max_and_not_below():
    above = run_path(QUAD, sgd(2.05 / LN), None, 1000)
    below = run_path(QUAD, sgd(1.95 / LN), None, 1000)
    assert isinstance(above.diverged_at, int)
    assert len(above.xy) == len(above.loss) == above.diverged_at
    assert len(above.grad) == len(above.updates) == len(above.states) == above.diverged_at - 1
    assert np.isfinite(above.xy).all()
    assert np.isfinite(above.loss).all()
    assert np.abs(above.xy).max() <= 1e6
    assert below.diverged_at is None
    assert np.linalg.norm(below.xy[-1]) < 1e-6


@pytest.mark.parametrize("clip", [1e6, math.inf])
def test_huge_learning_rate_stops_cleanly_without_runtime_warnings(clip):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for surface in (QUAD, rosenbrock(), SURFACES["beale"]()):
            path = run_path(surface, sgd(1e12), None, 200, clip=clip)
            assert path.diverged_at is not None
            assert np.isfinite(path.xy).all()
            assert np.isfinite(path.loss).all()


def test_loss_overflow_at_a_finite_point_counts_as_divergence():
    # f = x^4 overflows for |x| > 1e77 while x itself is finite, which clip = inf lets through
    quartic = Surface(
        "quartic",
        lambda xy: np.asarray(xy)[..., 0] ** 4,
        lambda xy: np.broadcast_to([-1.0, 0.0], np.shape(xy)).copy(),
        ((0.0, 0.0),),
        0.0,
        (1.0, 0.0),
        ((-2.0, 2.0), (-2.0, 2.0)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = run_path(quartic, sgd(1e30), None, 10, clip=math.inf)  # x: 1, 1e30, 2e30, ...
        assert path.diverged_at is None
        path = run_path(quartic, sgd(1e100), None, 10, clip=math.inf)  # x = 1e100: f = inf
        assert path.diverged_at == 1
        assert path.xy.shape == (1, 2)
        assert path.grad.shape == (0, 2)
        assert np.isfinite(path.loss).all()
        with pytest.raises(ValueError, match="start"):
            run_path(quartic, sgd(1.0), (1e100, 0.0), 10, clip=math.inf)


def top_coordinate(path) -> np.ndarray:
    """Coordinate of each position along the Hessian's top eigenvector (found numerically)."""
    return path.xy @ np.linalg.eigh(fd_hessian(QUAD, ORIGIN))[1][:, 1]


def test_gd_oscillates_across_the_valley_above_one_over_lambda_max_only():
    # The top coordinate shrinks by |1 - eta lambda_max| per step; once it is below 1e-9 its
    # sign is round-off, so only the steps before that are counted (at least 5 of them).
    for factor in (0.5, 0.9, 0.95, 1.05, 1.1, 1.5, 1.95):
        c = top_coordinate(run_path(QUAD, sgd(factor / LN), None, 30))
        c = c[: np.argmax(np.abs(c) < 1e-9)] if (np.abs(c) < 1e-9).any() else c
        assert len(c) >= 6
        flips = int(np.sum(np.sign(c[1:]) != np.sign(c[:-1])))
        assert flips == (len(c) - 1 if factor > 1 else 0), factor


# ------------------------------------------------------------------------ saddle


def escape_step(path) -> int | None:
    hits = np.flatnonzero(np.abs(path.xy[:, 1]) > 1.0)
    return int(hits[0]) if hits.size else None


def test_gd_started_on_the_ridge_never_leaves_it():
    path = run_path(saddle(), sgd(0.1), (1.5, 0.0), 500)
    assert (path.xy[:, 1] == 0.0).all()
    assert np.abs(path.xy[-1]).max() < 1e-12  # it walks into the saddle point and stays


def test_gradient_noise_knocks_gd_off_the_ridge():
    path = run_path(saddle(), sgd(0.1), (1.5, 0.0), 200, noise=1e-3, rng=np.random.default_rng(0))
    # y grows by 1 + 2 eta = 1.2 per step from ~eta * noise = 1e-4: past 1 in ~50 steps
    assert escape_step(path) is not None
    assert path.diverged_at is not None  # and on past clip = 1e6, handled cleanly


def test_momentum_escapes_the_saddle_faster_than_gd():
    start = (1.5, 1e-8)
    gd = escape_step(run_path(saddle(), sgd(0.05), start, 1000))
    mom = escape_step(run_path(saddle(), momentum(0.05, 0.9), start, 1000))
    # growth per step along y: GD 1 + 2 eta = 1.1; heavy ball the larger root of
    # mu^2 - (1 + beta + 2 eta) mu + beta, about 1.44
    assert gd is not None
    assert mom is not None
    assert mom < gd / 2


# ----------------------------------------------------------------------- Adam, noise


def scaled(surface: Surface, c: float) -> Surface:
    return surface._replace(f=lambda xy: c * surface.f(xy), grad=lambda xy: c * surface.grad(xy))


def test_adam_path_is_unchanged_when_the_surface_is_scaled():
    surface = rosenbrock()
    plain = run_path(surface, adam(0.02, 0.9, 0.999, 1e-16, True), None, 300)
    big = run_path(scaled(surface, 1000.0), adam(0.02, 0.9, 0.999, 1e-16, True), None, 300)
    # m scales by 1000 and sqrt(v) by 1000, so m / sqrt(v) does not change; eps = 1e-16 is
    # negligible next to |g| >= 1e-3 here, leaving round-off that stays below 1e-9
    np.testing.assert_allclose(big.xy, plain.xy, rtol=0, atol=1e-9)
    # control: SGD does feel the scale (same start, scaled steps)
    sgd_plain = run_path(surface, sgd(1e-6), None, 5)
    sgd_big = run_path(scaled(surface, 1000.0), sgd(1e-6), None, 5)
    assert np.abs(sgd_big.xy - sgd_plain.xy).max() > 1e-3


def test_noise_is_reproducible_by_seed_and_has_the_requested_std():
    surface, opt = scaled_rosenbrock(), momentum(1e-3, 0.9)

    def run(seed):
        return run_path(surface, opt, None, 300, noise=0.5, rng=np.random.default_rng(seed))

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert np.abs(a.xy - c.xy).max() > 1e-3
    residual = a.grad - surface.grad(a.xy[:-1])
    assert residual.std() == pytest.approx(0.5, rel=0.1)  # 600 draws: std error ~3 %


def test_noise_without_rng_raises():
    with pytest.raises(ValueError, match="rng"):
        run_path(QUAD, sgd(0.1), None, 10, noise=0.1)


def test_path_records_states_updates_and_gradients_per_step():
    path = run_path(scaled_rosenbrock(), adam(0.05, 0.9, 0.999, 1e-8, True), None, 40)
    assert path.xy.shape == (41, 2)
    assert path.loss.shape == (41,)
    assert path.grad.shape == path.updates.shape == (40, 2)
    assert len(path.states) == 40
    assert path.diverged_at is None
    np.testing.assert_allclose(path.xy[1:] - path.xy[:-1], path.updates, atol=1e-15)
    np.testing.assert_allclose(path.grad, scaled_rosenbrock().grad(path.xy[:-1]))
    np.testing.assert_allclose(path.loss, scaled_rosenbrock().f(path.xy))
    assert path.states[0] is not path.states[-1]


# ------------------------------------------------------------------------ Rosenbrock

ROSEN_STEPS = 1500  # momentum (eta 1e-3, beta 0.9) measured ~1125 steps to within 1e-2


def test_momentum_reaches_the_rosenbrock_minimum_and_gd_is_much_slower():
    surface = rosenbrock()
    mom = run_path(surface, momentum(1e-3, 0.9), None, ROSEN_STEPS)
    n_mom = steps_to_reach(mom, (1.0, 1.0), 1e-2)
    assert n_mom is not None
    # GD at the same eta is stable (largest curvature on the path ~2000 < 2 / eta) but crawls
    # along the valley floor: ~12 000 steps measured
    gd = run_path(surface, sgd(1e-3), None, 10 * ROSEN_STEPS)
    assert gd.diverged_at is None
    n_gd = steps_to_reach(gd, (1.0, 1.0), 1e-2)
    assert n_gd is not None
    assert n_gd > 5 * n_mom


def test_contraction_and_steps_to_reach_edge_cases():
    path = run_path(QUAD, sgd(0.5), None, 5)
    assert steps_to_reach(path, ORIGIN, 1e-9) is None
    assert steps_to_reach(path, ORIGIN, 1e3) == 0
    stuck = run_path(QUAD, sgd(0.0), None, 1)
    assert contraction(stuck, ORIGIN) == pytest.approx(1.0)
    assert math.isnan(contraction(run_path(QUAD, sgd(0.1), (0.0, 0.0), 5), ORIGIN))


# ------------------------------------------------------------------------------ speed


def test_six_optimizers_three_hundred_steps_are_fast():
    surface = scaled_rosenbrock()
    opts = [
        sgd(0.002),
        momentum(0.002, 0.9),
        nesterov(0.002, 0.9),
        adagrad(0.3, 1e-8),
        rmsprop(0.01, 0.9, 1e-8),
        adam(0.05, 0.9, 0.999, 1e-8, True),
    ]
    run_path(surface, opts[0], None, 10)  # warm up
    t0 = time.perf_counter()
    paths = [run_path(surface, opt, None, 300) for opt in opts]
    elapsed = time.perf_counter() - t0
    print(f"6 optimizers x 300 steps: {elapsed * 1e3:.1f} ms")
    assert all(len(p.xy) == 301 for p in paths)
    assert elapsed < 0.3


def test_make_optimizer_and_schedules_run_on_a_surface():
    by_name = run_path(QUAD, make_optimizer("momentum", 0.5, beta=0.9), None, 50)
    direct = run_path(QUAD, momentum(0.5, 0.9), None, 50)
    np.testing.assert_array_equal(by_name.xy, direct.xy)
    # a schedule that is zero after step 10 freezes the path there
    frozen = run_path(QUAD, sgd(lambda t: 0.5 if t < 10 else 0.0), None, 30)
    np.testing.assert_array_equal(frozen.xy[11:], np.broadcast_to(frozen.xy[10], (20, 2)))
