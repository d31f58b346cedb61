"""The claims of the vanishing-gradients page, checked on the simulation."""

import numpy as np
import pytest

from explain.experiments import MnistExperiment, run_mnist
from explain.nn.activations import sigmoid_prime
from explain.nn.datasets import load_mnist
from explain.nn.network import NetworkSpec, Params, backward, forward, init_params
from explain.unstable import (
    ChainSetup,
    backprop_chain,
    chain_gradients,
    escape_width,
    escape_width_numeric,
    hidden_spec,
    init_gradients,
    jacobian_norms,
    random_chain_ratios,
)


@pytest.mark.parametrize(
    "setup",
    [
        ChainSetup(),
        ChainSetup(depth=7, seed=3),
        ChainSetup(depth=5, weights="fixed", w_fixed=-2.5, biases="zero"),
        ChainSetup(depth=6, weights="fixed", w_fixed=100.0, biases="centred", y=1.0),
    ],
)
def test_chain_product_matches_backpropagation(setup):
    chain = chain_gradients(setup)
    np.testing.assert_allclose(chain.grad, backprop_chain(chain), rtol=1e-12)
    # ... and the general network engine, with one neuron per layer
    spec = NetworkSpec((1,) * (setup.depth + 1), "sigmoid", "quadratic")
    params = Params(tuple(np.array([[w]]) for w in chain.w), tuple(np.array([b]) for b in chain.b))
    x, y = np.array([[setup.a0]]), np.array([[setup.y]])
    grads = backward(spec, params, forward(spec, params, x), y)
    np.testing.assert_allclose(np.concatenate(grads.db), chain.grad, rtol=1e-10)
    np.testing.assert_allclose(10**chain.log10_grad, np.abs(chain.grad), rtol=1e-9)


def test_sigma_prime_bounds_every_factor():
    for seed in range(20):
        chain = chain_gradients(ChainSetup(depth=10, seed=seed))
        assert chain.sigma_prime.max() <= 0.25
        small = np.abs(chain.w[1:]) < 1
        assert np.all(np.abs(chain.factor[:-1][small]) < 0.25)
    assert sigmoid_prime(np.array(0.0)) == 0.25


def test_exploding_construction_grows_25_fold_per_layer():
    chain = chain_gradients(ChainSetup(depth=30, weights="fixed", w_fixed=100, biases="centred"))
    np.testing.assert_allclose(chain.z, 0.0, atol=1e-12)
    np.testing.assert_allclose(chain.factor[:-1], 25.0)
    np.testing.assert_allclose(np.diff(chain.log10_grad), -np.log10(25.0))
    assert chain.float_fails_at is None  # 25^29 still fits in float64


def test_float64_failure_is_reported_where_it_happens():
    chain = chain_gradients(ChainSetup(depth=30, weights="fixed", w_fixed=100, biases="normal"))
    assert chain.float_fails_at is not None
    j = chain.float_fails_at
    assert chain.grad[j - 1] == 0 or not np.isfinite(chain.grad[j - 1])
    assert np.all(chain.grad[j:] != 0)
    assert np.isfinite(chain.log10_grad[0])  # the logarithm is still exact
    assert chain_gradients(ChainSetup()).float_fails_at is None


def test_early_layers_are_typically_16_times_slower_two_layers_back():
    r = random_chain_ratios(2, rng=np.random.default_rng(0))
    assert np.median(1 / r) > 16
    assert np.mean(r < 1 / 16) > 0.8


def test_escape_width_is_empty_below_4_and_never_wider_than_045():
    w = np.linspace(0, 100, 100_001)
    width = escape_width(w)
    assert np.all(width[w < 4] == 0)
    assert width.max() == pytest.approx(0.4477, abs=1e-3)
    assert w[np.argmax(width)] == pytest.approx(6.9, abs=0.1)
    grid = np.linspace(-3, 3, 600_001)
    for wv, b in ((6.9, -3.45), (10.0, 2.0), (25.0, -7.0), (3.0, 0.0)):
        num = escape_width_numeric(wv, b, grid)
        assert num == pytest.approx(float(escape_width(np.array([wv]))[0]), abs=1e-4)


@pytest.mark.parametrize("n_hidden", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mnist_sigmoid_gradients_grow_from_first_to_last_hidden_layer(n_hidden, seed):
    norms = init_gradients(hidden_spec(n_hidden), seed).norms
    assert np.all(np.diff(norms) > 0), norms


def test_mnist_init_norms_are_near_the_books():
    norms = np.median([init_gradients(hidden_spec(4), s).norms for s in range(5)], axis=0)
    book = np.array([0.003, 0.017, 0.070, 0.285])
    assert np.all((norms / book > 0.4) & (norms / book < 2.5))


def test_jacobian_norms_match_a_direct_svd():
    spec = hidden_spec(2)
    params = init_params(spec, rng=np.random.default_rng(0))
    x = load_mnist().train.x[:3]
    fwd = forward(spec, params, x)
    expect = []
    for l in range(2):
        per_image = [
            np.linalg.svd(
                params.W[l + 1] * spec.hidden.prime(fwd.zs[l][i])[:, None], compute_uv=False
            )[0]
            for i in range(3)
        ]
        expect.append(np.mean(per_image))
    np.testing.assert_allclose(jacobian_norms(spec, params, x), expect, rtol=1e-10)


def test_speed_of_learning_the_last_layer_learns_faster():
    exp = MnistExperiment(
        sizes=(784, 30, 30, 30, 30, 10),
        n_train=300,
        batch_size=300,
        epochs=10,
        eta=0.1,
        lmbda=5.0,
        record_every=5,
    )
    res = run_mnist(exp)
    assert list(res.history.epoch) == [0, 5, 10]
    norms = res.history.grad_norm
    assert np.all(norms[:, -1] > 10 * norms[:, 0])


def test_depth_accuracy_uses_the_books_decay_per_step_unless_told():
    from explain.unstable import book_lmbda, depth_accuracy_experiments

    assert book_lmbda(8000) == pytest.approx(0.8)
    default = depth_accuracy_experiments()
    assert [e.lmbda for e in default] == [pytest.approx(0.8)] * 4
    assert [e.sizes[1:-1] for e in default] == [(30,) * k for k in (1, 2, 3, 4)]
    assert {e.lmbda for e in depth_accuracy_experiments(lmbda=5.0)} == {5.0}
