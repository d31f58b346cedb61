"""AppTest interactions on the vanishing-gradients page."""

import numpy as np

from explain.unstable import ChainSetup, chain_gradients
from tests.pagetools import assert_charts_finite, chart_datasets, charts, run_page, text

PAGE = "pages/deep_networks/vanishing_gradients.py"
CHAIN = "Each layer's bias gradient, your chain beside the exploding one"
MINE, BOOM = "your chain", "exploding: w = 100, z = 0"
NORMS = "Speed of learning of each hidden layer at initialization"


def bars(at, name):
    df = charts(at)[CHAIN]
    return df[df["chain"] == name].sort_values("layer")


def test_chain_bars_are_the_live_product_and_follow_depth():
    at = run_page(PAGE)
    np.testing.assert_allclose(bars(at, MINE)["log10"], chain_gradients(ChainSetup()).log10_grad)
    at.slider(key="depth").set_value(12).run()
    assert len(bars(at, MINE)) == 12
    np.testing.assert_allclose(
        bars(at, BOOM)["log10"],
        chain_gradients(ChainSetup(12, "fixed", 100.0, "centred")).log10_grad,
    )
    assert "8 middle layers elided" in text(at)


def test_exploding_preset_makes_your_chain_explode():
    at = run_page(PAGE)
    at.button(key="chain_preset_explode").click().run()
    assert at.slider(key="w").value == 100.0
    mine = bars(at, MINE)["log10"].to_numpy()
    np.testing.assert_allclose(np.diff(mine), -np.log10(25.0))
    assert "w·σ′(0) = 100 × 1/4 = 25" in text(at)


def test_extreme_chain_reports_float_failure_without_nan():
    # select boxes are bound to the URL by their labels
    at = run_page(PAGE, {"depth": "30", "chain_w": "all equal to w", "w": "100.0"})
    assert any("underflows to 0 at layer" in w.value for w in at.warning)
    assert_charts_finite(at)
    assert r"\times 10^{-" in text(at)


def test_zero_weight_cuts_the_chain_cleanly():
    at = run_page(PAGE, {"chain_w": "all equal to w", "w": "0.0"})
    body = text(at)
    assert "nan" not in body.lower() and "inf" not in body
    assert "w = 0 cuts the chain" in body
    assert_charts_finite(at)


def test_escape_chart_marks_your_w():
    at = run_page(PAGE, {"chain_w": "all equal to w", "w": "60.0"})
    esc = charts(at)["Width of the inputs a for which |w σ′(wa + b)| ≥ 1"]
    assert esc["|w|"].max() >= 65
    assert any(str(v).startswith("your w") for v in esc.get("label", []))


def test_activation_switch_changes_the_layer_norms():
    at = run_page(PAGE)
    sigmoid = charts(at)[NORMS]
    assert "Nielsen's book" in set(sigmoid["source"].dropna())
    assert "Our medians are" in text(at)
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
    assert text(at).count("After **20** epochs the last hidden layer's gradient is") == 3
    assert_charts_finite(at)


def test_speed_of_learning_reports_dead_layers_instead_of_nan():
    at = run_page(
        PAGE,
        {"mnist_tab": "Speed of learning", "sol_epochs": "40", "act": "ReLU", "init": "N(0, 1)"},
    )
    body = text(at)
    assert "nan" not in body.lower()
    assert_charts_finite(at)


def test_accuracy_tab_shows_ours_beside_the_books():
    at = run_page(PAGE, {"mnist_tab": "Accuracy against depth", "acc_epochs": "1"})
    acc = charts(at)["Validation accuracy against depth"]
    assert set(acc["source"]) == {"this site", "Nielsen's book"}
    assert len(acc) == 8
    assert "1 epoch on 8,000 training digits" in text(at)
    assert "λ is 0.8" in text(at)


def test_general_case_shows_bound_and_measured_shrinkage():
    at = run_page(PAGE)
    body = text(at)
    assert "That is an upper bound" in body
    assert r"\delta^L" in body


def test_accuracy_tab_lambda_choice_is_used_and_said():
    at = run_page(
        PAGE,
        {
            "mnist_tab": "Accuracy against depth",
            "acc_epochs": "1",
            "acc_lmbda": "5: the book's number (for 50,000 digits)",
        },
    )
    assert "decays the weights 6.25 times harder" in text(at)
