"""Optimizers against facts that do not depend on our code: the convergence rates of gradient
descent and heavy-ball momentum on a quadratic (Goh, "Why momentum really works", 2017), their
stability limits, Adam's scale invariance and first step, Adagrad's ever-falling rates, and the
interface every optimizer shares (schedules, step counts, no mutation, gamma)."""

import copy
import math

import numpy as np
import pytest

from explain.nn.network import Params
from explain.nn.optimizers import (
    OPTIMIZERS,
    AdagradState,
    AdamState,
    Optimizer,
    RMSPropState,
    adagrad,
    adam,
    adamw,
    add_weight_decay,
    apply_updates,
    effective_rate,
    is_finite,
    make_optimizer,
    momentum,
    nesterov,
    rmsprop,
    sgd,
    tree_map,
    zeros_like,
)

L1, LN = 0.01, 1.0  # extreme eigenvalues of the test quadratic
KAPPA = LN / L1


def point(x) -> Params:
    return Params(W=(np.asarray(x, dtype=float),), b=())


def quadratic(eigenvalues, *, rotated: bool, rng: np.random.Generator) -> np.ndarray:
    """A = Q diag(lambda) Q^T, with Q = I or a random rotation."""
    A = np.diag(eigenvalues)
    if rotated:
        Q, _ = np.linalg.qr(rng.normal(size=A.shape))
        A = Q @ A @ Q.T
    return A


def error_norms(optimizer: Optimizer, A: np.ndarray, x0: np.ndarray, steps: int) -> np.ndarray:
    """||x_k|| for k = 0..steps while minimizing f(x) = 1/2 x^T A x (minimum at 0).

    Stops early once ||x_k|| > 1e100, before a diverging run overflows.
    """
    params = point(x0)
    state = optimizer.init(params)
    norms = [np.linalg.norm(x0)]
    for _ in range(steps):
        updates, state = optimizer.update(point(A @ params.W[0]), state, params)
        params = apply_updates(params, updates)
        norms.append(np.linalg.norm(params.W[0]))
        if norms[-1] > 1e100:
            break
    return np.array(norms)


def rate_over(norms: np.ndarray, k1: int, k2: int) -> float:
    """Geometric mean contraction per step between steps k1 and k2."""
    return (norms[k2] / norms[k1]) ** (1.0 / (k2 - k1))


# --- rates on a quadratic ------------------------------------------------------------------


@pytest.mark.parametrize("rotated", [False, True])
@pytest.mark.parametrize("eigenvalues", [(L1, LN), (L1, 0.05, 0.3, 0.7, LN)])
def test_gradient_descent_contracts_by_kappa_minus_one_over_kappa_plus_one(eigenvalues, rotated):
    rng = np.random.default_rng(0)
    A = quadratic(eigenvalues, rotated=rotated, rng=rng)
    alpha = 2.0 / (L1 + LN)
    norms = error_norms(sgd(alpha), A, rng.normal(size=len(eigenvalues)), 1000)
    # intermediate eigenvalues contract faster, so measure after they have died out
    measured = rate_over(norms, 200, 1000)
    assert measured == pytest.approx((KAPPA - 1) / (KAPPA + 1), rel=1e-3)


@pytest.mark.parametrize("rotated", [False, True])
def test_momentum_converges_at_sqrt_kappa_rate(rotated):
    """Goh's optimal alpha and beta give rate r = (sqrt(kappa)-1)/(sqrt(kappa)+1) = 9/11.

    At the extreme eigenvalues the iteration matrix has a double eigenvalue r (a Jordan
    block), so the error is (c0 + c1 k) r^k, not c r^k. Over steps k1..k2 the measured rate
    is then r ((c0 + c1 k2) / (c0 + c1 k1))^(1/(k2-k1)) <= r (k2/k1)^(1/(k2-k1)); with
    k1 = 200, k2 = 1200 that factor is 6^(1/1000) = 1 + 1.8e-3, hence rel=3e-3. Gradient
    descent's rate 0.98 is far outside.
    """
    rng = np.random.default_rng(1)
    A = quadratic((L1, LN), rotated=rotated, rng=rng)
    alpha = (2.0 / (math.sqrt(L1) + math.sqrt(LN))) ** 2
    beta = ((math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)) ** 2
    norms = error_norms(momentum(alpha, beta=beta), A, rng.normal(size=2), 1200)
    r = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)
    measured = rate_over(norms, 200, 1200)
    assert measured == pytest.approx(r, rel=3e-3)
    assert measured >= r * (1 - 1e-9)  # the Jordan factor only ever slows it


