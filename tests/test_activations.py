"""Activations: every derivative against finite differences, stability at the extremes,
and the facts the registry quotes (maximum slope, zero-centred)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explain.nn.activations import (
    ACTIVATIONS,
    elu,
    elu_prime,
    get_activation,
    leaky_relu,
    log_softmax,
    sigmoid,
    sigmoid_prime,
    softmax,
    softplus,
    tanh,
    tanh_prime,
)
from explain.nn.gradcheck import numerical_gradient, relative_error

TOL = 1e-6
finite_z = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def away_from_kink(n: int, seed: int) -> np.ndarray:
    """n float64 points with 0.1 <= |z| <= 3, so no central difference straddles z = 0."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 3.0, size=n) * rng.choice([-1.0, 1.0], size=n)


def assert_prime_matches(fn, prime, z: np.ndarray) -> None:
    numeric = numerical_gradient(lambda: float(np.sum(fn(z))), z)
    assert relative_error(prime(z), numeric) < TOL


# --- derivatives -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_prime_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    assert_prime_matches(act.fn, act.prime, away_from_kink(16, seed=1))


@pytest.mark.parametrize("slope", [0.2, 0.5, -0.3, 2.0])
def test_leaky_relu_with_custom_slope_matches_finite_differences(slope):
    act = get_activation("leaky_relu", slope=slope)
    z = away_from_kink(16, seed=2)
    assert_prime_matches(act.fn, act.prime, z)
    np.testing.assert_array_equal(act.fn(z), np.where(z > 0, z, slope * z))


def test_elu_with_custom_alpha_matches_finite_differences():
    z = away_from_kink(16, seed=3)
    assert_prime_matches(lambda v: elu(v, 2.5), lambda v: elu_prime(v, 2.5), z)


def test_softplus_derivative_is_sigmoid():
    z = np.random.default_rng(4).normal(0.0, 3.0, size=16)
    assert_prime_matches(softplus, sigmoid, z)


def test_relu_family_derivatives_at_the_kink():
    # the subgradient at exactly 0 is the negative side's slope, by convention
    z = np.array([0.0])
    assert ACTIVATIONS["relu"].prime(z)[0] == 0.0
    assert get_activation("leaky_relu", slope=0.3).prime(z)[0] == 0.3
    assert ACTIVATIONS["elu"].prime(z)[0] == 1.0  # alpha e^0: ELU (alpha = 1) is C^1


# --- registry facts --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_max_slope_is_the_largest_derivative(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-10.0, 10.0, 20_001)  # contains z = 0 exactly
    assert np.max(act.prime(z)) == pytest.approx(act.max_slope, rel=1e-12)


@pytest.mark.parametrize("slope", [0.01, 0.5, 3.0, -2.0])
def test_leaky_relu_max_slope_follows_the_slope(slope):
    act = get_activation("leaky_relu", slope=slope)
    z = np.linspace(-5.0, 5.0, 1001)
    assert act.max_slope == np.max(np.abs(act.prime(z)))
    assert f"{slope:g}" in act.name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_zero_centred_means_odd(name):
    act = ACTIVATIONS[name]
    z = np.linspace(0.1, 5.0, 50)
    odd = bool(np.allclose(act.fn(-z), -act.fn(z), rtol=1e-12, atol=0.0))
    assert odd == act.zero_centred


def test_get_activation_returns_registry_entries():
    for name, act in ACTIVATIONS.items():
        if name != "leaky_relu":
            assert get_activation(name) is act


def test_unknown_activation_raises_key_error():
    with pytest.raises(KeyError, match="unknown activation 'swish'"):
        get_activation("swish")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_inputs_are_not_mutated(name):
    act = ACTIVATIONS[name]
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    before = z.copy()
    out = act.fn(z)
    act.prime(z)
    np.testing.assert_array_equal(z, before)
    assert out is not z


# --- numerical stability ---------------------------------------------------------------


def test_sigmoid_exact_limits():
    assert sigmoid(np.array(1000.0)) == 1.0
    low = float(sigmoid(np.array(-1000.0)))
    assert 0.0 <= low < 1e-300
    assert sigmoid(0.0) == 0.5


def test_sigmoid_prime_extremes():
    assert float(sigmoid_prime(np.array(0.0))) == 0.25
    for z in (1000.0, -1000.0):
        assert 0.0 <= float(sigmoid_prime(np.array(z))) < 1e-300
    tiny = float(sigmoid_prime(np.array(-40.0)))
    assert 0.0 < tiny < 1e-17  # e^{-40} ~ 4.2e-18: small, but not flushed to 0
    assert tiny == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_tanh_prime_saturated_is_tiny_not_zero():
    assert 0.0 < float(tanh_prime(np.array(20.0))) < 1e-16
    assert float(tanh_prime(np.array(0.0))) == 1.0


