"""The hand-written network: backward (BP1-BP4) against finite differences of the cost for
every depth, hidden activation and cost, plus forward's shapes and the L2 term."""

import itertools

import numpy as np
import pytest

from explain.nn.activations import ACTIVATIONS
from explain.nn.costs import COSTS
from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.network import (
    NetworkSpec,
    Params,
    accuracy,
    backward,
    cost,
    forward,
    init_params,
    l2_penalty,
)

TOL = 1e-6
# Central differences carry a round-off error of about eps * C / h ~ 1e-11 for h = 1e-5;
# entries of dW smaller than FLOOR are therefore compared absolutely (to FLOOR * TOL = 1e-10)
# rather than relatively, as relative_error's floor provides. Larger entries get 1e-6 relative.
H, FLOOR = 1e-5, 1e-4
N_SAMPLES = 5


def tiny_problem(spec: NetworkSpec, seed: int):
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng=rng)
    x = rng.normal(size=(N_SAMPLES, spec.sizes[0]))
    y = np.eye(spec.sizes[-1])[rng.integers(0, spec.sizes[-1], size=N_SAMPLES)]
    return params, x, y


def numeric_grads(f, params: Params) -> Params:
    return Params(
        tuple(numerical_gradient(f, W, H) for W in params.W),
        tuple(numerical_gradient(f, b, H) for b in params.b),
    )


def assert_grads_match(analytic: Params, numeric: Params) -> None:
    for l, (a, n) in enumerate(zip(analytic.W + analytic.b, numeric.W + numeric.b)):
        assert a.shape == n.shape
        assert relative_error(a, n, FLOOR) < TOL, f"parameter array {l}"


CASES = list(itertools.product([1, 2, 4], sorted(ACTIVATIONS), sorted(COSTS)))


@pytest.mark.parametrize(("depth", "activation", "cost_name"), CASES)
def test_backward_matches_finite_differences(depth, activation, cost_name):
    spec = NetworkSpec(
        sizes=(3, *([4] * depth), 2), activation=activation, cost=cost_name, slope=0.1
    )
    params, x, y = tiny_problem(spec, seed=depth)
    grads = backward(spec, params, forward(spec, params, x), y)
    numeric = numeric_grads(lambda: cost(spec, params, x, y), params)
    assert_grads_match(Params(grads.dW, grads.db), numeric)


@pytest.mark.parametrize("weight_init", ["normal", "xavier", "he"])
def test_backward_matches_finite_differences_for_other_inits(weight_init):
    spec = NetworkSpec(sizes=(3, 4, 4, 3), activation="tanh", weight_init=weight_init)
    params, x, y = tiny_problem(spec, seed=7)
    grads = backward(spec, params, forward(spec, params, x), y)
    numeric = numeric_grads(lambda: cost(spec, params, x, y), params)
    assert_grads_match(Params(grads.dW, grads.db), numeric)


def test_l2_penalty_gradient_is_lmbda_over_n_times_w():
    spec = NetworkSpec(sizes=(3, 4, 2))
    params, _, _ = tiny_problem(spec, seed=0)
    lmbda, n = 3.0, 50
    numeric = numeric_grads(lambda: l2_penalty(params, lmbda, n), params)
    assert_grads_match(
        Params(tuple(lmbda / n * W for W in params.W), tuple(np.zeros_like(b) for b in params.b)),
        numeric,
    )


def test_l2_penalty_value():
    W = (np.array([[1.0, 2.0]]), np.array([[3.0], [-1.0]]))
    params = Params(W, (np.zeros(2), np.zeros(1)))
    assert l2_penalty(params, lmbda=2.0, n=10) == pytest.approx(0.5 * 2.0 / 10 * 15.0, rel=1e-15)
    assert l2_penalty(params, lmbda=0.0, n=10) == 0.0


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_deltas_batch_mean_is_db_and_bp4(activation):
    spec = NetworkSpec(sizes=(3, 4, 4, 4, 2), activation=activation)
    params, x, y = tiny_problem(spec, seed=11)
    fwd = forward(spec, params, x)
    grads = backward(spec, params, fwd, y)
    assert len(grads.deltas) == len(grads.dW) == len(grads.db) == spec.n_layers
    for l in range(spec.n_layers):
        assert grads.deltas[l].shape == (N_SAMPLES, spec.sizes[l + 1])
        np.testing.assert_allclose(grads.deltas[l].mean(axis=0), grads.db[l], rtol=1e-14)
        outer = np.mean([np.outer(a, d) for a, d in zip(fwd.activations[l], grads.deltas[l])], 0)
        np.testing.assert_allclose(grads.dW[l], outer, rtol=1e-12, atol=1e-17)