@pytest.mark.parametrize("lam", [0.5, 4.0])
def test_gradient_descent_diverges_iff_alpha_lambda_above_two(lam):
    A = np.diag([lam])
    below = error_norms(sgd(1.99 / lam), A, np.ones(1), 2000)
    above = error_norms(sgd(2.01 / lam), A, np.ones(1), 2000)
    assert below[-1] < 1e-6  # |1 - 1.99| ** 2000 = 2e-9
    assert above[-1] > 1e6  # |1 - 2.01| ** 2000 = 4e8


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_momentum_diverges_iff_alpha_lambda_above_two_plus_two_beta(beta):
    """z^2 - (1 + beta - alpha lambda) z + beta = 0 (the iteration's characteristic polynomial)
    has a root at -1 exactly when alpha lambda = 2 + 2 beta."""
    lam = 2.0
    limit = (2 + 2 * beta) / lam
    A = np.diag([lam])
    below = error_norms(momentum(limit * 0.995, beta=beta), A, np.ones(1), 5000)
    above = error_norms(momentum(limit * 1.005, beta=beta), A, np.ones(1), 5000)
    assert below[-1] < 1e-6
    assert above[-1] > 1e6
    # plain GD at the same alpha would diverge: momentum really widened the stable range
    assert limit * 0.995 * lam > 2.01


# --- Adam ----------------------------------------------------------------------------------


def run_updates(optimizer: Optimizer, grads_seq, params: Params) -> list[Params]:
    state = optimizer.init(params)
    out = []
    for grads in grads_seq:
        updates, state = optimizer.update(grads, state, params)
        out.append(updates)
    return out


def random_params(rng, *, with_gamma: bool = False) -> Params:
    W = (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)))
    b = (rng.normal(size=4), rng.normal(size=2))
    if not with_gamma:
        return Params(W, b)
    running = ((np.zeros(4), np.ones(4)), ())
    return Params(W, b, (rng.normal(size=4), np.zeros(0)), running)


def random_grads(rng, like: Params, scale: float = 1.0) -> Params:
    return tree_map(lambda x: scale * rng.normal(size=x.shape), like)


def test_adam_is_invariant_to_gradient_scale():
    rng = np.random.default_rng(2)
    params = random_params(rng)
    grads_seq = [random_grads(rng, params) for _ in range(20)]
    opt = adam(0.01, eps=1e-12)
    small = run_updates(opt, grads_seq, params)
    big = run_updates(opt, [tree_map(lambda g: 1000.0 * g, g) for g in grads_seq], params)
    for u_small, u_big in zip(small, big):
        for a, b in zip(u_small.W + u_small.b, u_big.W + u_big.b):
            np.testing.assert_allclose(b, a, rtol=1e-6)
    # the test can tell: with a large eps the step is no longer scale-free
    loose = adam(0.01, eps=1.0)
    u_small = run_updates(loose, grads_seq[:1], params)[0]
    u_big = run_updates(loose, [tree_map(lambda g: 1000.0 * g, grads_seq[0])], params)[0]
    assert not np.allclose(u_small.W[0], u_big.W[0], rtol=1e-3)


