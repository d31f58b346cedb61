"""Schedules at hand-computed steps, SGDR's restarts at the cycle boundaries, warm-up ramps,
the epoch-based ScheduleSpec, and the learning-rate range test's suggestion rule."""

import dataclasses
import math

import numpy as np
import pytest

from explain.nn.schedules import (
    SCHEDULES,
    ScheduleSpec,
    as_schedule,
    constant,
    cosine,
    cosine_restarts,
    exponential,
    inverse_time,
    range_test,
    rates,
    smoothed_losses,
    step_decay,
    suggest_range,
    warmup,
)

# --- each schedule at known steps ----------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "t", "expected"),
    [
        (constant(0.3), 0, 0.3),
        (constant(0.3), 10_000, 0.3),
        (step_decay(1.0, 0.5, every=10), 0, 1.0),
        (step_decay(1.0, 0.5, every=10), 9, 1.0),
        (step_decay(1.0, 0.5, every=10), 10, 0.5),
        (step_decay(1.0, 0.5, every=10), 25, 0.25),
        (exponential(2.0, 0.5, every=4), 8, 0.5),
        (exponential(2.0, 0.5, every=4), 2, 1.4142135623730951),  # 2 * 0.5^(1/2)
        (inverse_time(1.0, 0.5), 2, 0.5),
        (inverse_time(1.0, 0.5), 6, 0.25),
        (cosine(1.0, 100, eta_min=0.1), 0, 1.0),
        (cosine(1.0, 100, eta_min=0.1), 25, 0.8681980515339464),  # 0.1 + 0.45 (1 + cos(pi/4))
        (cosine(1.0, 100, eta_min=0.1), 50, 0.55),
        (cosine(1.0, 100, eta_min=0.1), 100, 0.1),
        (cosine(1.0, 100, eta_min=0.1), 250, 0.1),
        (cosine(2.0, 10), 10, 0.0),
    ],
)
def test_schedule_at_known_steps(schedule, t, expected):
    assert schedule(t) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_as_schedule_accepts_numbers_and_schedules():
    assert as_schedule(0.2)(7) == 0.2
    decay = step_decay(1.0, 0.5, every=1)
    assert as_schedule(decay) is decay


def test_cosine_is_monotone_between_its_endpoints():
    r = rates(cosine(1.0, 50, eta_min=0.2), 60)
    assert r[0] == 1.0
    assert np.all(np.diff(r) <= 0)
    assert np.all(r[50:] == 0.2)


# --- SGDR ----------------------------------------------------------------------------------


def restarts(schedule, steps: int) -> list[int]:
    """Steps at which the rate jumps up."""
    return (np.flatnonzero(np.diff(rates(schedule, steps)) > 0) + 1).tolist()


def test_sgdr_restarts_exactly_at_period_boundaries():
    assert restarts(cosine_restarts(1.0, 10), 45) == [10, 20, 30, 40]
    # mult = 2: cycles of 10, 20, 40 steps start at 0, 10, 30, 70
    assert restarts(cosine_restarts(1.0, 10, mult=2), 100) == [10, 30, 70]


def test_sgdr_within_a_cycle():
    s = cosine_restarts(1.0, 10, mult=2, eta_min=0.0)
    for start in (0, 10, 30, 70):
        assert s(start) == 1.0
    assert s(9) == pytest.approx(0.5 * (1 + math.cos(0.9 * math.pi)))  # 0.0245, end of cycle 1
    assert s(20) == pytest.approx(0.5)  # halfway through the 20-step cycle
    assert s(29) == pytest.approx(0.5 * (1 + math.cos(19 / 20 * math.pi)))


def test_sgdr_rejects_a_shrinking_period():
    with pytest.raises(ValueError, match="mult"):
        cosine_restarts(1.0, 10, mult=0.5)


# --- warm-up and the range test ------------------------------------------------------------


def test_warmup_ramps_linearly_then_starts_the_schedule():
    np.testing.assert_allclose(rates(warmup(constant(1.0), 4), 6), [0.25, 0.5, 0.75, 1, 1, 1])
    warmed = warmup(step_decay(1.0, 0.5, every=2), 3)
    np.testing.assert_allclose(rates(warmed, 8), [1 / 3, 2 / 3, 1, 1, 1, 0.5, 0.5, 0.25])
    plain = step_decay(1.0, 0.5, every=2)
    assert warmup(plain, 0) is plain


def test_range_test_endpoints_and_constant_ratio():
    s = range_test(1e-5, 1.0, 101)
    assert s(0) == pytest.approx(1e-5)
    assert s(100) == pytest.approx(1.0)
    assert s(50) == pytest.approx(10**-2.5)
    r = rates(s, 101)
    np.testing.assert_allclose(r[1:] / r[:-1], 10 ** (5 / 100))


