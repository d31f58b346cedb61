"""Costs: each delta against finite differences, stability at saturated outputs, and the
learning-slowdown claim (quadratic delta vanishes when the sigmoid saturates, cross-entropy's
does not)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explain.nn.activations import sigmoid, sigmoid_prime, softmax
from explain.nn.costs import COSTS, get_cost
from explain.nn.gradcheck import numerical_gradient, relative_error

TOL = 1e-6
N, K = 5, 3


def targets(name: str, rng: np.random.Generator, n: int = N, k: int = K) -> np.ndarray:
    """One-hot rows for log-likelihood (its delta assumes rows sum to 1), else values in [0, 1]."""
    if name == "log_likelihood":
        return np.eye(k)[rng.integers(0, k, size=n)]
    return rng.uniform(0.0, 1.0, size=(n, k))


# --- delta = dC_x/dz^L -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COSTS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delta_matches_finite_differences(name, seed):
    cost = COSTS[name]
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, size=(N, K))
    y = targets(name, rng)
    numeric = numerical_gradient(lambda: float(np.sum(cost.per_sample(z, y))), z)
    assert relative_error(cost.delta(z, y), numeric) < TOL


@pytest.mark.parametrize("name", ["quadratic", "cross_entropy"])
def test_sigmoid_costs_with_binary_targets_match_finite_differences(name):
    cost = COSTS[name]
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 1.5, size=(N, K))
    y = rng.integers(0, 2, size=(N, K)).astype(float)
    numeric = numerical_gradient(lambda: float(np.sum(cost.per_sample(z, y))), z)
    assert relative_error(cost.delta(z, y), numeric) < TOL


def test_log_likelihood_delta_with_soft_targets_on_the_simplex():
    cost = COSTS["log_likelihood"]
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 1.5, size=(N, K))
    y = rng.dirichlet(np.ones(K), size=N)
    numeric = numerical_gradient(lambda: float(np.sum(cost.per_sample(z, y))), z)
    assert relative_error(cost.delta(z, y), numeric) < TOL


# --- values against the textbook formulas ----------------------------------------------


def test_costs_equal_textbook_formulas_for_moderate_z():
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=(N, K))
    y = rng.uniform(0.0, 1.0, size=(N, K))
    a = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(
        COSTS["quadratic"].per_sample(z, y), 0.5 * np.sum((a - y) ** 2, axis=1), rtol=1e-12
    )
    cross_entropy = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1)
    np.testing.assert_allclose(COSTS["cross_entropy"].per_sample(z, y), cross_entropy, rtol=1e-12)
    labels = rng.integers(0, K, size=N)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        COSTS["log_likelihood"].per_sample(z, np.eye(K)[labels]),
        -np.log(p[np.arange(N), labels]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", sorted(COSTS))
def test_call_is_batch_mean_of_per_sample(name):
    cost = COSTS[name]
    rng = np.random.default_rng(6)
    z, y = rng.normal(size=(N, K)), targets(name, rng)
    value = cost(z, y)
    assert isinstance(value, float)
    assert value == pytest.approx(float(np.mean(cost.per_sample(z, y))), rel=1e-15)
    assert cost.per_sample(z, y).shape == (N,)
    assert cost.delta(z, y).shape == (N, K)


def test_output_layers():
    z = np.array([[2.0, -1.0, 0.5]])
    np.testing.assert_array_equal(COSTS["quadratic"].output(z), sigmoid(z))
    np.testing.assert_array_equal(COSTS["cross_entropy"].output(z), sigmoid(z))
    np.testing.assert_array_equal(COSTS["log_likelihood"].output(z), softmax(z))


def test_get_cost():
    for name, cost in COSTS.items():
        assert get_cost(name) is cost
    with pytest.raises(KeyError, match="unknown cost 'hinge'"):
        get_cost("hinge")


# --- the learning-slowdown claim -------------------------------------------------------


def test_quadratic_delta_vanishes_when_saturated_but_cross_entropy_does_not():
    z, y = np.array([[10.0]]), np.array([[0.0]])
    a_minus_y = float(sigmoid(z)[0, 0])
    assert a_minus_y > 0.9999  # badly wrong output ...
    assert abs(float(COSTS["quadratic"].delta(z, y)[0, 0])) < 1e-4  # ... yet barely learns
    assert float(COSTS["cross_entropy"].delta(z, y)[0, 0]) == a_minus_y


def test_quadratic_delta_shrinks_with_saturation_cross_entropy_grows():
    z = np.linspace(1.0, 30.0, 59)[:, None]
    y = np.zeros_like(z)
    quad = COSTS["quadratic"].delta(z, y)[:, 0]
    xent = COSTS["cross_entropy"].delta(z, y)[:, 0]
    assert np.all(np.diff(quad) < 0)  # the more wrong, the slower
    assert np.all(np.diff(xent) >= 0)  # the more wrong, the faster
    assert np.all(xent > 0.7)
    assert quad[-1] < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_delta_is_a_minus_y_and_quadratic_has_the_sigma_prime_factor(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.normal(0.0, 4.0, size=(N, K)), rng.uniform(size=(N, K))
    np.testing.assert_array_equal(COSTS["cross_entropy"].delta(z, y), sigmoid(z) - y)
    np.testing.assert_allclose(
        COSTS["quadratic"].delta(z, y), (sigmoid(z) - y) * sigmoid_prime(z), rtol=1e-15
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_likelihood_delta_is_softmax_minus_y_with_rows_summing_to_zero(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 4.0, size=(8, 10))
    y = np.eye(10)[rng.integers(0, 10, size=8)]
    delta = COSTS["log_likelihood"].delta(z, y)
    np.testing.assert_array_equal(delta, softmax(z) - y)
    np.testing.assert_allclose(delta.sum(axis=1), 0.0, atol=1e-15)


# --- numerical stability ---------------------------------------------------------------


def test_saturated_values_are_exact():
    big, zero, one = np.array([[1000.0]]), np.array([[0.0]]), np.array([[1.0]])
    ce, quad = COSTS["cross_entropy"], COSTS["quadratic"]
    assert ce.per_sample(big, zero)[0] == 1000.0  # -ln(1 - sigma(1000)), which is not inf
    assert ce.per_sample(-big, one)[0] == 1000.0
    assert 0.0 <= ce.per_sample(big, one)[0] < 1e-300
    assert quad.per_sample(big, zero)[0] == 0.5
    assert ce.delta(big, zero)[0, 0] == 1.0
    assert ce.delta(-big, one)[0, 0] == -1.0
    assert abs(quad.delta(big, zero)[0, 0]) < 1e-300
    ll = COSTS["log_likelihood"]
    z, y = np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]])
    assert ll.per_sample(z, y)[0] == 2000.0
    np.testing.assert_array_equal(ll.delta(z, y), [[1.0, -1.0]])


@pytest.mark.parametrize("name", sorted(COSTS))
def test_costs_and_deltas_finite_on_huge_extreme_arrays(name):
    cost = COSTS[name]
    rng = np.random.default_rng(7)
    z = rng.choice([-1e6, -1000.0, 0.0, 1000.0, 1e6], size=(20_000, 10))
    y = np.eye(10)[rng.integers(0, 10, size=20_000)]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        c, d, mean = cost.per_sample(z, y), cost.delta(z, y), cost(z, y)
    assert np.all(np.isfinite(c))
    assert np.all(c >= 0.0)
    assert np.all(np.isfinite(d))
    assert np.isfinite(mean)


finite_z = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
z_batches = arrays(np.float64, st.tuples(st.integers(1, 4), st.just(K)), elements=finite_z)


@given(z_batches, st.data())
def test_sigmoid_costs_finite_and_nonnegative(z, data):
    y = data.draw(arrays(np.float64, z.shape, elements=st.floats(0.0, 1.0)))
    for name in ("quadratic", "cross_entropy"):
        c, d = COSTS[name].per_sample(z, y), COSTS[name].delta(z, y)
        assert np.all(np.isfinite(c))
        assert np.all(c >= 0.0)
        assert np.all(np.isfinite(d))
        assert np.all(np.abs(d) <= 1.0)


@given(z_batches, st.data())
def test_log_likelihood_finite_and_nonnegative(z, data):
    labels = data.draw(arrays(np.int64, z.shape[0], elements=st.integers(0, K - 1)))
    y = np.eye(K)[labels]
    c, d = COSTS["log_likelihood"].per_sample(z, y), COSTS["log_likelihood"].delta(z, y)
    assert np.all(np.isfinite(c))
    assert np.all(c >= 0.0)
    assert np.all(np.isfinite(d))
    np.testing.assert_allclose(d.sum(axis=1), 0.0, atol=1e-12)