def test_adam_first_step_is_eta_times_sign_with_bias_correction():
    g = point([3.0, -0.2, 1e-3, -50.0])
    u, _ = adam(0.1).update(g, adam(0.1).init(g), g)
    np.testing.assert_allclose(u.W[0], -0.1 * np.sign(g.W[0]), rtol=1e-4)  # eps / |g| <= 1e-5


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.9, 0.9)])
def test_adam_first_step_without_bias_correction(beta1, beta2):
    """m = (1-beta1) g, v = (1-beta2) g^2, so u = -eta (1-beta1)/sqrt(1-beta2) sign(g).

    With the defaults that factor is 0.1 / sqrt(0.001) = 3.16: the first step is 3.16 times
    larger than eta, not smaller; with beta2 = 0.9 it is 0.316 times eta.
    """
    g = point([3.0, -0.2, 7.0])
    eps = 1e-12
    with_bc = adam(0.1, beta1, beta2, eps=eps)
    without = adam(0.1, beta1, beta2, eps=eps, bias_correction=False)
    u_bc, _ = with_bc.update(g, with_bc.init(g), g)
    u_raw, _ = without.update(g, without.init(g), g)
    factor = (1 - beta1) / math.sqrt(1 - beta2)
    np.testing.assert_allclose(u_raw.W[0] / u_bc.W[0], factor, rtol=1e-9)
    expected = {0.999: 3.1622776601683795, 0.9: 0.31622776601683794}[beta2]
    assert factor == pytest.approx(expected)


def test_adam_effective_rate_is_what_multiplies_mhat():
    rng = np.random.default_rng(3)
    params = random_params(rng)
    opt = adam(0.05)
    state = opt.init(params)
    for _ in range(5):
        updates, state = opt.update(random_grads(rng, params), state, params)
    rate = effective_rate(state, 0.05)
    mhat = tree_map(lambda m: m / (1 - 0.9**5), state.m)
    for u, r, m in zip(updates.W + updates.b, rate.W + rate.b, mhat.W + mhat.b):
        np.testing.assert_allclose(u, -r * m, rtol=1e-12)


def test_adamw_decays_W_but_not_b():
    rng = np.random.default_rng(4)
    params = random_params(rng)
    zero = zeros_like(params)
    u, _ = adamw(0.1, weight_decay=0.5).update(zero, adamw(0.1).init(params), params)
    for u_W, W in zip(u.W, params.W):
        np.testing.assert_allclose(u_W, -0.1 * 0.5 * W)  # zero gradient: only the decay
    for u_b in u.b:
        np.testing.assert_array_equal(u_b, 0.0)
    grads = random_grads(rng, params)
    u_w, _ = adamw(0.1, weight_decay=0.5).update(grads, adamw(0.1).init(params), params)
    u_a, _ = adam(0.1).update(grads, adam(0.1).init(params), params)
    for a, w, W in zip(u_a.W, u_w.W, params.W):
        np.testing.assert_allclose(w - a, -0.05 * W, atol=1e-15)
    for a, w in zip(u_a.b, u_w.b):
        np.testing.assert_array_equal(w, a)


def test_adamw_with_zero_decay_is_adam():
    rng = np.random.default_rng(5)
    params = random_params(rng, with_gamma=True)
    grads_seq = [random_grads(rng, params) for _ in range(4)]
    for a, w in zip(
        run_updates(adam(0.02), grads_seq, params),
        run_updates(adamw(0.02, weight_decay=0.0), grads_seq, params),
    ):
        for x, y in zip(a.W + a.b + a.gamma, w.W + w.b + w.gamma):
            np.testing.assert_array_equal(x, y)


def test_adam_with_weight_decay_needs_params():
    opt = adamw(0.1)
    g = point([1.0])
    with pytest.raises(ValueError, match="params"):
        opt.update(g, opt.init(g))


# --- Adagrad and RMSProp -------------------------------------------------------------------


def rate_history(optimizer: Optimizer, grads: np.ndarray) -> np.ndarray:
    """Effective rate of each coordinate after every step; grads (T, D) -> (T, D)."""
    state = optimizer.init(point(np.zeros(grads.shape[1])))
    out = []
    for g in grads:
        _, state = optimizer.update(point(g), state, None)
        out.append(effective_rate(state, 0.1).W[0])
    return np.array(out)


@pytest.fixture
def shrinking_grads():
    """Random gradients of size ~1 for 100 steps, then ~1e-3 for 100 steps."""
    rng = np.random.default_rng(6)
    return np.vstack([rng.normal(size=(100, 3)), 1e-3 * rng.normal(size=(100, 3))])


def test_adagrad_effective_rate_never_rises(shrinking_grads):
    history = rate_history(adagrad(0.1), shrinking_grads)
    assert np.all(np.diff(history, axis=0) <= 0)
    assert np.all(history[-1] < history[0])


