"""AppTest interactions on the activation-functions and weight-initialization pages."""

import numpy as np

from explain.propagation import DeepSetup, propagation_stats
from tests.pagetools import assert_charts_finite, charts, run_page, text

ACT = "pages/deep_networks/activations.py"
INIT = "pages/deep_networks/weight_init.py"
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
    from ui.format import nice

    sig = df[df["activation"] == "sigmoid"].sort_values("hidden layer")["‖δ‖"].to_numpy()
    assert f"sigmoid ({nice(sig[-1] / sig[0])} times smaller)" in text(at)
    at.slider(key="depth").set_value(4).run()
    assert "Speed of learning of each layer at initialization (4 × 30, MNIST)" in charts(at)


def test_activations_zig_zag_paths_react_to_the_mean():
    at = run_page(ACT, FAST)
    title = "The path of the two weights from (0, 0), η = 0.1"
    path1 = charts(at)[title]
    assert set(path1["inputs"].dropna()) == {"positive inputs", "zero-centred inputs"}
    assert "positive inputs: **" in text(at) and "**100%** of its updates" in text(at)
    assert "The cost of non-centred inputs is **stability**" in text(at)
    at.select_slider(key="mean").set_value(3.0).run()
    path2 = charts(at)[title]
    assert len(path1) != len(path2) or not np.allclose(path1["w₁"].fillna(0), path2["w₁"].fillna(0))
    assert_charts_finite(at)


def test_activations_dead_relu_charts_and_verdict():
    at = run_page(ACT, {"zc_epochs": "2", "dr_epochs": "6"})
    frozen = charts(at)["Units that get no gradient (cannot learn)"]
    assert set(frozen["activation"]) == {"ReLU", "leaky ReLU (0.01)"}
    relu = frozen[(frozen["activation"] == "ReLU") & (frozen["layer"] == "hidden layer 2")]
    leaky = frozen[frozen["activation"] == "leaky ReLU (0.01)"]
    assert (relu["value"] == 100).all()  # negative biases: a whole ReLU layer never learns
    assert (leaky["value"] == 0).all()
    assert "The ReLU network is **stuck**" in text(at)
    assert "from initialization to epoch 6" in text(at)


def test_weight_init_sigma_001_collapses_and_he_relu_does_not():
    at = run_page(INIT, {"width": "100"})
    assert "the signal **collapses**" in text(at)
    scale = charts(at)["Mean and standard deviation per layer"]
    spread = scale[scale["statistic"] == "spread across inputs"]["value"].to_numpy()
    expect = propagation_stats(DeepSetup(width=100, init="small")).spread
    np.testing.assert_allclose(spread, expect[expect > 0])
    at.selectbox(key="act").set_value("relu").run()
    at.selectbox(key="init").set_value("he").run()
    scale = charts(at)["Mean and standard deviation per layer"]
    sd = scale[scale["statistic"] == "standard deviation"]["value"].to_numpy()
    assert sd.max() / sd.min() < 2
    assert "Distribution of the activations in each layer (relu, He (normal))" in charts(at)
    assert "the signal **stays healthy**" in text(at)
    at.selectbox(key="act").set_value("tanh").run()
    at.selectbox(key="init").set_value("normal").run()
    assert "the signal **saturates**" in text(at)


def test_weight_init_sigma_slider_and_rule():
    at = run_page(INIT, {"width": "50", "init": "Gaussian, σ from the slider", "sigma": "0.2"})
    assert r"50 \times 0.2^2 \times 1 = 2" in text(at)
    assert "Distribution of the activations in each layer (tanh, Gaussian, σ = 0.2)" in charts(at)
    rule = charts(at)["Variance of z per layer: the rule against the measurement"]
    measured = rule[rule["source"] == "measured Var(z)"]["value"].to_numpy()
    predicted = rule[rule["source"] == "rule: n·Var(w)·E[x²]"]["value"].to_numpy()
    np.testing.assert_allclose(measured, predicted, rtol=0.15)
    assert_charts_finite(at)


def test_weight_init_symmetry_and_training_sections():
    at = run_page(INIT, {"width": "50", "t_epochs": "2", "t_n": "1000"})
    spread = charts(at)["Difference between hidden units"]
    zero = spread[spread["start"] == "all zero"]["value"]
    assert (zero == 0).all()
    acc = charts(at)["Validation accuracy, [784, 30, 10] sigmoid network"]
    assert set(acc["initial weights"]) == {"N(0, 1)", "N(0, 1/n_in)"}
    assert acc["epoch"].max() == 2