def test_softmax_and_log_softmax_extremes():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]])
    np.testing.assert_array_equal(softmax(z), [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(
        log_softmax(z), [[0.0, -2000.0], [-2000.0, 0.0], [-np.log(2), -np.log(2)]], rtol=1e-15
    )


def test_softplus_extremes():
    assert float(softplus(np.array(1000.0))) == 1000.0
    assert 0.0 <= float(softplus(np.array(-1000.0))) < 1e-300
    assert float(softplus(np.array(0.0))) == pytest.approx(np.log(2.0), rel=1e-15)


def extremes() -> np.ndarray:
    """A big array mixing +-1000, +-1e6, +-1e300 and ordinary values."""
    parts = [
        np.full(50_000, 1000.0),
        np.full(50_000, -1000.0),
        np.linspace(-1e6, 1e6, 50_001),
        np.array([1e300, -1e300, 0.0, 5e-324, -5e-324]),
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize(
    "fn",
    [sigmoid, sigmoid_prime, tanh, tanh_prime, softplus]
    + [a.fn for a in ACTIVATIONS.values()]
    + [a.prime for a in ACTIVATIONS.values()],
)
def test_elementwise_functions_finite_on_extremes(fn):
    z = extremes()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = fn(z)
    assert out.shape == z.shape
    assert np.all(np.isfinite(out))


def test_sigmoid_and_derivatives_bounded_on_extremes():
    z = extremes()
    s, sp, tp = sigmoid(z), sigmoid_prime(z), tanh_prime(z)
    assert np.all((s >= 0.0) & (s <= 1.0))
    assert np.all((sp >= 0.0) & (sp <= 0.25))
    assert np.all((tp >= 0.0) & (tp <= 1.0))


def test_row_softmax_finite_on_extremes():
    rng = np.random.default_rng(5)
    z = rng.choice([-1e6, -1000.0, 0.0, 1000.0, 1e6], size=(20_000, 10))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p, logp = softmax(z), log_softmax(z)
    assert np.all(np.isfinite(p))
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(logp <= 0.0)


# --- properties ------------------------------------------------------------------------


@given(finite_z)
def test_sigmoid_in_unit_interval(z):
    s = float(sigmoid(np.array(z)))
    assert 0.0 <= s <= 1.0


@given(finite_z)
def test_sigmoid_symmetry(z):
    assert float(sigmoid(np.array(-z))) == pytest.approx(
        1.0 - float(sigmoid(np.array(z))), abs=1e-15
    )


@given(st.floats(-1e3, 1e3, allow_nan=False))
def test_tanh_is_rescaled_sigmoid(z):
    assert float(tanh(np.array(z))) == pytest.approx(
        2.0 * float(sigmoid(np.array(2.0 * z))) - 1.0, abs=1e-14
    )


@given(finite_z)
def test_sigmoid_prime_is_sigma_times_one_minus_sigma_and_peaks_at_zero(z):
    sp = float(sigmoid_prime(np.array(z)))
    s = float(sigmoid(np.array(z)))
    assert sp == pytest.approx(s * (1.0 - s), abs=1e-15)  # a few ulps of sigma
    assert 0.0 <= sp <= 0.25  # 1/4 = sigma'(0) is the maximum


def test_sigmoid_prime_never_exceeds_a_quarter():
    tiny = np.geomspace(1e-16, 1e-8, 20_001)
    z = np.concatenate([tiny, -tiny])
    scalars = [float(sigmoid_prime(np.array(v))) for v in (1.1632393013686284e-11, 2.0e-16)]
    assert max(scalars) <= 0.25
    assert np.max(sigmoid_prime(z)) <= 0.25
    assert np.max(tanh_prime(z / 2)) <= 1.0


@given(arrays(np.float64, st.integers(1, 50), elements=finite_z))
def test_activations_finite_on_any_finite_array(z):
    for act in ACTIVATIONS.values():
        assert np.all(np.isfinite(act.fn(z)))
        assert np.all(np.isfinite(act.prime(z)))


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite_z))
def test_log_softmax_is_log_of_softmax(z):
    p, logp = softmax(z), log_softmax(z)
    np.testing.assert_allclose(np.exp(logp), p, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


def test_leaky_relu_default_slope():
    z = np.array([-3.0, 2.0])
    np.testing.assert_array_equal(leaky_relu(z), [-0.03, 2.0])
