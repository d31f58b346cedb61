"""Regularizers and the training loop's new parts: L1 (its gradient away from zero, exact
zeros), max-norm, early stopping on a constructed validation curve, any optimizer and
schedule in the same loop, the per-epoch rate and update ratio, per-step records, and the
learning-rate range test."""

import numpy as np
import pytest

from explain.nn.datasets import toy_dataset
from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.network import NetworkSpec, Params, init_params
from explain.nn.regularizers import (
    add_l1,
    clamp_zero_crossings,
    early_stopping_init,
    early_stopping_update,
    l1_penalty,
    max_norm,
)
from explain.nn.schedules import ScheduleSpec
from explain.nn.training import TrainConfig, lr_range_test, train


@pytest.fixture(scope="module")
def blobs():
    return toy_dataset("blobs", 200, 0.2, rng=np.random.default_rng(0))


def run(spec, data, config, **kw):
    params = init_params(spec, rng=np.random.default_rng(0))
    return train(spec, params, data, config, rng=np.random.default_rng(1), **kw)


def test_l1_gradient_matches_finite_differences_away_from_zero():
    rng = np.random.default_rng(0)
    W = (rng.normal(size=(3, 4)) + np.sign(rng.normal(size=(3, 4))),)  # |w| well above h
    params = Params(W, (np.zeros(4),))
    zero = Params((np.zeros((3, 4)),), (np.zeros(4),))
    analytic = add_l1(zero, params, coeff=0.7 / 20)
    numeric = numerical_gradient(lambda: l1_penalty(params, 0.7, 20), params.W[0], 1e-6)
    assert relative_error(analytic.W[0], numeric) < 1e-6
    np.testing.assert_array_equal(analytic.b[0], 0.0)  # biases are not penalized


def test_clamp_sets_weights_that_crossed_zero_to_exactly_zero():
    before = Params((np.array([[0.3, -0.2, 0.0, 1.0]]),), ())
    after = Params((np.array([[-0.1, -0.5, 0.4, 0.9]]),), ())
    np.testing.assert_array_equal(clamp_zero_crossings(before, after).W[0], [[0, -0.5, 0.4, 0.9]])


def test_l1_leaves_exact_zeros_and_l2_does_not(blobs):
    spec = NetworkSpec(sizes=(2, 30, 3))
    l1 = run(spec, blobs, TrainConfig(epochs=10, batch_size=20, eta=0.5, lmbda1=5.0))
    l2 = run(spec, blobs, TrainConfig(epochs=10, batch_size=20, eta=0.5, lmbda=5.0))
    zeros_l1 = np.mean(l1.params.W[0] == 0.0)
    zeros_l2 = np.mean(l2.params.W[0] == 0.0)
    assert zeros_l1 > 0.2 and zeros_l2 == 0.0
    assert l1.history.train_cost[-1] > 0  # the penalty is in the cost


def test_max_norm_bounds_each_units_incoming_weights():
    W = np.array([[3.0, 0.1], [4.0, 0.1]])  # column norms 5 and 0.14
    out = max_norm(Params((W,), (np.zeros(2),)), c=2.0).W[0]
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [2.0, np.hypot(0.1, 0.1)])
    np.testing.assert_allclose(out[:, 0] / np.linalg.norm(out[:, 0]), [0.6, 0.8])


def test_max_norm_in_training_keeps_weights_bounded(blobs):
    spec = NetworkSpec(sizes=(2, 10, 3))
    result = run(spec, blobs, TrainConfig(epochs=5, batch_size=20, eta=3.0, max_norm=1.5))
    for W in result.params.W:
        assert np.linalg.norm(W, axis=0).max() <= 1.5 + 1e-12


def test_early_stopping_on_a_constructed_validation_curve():
    scores = [0.5, 0.6, 0.7, 0.69, 0.71, 0.70, 0.70, 0.69, 0.8]
    state = early_stopping_init()
    for epoch, score in enumerate(scores):
        state = early_stopping_update(state, epoch, score, Params((np.array([epoch]),), ()), 3)
        if state.stopped_at is not None:
            break
    assert state.best_epoch == 4 and state.best_score == 0.71
    assert state.stopped_at == 7  # epochs 5, 6, 7 brought nothing: patience 3 runs out
    assert state.best_params.W[0][0] == 4


