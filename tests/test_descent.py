"""The optimizers page's claims on surfaces, each against the measurement that makes it:
momentum beats gradient descent on the quadratic by the ratio the rates predict, divergence
begins at 2 / lambda_max and 2 (1 + beta) / lambda_max, Adam ignores the scale of the cost,
the saddle's ridge traps plain gradient descent, Adagrad's rates only fall."""

import math

import numpy as np
import pytest

from explain.descent import (
    ETA_OPTIONS,
    OPTIMIZER_NAMES,
    SUGGESTED_ETAS,
    SURFACE_NAMES,
    PathSummary,
    Race,
    Setting,
    Terrain,
    adam_first_steps,
    optimal_rates,
    optimal_run,
    race,
    race_findings,
    rate_scan,
    rate_trace,
    reversals,
    scale_check,
    scan_sentence,
    settled_at,
    stability_limits,
    step_numbers,
    summarize,
    theory_sentence,
    trace_sentence,
    trace_summary,
)


def run(terrain, *settings, **kw):
    r = Race(terrain, settings, **kw)
    paths = race(r)
    surface = terrain.build()
    return paths, [summarize(k, p, surface) for k, p in paths.items()]


@pytest.mark.parametrize("kappa", [5, 20, 50, 200])
def test_momentum_beats_gd_by_the_predicted_ratio(kappa):
    o = optimal_run(kappa)
    assert o.steps_momentum < o.steps_gd
    # the measured ratio is the rates' prediction, less the k r^k factor of momentum's double
    # root (which costs momentum a few steps): between 70% and 100% of it
    assert 0.7 * o.predicted_ratio <= o.measured_ratio <= o.predicted_ratio
    assert o.measured_gd == pytest.approx(o.rates.gd_rate, rel=1e-3)
    assert o.rates.momentum_rate <= o.measured_momentum <= 1.1 * o.rates.momentum_rate


def test_rates_are_goh_s():
    r = optimal_rates(100.0)
    assert r.gd_rate == pytest.approx(99 / 101)
    assert r.momentum_rate == pytest.approx(9 / 11)
    assert r.momentum_beta == pytest.approx((9 / 11) ** 2)
    assert stability_limits(2.0, 0.9) == pytest.approx((1.0, 1.9))


def test_round_valley_lands_in_one_step():
    o = optimal_run(1.0)
    assert o.steps_gd == 1 and o.measured_ratio == 1.0
    assert math.isnan(o.measured_gd)  # nothing left to shrink: the page says so in words
    assert "land on the minimum both in one step" in theory_sentence(o)


@pytest.mark.parametrize("kappa", [2, 50, 200])
def test_theory_sentence_quotes_the_run(kappa):
    o = optimal_run(kappa)
    text = theory_sentence(o)
    assert f"gradient descent took **{o.steps_gd}** steps" in text
    assert "momentum needed **" in text and "nan" not in text


@pytest.mark.parametrize(("kappa", "beta"), [(1, 0.0), (50, 0.9), (200, 0.5), (10, 0.99)])
def test_divergence_begins_at_the_limits(kappa, beta):
    s = rate_scan(kappa, beta)
    for etas, ratios, up, limit in (
        (s.etas, s.gd, s.gd_growing, s.limit_gd),
        (s.etas, s.momentum, s.momentum_growing, s.limit_momentum),
    ):
        below, above = etas < 0.999 * limit, etas > 1.001 * limit
        assert not up[below].any() and np.all(ratios[below] <= 1.0), "below: every run closes in"
        assert up[above].all() and np.all(ratios[above] > 1.0), "above: every run grows"
    assert s.limit_gd < s.first_diverging_gd <= 1.005 * s.limit_gd
    assert s.limit_momentum < s.first_diverging_momentum <= 1.005 * s.limit_momentum
    assert "just past its limit" in scan_sentence(s)


def test_quadratic_path_diverges_above_two_over_lambda_max_and_not_below():
    t = Terrain("quadratic", 20, 30)
    _, (below,) = run(t, Setting("sgd", 1.9), steps=300)
    _, (above,) = run(t, Setting("sgd", 2.1), steps=300)
    assert below.diverged_at is None and below.final_gap < 1e-6
    assert above.diverged_at is not None


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_adam_ignores_the_scale_of_the_cost(surface):
    eta = SUGGESTED_ETAS[surface]["adam"]
    c = scale_check(Terrain(surface), Setting("adam", eta), 150)
    assert c.max_difference < 1e-6 and c.diverged_at is None
    sgd = scale_check(Terrain(surface), Setting("sgd", SUGGESTED_ETAS[surface]["sgd"]), 150)
    assert sgd.diverged_at is not None  # the same eta on 1000 f overshoots