def test_rmsprop_effective_rate_recovers_after_gradients_shrink(shrinking_grads):
    history = rate_history(rmsprop(0.1), shrinking_grads)
    # after 100 small steps s has forgotten the large gradients (rho^100 = 3e-5)
    assert np.all(history[-1] > 100 * history[99])


@pytest.mark.parametrize("factory", [adagrad, rmsprop])
def test_effective_rate_is_what_multiplies_the_gradient(factory):
    rng = np.random.default_rng(7)
    params = random_params(rng)
    opt = factory(0.3)
    state = opt.init(params)
    for _ in range(3):
        grads = random_grads(rng, params)
        updates, state = opt.update(grads, state, params)
    rate = effective_rate(state, 0.3)
    for u, r, g in zip(updates.W + updates.b, rate.W + rate.b, grads.W + grads.b):
        np.testing.assert_allclose(u, -r * g, rtol=1e-12)


def test_effective_rate_refuses_states_without_one():
    with pytest.raises(TypeError):
        effective_rate(sgd(0.1).init(point([1.0])), 0.1)


def test_states_are_named():
    g = point([1.0])
    assert isinstance(adagrad(0.1).init(g), AdagradState)
    assert isinstance(rmsprop(0.1).init(g), RMSPropState)
    assert isinstance(adam(0.1).init(g), AdamState)


# --- Nesterov ------------------------------------------------------------------------------


def test_nesterov_matches_two_steps_by_hand_and_differs_from_heavy_ball():
    """eta = 0.1, beta = 0.9, g1 = (1, -2), g2 = (0.5, 3):
    v1 = g1, u1 = -0.1 (1.9 g1) = (-0.19, 0.38);
    v2 = 0.9 g1 + g2, u2 = -0.1 (g2 + 0.9 v2) = -0.1 (1.9 g2 + 0.81 g1) = (-0.176, -0.408).
    Heavy ball: u1 = -0.1 g1 = (-0.1, 0.2), u2 = -0.1 (0.9 g1 + g2) = (-0.14, -0.12)."""
    gs = [point([1.0, -2.0]), point([0.5, 3.0])]
    x = point([0.0, 0.0])
    nag = run_updates(nesterov(0.1, beta=0.9), gs, x)
    heavy = run_updates(momentum(0.1, beta=0.9), gs, x)
    np.testing.assert_allclose(nag[0].W[0], [-0.19, 0.38], atol=1e-15)
    np.testing.assert_allclose(nag[1].W[0], [-0.176, -0.408], atol=1e-15)
    np.testing.assert_allclose(heavy[0].W[0], [-0.1, 0.2], atol=1e-15)
    np.testing.assert_allclose(heavy[1].W[0], [-0.14, -0.12], atol=1e-15)


# --- the interface every optimizer shares ---------------------------------------------------


