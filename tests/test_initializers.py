"""Initializers: shapes, the scale each one promises, reproducibility from a seed."""

import numpy as np
import pytest

from explain.nn.initializers import (
    WEIGHT_INIT_LABELS,
    WEIGHT_INITS,
    bias_init,
    weight_init,
)

N_IN, N_OUT = 400, 300  # 120,000 draws: the sample std is within ~0.5% of the true one

EXPECTED_STD = {
    "small": 0.01,
    "normal": 1.0,
    "scaled": 1.0 / np.sqrt(N_IN),
    "xavier": np.sqrt(2.0 / (N_IN + N_OUT)),
    "xavier_uniform": np.sqrt(2.0 / (N_IN + N_OUT)),
    "he": np.sqrt(2.0 / N_IN),
}


def draw(name: str, seed: int = 0, n_in: int = N_IN, n_out: int = N_OUT, **kw) -> np.ndarray:
    return weight_init(name, **kw)(n_in, n_out, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("name", sorted(WEIGHT_INITS) + ["gaussian", "constant"])
def test_shape_is_n_in_by_n_out(name):
    W = draw(name, n_in=7, n_out=5)
    assert W.shape == (7, 5)
    assert W.dtype == np.float64


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_empirical_std_and_mean(name):
    W = draw(name)
    std = EXPECTED_STD[name]
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 0.02 * std


def test_xavier_uniform_bounds():
    W = draw("xavier_uniform")
    r = np.sqrt(6.0 / (N_IN + N_OUT))
    assert np.all(np.abs(W) <= r)
    assert np.max(np.abs(W)) > 0.99 * r  # uses the whole interval


def test_scaled_keeps_the_weighted_input_at_unit_variance():
    # the point of 1/sqrt(n_in): z = x W has variance ~1 for unit-variance x
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, N_IN))
    assert (x @ draw("scaled")).std() == pytest.approx(1.0, rel=0.03)
    assert (x @ draw("normal")).std() == pytest.approx(np.sqrt(N_IN), rel=0.03)


@pytest.mark.parametrize("sigma", [0.1, 3.0])
def test_gaussian_takes_sigma(sigma):
    assert draw("gaussian", sigma=sigma).std() == pytest.approx(sigma, rel=0.02)


@pytest.mark.parametrize("name", sorted(EXPECTED_STD) + ["gaussian"])
def test_same_seed_same_weights_different_seed_different_weights(name):
    np.testing.assert_array_equal(draw(name, seed=3), draw(name, seed=3))
    assert not np.array_equal(draw(name, seed=3), draw(name, seed=4))


def test_zeros_and_constant():
    np.testing.assert_array_equal(draw("zeros", n_in=3, n_out=4), np.zeros((3, 4)))
    np.testing.assert_array_equal(
        draw("constant", n_in=3, n_out=4, value=0.7), np.full((3, 4), 0.7)
    )
    np.testing.assert_array_equal(draw("constant", n_in=2, n_out=2), np.full((2, 2), 0.5))


def test_labels_cover_every_initializer():
    assert set(WEIGHT_INIT_LABELS) == set(WEIGHT_INITS)


def test_unknown_weight_init_raises_key_error():
    with pytest.raises(KeyError, match="unknown initializer 'glorot'"):
        weight_init("glorot")


def test_bias_init():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(bias_init("zeros", 5, rng=rng), np.zeros(5))
    b = bias_init("normal", 100_000, rng=rng)
    assert b.shape == (100_000,)
    assert b.std() == pytest.approx(1.0, rel=0.02)
    assert abs(b.mean()) < 0.02
    same = [bias_init("normal", 6, rng=np.random.default_rng(9)) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], bias_init("normal", 6, rng=np.random.default_rng(10)))


def test_unknown_bias_init_raises_key_error():
    with pytest.raises(KeyError, match="unknown bias initializer"):
        bias_init("ones", 3, rng=np.random.default_rng(0))
