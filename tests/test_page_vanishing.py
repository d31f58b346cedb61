"""AppTest interactions on the vanishing-gradients page."""

import numpy as np

from explain.unstable import ChainSetup, chain_gradients
from tests.pagetools import assert_charts_finite, chart_datasets, charts, run_page, text

PAGE = "pages/deep_networks/vanishing_gradients.py"
CHAIN = "Each layer's bias gradient |∂C/∂bⱼ|"
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
    assert "A weight is exactly 0, which cuts the chain" in body
    assert "**Cut**: a factor of exactly 0 makes the gradients of layers 1 to 3 exactly 0" in body
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
    assert text(at).count("At epoch **20** hidden layer 1's ‖δ‖ is") == 3
    assert_charts_finite(at)


def test_speed_of_learning_reports_dead_layers_instead_of_nan():
    at = run_page(
        PAGE,
        {"mnist_tab": "Speed of learning", "sol_epochs": "40", "act": "ReLU", "init": "N(0, 1)"},
    )
    body = text(at)
    assert "nan" not in body.lower()
    assert_charts_finite(at)
    # ReLU with N(0, 1) weights: units die, and a dead layer cuts the layers below it off
    assert "where ReLU's slope is 0 (dead ReLUs)" in body
    assert "passes no error back to" in body


def test_accuracy_tab_shows_ours_beside_the_books():
    at = run_page(PAGE, {"mnist_tab": "Accuracy against depth", "acc_epochs": "1"})
    acc = charts(at)["Validation accuracy against depth"]
    assert set(acc["source"]) == {"this site", "Nielsen's book"}
    assert len(acc) == 8
    assert "1 epoch on 8,000 training digits" in text(at)
    assert "λ is 0.8" in text(at)


def test_general_case_shows_norms_and_measured_shrinkage():
    at = run_page(PAGE)
    body = text(at)
    assert "the factors' norms multiply to" in body
    assert "What actually reaches the first hidden layer is ‖δ¹‖/‖δᴸ‖ =" in body
    assert "The error shrinks" in body  # sigmoid, N(0, 1/n_in): vanishing
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


def test_sidebar_names_the_page_briefly_and_the_heading_in_full():
    from ui.site import page_by_url

    info = page_by_url("vanishing-gradients")
    assert info.title == "Vanishing and exploding gradients"
    assert info.nav_title == "Vanishing & exploding"
    assert page_by_url("activations").nav_title == page_by_url("activations").title
    assert run_page(PAGE).title[0].value == info.title


def test_long_runs_default_to_short_settings():
    at = run_page(PAGE)
    assert {"sol_epochs", "acc_epochs"}.isdisjoint(s.key for s in at.slider)  # tabs closed
    at = run_page(PAGE, {"mnist_tab": "Speed of learning", "sol_epochs": "20"})
    sol = at.slider(key="sol_epochs")
    assert (sol.min, sol.max) == (20, 300)
    assert "for 500 epochs" in text(at)  # what the book ran, beside what we run
    at = run_page(PAGE, {"mnist_tab": "Accuracy against depth", "acc_epochs": "1"})
    acc = at.slider(key="acc_epochs")
    assert (acc.min, acc.max) == (1, 20)
    assert "The book: 30 epochs on 50,000 digits; here at most 20" in text(at)


def test_numbers_are_never_written_in_e_notation():
    import re

    at = run_page(PAGE, {"depth": "30", "chain_w": "all equal to w", "w": "100.0"})
    body = text(at)
    assert not re.search(r"\d[eE][+-]?\d", body), re.findall(r".{20}\d[eE][+-]?\d.{5}", body)
    assert "n_in" not in body and "b_j" not in body
