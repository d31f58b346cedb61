"""AppTest interactions on the overfitting and regularization page."""

from tests.pagetools import assert_charts_finite, charts, run_page, text

PAGE = "pages/training_better/regularization.py"
FAST = {"epochs": "30"}  # the shortest run: every claim below is about how, not how much


def test_overfitting_and_l2_by_default():
    at = run_page(PAGE, FAST)
    t = text(at)
    assert "Training cost kept falling" in t or "Validation" in t
    assert "With L2 (λ = 1)" in t
    assert "1 − ηλ/n" in t
    assert_charts_finite(at)


def test_l2_lambda_control_reruns_l2():
    at = run_page(PAGE, FAST)
    at.select_slider(key="lmbda").set_value(3.0).run()
    assert "With L2 (λ = 3)" in text(at)


def test_l1_tab_counts_zeros_and_draws_images():
    at = run_page(PAGE, {**FAST, "remedy_tab": "L1"})
    assert "Exactly zero after training: **" in text(at)
    images = charts(at)["Six hidden units' incoming weights, as 28 × 28 images"]
    assert images["image"].nunique() == 18  # 6 units × (none, L2, L1)


def test_dropout_tab_mask_and_check():
    at = run_page(PAGE, {**FAST, "remedy_tab": "Dropout"})
    mask = charts(at)["One mini-batch's dropout mask: 10 digits × 30 hidden units"]
    assert set(mask["kept"].dropna().unique()) <= {0.0, 1.0}
    assert "evaluation" in text(at).lower()


def test_early_stopping_and_summary_tabs():
    at = run_page(PAGE, {**FAST, "remedy_tab": "Early stopping"})
    assert "early stopping" in text(at).lower()
    at = run_page(PAGE, {**FAST, "remedy_tab": "Summary"})
    table = at.dataframe[-1].value
    assert list(table["remedy"])[:1] == ["no regularization"] and len(table) == 5


def test_larger_training_set_limits_epochs():
    at = run_page(PAGE, {"n": "8000", "epochs": "300"})
    assert at.select_slider(key="epochs").value == 50
