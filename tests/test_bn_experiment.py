"""The batch-normalization page's experiment and verdicts against their numbers.

First the sentences on constructed runs (ties, batch norm behind, no drift anywhere, runs
that overflowed), then the setup and the recording on tiny runs, then the page's claims on
the real default experiment (about 18 s) and the deep pair (about 9 s).
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

from explain.activation_verdicts import accuracy_noise
from explain.bn_experiment import (
    CLEAR,
    FLAT,
    LEARNED,
    N_EVAL,
    NORMS,
    PAPER_STEPS,
    STILL,
    DepthSetup,
    IoffeRun,
    IoffeSetup,
    accuracy_sentence,
    depth_sentence,
    drift,
    drift_sentence,
    run_depth,
    run_ioffe,
    speed_ratios,
    speed_sentence,
    starting_point,
)

SENTENCES = (drift_sentence, accuracy_sentence, speed_sentence, depth_sentence)


def clean(text: str) -> str:
    """The text, after checking it shows no nan, infinity or e-notation."""
    assert not re.search(r"\bnan\b|\binf\b|∞|not a number", text, flags=re.IGNORECASE), text
    assert not re.search(r"\d[eE][+-]?\d", text), text
    return text


def fake(
    acc: list[float],
    pct: list[list[float]] | None = None,
    grad: list[list[float]] | None = None,
    diverged: int | None = None,
) -> IoffeRun:
    """A run recorded every 100 steps from 0: accuracies (R,), percentiles (R, 3) (default:
    -1, 0, 1 throughout), ||dC/db^l|| (R, 3) (default: 0.01, 0.02, 0.04 throughout)."""
    r = len(acc)
    pct = np.tile([-1.0, 0.0, 1.0], (r, 1)) if pct is None else np.array(pct, dtype=float)
    grad = np.tile([0.01, 0.02, 0.04], (r, 1)) if grad is None else np.array(grad, dtype=float)
    step = np.arange(r) * 100
    return IoffeRun(step, np.array(acc, dtype=float), np.ones(r), pct, grad, 0, diverged)


def moving(r: int, distance: float) -> list[list[float]]:
    """Percentiles that slide down linearly by ``distance`` over r records, spread growing."""
    return [[-1 - 2 * distance * t, -distance * t, 1] for t in np.linspace(0, 1, r)]


# --- accuracy ------------------------------------------------------------------------------


def test_accuracy_tie_within_noise():
    plain, bn = fake([0.1, 0.5, 0.90]), fake([0.1, 0.6, 0.91])
    text = clean(accuracy_sentence(plain, bn))
    assert "within noise" in text
    assert "91.0% with batch norm and 90.0% without" in text
    assert f"{PAPER_STEPS:,}" in text and "200 steps" in text


def test_accuracy_batch_norm_behind():
    plain, bn = fake([0.1, 0.8, 0.95]), fake([0.1, 0.5, 0.80])
    text = clean(accuracy_sentence(plain, bn))
    assert "the network without batch norm was ahead" in text
    assert "from step 100 on" in text


def test_accuracy_ahead_from_the_step_it_stays_ahead():
    plain, bn = fake([0.1, 0.6, 0.3, 0.5, 0.8]), fake([0.1, 0.5, 0.8, 0.9, 0.95])
    text = clean(accuracy_sentence(plain, bn))
    assert "with batch norm was ahead" in text
    assert "from step 200 on" in text


def test_accuracy_neither_learned():
    text = clean(accuracy_sentence(fake([0.1, 0.11]), fake([0.1, 0.15])))
    assert "neither network learned" in text


def test_accuracy_paper_steps_is_quoted():
    assert "the paper ran 1,234" in accuracy_sentence(fake([0.1, 0.9]), fake([0.1, 0.5]), 1234)


# --- drift ---------------------------------------------------------------------------------


def test_drift_measures():
    d = drift(fake([0.1] * 11, pct=moving(11, 3.0)))
    assert d.median_start == 0 and d.median_end == pytest.approx(-3)
    assert (d.median_low, d.median_high) == (pytest.approx(-3), 0)
    assert (d.spread_start, d.spread_end) == (2, pytest.approx(8))
    assert d.moved == pytest.approx(6)  # the 15th percentile went from -1 to -7
    assert d.late_step == 500 and d.moved_late == pytest.approx(3)


def test_no_drift_anywhere():
    plain, bn = fake([0.1, 0.5, 0.9]), fake([0.1, 0.5, 0.9])
    text = clean(drift_sentence(plain, bn))
    assert "Neither network moved it" in text
    assert "stayed at 2" in text  # the spread


def test_drift_batch_norm_holds_still():
    plain, bn = fake([0.1] * 11, pct=moving(11, 3.0)), fake([0.1] * 11, pct=moving(11, 0.5))
    text = clean(drift_sentence(plain, bn))
    assert "With batch norm its percentiles stayed within 1 of where they started" in text
    assert "6×" in text and "grew from 2 to 8" in text


def test_drift_batch_norm_exactly_still():
    plain, bn = fake([0.1] * 3, pct=moving(3, 1.0)), fake([0.1] * 3)
    text = clean(drift_sentence(plain, bn))
    assert "did not move at all" in text


def test_drift_batch_norm_moves_more():
    plain, bn = fake([0.1] * 3, pct=moving(3, 0.2)), fake([0.1] * 3, pct=moving(3, 2.0))
    text = clean(drift_sentence(plain, bn))
    assert "batch norm did not hold it still" in text


def test_drift_about_as_far():
    plain, bn = fake([0.1] * 3, pct=moving(3, 1.0)), fake([0.1] * 3, pct=moving(3, 0.8))
    assert "Both moved about as far" in clean(drift_sentence(plain, bn))


def test_drift_still_threshold_is_small():
    assert 0 < STILL < 0.5  # sigma(z) moves by at most STILL / 4


# --- speed of learning ---------------------------------------------------------------------


def test_speed_batch_norm_evens_out_then_both_even():
    plain = fake([0.1, 0.9], grad=[[1e-5, 1e-3, 1e-2], [0.1, 0.1, 0.12]])
    bn = fake([0.1, 0.9], grad=[[0.01, 0.01, 0.015], [0.1, 0.1, 0.11]])
    assert speed_ratios(plain) == (pytest.approx(1000), pytest.approx(1.2))
    text = clean(speed_sentence(plain, bn))
    assert "1,000× as fast as the first; with it, 1.5×: batch norm evened out" in text
    assert "At the end, at step 100" in text and f"both within {FLAT:g}× of even" in text
    assert "from step 100 on they learn within 2× of each other" in text


def test_speed_batch_norm_less_even():
    plain = fake([0.1, 0.9], grad=[[0.01, 0.01, 0.011]] * 2)
    bn = fake([0.1, 0.9], grad=[[0.1, 0.01, 0.01]] * 2)
    text = clean(speed_sentence(plain, bn))
    assert "the first hidden layer learned 10× as fast as the last" in text
    assert "batch norm made the layers less even" in text


def test_speed_first_layer_without_gradient():
    plain = fake([0.1, 0.9], grad=[[0.0, 0.01, 0.01]] * 2)
    text = clean(speed_sentence(plain, fake([0.1, 0.9])))
    assert "the first hidden layer had no gradient at all" in text
    assert "cannot be compared" in text


# --- runs that overflowed ------------------------------------------------------------------


def test_diverged_run_is_named_in_every_sentence():
    plain, bn = fake([0.1, 0.5, 0.6], pct=moving(3, 2.0), diverged=250), fake([0.1, 0.8, 0.9])
    for sentence in SENTENCES:
        text = clean(sentence(plain, bn))
        assert text.startswith("Without batch norm the network overflowed at step 250."), text
    assert "60.0% (before it overflowed) without" in accuracy_sentence(plain, bn)


def test_diverged_at_initialization():
    nothing = IoffeRun(np.array([], dtype=int), *(np.array([]),) * 2, np.zeros((0, 3)),
                       np.zeros((0, 3)), 0, 0)  # fmt: skip
    for sentence in SENTENCES:
        text = clean(sentence(fake([0.1, 0.9]), nothing))
        assert text.startswith("With batch norm the network overflowed at initialization.")
    assert math.isnan(drift(nothing).moved) and drift(nothing).first_step is None


def test_only_the_initial_record():
    plain, bn = fake([0.1], diverged=3), fake([0.12], diverged=1)
    for sentence in SENTENCES:
        clean(sentence(plain, bn))
    assert "No trained step was recorded" in accuracy_sentence(plain, bn)


# --- depth ---------------------------------------------------------------------------------


def test_depth_sentence_stuck_against_learned():
    plain, bn = fake([0.1, 0.117, 0.108]), fake([0.1, 0.7, 0.89])
    text = clean(depth_sentence(plain, bn))
    assert text.startswith("With 3 hidden layers, after 200 steps the network without")
    assert "had not learned: 10.8%" in text and "best record 11.7%" in text
    assert "reached 89.0%" in text


def test_depth_sentence_both_learned_falls_back_to_the_race():
    text = clean(depth_sentence(fake([0.1, 0.9, 0.95]), fake([0.1, 0.5, 0.8])))
    assert "without batch norm was ahead" in text


# --- setup and recording, on tiny runs -----------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"hidden": ()}, "hidden"),
        ({"hidden": (10, 0)}, "hidden"),
        ({"activation": "swish"}, "activation"),
        ({"cost": "hinge"}, "cost"),
        ({"init_sigma": 0.0}, "init_sigma"),
        ({"eta": -1.0}, "eta"),
        ({"eta": math.inf}, "eta"),
        ({"batch_size": 1}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"record_every": 0}, "record_every"),
        ({"n_train": 8001}, "n_train"),
        ({"unit": 100}, "unit"),
        ({"unit": -1}, "unit"),
    ],
)
def test_setup_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        IoffeSetup(**bad)


def test_spec_rejects_other_norms():
    with pytest.raises(ValueError, match="norm"):
        IoffeSetup().spec("layer")


def test_depth_setup_rejects():
    with pytest.raises(ValueError, match="hidden layers"):
        DepthSetup(hidden_layers=0)
    with pytest.raises(ValueError, match="eta"):
        DepthSetup(eta=0.0)


def test_same_start_for_both_networks():
    setup = IoffeSetup(steps=300)
    (plain, order_plain), (bn, order_bn) = (starting_point(setup, n) for n in NORMS)
    for w_plain, w_bn in zip(plain.W, bn.W):
        np.testing.assert_array_equal(w_plain, w_bn)
    np.testing.assert_array_equal(order_plain, order_bn)
    assert order_plain.shape == (300 * 60,)
    # each epoch visits every training digit once
    assert sorted(order_plain[:8000]) == list(range(8000))
    assert np.std(plain.W[0]) == pytest.approx(setup.init_sigma, rel=0.01)
    assert all(np.all(b == 0) for b in plain.b + bn.b)
    assert all(np.all(g == 1) for g in bn.gamma[:-1])


def test_records_at_the_right_steps_and_progress():
    setup = IoffeSetup(hidden=(8, 6), steps=25, record_every=10, n_train=300, unit=5)
    np.testing.assert_array_equal(setup.record_steps, [0, 10, 20, 25])
    for norm in NORMS:
        calls: list[tuple[int, int]] = []
        run = run_ioffe(setup, norm, on_progress=lambda *args, seen=calls: seen.append(args))
        np.testing.assert_array_equal(run.step, [0, 10, 20, 25])
        assert calls == [(0, 25), (10, 25), (20, 25), (25, 25)]
        assert run.percentiles.shape == (4, 3) and run.grad_norm.shape == (4, 2)
        assert run.unit == 5 and run.diverged_at is None
        assert np.all(np.diff(run.percentiles, axis=1) >= 0)  # 15th <= 50th <= 85th
        assert all(np.all(np.isfinite(a)) for a in run[:5])


def test_batch_norm_percentiles_at_initialization_are_normalized():
    """Measured with the probe's own statistics, unit 0 starts as xhat: mean 0, variance 1."""
    run = run_ioffe(IoffeSetup(hidden=(20,), steps=1, record_every=1, n_train=2000), "batch")
    lo, mid, hi = run.percentiles[0]
    assert hi - lo == pytest.approx(2.07, abs=0.15)  # a normal's 15-85 range is 2.07
    assert abs(mid) < 0.3