def test_early_stopping_restores_the_best_epochs_parameters(blobs):
    spec = NetworkSpec(sizes=(2, 30, 3))
    val = toy_dataset("blobs", 100, 0.8, rng=np.random.default_rng(5))
    config = TrainConfig(epochs=40, batch_size=10, eta=2.0, patience=3)
    result = run(spec, blobs, config, eval_data=val)
    h = result.history
    best = int(np.argmax(h.eval_accuracy))
    assert result.best_epoch == h.epoch[best]
    assert result.stopped_at is not None and result.stopped_at == h.epoch[-1]
    assert h.epoch[-1] - result.best_epoch == 3
    # the returned parameters are the best epoch's: retraining to that epoch gives them
    again = run(
        spec, blobs, TrainConfig(epochs=result.best_epoch, batch_size=10, eta=2.0), eval_data=val
    )
    for a, b in zip(result.params.W, again.params.W):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
)
def test_every_optimizer_trains_in_the_same_loop(blobs, name):
    spec = NetworkSpec(sizes=(2, 8, 8, 3), norm="batch", keep_prob=0.9)
    eta = {"sgd": 0.5, "momentum": 0.2, "nesterov": 0.2, "adagrad": 0.1}.get(name, 0.02)
    result = run(spec, blobs, TrainConfig(epochs=8, batch_size=20, eta=eta, optimizer=name))
    h = result.history
    assert result.diverged_at is None
    assert h.train_accuracy[-1] > 0.85
    assert h.update_ratio.shape == (9, 3) and np.all(h.update_ratio[1:] > 0)
    assert np.all(h.update_ratio[0] == 0)


def test_the_schedule_sets_the_rate_per_epoch(blobs):
    spec = NetworkSpec(sizes=(2, 8, 3))
    sched = ScheduleSpec(name="step_decay", drop=0.5, every_epochs=2)
    result = run(spec, blobs, TrainConfig(epochs=6, batch_size=20, eta=0.8, schedule=sched))
    # 10 steps per epoch, halving every 20 steps; row e holds the rate of epoch e's last step
    np.testing.assert_allclose(result.history.lr, [0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2])


def test_per_step_record(blobs):
    spec = NetworkSpec(sizes=(2, 8, 3))
    sched = ScheduleSpec(name="cosine")
    result = run(
        spec,
        blobs,
        TrainConfig(epochs=3, batch_size=50, eta=0.5, schedule=sched),
        record_steps=True,
    )
    s = result.steps
    np.testing.assert_array_equal(s.step, np.arange(1, 13))
    assert s.lr[0] == pytest.approx(0.5) and s.lr[-1] < 0.05
    assert np.all(np.isfinite(s.loss)) and s.loss[-1] < s.loss[0]
    assert run(spec, blobs, TrainConfig(epochs=1)).steps is None


def test_divergence_with_adam_and_batch_norm_is_reported_not_nan(blobs):
    spec = NetworkSpec(sizes=(2, 8, 3), norm="layer", activation="relu")
    result = run(spec, blobs, TrainConfig(epochs=3, batch_size=20, eta=1e300, optimizer="sgd"))
    assert result.diverged_at is not None
    for column in result.history:
        assert np.all(np.isfinite(column))


def test_range_test_rises_past_divergence(blobs):
    spec = NetworkSpec(sizes=(2, 8, 3))
    params = init_params(spec, rng=np.random.default_rng(0))
    rt = lr_range_test(
        spec,
        params,
        blobs,
        TrainConfig(batch_size=10),
        lr_min=1e-4,
        lr_max=1e4,
        steps=200,
        rng=np.random.default_rng(1),
    )
    assert rt.diverged_at is not None
    assert np.all(np.isfinite(rt.loss)) and len(rt.lr) == len(rt.loss)
    assert np.all(np.diff(rt.lr) > 0)
    lo, hi = rt.suggestion
    assert rt.lr[0] <= lo < hi <= rt.lr[-1]
    # the cost at the largest rates tried is well above its best
    assert rt.loss[-1] > 1.5 * rt.loss.min()
