"""Training: it learns, it is reproducible from seeds, L2 is Nielsen's weight decay, the
History has the promised shape, and a run that blows up says where instead of warning."""

import warnings

import numpy as np
import pytest

from explain.nn.datasets import toy_dataset
from explain.nn.network import NetworkSpec, Params, backward, cost, forward, init_params, l2_penalty
from explain.nn.training import Divergence, History, TrainConfig, evaluate, layer_stats, train


@pytest.fixture(scope="module")
def blobs():
    return toy_dataset("blobs", 200, 0.2, rng=np.random.default_rng(0))


def run(spec, data, config, *, init_seed=0, train_seed=1, **kw):
    params = init_params(spec, rng=np.random.default_rng(init_seed))
    return train(spec, params, data, config, rng=np.random.default_rng(train_seed), **kw)


def assert_history_finite(history: History) -> None:
    for name, column in zip(History._fields, history):
        assert np.all(np.isfinite(column)), f"History.{name} is not finite"


# --- learning --------------------------------------------------------------------------


@pytest.mark.parametrize("cost_name", ["quadratic", "cross_entropy", "log_likelihood"])
def test_accuracy_improves_on_blobs(blobs, cost_name):
    spec = NetworkSpec(sizes=(2, 8, 3), activation="sigmoid", cost=cost_name)
    result = run(spec, blobs, TrainConfig(epochs=15, batch_size=10, eta=1.0))
    acc = result.history.train_accuracy
    assert result.diverged_at is None
    assert acc[-1] > 0.9
    assert acc[-1] > acc[0] + 0.3
    assert result.history.train_cost[-1] < 0.5 * result.history.train_cost[0]


@pytest.mark.parametrize("batch_size", [200, 1000])
def test_full_batch_gradient_descent_decreases_the_cost_every_epoch(blobs, batch_size):
    spec = NetworkSpec(sizes=(2, 8, 3), activation="tanh")
    result = run(spec, blobs, TrainConfig(epochs=20, batch_size=batch_size, eta=0.5))
    assert result.diverged_at is None
    assert np.all(np.diff(result.history.train_cost) < 0)
    assert result.history.train_accuracy[-1] > 0.9


def test_batch_larger_than_the_data_is_one_full_batch(blobs):
    spec = NetworkSpec(sizes=(2, 5, 3))
    exact = run(spec, blobs, TrainConfig(epochs=3, batch_size=len(blobs), eta=0.3))
    larger = run(spec, blobs, TrainConfig(epochs=3, batch_size=10 * len(blobs), eta=0.3))
    for a, b in zip(exact.params.W + exact.params.b, larger.params.W + larger.params.b):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("lmbda", [0.0, 5.0])
def test_one_full_batch_step_is_nielsens_update(blobs, lmbda):
    spec = NetworkSpec(sizes=(2, 5, 3), activation="sigmoid", cost="cross_entropy")
    eta, n = 0.7, len(blobs)
    p0 = init_params(spec, rng=np.random.default_rng(0))
    config = TrainConfig(epochs=1, batch_size=n, eta=eta, lmbda=lmbda)
    trained = train(spec, p0, blobs, config, rng=np.random.default_rng(1)).params

    grads = backward(spec, p0, forward(spec, p0, blobs.x), blobs.y)
    for W, dW, W_new in zip(p0.W, grads.dW, trained.W):
        np.testing.assert_allclose(W_new, (1 - eta * lmbda / n) * W - eta * dW, rtol=1e-12)
    for b, db, b_new in zip(p0.b, grads.db, trained.b):  # biases are not decayed
        np.testing.assert_allclose(b_new, b - eta * db, rtol=1e-12)


def test_weight_decay_shrinks_weights_by_eta_lmbda_over_n(blobs):
    spec = NetworkSpec(sizes=(2, 5, 3))
    eta, lmbda, n = 0.5, 20.0, len(blobs)
    plain = run(spec, blobs, TrainConfig(epochs=1, batch_size=n, eta=eta))
    decayed = run(spec, blobs, TrainConfig(epochs=1, batch_size=n, eta=eta, lmbda=lmbda))
    p0 = init_params(spec, rng=np.random.default_rng(0))
    for W, plain_W, decayed_W in zip(p0.W, plain.params.W, decayed.params.W):
        np.testing.assert_allclose(decayed_W - plain_W, -eta * lmbda / n * W, atol=1e-14)
    for a, b in zip(plain.params.b, decayed.params.b):
        np.testing.assert_array_equal(a, b)


# --- the History -----------------------------------------------------------------------