def test_smoke_extreme_small():
    setup = IoffeSetup(hidden=(3,), steps=1, record_every=1, batch_size=2, n_train=2, unit=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = [run_ioffe(setup, n) for n in NORMS]
    for run in runs:
        np.testing.assert_array_equal(run.step, [0, 1])
        assert all(np.all(np.isfinite(a)) for a in run[:5])
    for sentence in SENTENCES:
        clean(sentence(*runs))
    assert "single hidden layer" in speed_sentence(*runs)


def test_overflow_is_reported_never_nan():
    setup = IoffeSetup(hidden=(20, 20), steps=40, record_every=5, eta=1e308, n_train=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = [run_ioffe(setup, n) for n in NORMS]
    for run in runs:
        assert run.diverged_at is not None and 0 < run.diverged_at <= 40
        assert len(run.step) >= 1 and run.step[-1] < run.diverged_at
        assert all(np.all(np.isfinite(a)) for a in run[:5])
    for sentence in SENTENCES:
        assert "overflowed at step" in clean(sentence(*runs))


def test_uncached_and_reproducible():
    setup = IoffeSetup(hidden=(10,), steps=6, record_every=3, n_train=200)
    first, second = run_ioffe(setup, "batch"), run_ioffe(setup, "batch")
    assert first is not second
    for a, b in zip(first[:5], second[:5]):
        np.testing.assert_array_equal(a, b)


# --- the page's claims on the default experiment -------------------------------------------


@pytest.fixture(scope="module")
def default_pair() -> tuple[IoffeRun, IoffeRun]:
    setup = IoffeSetup()
    return run_ioffe(setup, "none"), run_ioffe(setup, "batch")


def test_default_run_records_every_step_it_should(default_pair):
    setup = IoffeSetup()
    assert 40 <= len(setup.record_steps) <= 60
    for run in default_pair:
        assert run.diverged_at is None
        np.testing.assert_array_equal(run.step, setup.record_steps)
        assert run.step[-1] == setup.steps < PAPER_STEPS


def test_last_layer_input_moves_less_with_batch_norm(default_pair):
    """Claim: without batch norm the tracked unit's input distribution drifts; with it, it
    holds still (measured: percentiles moved 8.1 against 1.3, and 5.9 against 0.73 from step
    600 on)."""
    plain, bn = (drift(run) for run in default_pair)
    assert plain.moved > CLEAR * bn.moved
    assert plain.moved_late > CLEAR * bn.moved_late
    assert plain.median_high - plain.median_low > CLEAR * (bn.median_high - bn.median_low)
    text = clean(drift_sentence(*default_pair))
    assert "With batch norm its percentiles stayed within" in text


def test_batch_norm_ends_with_higher_validation_accuracy(default_pair):
    """Claim: the network with batch norm is ahead at the end (measured: 94.9% against 82.3%)."""
    plain, bn = (100 * run.val_accuracy[-1] for run in default_pair)
    assert bn - plain > accuracy_noise(plain, bn, N_EVAL)
    assert "with batch norm was ahead" in clean(accuracy_sentence(*default_pair))


def test_batch_norm_evens_out_the_layers_at_initialization(default_pair):
    """Claim: at initialization the plain network's last hidden layer learns far faster than
    its first (measured 1,700×), batch norm's about as fast (1.9×)."""
    (p0, _), (b0, _) = (speed_ratios(run) for run in default_pair)
    assert abs(math.log(p0)) - abs(math.log(b0)) > math.log(FLAT)
    assert "batch norm evened out the layers" in clean(speed_sentence(*default_pair))


# --- the page's claim on depth -------------------------------------------------------------


def test_deep_network_learns_only_with_batch_norm():
    """Claim: with 6 hidden layers the plain network stays at guessing while batch norm
    learns (measured: 10.8%, best 11.7%, against 88.9% after 2,000 steps)."""
    setup = DepthSetup()
    plain, bn = run_depth(setup, "none"), run_depth(setup, "batch")
    assert plain.grad_norm.shape[1] == setup.hidden_layers
    assert plain.val_accuracy.max() < LEARNED < bn.val_accuracy[-1]
    a, b = 100 * plain.val_accuracy[-1], 100 * bn.val_accuracy[-1]
    assert b - a > accuracy_noise(a, b, N_EVAL)
    assert "without batch norm had not learned" in clean(depth_sentence(plain, bn))