def test_adam_first_steps():
    s = adam_first_steps(0.9, 0.999, 60)
    assert np.allclose(s["with bias correction"], 1.0)
    without = s["without bias correction"]
    assert without[0] == pytest.approx(0.1 / math.sqrt(0.001))
    assert without.max() > 6  # too large for tens of steps


def test_saddle_ridge_traps_gd_and_momentum_but_not_noise():
    t = Terrain("saddle")
    ridge = (1.5, 0.0)
    _, plain = run(t, Setting("sgd", 0.05), Setting("momentum", 0.01), start=ridge, steps=1000)
    assert all(s.escaped_at is None for s in plain)
    assert plain[0].final_f == pytest.approx(0.0, abs=1e-12)  # walked into the saddle and stopped
    _, noisy = run(t, Setting("sgd", 0.05), start=ridge, steps=300, noise=0.1)
    assert noisy[0].escaped_at is not None


def test_a_hair_off_the_ridge_momentum_and_adam_escape_first():
    preset = dict(start=(1.5, 0.001), steps=150)
    _, (gd, mom, adam) = run(
        Terrain("saddle"), Setting("sgd", 0.01), Setting("momentum", 0.01), Setting("adam", 0.05),
        **preset,
    )  # fmt: skip
    assert gd.escaped_at is None
    assert mom.escaped_at is not None and adam.escaped_at is not None
    text = " ".join(race_findings([gd, mom, adam], 150, 0.0))
    assert "Still at the saddle after 150 steps: **SGD**" in text


def test_sgd_zig_zags_in_the_narrow_valley_and_momentum_does_not():
    _, (gd, mom) = run(
        Terrain("quadratic", 20, 30), Setting("sgd", 1.9), Setting("momentum", 0.2), steps=150
    )
    assert gd.reversals > 0.9 and mom.reversals < 0.1
    assert "Zig-zag: " in " ".join(race_findings([gd, mom], 150, 0.0))


def test_noise_keeps_sgd_from_settling():
    t = Terrain("quadratic", 5, 30)
    _, (quiet,) = run(t, Setting("sgd", 0.5), steps=150)
    _, (noisy,) = run(t, Setting("sgd", 0.5), steps=150, noise=1.0)
    assert quiet.settled < 1e-12 < 1e-2 < noisy.settled


def test_adagrad_rates_only_fall_rmsprop_recovers():
    t = Terrain("quadratic", 20, 30)
    s_ada, s_rms = Setting("adagrad", 1.0), Setting("rmsprop", 0.1)
    paths, _ = run(t, s_ada, s_rms, steps=150)
    ada, rms = rate_trace(paths["Adagrad"], s_ada), rate_trace(paths["RMSProp"], s_rms)
    assert np.all(np.diff(ada, axis=0) <= 0)
    t_rms = trace_summary(rms[:, 0])
    assert t_rms.rises > 0 and t_rms.last > t_rms.lowest
    with pytest.raises(ValueError, match="no per-coordinate rate"):
        rate_trace(paths["Adagrad"], Setting("sgd", 1.0))


def test_same_noise_for_every_optimizer():
    """Two copies of one optimizer under one seed walk the same noisy path."""
    r = Race(Terrain("beale"), (Setting("sgd", 0.02),), steps=50, noise=0.3, seed=4)
    a, b = race(r)["SGD"], race(r)["SGD"]
    assert np.array_equal(a.xy, b.xy)
    other = race(Race(Terrain("beale"), (Setting("sgd", 0.02),), steps=50, noise=0.3, seed=5))
    assert not np.array_equal(a.xy, other["SGD"].xy)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_step_numbers_rebuild_the_update(name):
    s = Setting(name, SUGGESTED_ETAS["beale"][name])
    paths, _ = run(Terrain("beale"), s, steps=5)
    p = paths[s.label]
    for t in (1, 2, 5):
        n = step_numbers(p, s, t)
        g = n.g
        if name == "sgd":
            assert np.allclose(n.u, -s.eta * g)
        elif name == "momentum":
            assert np.allclose(n.after["v"], s.beta * n.before["v"] + g)
            assert np.allclose(n.u, -s.eta * n.after["v"])
        elif name == "adagrad":
            assert np.allclose(n.after["G"], n.before["G"] + g * g)
        elif name == "rmsprop":
            assert np.allclose(n.after["s"], s.rho * n.before["s"] + (1 - s.rho) * g * g)
        elif name == "adam":
            assert np.allclose(n.after["m"], s.beta1 * n.before["m"] + (1 - s.beta1) * g)
    with pytest.raises(ValueError, match="is not in a path"):
        step_numbers(p, s, 6)


