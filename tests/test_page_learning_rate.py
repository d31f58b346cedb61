"""AppTest interactions on the learning-rate page."""

from tests.pagetools import assert_charts_finite, charts, run_page, text

PAGE = "pages/training_better/learning_rate.py"
FAST = {"s_n": "1000", "s_epochs": "10"}


def test_default_page_measures_every_claim():
    at = run_page(PAGE, FAST)
    t = text(at)
    assert "the path descends **smoothly**" in t
    assert "The best rate was **η = " in t
    assert "diverged" in t  # the scan's largest rate
    assert "hovers near" in t or "ends lower than every decay" in t
    assert_charts_finite(at)


def test_rate_factor_moves_through_the_regimes():
    at = run_page(PAGE, FAST)
    seen = {}
    for factor in (0.5, 1.5, 2.1):
        at.select_slider(key="r_factor").set_value(factor).run()
        seen[factor] = text(at)
    assert "**smoothly**" in seen[0.5]
    assert "oscillat" in seen[1.5]
    assert "diverg" in seen[2.1]


def test_neuron_regimes_and_onsets():
    at = run_page(PAGE, FAST)
    at.radio(key="r_surface").set_value("neuron").run()
    assert "The neuron's thresholds are the curvature of its cost at the minimum" in text(at)
    at.select_slider(key="r_factor").set_value(3.0).run()
    assert not at.exception


def test_scan_chart_marks_the_diverged_rate():
    at = run_page(PAGE, FAST)
    final = charts(at)["Final validation accuracy against the learning rate"]
    assert (final["label"].fillna("").str.startswith("diverged in epoch")).any()


def test_schedule_controls_change_the_curves():
    at = run_page(PAGE, FAST)
    at.select_slider(key="s_warmup").set_value(2).run()
    curves = charts(at)["The learning rate, step by step"]
    first = curves.sort_values("epoch").groupby("schedule").head(1)
    assert (first["rate"] < 3.0).all()  # the warm-up starts low for every schedule
    assert "after a warm-up of 2 epochs" in text(at)


def test_batch_section_refuses_equal_sizes():
    at = run_page(PAGE, FAST)
    at.select_slider(key="b_small").set_value(100).run()
    at.select_slider(key="b_large").set_value(100).run()
    assert any("Choose a large batch" in i.value for i in at.info)
