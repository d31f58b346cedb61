"""AppTest interactions on the vanishing-gradients page."""

import numpy as np

from explain.unstable import ChainSetup, chain_gradients
from tests.pagetools import assert_charts_finite, chart_datasets, charts, run_page, text

PAGE = "app_pages/vanishing_gradients.py"
BARS = "Gradient of each layer's bias, on a log scale"
NORMS = "Speed of learning of each hidden layer at initialization"


def chain_bars(at, name):
    df = charts(at)[BARS]
    return df[df["chain"] == name].sort_values("layer")


def test_chain_bars_are_the_live_product_and_follow_depth():
    at = run_page(PAGE)
    mine = chain_bars(at, "your chain")
    np.testing.assert_allclose(mine["log10"], chain_gradients(ChainSetup()).log10_grad)
    at.slider(key="depth").set_value(12).run()
    assert len(chain_bars(at, "your chain")) == 12
    np.testing.assert_allclose(
        chain_bars(at, "exploding: w = 100, z = 0")["log10"],
        chain_gradients(ChainSetup(12, "fixed", 100.0, "centred")).log10_grad,
    )
    assert "12 − 4" not in text(at) and "8 middle layers elided" in text(at)


def test_exploding_preset_makes_your_chain_explode():
    at = run_page(PAGE)
    at.button(key="chain_preset_explode").click().run()
    assert at.slider(key="w").value == 100.0
    mine = chain_bars(at, "your chain")["log10"].to_numpy()
    np.testing.assert_allclose(np.diff(mine), -np.log10(25.0))
    assert "every factor is **25**" in text(at)


def test_extreme_chain_reports_float_failure_without_nan():
    # select boxes are bound to the URL by their labels
    at = run_page(PAGE, {"depth": "30", "chain_w": "all equal to w", "w": "100.0"})
    assert any("overflows or underflows at layer" in w.value for w in at.warning)
    assert_charts_finite(at)


def test_activation_switch_changes_the_layer_norms():
    at = run_page(PAGE)
    sigmoid = charts(at)[NORMS]
    assert "Nielsen's book" in set(sigmoid["source"].dropna())
    at.selectbox(key="act").set_value("relu").run()
    relu = charts(at)[NORMS]
    assert "Nielsen's book" not in set(relu["source"].dropna())
    mine = lambda df: df[df["source"] == "this site"]["‖δ‖"].to_numpy()  # noqa: E731
    assert not np.allclose(mine(sigmoid), mine(relu))
    assert "Our medians are" not in text(at)


def test_speed_of_learning_tab_reports_live_ratios():
    at = run_page(PAGE, {"mnist_tab": "Speed of learning", "sol_epochs": "20"})
    titles = [t for t in chart_datasets(at) if t.startswith("Speed of learning during training")]
    assert len(titles) == 3
    assert text(at).count("After **20** epochs the last hidden layer learns") == 3
    assert_charts_finite(at)


def test_accuracy_tab_shows_ours_beside_the_books():
    at = run_page(PAGE, {"mnist_tab": "Accuracy against depth", "acc_epochs": "1"})
    acc = charts(at)["Validation accuracy against depth"]
    assert set(acc["source"]) == {"this site", "Nielsen's book"}
    assert len(acc) == 8
    assert "1 epochs on 8,000 training digits" in text(at)
