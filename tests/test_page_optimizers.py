"""AppTest interactions on the optimizers page: presets, surfaces, extremes, the MNIST race."""

import numpy as np

from explain.descent import SUGGESTED_ETAS
from tests.pagetools import assert_charts_finite, charts, run_page, text

PAGE = "pages/training_better/optimizers.py"
FAST = {"m_n": "1000", "m_epochs": "5"}  # the MNIST section's smallest run
PATHS = "Paths on the narrow valley, first 150 steps"


def test_default_shows_the_zig_zag_and_theory():
    at = run_page(PAGE, FAST)
    df = charts(at)[PATHS]
    assert set(df["optimizer"].dropna()) == {"SGD", "momentum", "Adam"}
    t = text(at)
    assert "Zig-zag: " in t and "of SGD's steps turn back" in t
    assert "momentum needed **" in t and "where the rates predict" in t
    assert "Adam's paths on f and on 1000 f agree to within" in t
    assert_charts_finite(at)


def test_saddle_preset_stalls_sgd_and_momentum_escapes():
    at = run_page(PAGE, FAST)
    at.button(key="preset_saddle").click().run()
    assert not at.exception
    t = text(at)
    assert "Still at the saddle after 150 steps: **SGD**" in t
    assert "**momentum** at step" in t and "**Adam** at step" in t
    # exactly on the ridge nothing without noise leaves it
    at.slider(key="y0_s").set_value(0.0).run()
    assert "Still at the saddle after 150 steps: **SGD, momentum and Adam**, never off" in text(at)
    at.select_slider(key="noise").set_value(1.0).run()
    assert "Escaped the saddle" in text(at)


def test_noise_preset_reports_where_each_settles():
    at = run_page(PAGE, FAST)
    at.button(key="preset_noise").click().run()
    assert "With gradient noise σ = 1 a path cannot settle exactly" in text(at)


def test_choosing_a_surface_sets_its_learning_rates_and_start():
    at = run_page(PAGE, FAST)
    at.selectbox(key="surface").set_value("beale").run()
    assert at.select_slider(key="eta_sgd_b").value == SUGGESTED_ETAS["beale"]["sgd"]
    assert (at.slider(key="x0_b").value, at.slider(key="y0_b").value) == (1.0, 1.5)
    assert "Paths on the Beale, first 150 steps" in charts(at)
    assert "diverged" not in text(at)


def test_a_link_to_a_surface_gets_that_surface_s_rates():
    """A typed link names only the surface: its own rates and start apply, nothing diverges."""
    for surface in ("saddle", "himmelblau", "scaled_rosenbrock"):
        at = run_page(PAGE, {**FAST, "surface": surface, "opt": ["SGD", "momentum", "Nesterov"]})
        assert "diverged" not in text(at), surface


def test_too_large_a_rate_diverges_in_words_not_nan():
    at = run_page(PAGE, FAST)
    at.select_slider(key="eta_sgd_q").set_value(5.0).run()
    assert "**SGD** diverged at step" in text(at)
    df = charts(at)["Height above the minimum, step by step"]
    assert np.isfinite(df["value"].dropna()).all()
    assert_charts_finite(at)


def test_follow_slider_cuts_the_paths_and_formulas_follow():
    at = run_page(PAGE, FAST)
    at.slider(key="follow").set_value(3).run()
    df = charts(at)["Paths on the narrow valley, first 3 steps"]
    assert df.groupby("optimizer")["step"].max().max() == 3
    t = text(at)
    assert "**SGD**, step 3" in t and "u = -\\eta\\, g" in t


def test_adaptive_preset_draws_their_rates():
    at = run_page(PAGE, FAST)
    at.button(key="preset_adaptive").click().run()
    title = "Each coordinate's effective learning rate η / (√(accumulated g²) + ε)"
    df = charts(at)[title]
    assert set(df["optimizer"].dropna()) == {"Adagrad", "RMSProp", "Adam"}
    t = text(at)
    assert "**Adagrad**: for x it fell from" in t and "never rose" in t
    assert "**RMSProp**: for x it fell to" in t and "then rose again" in t


def test_no_optimizer_chosen_says_so():
    at = run_page(PAGE, FAST)
    at.pills(key="opt").set_value([]).run()
    assert not at.exception
    assert any("Choose at least one optimizer" in i.value for i in at.info)


def test_round_valley_theory_in_words():
    at = run_page(PAGE, {**FAST, "kappa_t": "1"})
    assert "At κ = 1 the valley is round" in text(at)
    assert "nan" not in text(at)


def test_mnist_race_follows_its_controls():
    at = run_page(PAGE, FAST)
    acc = charts(at)["Validation accuracy per epoch"]
    assert set(acc["optimizer"].dropna()) == {"SGD", "momentum", "Adam"}
    assert acc["epoch"].max() == 5
    t = text(at)
    assert "- SGD: in epoch 1, " in t and "**The race.**" in t
    at.pills(key="m_opt").set_value(["sgd", "rmsprop"]).run()
    acc = charts(at)["Validation accuracy per epoch"]
    assert set(acc["optimizer"].dropna()) == {"SGD", "RMSProp"}
    assert_charts_finite(at)


def test_a_link_with_several_optimizers_and_a_bad_one():
    at = run_page(PAGE, {**FAST, "opt": ["SGD", "rmsprop", "bogus"]})
    df = charts(at)[PATHS]
    assert set(df["optimizer"].dropna()) == {"SGD", "RMSProp"}
    assert "“bogus”" in text(at)