def test_history_shapes_and_ranges(blobs):
    spec = NetworkSpec(sizes=(2, 6, 5, 3), activation="tanh")
    epochs = 4
    history = run(spec, blobs, TrainConfig(epochs=epochs, batch_size=25, eta=0.3)).history
    np.testing.assert_array_equal(history.epoch, np.arange(epochs + 1))
    for column in (history.train_cost, history.train_accuracy, history.eval_cost):
        assert column.shape == (epochs + 1,)
    for column in (history.grad_norm, history.act_mean, history.act_std, history.saturated):
        assert column.shape == (epochs + 1, 2)
    assert np.all((history.saturated >= 0.0) & (history.saturated <= 1.0))
    assert np.all((history.train_accuracy >= 0.0) & (history.train_accuracy <= 1.0))
    assert np.all(history.grad_norm >= 0.0)
    assert np.all(np.abs(history.act_mean) <= 1.0)  # tanh activations
    assert_history_finite(history)


def test_history_row_zero_is_the_initial_network(blobs):
    spec = NetworkSpec(sizes=(2, 6, 5, 3))
    evaluation = toy_dataset("blobs", 80, 0.4, rng=np.random.default_rng(9))
    probe = blobs.take(50)
    lmbda = 2.0
    config = TrainConfig(epochs=2, batch_size=20, eta=0.3, lmbda=lmbda)
    history = run(spec, blobs, config, eval_data=evaluation, probe=probe).history
    p0 = init_params(spec, rng=np.random.default_rng(0))
    train_cost = cost(spec, p0, blobs.x, blobs.y) + l2_penalty(p0, lmbda, len(blobs))
    assert history.train_cost[0] == pytest.approx(train_cost, rel=1e-12)
    eval_cost, eval_acc = evaluate(spec, p0, evaluation)
    assert history.eval_cost[0] == pytest.approx(eval_cost, rel=1e-12)
    assert history.eval_accuracy[0] == eval_acc
    stats = layer_stats(spec, p0, probe)
    np.testing.assert_allclose(history.grad_norm[0], stats.grad_norm, rtol=1e-12)
    np.testing.assert_allclose(history.saturated[0], stats.saturated, rtol=1e-12)
    assert history.eval_cost[0] != history.train_cost[0]


def test_network_without_hidden_layers_has_empty_layer_columns(blobs):
    spec = NetworkSpec(sizes=(2, 3), cost="log_likelihood")
    history = run(spec, blobs, TrainConfig(epochs=2, batch_size=50, eta=0.5)).history
    assert history.grad_norm.shape == (3, 0)
    assert history.train_accuracy[-1] > 0.9  # blobs are linearly separable


def test_on_epoch_called_once_per_epoch(blobs):
    calls = []
    spec = NetworkSpec(sizes=(2, 4, 3))
    run(spec, blobs, TrainConfig(epochs=5, batch_size=50), on_epoch=lambda *a: calls.append(a))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


# --- claims the deep-network pages make -------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_early_layers_learn_slower_in_a_deep_sigmoid_network(blobs, seed):
    spec = NetworkSpec(sizes=(2, 20, 20, 20, 20, 3), activation="sigmoid")
    params = init_params(spec, rng=np.random.default_rng(seed))
    speed = layer_stats(spec, params, blobs).grad_norm
    assert np.all(np.diff(speed) > 0)  # ||dC/db^l|| grows towards the output
    assert speed[0] < 0.1 * speed[-1]


def test_large_weights_saturate_sigmoid_neurons(blobs):
    scaled = NetworkSpec(sizes=(2, 30, 3))
    large = NetworkSpec(sizes=(2, 30, 3), weight_init="gaussian", init_sigma=20.0)
    saturated = [
        layer_stats(s, init_params(s, rng=np.random.default_rng(0)), blobs).saturated[0]
        for s in (scaled, large)
    ]
    assert saturated[0] < 0.1
    assert saturated[1] > 0.7


# --- determinism -----------------------------------------------------------------------


def test_same_seeds_identical_results(blobs):
    spec = NetworkSpec(sizes=(2, 6, 5, 3), activation="relu")
    config = TrainConfig(epochs=3, batch_size=16, eta=0.2, lmbda=1.0)
    a, b = run(spec, blobs, config), run(spec, blobs, config)
    for x, y in zip(a.params.W + a.params.b, b.params.W + b.params.b):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.history, b.history):
        assert np.array_equal(x, y)
    assert a.diverged_at == b.diverged_at is None


