"""The claims of the activation-functions and weight-initialization pages, on the simulation."""

import numpy as np
import pytest

from explain.experiments import MnistExperiment, centred, run_mnist
from explain.nn.activations import flat_regions
from explain.nn.datasets import load_mnist
from explain.nn.training import dead_fraction
from explain.propagation import (
    DeepSetup,
    layer_histograms,
    layer_moments,
    predicted_weight_std,
    propagate,
)
from explain.symmetry import distinct_units, symmetry_run, unit_spread
from explain.zero_centred import TwoWeightSetup, best, eta_scan, inputs, path, same_sign_fraction


def act_std(setup):
    return layer_moments(propagate(setup).activations)[1]


def test_activations_collapse_with_sigma_001():
    std = act_std(DeepSetup(activation="tanh", init="small", width=200))
    assert std[-1] < 1e-5 * std[0]
    assert np.all(np.diff(std) < 0)


def test_tanh_saturates_with_sigma_1():
    acts = propagate(DeepSetup(activation="tanh", init="normal", width=200)).activations
    for a in acts:
        assert np.mean(np.abs(a) > 0.95) > 0.8


@pytest.mark.parametrize(("act", "init"), [("relu", "he"), ("tanh", "xavier")])
def test_healthy_pairs_keep_the_scale(act, init):
    std = act_std(DeepSetup(activation=act, init=init, width=500, depth=10))
    lo, hi = (0.5, 1.2) if act == "relu" else (0.15, 0.8)
    assert np.all((std > lo) & (std < hi)), std


def test_xavier_shrinks_slowly_under_relu():
    std = act_std(DeepSetup(activation="relu", init="xavier", width=500, depth=10))
    ratios = std[1:] / std[:-1]
    assert np.all((ratios > 0.6) & (ratios < 0.8))  # about 1/sqrt(2) per layer


def test_variance_rule_predicts_the_first_layer():
    setup = DeepSetup(activation="linear", init="gaussian", sigma=0.07, width=300, n_samples=2000)
    z1 = propagate(setup).activations[0]
    predicted = 300 * predicted_weight_std("gaussian", 300, 300, 0.07) ** 2
    assert z1.var() == pytest.approx(predicted, rel=0.1)
    assert predicted_weight_std("he", 50, 50) == pytest.approx(np.sqrt(2 / 50))


def test_backward_gradients_vanish_for_small_weights():
    grads = propagate(DeepSetup(activation="tanh", init="small", width=200)).grads
    _, gstd = layer_moments(grads)
    assert gstd[0] < 1e-5 * gstd[-1]


def test_histograms_share_bins_and_sum_to_one():
    prop = propagate(DeepSetup(depth=4, width=50, n_samples=200, init="xavier"))
    hist = layer_histograms(prop.activations, bins=20, limit=1.0)
    assert hist.fractions.shape == (4, 20)
    np.testing.assert_allclose(hist.fractions.sum(axis=1), 1.0)


def test_same_seed_same_propagation():
    a, b = propagate(DeepSetup(width=50)), propagate(DeepSetup(width=50))
    assert all(np.array_equal(x, y) for x, y in zip(a.activations, b.activations))


def test_positive_inputs_give_same_sign_gradients():
    setup = TwoWeightSetup()
    x_pos, x_cen = inputs(setup)
    assert np.all(x_pos > 0)
    np.testing.assert_allclose(x_cen.mean(axis=0), 0.0, atol=1e-12)
    pos, cen = path(x_pos, setup), path(x_cen, setup)
    assert same_sign_fraction(pos.grads) == 1.0
    assert same_sign_fraction(cen.grads) < 0.7


def test_centred_inputs_tolerate_larger_steps_and_arrive_sooner():
    setup = TwoWeightSetup(mean=2.0)
    x_pos, x_cen = inputs(setup)
    scan_pos, scan_cen = eta_scan(x_pos, setup), eta_scan(x_cen, setup)
    largest = lambda s: s.etas[~np.isnan(s.steps)].max()  # noqa: E731
    assert largest(scan_cen) > 4 * largest(scan_pos)
    assert best(scan_cen)[1] < best(scan_pos)[1]
    assert path(x_pos, TwoWeightSetup(mean=2.0, eta=5.0)).diverged


def test_dead_unit_counting_on_a_constructed_example():
    z = np.array([[-1.0, 2.0, 0.0, -3.0], [-0.5, -1.0, 0.0, 4.0], [-2.0, -1.0, 0.0, -1.0]])
    # unit 0 never positive, unit 1 once, unit 2 always exactly 0 (inactive), unit 3 once
    assert dead_fraction(z) == 0.5


