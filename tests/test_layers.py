"""Normalization and dropout layers: every backward against finite differences, and each
claim the fixes lesson makes about them (zero mean and unit variance, scale invariance,
running statistics at inference, group norm's two limits, inverted dropout's expectation)."""

import warnings

import numpy as np
import pytest

from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.layers import (
    METHODS,
    batchnorm_forward,
    batchnorm_inference,
    dropout_backward,
    dropout_forward,
    groupnorm_forward,
    layernorm_forward,
    norm_backward,
    normalize,
    update_running,
)

TOL = 1e-6
# As in test_network: central differences with h = 1e-5 carry a round-off error of about
# 1e-11, so entries smaller than FLOOR are compared absolutely (to FLOOR * TOL), larger ones
# relatively.
H, FLOOR = 1e-5, 1e-4
N, D = 6, 8


def problem(seed: int, n: int = N, d: int = D):
    """Random v (n, d) with unit-specific offsets and scales, non-trivial gamma and beta,
    and an upstream weighting w, so that the loss sum(w * out) exercises every path."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)
    gamma = rng.uniform(0.5, 1.5, size=d) * rng.choice([-1.0, 1.0], size=d)
    beta = rng.normal(size=d)
    w = rng.normal(size=(n, d))
    return v, gamma, beta, w


# (method, groups): layer norm, batch norm, and group norm with G = 1, 2, groups of 2, and D
NORM_CASES = [("batch", 1), ("layer", 1), ("group", 1), ("group", 2), ("group", D // 2)]
NORM_CASES += [("group", D)]


@pytest.mark.parametrize(("method", "groups"), NORM_CASES)
def test_norm_backward_matches_finite_differences(method, groups):
    v, gamma, beta, w = problem(seed=groups + len(method))

    def loss():
        return float(np.sum(w * normalize(method, v, gamma, beta, groups=groups)[0]))

    _, record = normalize(method, v, gamma, beta, groups=groups)
    dv, dgamma, dbeta = norm_backward(w, gamma, record)
    for analytic, x in [(dv, v), (dgamma, gamma), (dbeta, beta)]:
        numeric = numerical_gradient(loss, x, H)
        assert analytic.shape == x.shape
        assert relative_error(analytic, numeric, FLOOR) < TOL


def test_batchnorm_gradient_is_not_trivially_small():
    # guards the check above: dv must be large enough that the FLOOR does not hide errors
    v, gamma, beta, w = problem(seed=0)
    dv, _, _ = norm_backward(w, gamma, batchnorm_forward(v, gamma, beta)[1])
    assert np.median(np.abs(dv)) > 100 * FLOOR


def test_dropout_backward_matches_finite_differences_with_a_fixed_mask():
    v, _, _, w = problem(seed=3)
    keep = 0.6

    def loss():  # the same seed every call: the mask stays fixed while v moves
        return float(np.sum(w * dropout_forward(v, keep, rng=np.random.default_rng(5))[0]))

    _, mask = dropout_forward(v, keep, rng=np.random.default_rng(5))
    numeric = numerical_gradient(loss, v, H)
    assert relative_error(dropout_backward(w, mask), numeric, FLOOR) < TOL
    assert np.any(mask == 0) and np.any(mask > 0)


def wide_data(seed: int, n: int = 200, d: int = 12, scale: float = 10.0):
    """Large-variance data (sigma^2 ~ scale^2 >> eps) so eps shifts var(xhat) by < 1e-6."""
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)


def test_batchnorm_output_has_zero_mean_and_unit_variance_per_unit():
    v = wide_data(seed=1)
    out, record = batchnorm_forward(v, np.ones(12), np.zeros(12))
    np.testing.assert_array_equal(out, record.xhat)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, atol=1e-6)
    # exactly sigma^2 / (sigma^2 + eps) once eps is accounted for
    np.testing.assert_allclose(out.var(axis=0), record.var / (record.var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(record.mean, v.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(record.var, v.var(axis=0), rtol=1e-12)  # biased: divide by N
    assert record.mean.shape == record.var.shape == record.inv_std.shape == (12,)


def test_gamma_and_beta_set_each_units_standard_deviation_and_mean():
    v = wide_data(seed=2)
    gamma, beta = np.linspace(-3.0, 3.0, 12), np.linspace(5.0, -5.0, 12)
    out, _ = batchnorm_forward(v, gamma, beta)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), rtol=1e-6)


def test_layernorm_output_has_zero_mean_and_unit_variance_per_sample():
    v = wide_data(seed=3, n=5, d=40)
    out, record = layernorm_forward(v, np.ones(40), np.zeros(40))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), 1.0, atol=1e-6)
    assert record.mean.shape == record.var.shape == (5, 1)
    np.testing.assert_allclose(record.mean[:, 0], v.mean(axis=1), rtol=1e-12)


@pytest.mark.parametrize("groups", [2, 4, 8, 20])
def test_groupnorm_output_has_zero_mean_and_unit_variance_per_sample_and_group(groups):
    v = wide_data(seed=4, n=5, d=40, scale=100.0)
    out, record = groupnorm_forward(v, np.ones(40), np.zeros(40), groups)
    grouped = out.reshape(5, groups, 40 // groups)
    np.testing.assert_allclose(grouped.mean(axis=2), 0.0, atol=1e-12)
    # sigma^2 / (sigma^2 + eps): close to 1 unless a group's few units happen to nearly agree
    np.testing.assert_allclose(grouped.var(axis=2), record.var / (record.var + 1e-5), rtol=1e-12)
    if 40 // groups >= 5:
        np.testing.assert_allclose(grouped.var(axis=2), 1.0, atol=1e-6)
    assert record.mean.shape == (5, groups) and record.groups == groups
    np.testing.assert_allclose(record.mean, v.reshape(5, groups, -1).mean(axis=2), rtol=1e-12)


def test_groupnorm_with_one_group_is_layernorm_exactly():
    v, gamma, beta, w = problem(seed=5)
    out_g, rec_g = groupnorm_forward(v, gamma, beta, 1)
    out_l, rec_l = layernorm_forward(v, gamma, beta)
    np.testing.assert_array_equal(out_g, out_l)
    for a, b in zip(rec_g[:5], rec_l[:5]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(norm_backward(w, gamma, rec_g), norm_backward(w, gamma, rec_l)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("groups", [3, 5, 0, -2])
def test_groupnorm_rejects_groups_that_do_not_divide_the_units(groups):
    v, gamma, beta, _ = problem(seed=6)
    with pytest.raises(ValueError, match="divisor of the 8 units"):
        groupnorm_forward(v, gamma, beta, groups)


def test_groupnorm_with_one_unit_per_group_is_finite_and_outputs_beta():
    v, gamma, beta, w = problem(seed=7)
    out, record = groupnorm_forward(v, gamma, beta, D)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(record.xhat, 0.0)
    np.testing.assert_array_equal(out, np.broadcast_to(beta, out.shape))
    dv, dgamma, _ = norm_backward(w, gamma, record)
    np.testing.assert_array_equal(dv, 0.0)
    np.testing.assert_array_equal(dgamma, 0.0)


@pytest.mark.parametrize("c", [0.5, 2.0, 100.0])
def test_batchnorm_is_invariant_to_the_scale_of_the_weights(c):
    # v = a W: scaling W by c > 0 scales v by c; exact up to eps / (2 c^2 sigma^2) < 1e-7 here
    v = wide_data(seed=8, scale=100.0)
    gamma, beta = np.linspace(0.5, 2.0, 12), np.linspace(-1.0, 1.0, 12)
    out, _ = batchnorm_forward(v, gamma, beta)
    out_c, _ = batchnorm_forward(c * v, gamma, beta)
    np.testing.assert_allclose(out_c, out, rtol=0, atol=TOL)


@pytest.mark.parametrize("c", [1e-3, 1e3])
def test_norms_are_scale_invariant_over_decades_when_eps_is_tiny(c):
    v, gamma, beta, _ = problem(seed=9)
    for method in ("batch", "layer"):
        out, _ = normalize(method, v, gamma, beta, eps=1e-15)
        out_c, _ = normalize(method, c * v, gamma, beta, eps=1e-15)
        np.testing.assert_allclose(out_c, out, rtol=0, atol=TOL, err_msg=method)


def test_eps_breaks_scale_invariance_once_the_variance_is_comparable_to_it():
    v, gamma, beta, _ = problem(seed=9)
    out, _ = batchnorm_forward(v, gamma, beta)
    out_tiny, _ = batchnorm_forward(1e-3 * v, gamma, beta)  # sigma^2 ~ 1e-6 < eps = 1e-5
    assert np.std(out_tiny - beta) < 0.5 * np.std(out - beta)


@pytest.mark.parametrize("c", [0.5, 2.0, 100.0])
def test_layernorm_is_invariant_to_the_scale_of_the_weights(c):
    v = wide_data(seed=10, n=5, d=40, scale=100.0)
    gamma, beta = np.linspace(0.5, 2.0, 40), np.linspace(-1.0, 1.0, 40)
    out, _ = layernorm_forward(v, gamma, beta)
    out_c, _ = layernorm_forward(c * v, gamma, beta)
    np.testing.assert_allclose(out_c, out, rtol=0, atol=TOL)


def test_batchnorm_makes_the_bias_redundant():
    # adding a bias b to every sample's v shifts each unit's mean and nothing else
    v, gamma, beta, _ = problem(seed=11)
    b = np.random.default_rng(0).normal(size=D) * 5.0
    out, _ = batchnorm_forward(v, gamma, beta)
    out_b, _ = batchnorm_forward(v + b, gamma, beta)
    np.testing.assert_allclose(out_b, out, atol=1e-12)


def test_inference_gives_a_sample_the_same_output_alone_or_in_any_batch():
    v, gamma, beta, _ = problem(seed=12, n=30)
    mean, var = np.linspace(-1.0, 1.0, D), np.linspace(0.5, 3.0, D)
    whole = batchnorm_inference(v, gamma, beta, mean, var)
    rng = np.random.default_rng(0)
    for i in (0, 17):
        alone = batchnorm_inference(v[i : i + 1], gamma, beta, mean, var)
        np.testing.assert_array_equal(alone[0], whole[i])
        others = rng.choice(30, size=5, replace=False)
        mixed = batchnorm_inference(v[np.r_[others, i]], gamma, beta, mean, var)
        np.testing.assert_array_equal(mixed[-1], whole[i])
    # whereas in training mode the same sample's output depends on its batch mates
    train_whole, _ = batchnorm_forward(v, gamma, beta)
    train_part, _ = batchnorm_forward(v[:5], gamma, beta)
    assert not np.allclose(train_part[0], train_whole[0])


def test_inference_with_the_batch_statistics_equals_training_mode():
    v, gamma, beta, _ = problem(seed=13)
    out, record = batchnorm_forward(v, gamma, beta)
    inferred = batchnorm_inference(v, gamma, beta, record.mean, record.var)
    np.testing.assert_allclose(inferred, out, rtol=1e-12, atol=1e-12)


def test_update_running_moves_the_averages_by_momentum_with_an_unbiased_variance():
    v, gamma, beta, _ = problem(seed=14)
    _, record = batchnorm_forward(v, gamma, beta)
    old_mean, old_var = np.zeros(D), np.ones(D)
    mean, var = update_running(old_mean, old_var, record, momentum=0.25)
    np.testing.assert_allclose(mean, 0.75 * old_mean + 0.25 * v.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, 0.75 * old_var + 0.25 * v.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_array_equal(old_mean, 0.0)  # inputs are not mutated
    np.testing.assert_array_equal(old_var, 1.0)


def test_update_running_refuses_other_norms_and_single_sample_batches():
    v, gamma, beta, _ = problem(seed=15)
    with pytest.raises(ValueError, match="batch norm"):
        update_running(np.zeros(D), np.ones(D), layernorm_forward(v, gamma, beta)[1])
    with pytest.raises(ValueError, match="at least 2"):
        update_running(np.zeros(D), np.ones(D), batchnorm_forward(v[:1], gamma, beta)[1])


def test_running_statistics_approach_the_true_ones():
    rng = np.random.default_rng(16)
    mu, sigma = np.array([1.0, -2.0, 5.0]), np.array([0.5, 2.0, 3.0])
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(300):
        _, record = batchnorm_forward(
            mu + sigma * rng.normal(size=(64, 3)), np.ones(3), np.zeros(3)
        )
        mean, var = update_running(mean, var, record)
    # the averages' standard errors are about 0.03 sigma and 0.04 sigma^2
    assert np.all(np.abs(mean - mu) < 0.15 * sigma)
    assert np.all(np.abs(var - sigma**2) < 0.2 * sigma**2)


def test_running_variance_is_unbiased_even_for_batches_of_four():
    # the biased batch variance averages to (N-1)/N sigma^2 = 0.75 sigma^2 for N = 4
    rng = np.random.default_rng(17)
    d, sigma = 50, 2.0
    mean, var = np.zeros(d), np.ones(d)
    for _ in range(1500):
        _, record = batchnorm_forward(sigma * rng.normal(size=(4, d)), np.ones(d), np.zeros(d))
        mean, var = update_running(mean, var, record, momentum=0.01)
    assert abs(np.mean(var) / sigma**2 - 1.0) < 0.05


def test_constant_input_columns_give_no_warning_and_finite_results():
    v, gamma, beta, w = problem(seed=18)
    v[:, 2], v[:, 5] = 0.1, 7.0  # constant units, for batch norm
    rows = v.copy()
    rows[3, :] = 0.3  # a constant sample, for layer and group norm
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in METHODS:
            out, record = normalize(method, rows, gamma, beta, groups=2)
            grads = norm_backward(w, gamma, record)
            assert all(np.all(np.isfinite(a)) for a in (out, *grads)), method
        out, record = batchnorm_forward(v, gamma, beta)
        np.testing.assert_allclose(out[:, [2, 5]], np.broadcast_to(beta[[2, 5]], (N, 2)), atol=1e-9)


def test_normalize_dispatches_and_rejects_unknown_methods():
    v, gamma, beta, _ = problem(seed=19)
    np.testing.assert_array_equal(
        normalize("batch", v, gamma, beta)[0], batchnorm_forward(v, gamma, beta)[0]
    )
    np.testing.assert_array_equal(
        normalize("layer", v, gamma, beta)[0], layernorm_forward(v, gamma, beta)[0]
    )
    np.testing.assert_array_equal(
        normalize("group", v, gamma, beta, groups=4)[0], groupnorm_forward(v, gamma, beta, 4)[0]
    )
    assert [normalize(m, v, gamma, beta, groups=2)[1].method for m in METHODS] == list(METHODS)
    with pytest.raises(ValueError, match="unknown normalization"):
        normalize("instance", v, gamma, beta)


def test_norms_do_not_mutate_their_inputs():
    v, gamma, beta, w = problem(seed=20)
    copies = [a.copy() for a in (v, gamma, beta, w)]
    for method in METHODS:
        _, record = normalize(method, v, gamma, beta, groups=4)
        norm_backward(w, gamma, record)
    for a, b in zip((v, gamma, beta, w), copies):
        np.testing.assert_array_equal(a, b)


def test_dropout_mask_is_reproducible_from_the_seed():
    a = np.ones((20, 30))
    _, m1 = dropout_forward(a, 0.5, rng=np.random.default_rng(0))
    _, m2 = dropout_forward(a, 0.5, rng=np.random.default_rng(0))
    _, m3 = dropout_forward(a, 0.5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, m3)


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8])
def test_dropout_mask_is_scaled_so_its_mean_is_one(keep):
    _, mask = dropout_forward(np.ones((1000, 100)), keep, rng=np.random.default_rng(21))
    assert set(np.unique(mask)) == {0.0, 1.0 / keep}
    assert abs(np.mean(mask > 0) - keep) < 0.01
    assert abs(np.mean(mask) - 1.0) < 0.02


def test_dropout_with_keep_one_is_the_identity():
    a = np.random.default_rng(22).normal(size=(4, 5))
    out, mask = dropout_forward(a, 1.0, rng=np.random.default_rng(0))
    assert out is a and mask is None
    dout = np.ones((4, 5))
    assert dropout_backward(dout, mask) is dout


def test_dropout_output_equals_the_input_in_expectation():
    a = np.random.default_rng(23).normal(size=(4, 5))
    many = np.broadcast_to(a, (20000, 4, 5))  # 20000 independent masks at once
    out, _ = dropout_forward(many, 0.5, rng=np.random.default_rng(24))
    # each average has standard error |a| sqrt((1 - keep) / keep / 20000) ~ 0.007 |a|
    np.testing.assert_allclose(out.mean(axis=0), a, rtol=0.04)


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.5])
def test_dropout_rejects_keep_outside_zero_one(keep):
    with pytest.raises(ValueError, match="keep"):
        dropout_forward(np.ones((2, 2)), keep, rng=np.random.default_rng(0))


def test_dropout_keeps_float32():
    a = np.ones((3, 4), dtype=np.float32)
    out, mask = dropout_forward(a, 0.5, rng=np.random.default_rng(0))
    assert out.dtype == mask.dtype == np.float32


@pytest.mark.parametrize("method", METHODS)
def test_norms_keep_float32(method):
    v, gamma, beta, w = (x.astype(np.float32) for x in problem(seed=25))
    out, record = normalize(method, v, gamma, beta, groups=4)
    grads = norm_backward(w, gamma, record)
    assert {a.dtype for a in (out, record.xhat, record.inv_std, *grads)} == {np.dtype(np.float32)}
    reference, _ = normalize(
        method, v.astype(float), gamma.astype(float), beta.astype(float), groups=4
    )
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)