@pytest.mark.parametrize(("init_seed", "train_seed"), [(0, 2), (3, 1)])
def test_different_seeds_differ(blobs, init_seed, train_seed):
    spec = NetworkSpec(sizes=(2, 6, 3))
    config = TrainConfig(epochs=2, batch_size=16, eta=0.2)
    base = run(spec, blobs, config)
    other = run(spec, blobs, config, init_seed=init_seed, train_seed=train_seed)
    assert not np.array_equal(base.params.W[0], other.params.W[0])
    assert not np.array_equal(base.history.train_cost, other.history.train_cost)


def test_training_does_not_mutate_its_inputs(blobs):
    spec = NetworkSpec(sizes=(2, 6, 3))
    params = init_params(spec, rng=np.random.default_rng(0))
    before = [a.copy() for a in params.W + params.b]
    x_before = blobs.x.copy()
    train(spec, params, blobs, TrainConfig(epochs=2, eta=0.5), rng=np.random.default_rng(1))
    for a, b in zip(params.W + params.b, before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(blobs.x, x_before)


# --- divergence ------------------------------------------------------------------------

BLOW_UPS = [
    ("linear", "cross_entropy"),
    ("linear", "log_likelihood"),
    ("leaky_relu", "log_likelihood"),
    ("elu", "cross_entropy"),
]


@pytest.mark.parametrize(("activation", "cost_name"), BLOW_UPS)
def test_divergence_is_reported_not_warned(blobs, activation, cost_name):
    spec = NetworkSpec(sizes=(2, 8, 8, 3), activation=activation, cost=cost_name)
    config = TrainConfig(epochs=5, batch_size=30, eta=1e6)
    calls = []
    errstate = np.geterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(spec, blobs, config, on_epoch=lambda *a: calls.append(a))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.geterr() == errstate  # training's errstate does not leak out
    where = result.diverged_at
    assert isinstance(where, Divergence)
    assert where.epoch >= 1
    steps_per_epoch = 7  # ceil(200 / 30)
    assert (where.epoch - 1) * steps_per_epoch < where.step <= where.epoch * steps_per_epoch
    assert "diverged at epoch" in str(where)
    assert f"epoch {where.epoch}" in str(where)
    assert len(result.history.epoch) == where.epoch  # row 0 plus each completed epoch
    assert len(calls) == where.epoch - 1
    assert_history_finite(result.history)


def replayed_blow_up_step(spec, data, eta: float, batch_size: int) -> int | None:
    """Plain SGD by hand with the seeds ``run`` uses: the first step with a non-finite weight."""
    params = init_params(spec, rng=np.random.default_rng(0))
    order = np.random.default_rng(1).permutation(len(data))
    with np.errstate(all="ignore"):
        for step, start in enumerate(range(0, len(data), batch_size), start=1):
            idx = order[start : start + batch_size]
            g = backward(spec, params, forward(spec, params, data.x[idx]), data.y[idx])
            params = Params(
                tuple(W - eta * dW for W, dW in zip(params.W, g.dW)),
                tuple(b - eta * db for b, db in zip(params.b, g.db)),
            )
            if not all(np.all(np.isfinite(a)) for a in params.W + params.b):
                return step
    return None


def test_divergence_step_is_the_first_non_finite_update(blobs):
    spec = NetworkSpec(sizes=(2, 8, 8, 3), activation="linear", cost="log_likelihood")
    where = run(spec, blobs, TrainConfig(epochs=3, batch_size=30, eta=1e6)).diverged_at
    step = replayed_blow_up_step(spec, blobs, eta=1e6, batch_size=30)
    assert step is not None
    assert where == Divergence(epoch=1, step=step)


@pytest.mark.parametrize(
    ("spec", "config"),
    [
        (
            NetworkSpec(sizes=(2, 8, 8, 3), activation="linear", cost="log_likelihood"),
            TrainConfig(epochs=50, batch_size=200, eta=100.0),
        ),
        (
            NetworkSpec(
                sizes=(2, 8, 8, 3),
                activation="relu",
                cost="quadratic",
                weight_init="gaussian",
                init_sigma=1e80,
            ),
            TrainConfig(epochs=3, batch_size=10, eta=0.1),
        ),
    ],
    ids=["large-eta", "large-init"],
)
def test_history_stays_finite_when_statistics_overflow(blobs, spec, config):
    result = run(spec, blobs, config)
    assert_history_finite(result.history)


def test_history_stays_finite_when_the_initial_network_overflows(blobs):
    spec = NetworkSpec(
        sizes=(2, 8, 8, 3), activation="relu", weight_init="gaussian", init_sigma=1e200
    )
    result = run(spec, blobs, TrainConfig(epochs=3, batch_size=10, eta=0.1))
    assert result.diverged_at is not None
    assert_history_finite(result.history)