def test_negative_biases_kill_relus_and_leaky_relus_recover():
    base = MnistExperiment(
        sizes=(784, 100, 100, 10),
        cost="log_likelihood",
        weight_init="he",
        bias_init="constant",
        bias_value=-1.0,
        eta=0.1,
        epochs=6,
        n_train=2000,
    )
    relu = run_mnist(base.with_(activation="relu")).history.dead
    leaky = run_mnist(base.with_(activation="leaky_relu", slope=0.1)).history.dead
    assert relu[0, 1] > 0.9
    assert relu[-1, 1] > 0.9  # dead for good
    assert leaky[-1, 1] < 0.5 * leaky[0, 1]  # revived


def test_flat_regions():
    z = np.linspace(-6, 6, 1201)
    (lo, hi), (lo2, hi2) = flat_regions("sigmoid", z)
    assert lo == -6 and hi == pytest.approx(-4.36, abs=0.02)
    assert lo2 == pytest.approx(4.36, abs=0.02) and hi2 == 6
    assert flat_regions("relu", z) == [(-6.0, 0.0)]
    assert flat_regions("linear", z) == []


def test_equal_weights_stay_equal_under_training():
    for init in ("zeros", "constant"):
        run = symmetry_run(init, epochs=2, n_train=300)
        assert np.all(run.spread == 0)
        assert np.all(run.distinct == 1)
    rand = symmetry_run("scaled", epochs=2, n_train=300)
    assert rand.distinct[-1] == 30
    assert rand.spread[-1] > rand.spread[0] > 0


def test_unit_helpers():
    W = np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    assert unit_spread(W) == 1.0
    assert distinct_units(W) == 2


def test_centring_uses_the_training_mean():
    data = load_mnist()
    mean = data.train.x.mean(axis=0)
    np.testing.assert_allclose(centred(data.train, mean).x.mean(axis=0), 0.0, atol=1e-12)
    assert np.abs(centred(data.validation, mean).x.mean(axis=0)).max() < 0.1


@pytest.mark.parametrize(
    ("act", "init"), [("tanh", "xavier"), ("relu", "he"), ("sigmoid", "scaled"), ("tanh", "normal")]
)
def test_variance_rule_holds_in_every_layer(act, init):
    from explain.propagation import propagation_stats

    stats = propagation_stats(DeepSetup(activation=act, init=init, width=200, depth=6))
    np.testing.assert_allclose(stats.var_z, stats.var_z_rule, rtol=0.2)
    np.testing.assert_allclose(stats.act_hist.sum(axis=1), 1.0)


def test_propagation_stats_flag_collapse_saturation_and_relu_zeros():
    from explain.propagation import propagation_stats

    small = propagation_stats(DeepSetup(activation="sigmoid", init="small", width=200))
    assert small.spread[-1] < 1e-6 * small.spread[0]
    assert small.act_std[-1] > 1e3 * small.spread[-1]  # pooled std hides the collapse
    big = propagation_stats(DeepSetup(activation="tanh", init="normal", width=200))
    assert np.all(big.saturated > 0.8)
    assert np.all(big.grad_factor_rule > 1)  # large weights outweigh the small slopes
    he = propagation_stats(DeepSetup(activation="relu", init="he", width=200))
    np.testing.assert_allclose(he.saturated, 0.5, atol=0.05)


def test_fast_histogram_counts_match_numpy():
    from explain.propagation import _counts

    v = np.random.default_rng(1).normal(0, 2, 50_000)
    expect = np.histogram(np.clip(v, -1.5, 3.0), np.linspace(-1.5, 3.0, 31))[0]
    np.testing.assert_array_equal(_counts(v, -1.5, 3.0, 30), expect)


def test_fast_histogram_puts_huge_values_in_the_edge_bins():
    from explain.propagation import _counts

    v = np.array([-1e300, -np.inf, -2.0, 0.1, 2.0, 1e24, np.inf])
    counts = _counts(v, -1.0, 1.0, 4)
    assert counts.tolist() == [3, 0, 1, 3]


def test_exploding_relu_stack_gives_finite_statistics_without_warnings():
    from explain.propagation import propagation_stats

    stats = propagation_stats(DeepSetup(activation="relu", init="normal", width=100, depth=20))
    assert stats.act_hist[-1, -1] > 0.3  # exploding values land in the top edge bin
    assert stats.act_hist[-1, 0] < 0.7
    for field in ("act_hist", "spread", "grad_hist", "var_z", "var_z_rule"):
        assert np.all(np.isfinite(getattr(stats, field)))