def test_output_delta_is_the_costs_delta():
    spec = NetworkSpec(sizes=(3, 4, 3), cost="log_likelihood")
    params, x, y = tiny_problem(spec, seed=12)
    fwd = forward(spec, params, x)
    np.testing.assert_array_equal(
        backward(spec, params, fwd, y).deltas[-1], fwd.output - y
    )  # BP1 with softmax + log-likelihood: a - y


@pytest.mark.parametrize("cost_name", sorted(COSTS))
def test_forward_shapes_and_output_layer(cost_name):
    spec = NetworkSpec(sizes=(3, 5, 4, 2), activation="relu", cost=cost_name)
    params, x, _ = tiny_problem(spec, seed=13)
    fwd = forward(spec, params, x)
    assert [z.shape for z in fwd.zs] == [(N_SAMPLES, 5), (N_SAMPLES, 4), (N_SAMPLES, 2)]
    assert [a.shape[1] for a in fwd.activations] == [3, 5, 4, 2]
    np.testing.assert_array_equal(fwd.activations[0], x)
    np.testing.assert_array_equal(fwd.activations[1], np.maximum(fwd.zs[0], 0.0))
    np.testing.assert_array_equal(fwd.output, COSTS[cost_name].output(fwd.zs[-1]))
    np.testing.assert_allclose(fwd.zs[1], fwd.activations[1] @ params.W[1] + params.b[1])


def test_forward_does_not_mutate_input_and_accepts_ints():
    spec = NetworkSpec(sizes=(2, 3, 2))
    params = init_params(spec, rng=np.random.default_rng(0))
    x = np.array([[1, 2], [3, 4]])
    before = x.copy()
    out = forward(spec, params, x).output
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out, forward(spec, params, x.astype(float)).output)


def test_a_linear_network_is_one_linear_map():
    spec = NetworkSpec(sizes=(3, 5, 4, 2), activation="linear", cost="log_likelihood")
    params, x, _ = tiny_problem(spec, seed=14)
    W1, W2, W3 = params.W
    b1, b2, b3 = params.b
    z = x @ (W1 @ W2 @ W3) + (b1 @ W2 @ W3 + b2 @ W3 + b3)
    np.testing.assert_allclose(forward(spec, params, x).zs[-1], z, rtol=1e-12, atol=1e-14)


def test_init_params_shapes_and_determinism():
    spec = NetworkSpec(sizes=(6, 5, 4, 3), bias_init="zeros")
    p = init_params(spec, rng=np.random.default_rng(0))
    assert [W.shape for W in p.W] == [(6, 5), (5, 4), (4, 3)]
    assert all(np.array_equal(b, np.zeros(n)) for b, n in zip(p.b, (5, 4, 3)))
    q = init_params(spec, rng=np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(p.W, q.W))
    r = init_params(spec, rng=np.random.default_rng(1))
    assert not np.array_equal(p.W[0], r.W[0])


def test_init_params_uses_sigma_and_value():
    big = NetworkSpec(sizes=(200, 300, 2), weight_init="gaussian", init_sigma=5.0)
    assert init_params(big, rng=np.random.default_rng(0)).W[0].std() == pytest.approx(5.0, rel=0.02)
    const = NetworkSpec(sizes=(2, 3, 2), weight_init="constant", init_value=0.25)
    for W in init_params(const, rng=np.random.default_rng(0)).W:
        np.testing.assert_array_equal(W, np.full(W.shape, 0.25))


def test_cost_is_the_mean_cost_of_the_output_layer():
    spec = NetworkSpec(sizes=(3, 4, 2), cost="quadratic")
    params, x, y = tiny_problem(spec, seed=15)
    a = forward(spec, params, x).output
    assert cost(spec, params, x, y) == pytest.approx(np.mean(0.5 * np.sum((a - y) ** 2, 1)))


def test_accuracy_counts_argmax_hits():
    spec = NetworkSpec(sizes=(2, 2), cost="log_likelihood")
    params = Params((np.eye(2),), (np.zeros(2),))  # the output is softmax(x): argmax of x
    x = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [1.0, 4.0]])
    assert accuracy(spec, params, x, np.array([0, 1, 1, 0])) == 0.5
    assert accuracy(spec, params, x, np.array([0, 1, 0, 1])) == 1.0


def test_spec_is_frozen_and_hashable():
    a, b = NetworkSpec(sizes=(2, 3, 2)), NetworkSpec(sizes=(2, 3, 2))
    assert a == b
    assert hash(a) == hash(b)
    assert a.n_layers == 2
    with pytest.raises(AttributeError):
        a.cost = "quadratic"  # type: ignore[misc]


def test_spec_slope_reaches_the_hidden_activation():
    spec = NetworkSpec(activation="leaky_relu", slope=0.3)
    assert spec.hidden.prime(np.array([-1.0]))[0] == 0.3
    assert spec.cost_fn is COSTS["cross_entropy"]
