"""Normalization and dropout inside the network: backward against finite differences for
several depths, activations, costs and methods; batch norm's facts (mean 0 and variance 1
per unit in training, running statistics at inference, invariance to scaling a layer's
weights); a network without either computes exactly what the plain code computes."""

import itertools

import numpy as np
import pytest

from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.network import (
    NetworkSpec,
    Params,
    backward,
    cost,
    forward,
    init_params,
    running_after,
)

TOL, H, FLOOR = 1e-6, 1e-5, 1e-4
N = 6


def problem(spec: NetworkSpec, seed: int):
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng=rng)
    # non-trivial gamma and beta, so their gradients are tested away from 1 and 0
    gamma = tuple(g + rng.normal(0, 0.3, g.shape) for g in params.gamma)
    b = tuple(b + rng.normal(0, 0.3, b.shape) for b in params.b)
    params = params._replace(gamma=gamma, b=b)
    x = rng.normal(size=(N, spec.sizes[0]))
    y = np.eye(spec.sizes[-1])[rng.integers(0, spec.sizes[-1], size=N)]
    return params, x, y


def check_gradients(spec, params, x, y, *, train=True, mask_seed=None):
    def rng():
        return None if mask_seed is None else np.random.default_rng(mask_seed)

    fwd = forward(spec, params, x, train=train, rng=rng())
    grads = backward(spec, params, fwd, y)

    def f():
        return cost(spec, params, x, y, train=train, rng=rng())

    arrays = params.W + params.b + tuple(g for g in params.gamma if g.size)
    analytic = grads.dW + grads.db + tuple(g for g in grads.dgamma if g.size)
    assert len(arrays) == len(analytic)
    for k, (p, a) in enumerate(zip(arrays, analytic)):
        numeric = numerical_gradient(f, p, H)
        assert a.shape == p.shape
        assert relative_error(a, numeric, FLOOR) < TOL, f"parameter array {k}"


CASES = list(
    itertools.product(
        [1, 2, 3], ["sigmoid", "tanh", "relu"], ["cross_entropy", "log_likelihood", "quadratic"]
    )
)


@pytest.mark.parametrize("method", ["batch", "layer", "group"])
@pytest.mark.parametrize(("depth", "activation", "cost_name"), CASES)
def test_normalized_backward_matches_finite_differences(method, depth, activation, cost_name):
    spec = NetworkSpec(
        sizes=(3, *([4] * depth), 2), activation=activation, cost=cost_name, norm=method, groups=2
    )
    params, x, y = problem(spec, seed=depth)
    check_gradients(spec, params, x, y)


def test_mixed_normalization_per_layer_and_inference_mode_backward():
    spec = NetworkSpec(
        sizes=(3, 4, 6, 4, 2), activation="tanh", norm=("batch", "none", "group"), groups=2
    )
    params, x, y = problem(spec, seed=5)
    check_gradients(spec, params, x, y)
    # at inference batch norm is a fixed affine map per unit; backward handles that too
    running = tuple(
        (np.full(len(b), 0.1), np.full(len(b), 2.0)) if r else r
        for r, b in zip(params.running, params.b)
    )
    check_gradients(spec, params._replace(running=running), x, y, train=False)


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_dropout_backward_with_a_fixed_mask(norm):
    spec = NetworkSpec(sizes=(3, 5, 5, 2), activation="sigmoid", keep_prob=0.6, norm=norm)
    params, x, y = problem(spec, seed=9)
    check_gradients(spec, params, x, y, mask_seed=42)
    fwd = forward(spec, params, x, train=True, rng=np.random.default_rng(42))
    assert all(m is not None for m in fwd.masks[:-1]) and fwd.masks[-1] is None
    assert any((m == 0).any() for m in fwd.masks[:-1]), "some unit is dropped"


