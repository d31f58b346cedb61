"""AppTest interactions on the activation-functions and weight-initialization pages."""

import numpy as np

from explain.propagation import DeepSetup, layer_moments, propagate
from tests.pagetools import assert_charts_finite, charts, run_page, text

ACT = "app_pages/activations.py"
INIT = "app_pages/weight_init.py"
FAST = {"zc_epochs": "2", "dr_epochs": "2"}


def test_activations_leaky_slope_changes_its_curve():
    at = run_page(ACT, FAST)
    before = charts(at)["leaky ReLU (0.01): max slope 1"]
    at.select_slider(key="slope").set_value(0.2).run()
    after = charts(at)["leaky ReLU (0.2): max slope 1"]
    neg = lambda df: df[(df["curve"] == "f′(z)") & (df["z"] < -1)]["value"]  # noqa: E731
    assert np.allclose(neg(before), 0.01)
    assert np.allclose(neg(after), 0.2)
    assert "slope 0.2 instead of 0" in text(at)


def test_activations_depth_chart_follows_depth_and_quotes_ratios():
    at = run_page(ACT, FAST)
    title = "Speed of learning of each layer at initialization (8 × 30, MNIST)"
    df = charts(at)[title]
    assert df["hidden layer"].max() == 8
    assert set(df["activation"]) >= {"sigmoid", "tanh", "ReLU", "ELU"}
    sig = df[df["activation"] == "sigmoid"].sort_values("hidden layer")["‖δ‖"].to_numpy()
    assert f"sigmoid **{sig[-1] / sig[0]:,.3g}×**" in text(at)
    at.slider(key="depth").set_value(4).run()
    assert "Speed of learning of each layer at initialization (4 × 30, MNIST)" in charts(at)


def test_activations_zig_zag_paths_react_to_the_mean():
    at = run_page(ACT, FAST)
    path1 = charts(at)["The path of the two weights, from (0, 0)"]
    assert set(path1["inputs"].dropna()) == {"positive inputs", "zero-centred inputs"}
    assert "positive inputs: **" in text(at) and "**100%** of its updates" in text(at)
    at.select_slider(key="mean").set_value(3.0).run()
    path2 = charts(at)["The path of the two weights, from (0, 0)"]
    assert len(path1) != len(path2) or not np.allclose(path1["w₁"].fillna(0), path2["w₁"].fillna(0))
    assert_charts_finite(at)


def test_activations_dead_relu_chart():
    at = run_page(ACT, FAST)
    dead = charts(at)["Units that never activate on 1,000 training digits"]
    assert set(dead["activation"]) == {"ReLU", "leaky ReLU (0.01)"}
    assert "ReLU: dead units" in text(at)


def test_weight_init_sigma_001_collapses_and_he_relu_does_not():
    at = run_page(INIT, {"width": "100"})
    body = text(at)
    std = layer_moments(propagate(DeepSetup(width=100, init="small")).activations)[1]
    assert f"**{std[0]:.3g}** in layer 1 to **{std[-1]:.3g}** in layer 10" in body
    at.selectbox(key="act").set_value("relu").run()
    at.selectbox(key="init").set_value("he").run()
    moments = charts(at)["Mean and standard deviation per layer"]
    sd = moments[moments["statistic"] == "standard deviation"]["value"].to_numpy()
    assert sd.max() / sd.min() < 2
    assert "Distribution of the activations in each layer (relu, He)" in charts(at)


def test_weight_init_sigma_slider_and_rule():
    at = run_page(INIT, {"width": "50", "init": "Gaussian, σ from the slider", "sigma": "0.2"})
    assert r"50 \times 0.2^2 \times 1 = 2" in text(at)
    assert_charts_finite(at)


def test_weight_init_symmetry_and_training_sections():
    at = run_page(INIT, {"width": "50", "t_epochs": "2", "t_n": "1000"})
    spread = charts(at)["Difference between hidden units"]
    zero = spread[spread["start"] == "all zero"]["value"]
    assert (zero == 0).all()
    acc = charts(at)["Validation accuracy, [784, 30, 10] sigmoid network"]
    assert set(acc["initial weights"]) == {"N(0, 1)", "N(0, 1/n_in)"}
    assert acc["epoch"].max() == 2