def test_rates_shape():
    r = rates(inverse_time(1.0, 1.0), 5)
    assert r.shape == (5,)
    np.testing.assert_allclose(r, [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])


# --- ScheduleSpec --------------------------------------------------------------------------


def test_schedule_spec_is_frozen_and_hashable():
    a, b = ScheduleSpec("cosine", eta_min=0.01), ScheduleSpec("cosine", eta_min=0.01)
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "constant"
    with pytest.raises(ValueError, match="unknown schedule"):
        ScheduleSpec("triangular")


@pytest.mark.parametrize("name", SCHEDULES)
def test_build_every_schedule(name):
    spec = ScheduleSpec(name)
    s = spec.build(0.1, steps_per_epoch=5, total_steps=100)
    r = rates(s, 100)
    assert r[0] == pytest.approx(0.1)  # every schedule starts at eta
    assert np.all(np.isfinite(r))
    assert np.all(r >= 0)
    assert np.all(r <= 0.1 + 1e-15)
    warmed = ScheduleSpec(name, warmup_epochs=1).build(0.1, steps_per_epoch=5, total_steps=100)
    assert warmed(0) == pytest.approx(0.1 / 5)
    assert warmed(4) == pytest.approx(0.1)


def test_build_counts_in_epochs():
    spe = 5
    step = ScheduleSpec("step_decay", drop=0.5, every_epochs=2).build(1.0, spe, 100)
    assert (step(9), step(10)) == (1.0, 0.5)
    expo = ScheduleSpec("exponential", rate=0.9).build(1.0, spe, 100)
    assert expo(3 * spe) == pytest.approx(0.9**3)
    inv = ScheduleSpec("inverse_time", k=0.5).build(1.0, spe, 100)
    assert inv(4 * spe) == pytest.approx(1 / 3)
    cos = ScheduleSpec("cosine", eta_min=0.01, warmup_epochs=2).build(1.0, spe, 100)
    assert cos(10) == 1.0  # the cosine starts after 10 warm-up steps
    assert cos(99) > 0.01
    assert cos(100) == pytest.approx(0.01)  # and ends at total_steps
    sgdr = ScheduleSpec("cosine_restarts", period_epochs=2, mult=2.0).build(1.0, spe, 100)
    assert restarts(sgdr, 100) == [10, 30, 70]


# --- suggest_range -------------------------------------------------------------------------


def test_smoothed_losses_is_a_bias_corrected_average():
    assert smoothed_losses(np.array([3.0, 3.0, 3.0])) == pytest.approx([3.0, 3.0, 3.0])
    s = smoothed_losses(np.array([1.0, 3.0]), beta=0.5)
    assert s.tolist() == pytest.approx([1.0, (0.25 * 1 + 0.5 * 3) / 0.75])


def test_suggest_range_truncates_at_the_first_non_finite_loss():
    lrs = np.geomspace(1e-4, 1.0, 60)
    losses = np.concatenate([np.linspace(2.0, 1.0, 50), [np.inf, np.nan, 0.0] + [0.0] * 7])
    lo, hi = suggest_range(lrs, losses)
    assert hi == lrs[49]  # losses fall until the blow-up, so the smoothed minimum is the last
    assert lo == pytest.approx(hi / 10)
    lo_nan, hi_nan = suggest_range(lrs, np.where(np.isinf(losses), np.nan, losses))
    assert (lo_nan, hi_nan) == (lo, hi)
    with pytest.raises(ValueError, match="no finite loss"):
        suggest_range(lrs[:2], [np.nan, 1.0])


def test_suggest_range_on_a_u_shaped_curve():
    """loss = 1 + (log10 lr - log10 lr*)^2 with its minimum at index 1000 of 2000.

    A convex combination of values that are still falling can only fall, so the smoothed
    minimum is not before 1000; the EMA lags by about beta / (1 - beta) = 49 steps, so it is
    within 2 / (1 - beta) = 100 steps after. Mini-batch noise moves it only a little.
    """
    lrs = np.geomspace(1e-6, 1.0, 2001)
    i_star = 1000
    losses = 1 + (np.log10(lrs) - np.log10(lrs[i_star])) ** 2
    _, hi = suggest_range(lrs, losses)
    i_hi = int(np.searchsorted(lrs, hi))
    assert i_star <= i_hi <= i_star + 100
    noisy = losses + 0.3 * np.random.default_rng(0).normal(size=losses.size)
    _, hi_noisy = suggest_range(lrs, noisy)
    assert i_star - 50 <= int(np.searchsorted(lrs, hi_noisy)) <= i_star + 150