def test_reversals_of_a_straight_and_a_zig_zag_path():
    paths, _ = run(Terrain("quadratic", 1, 0), Setting("sgd", 0.1), steps=20)
    assert reversals(paths["SGD"]) == 0.0
    paths, _ = run(Terrain("quadratic", 1, 0), Setting("sgd", 1.9), steps=20)
    assert reversals(paths["SGD"]) == 1.0


def summary(label, **kw) -> PathSummary:
    base = dict(
        label=label, steps=100, final_gap=1e-3, final_f=1e-3, reached_at=None, minimum=0,
        final_distance=0.01, reversals=0.0, detour=1.0, escaped_at=None, settled=1e-3,
        diverged_at=None,
    )  # fmt: skip
    return PathSummary(**{**base, **kw})


def test_findings_name_ties_and_divergence():
    text = race_findings(
        [
            summary("SGD", reached_at=40),
            summary("Adam", reached_at=40),
            summary("momentum", diverged_at=7),
        ],
        100,
        0.0,
    )
    assert text[0] == "**momentum** diverged at step 7."
    assert "**SGD and Adam**, both from step 40" in text[1]


def test_findings_when_all_diverge_or_none_arrive():
    assert race_findings([summary("SGD", diverged_at=3)], 100, 0.0) == [
        "**SGD** diverged at step 3."
    ]
    text = race_findings([summary("SGD"), summary("Adam", final_gap=0.0)], 100, 0.0)
    assert text == [
        "Not within 0.001 of a minimum after 100 steps: SGD (ends 0.01 from the nearest minimum, "
        "f − f_min = 0.001) and Adam (ends 0.01 from the nearest minimum, f − f_min = 0)."
    ]


EXTREMES = [
    (surface, name, eta, noise)
    for surface in SURFACE_NAMES
    for name in OPTIMIZER_NAMES
    for eta in (ETA_OPTIONS[0], SUGGESTED_ETAS[surface][name], ETA_OPTIONS[-1])
    for noise in (0.0, 3.0)
]


@pytest.mark.parametrize(("surface", "name", "eta", "noise"), EXTREMES)
def test_every_setting_gives_finite_paths_and_plain_sentences(surface, name, eta, noise):
    """The page's extremes: smallest and largest eta, the most noise, the longest run."""
    terrain = Terrain(surface, 200.0, 90.0)
    s = Setting(name, eta, beta=0.99, rho=0.999, beta1=0.99, beta2=0.9999, bias_correction=False)
    paths, summaries = run(terrain, s, steps=400, noise=noise, seed=1)
    p = paths[s.label]
    assert np.all(np.isfinite(p.xy)) and np.all(np.isfinite(p.loss))
    text = " ".join(race_findings(summaries, 400, noise))
    assert text and "nan" not in text and "inf" not in text.replace("infinity", "")
    if name in ("adagrad", "rmsprop", "adam") and len(p.states):
        tr = rate_trace(p, s)
        assert not np.isinf(tr).any()
        assert "nan" not in trace_sentence(s.label, tr)


def test_settled_means_to_the_end():
    paths, _ = run(Terrain("quadratic", 20, 30), Setting("rmsprop", 0.1), steps=150)
    p = paths["RMSProp"]
    k = settled_at(p, (0.0, 0.0), 1e-3)
    d = np.hypot(*p.xy.T)
    if k is None:
        assert d[-1] > 1e-3
    else:
        assert np.all(d[k:] <= 1e-3) and (k == 0 or d[k - 1] > 1e-3)


def test_saddle_reasons_depend_on_the_path():
    _, ridge = run(Terrain("saddle"), Setting("sgd", 0.05), start=(1.5, 0.0), steps=100)
    assert "never off the ridge" in " ".join(race_findings(ridge, 100, 0.0))
    _, drift = run(Terrain("saddle"), Setting("sgd", 0.01), start=(1.5, 0.001), steps=100)
    assert "drifting off the ridge too slowly" in " ".join(race_findings(drift, 100, 0.0))


def test_no_gradient_yet_is_no_rate():
    s = Setting("adam", 0.05)
    paths, _ = run(Terrain("saddle"), s, start=(1.5, 0.0), steps=30)
    tr = rate_trace(paths["Adam"], s)
    assert np.isnan(tr[:, 1]).all() and np.isfinite(tr[:, 0]).all()
    assert "y has had no gradient at all" in trace_sentence("Adam", tr)