def leaves(tree: Params) -> tuple:
    return tree.W + tree.b + tree.gamma


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_scales_with_the_schedule(name):
    """Every state here evolves independently of eta, so u_t(schedule) = eta_t u_t(eta = 1)."""
    rng = np.random.default_rng(8)
    params = random_params(rng, with_gamma=True)
    grads_seq = [random_grads(rng, params) for _ in range(4)]

    def schedule(t: int) -> float:
        return 0.1 * (t + 1)

    scheduled = run_updates(make_optimizer(name, schedule), grads_seq, params)
    unit = run_updates(make_optimizer(name, 1.0), grads_seq, params)
    for t, (u_s, u_1) in enumerate(zip(scheduled, unit)):
        for a, b in zip(leaves(u_s), leaves(u_1)):
            np.testing.assert_allclose(a, schedule(t) * b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_count_increments_and_inputs_are_not_mutated(name):
    rng = np.random.default_rng(9)
    params = random_params(rng, with_gamma=True)
    opt = make_optimizer(name, 0.1)
    state = opt.init(params)
    assert state.count == 0
    for k in range(1, 4):
        grads = random_grads(rng, params)
        before = copy.deepcopy((grads, state, params))
        _, state_next = opt.update(grads, state, params)
        for x, y in zip(
            leaves(grads) + leaves(params) + tuple(np.hstack(r) for r in params.running if r),
            leaves(before[0])
            + leaves(before[2])
            + tuple(np.hstack(r) for r in before[2].running if r),
        ):
            np.testing.assert_array_equal(x, y)
        for old, kept in zip(state[1:], before[1][1:]):
            for x, y in zip(leaves(old), leaves(kept)):
                np.testing.assert_array_equal(x, y)
        state = state_next
        assert state.count == k


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_works_on_params_with_gamma(name):
    rng = np.random.default_rng(10)
    params = random_params(rng, with_gamma=True)
    opt = make_optimizer(name, 0.1)
    updates, _ = opt.update(random_grads(rng, params), opt.init(params), params)
    assert [u.shape for u in updates.gamma] == [(4,), (0,)]
    assert np.all(updates.gamma[0] != 0)
    new = apply_updates(params, updates)
    np.testing.assert_array_equal(new.gamma[0], params.gamma[0] + updates.gamma[0])
    assert new.running is params.running
    assert updates.running == ()


# --- helpers -------------------------------------------------------------------------------


def test_tree_map_and_zeros_like_cover_every_trainable_field():
    rng = np.random.default_rng(11)
    params = random_params(rng, with_gamma=True)
    doubled = tree_map(lambda a, b: a + b, params, params)
    for x, y in zip(leaves(doubled), leaves(params)):
        np.testing.assert_array_equal(x, 2 * y)
    assert doubled.running == ()
    zeros = zeros_like(params)
    assert [z.shape for z in leaves(zeros)] == [p.shape for p in leaves(params)]
    assert all(not z.any() for z in leaves(zeros))
    assert zeros.running == ()


def test_add_weight_decay_touches_W_only():
    rng = np.random.default_rng(12)
    params = random_params(rng, with_gamma=True)
    grads = random_grads(rng, params)
    assert add_weight_decay(grads, params, 0.0) is grads
    decayed = add_weight_decay(grads, params, 0.5)
    for d, g, W in zip(decayed.W, grads.W, params.W):
        np.testing.assert_array_equal(d, g + 0.5 * W)
    assert decayed.b is grads.b
    assert decayed.gamma is grads.gamma


def test_apply_updates_without_gamma_in_updates_keeps_gamma():
    rng = np.random.default_rng(13)
    params = random_params(rng, with_gamma=True)
    updates = Params(
        tuple(np.ones_like(W) for W in params.W), tuple(np.ones_like(b) for b in params.b)
    )
    new = apply_updates(params, updates)
    assert new.gamma is params.gamma
    np.testing.assert_array_equal(new.W[0], params.W[0] + 1)


def test_is_finite_catches_inf_nan_and_overflowing_sums_without_warning():
    rng = np.random.default_rng(14)
    params = random_params(rng, with_gamma=True)
    assert is_finite(params)
    assert not is_finite(params._replace(gamma=(np.array([1.0, np.nan, 0, 0]), np.zeros(0))))
    assert not is_finite(params._replace(b=(np.full(4, np.inf), params.b[1])))
    huge = params._replace(W=(np.full((3, 4), 1e308), params.W[1]))
    assert not is_finite(huge)  # each entry finite, the sum overflows
    mixed = params._replace(W=(np.array([[np.inf, -np.inf]]), params.W[1]))
    assert not is_finite(mixed)  # inf - inf = nan: RuntimeWarning would fail this test


def test_make_optimizer_passes_only_accepted_hyperparameters():
    hyper = dict(beta=0.5, rho=0.7, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1)
    g = point([1.0, -3.0])
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 0.1, **hyper)
        assert isinstance(opt, Optimizer)
    gs = [point([1.0, -3.0]), point([2.0, 0.5])]
    made = run_updates(make_optimizer("momentum", 0.1, **hyper), gs, g)
    direct = run_updates(momentum(0.1, beta=0.5), gs, g)
    default = run_updates(momentum(0.1), gs, g)
    np.testing.assert_array_equal(made[1].W[0], direct[1].W[0])  # beta = 0.5 really used
    assert not np.allclose(made[1].W[0], default[1].W[0])
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lion", 0.1)