def test_batch_norm_training_output_has_mean_0_and_variance_1_per_unit():
    spec = NetworkSpec(sizes=(5, 7, 3), norm="batch", norm_eps=1e-12)
    params = init_params(spec, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(3.0, 4.0, size=(64, 5))
    xhat = forward(spec, params, x, train=True).norms[0].xhat
    np.testing.assert_allclose(xhat.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(xhat.var(axis=0), 1.0, rtol=1e-9)
    # gamma = 1 and beta = 0 at initialization, so z is xhat itself
    np.testing.assert_allclose(forward(spec, params, x, train=True).zs[0], xhat)


def test_inference_uses_running_statistics_and_not_the_batch():
    spec = NetworkSpec(sizes=(4, 6, 3), norm="batch")
    params, x, _ = problem(spec, seed=2)
    running = ((np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6)), ())
    params = params._replace(running=running)
    alone = forward(spec, params, x[:1]).zs[0]
    in_batch = forward(spec, params, x).zs[0][:1]
    np.testing.assert_allclose(alone, in_batch, rtol=1e-13)
    v = x[:1] @ params.W[0]
    expected = params.gamma[0] * (v - running[0][0]) / np.sqrt(running[0][1] + 1e-5) + params.b[0]
    np.testing.assert_allclose(alone, expected, rtol=1e-12)
    # in training the same sample's z depends on its batch
    assert not np.allclose(
        forward(spec, params, x, train=True).zs[0][:1],
        forward(spec, params, x[:3], train=True).zs[0][:1],
    )


def test_running_averages_move_toward_the_batch_statistics():
    spec = NetworkSpec(sizes=(4, 6, 3), norm="batch", bn_momentum=0.1)
    params, x, _ = problem(spec, seed=3)
    fwd = forward(spec, params, x, train=True)
    mean, var = running_after(spec, params, fwd)[0]
    batch = fwd.norms[0]
    np.testing.assert_allclose(mean, 0.9 * 0 + 0.1 * batch.mean)
    np.testing.assert_allclose(var, 0.9 * 1 + 0.1 * batch.var * N / (N - 1))
    # a batch of one sample says nothing about the variance: unchanged
    one = forward(spec, params, x[:1], train=True)
    assert running_after(spec, params, one) is params.running


@pytest.mark.parametrize("method", ["batch", "layer"])
def test_scaling_a_layers_weights_changes_nothing_with_normalization(method):
    spec = NetworkSpec(sizes=(5, 8, 8, 3), activation="sigmoid", norm=method, norm_eps=1e-12)
    params, x, _ = problem(spec, seed=4)
    x = np.random.default_rng(0).normal(size=(32, 5))
    scaled = params._replace(W=(params.W[0] * 7.5, params.W[1] * 0.02, params.W[2]))
    np.testing.assert_allclose(
        forward(spec, scaled, x, train=True).output,
        forward(spec, params, x, train=True).output,
        rtol=1e-6,  # eps inside sqrt(var + eps) is the only thing the scale reaches
    )
    plain = NetworkSpec(sizes=(5, 8, 8, 3), activation="sigmoid")
    p = init_params(plain, rng=np.random.default_rng(0))
    assert not np.allclose(
        forward(plain, p, x).output,
        forward(plain, p._replace(W=(p.W[0] * 7.5, *p.W[1:])), x).output,
    )


def test_a_plain_network_computes_what_it_always_did():
    """No normalization, no dropout: forward in training mode with an rng equals the plain
    pass, draws no random numbers, and backward gives the BP1-BP4 gradients."""
    spec = NetworkSpec(sizes=(3, 4, 4, 2))
    params, x, y = problem(spec, seed=6)
    assert params.gamma == () and params.running == ()
    rng = np.random.default_rng(0)
    fwd = forward(spec, params, x, train=True, rng=rng)
    assert rng.random() == np.random.default_rng(0).random()
    ref = forward(spec, params, x)
    for a, b in zip(fwd.activations, ref.activations):
        np.testing.assert_array_equal(a, b)
    g = backward(spec, params, fwd, y)
    assert g.dgamma == ()
    z1 = x @ params.W[0] + params.b[0]
    np.testing.assert_array_equal(fwd.zs[0], z1)


def test_evaluation_with_dropout_is_deterministic_and_training_is_not():
    spec = NetworkSpec(sizes=(3, 20, 2), keep_prob=0.5)
    params, x, _ = problem(spec, seed=7)
    np.testing.assert_array_equal(forward(spec, params, x).output, forward(spec, params, x).output)
    a = forward(spec, params, x, train=True, rng=np.random.default_rng(1)).output
    b = forward(spec, params, x, train=True, rng=np.random.default_rng(2)).output
    assert not np.allclose(a, b)


def test_init_params_for_normalized_layers():
    spec = NetworkSpec(sizes=(3, 4, 6, 2), norm=("batch", "layer"))
    p = init_params(spec, rng=np.random.default_rng(0))
    assert [g.shape for g in p.gamma] == [(4,), (6,), (0,)]
    np.testing.assert_array_equal(p.gamma[0], 1.0)
    np.testing.assert_array_equal(p.b[0], 0.0)
    assert len(p.running[0]) == 2 and p.running[1] == () and p.running[2] == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"norm": "group", "groups": 3}, "do not divide"),
        ({"norm": "bogus"}, "unknown normalization"),
        ({"norm": ("batch",)}, "hidden layers"),
        ({"keep_prob": 0.0}, "keep_prob"),
    ],
)
def test_bad_specs_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NetworkSpec(sizes=(3, 4, 4, 2), **kwargs)


def test_spec_with_normalization_is_hashable():
    a = NetworkSpec(sizes=(3, 4, 2), norm=("batch",))
    assert hash(a) == hash(NetworkSpec(sizes=(3, 4, 2), norm=("batch",)))
    assert Params((), ()).gamma == ()
