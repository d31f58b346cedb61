"""The one-neuron claims of the learning-slowdown and cross-entropy pages, on the simulation."""

import math

import numpy as np
import pytest

from explain.neuron import (
    AT_MAXIMUM,
    BOOK_ETA,
    LEARNT,
    NOTHING_TO_LEARN,
    PLATEAU,
    STILL,
    Arrival,
    Course,
    NeuronSetup,
    arrival,
    below_max,
    compare_halving,
    cost_derivation,
    cost_surface,
    course,
    error_size,
    first_epoch_below,
    first_epoch_within,
    gradient_profile,
    race,
    relation,
    starts_with_presets,
    train_neuron,
    window,
)
from explain.nn.activations import sigmoid_prime
from explain.nn.costs import get_cost
from explain.nn.gradcheck import numerical_gradient, relative_error

BOTH = NeuronSetup(w0=(0.6, 2.0), b0=(0.9, 2.0), x=1.0, y=0.0, eta=0.15, epochs=300)


def scalar_reference(w, b, x, y, eta, epochs, cost):
    """An independent plain-Python loop with the textbook formulas."""
    out = []
    for _ in range(epochs + 1):
        z = w * x + b
        a = 1 / (1 + math.exp(-z))
        out.append(a)
        delta = (a - y) * a * (1 - a) if cost == "quadratic" else (a - y)
        w, b = w - eta * delta * x, b - eta * delta
    return np.array(out)


def test_presets_start_where_the_book_says():
    run = train_neuron(BOTH)
    np.testing.assert_allclose(run.a[0], [0.82, 0.98], atol=0.005)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_training_matches_an_independent_loop(cost):
    setup = NeuronSetup(
        w0=(0.6, 2.0, -3.0), b0=(0.9, 2.0, 1.5), x=0.7, y=0.2, eta=0.3, epochs=200, cost=cost
    )
    run = train_neuron(setup)
    for k in range(3):
        ref = scalar_reference(setup.w0[k], setup.b0[k], 0.7, 0.2, 0.3, 200, cost)
        np.testing.assert_allclose(run.a[:, k], ref, rtol=1e-10)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_recorded_gradients_match_finite_differences(cost):
    run = train_neuron(NeuronSetup(w0=(1.3,), b0=(-0.4,), x=1.7, y=0.9, epochs=5, cost=cost))
    for e in range(6):
        p = np.array([run.w[e, 0], run.b[e, 0]])

        def c(p=p):
            z = np.array([[p[0] * 1.7 + p[1]]])
            return float(get_cost(cost).per_sample(z, np.array([[0.9]]))[0])

        num = numerical_gradient(c, p)
        assert relative_error(num, [run.dC_dw[e, 0], run.dC_db[e, 0]]) < 1e-6


def test_quadratic_plateau_from_the_badly_wrong_start_but_not_for_cross_entropy():
    quad = train_neuron(BOTH)
    ce = train_neuron(
        NeuronSetup(BOTH.w0, BOTH.b0, eta=BOOK_ETA["cross_entropy"], cost="cross_entropy")
    )
    # quadratic: over the first 100 epochs the badly wrong output moves less than the close one
    drop = lambda run, k: run.a[0, k] - run.a[100, k]  # noqa: E731
    assert drop(quad, 1) < 0.1 * drop(quad, 0)
    # ... its gradient is smallest at the start (a plateau), then grows
    g = np.abs(quad.dC_dw[:, 1])
    assert g[0] < 0.2 * g.max()
    # cross-entropy: biggest push at the start, and the bigger mistake gets the bigger push
    g_ce = np.abs(ce.dC_dw[:, 1])
    assert g_ce[0] == pytest.approx(g_ce.max())
    assert abs(ce.dC_dw[0, 1]) > abs(ce.dC_dw[0, 0])
    assert abs(quad.dC_dw[0, 1]) < abs(quad.dC_dw[0, 0])


def test_badly_wrong_start_takes_longer_to_halve_its_error():
    run = train_neuron(BOTH)
    close = first_epoch_within(run.a[:, 0], 0.0, 0.5 * run.a[0, 0])
    wrong = first_epoch_within(run.a[:, 1], 0.0, 0.5 * run.a[0, 1])
    assert close is not None and wrong is not None
    assert wrong > 3 * close


def test_cross_entropy_gradient_is_error_times_x_and_sigma_prime_cancels():
    run = train_neuron(
        NeuronSetup(w0=(2.0,), b0=(2.0,), x=1.5, y=0.0, eta=0.005, epochs=3, cost="cross_entropy")
    )
    np.testing.assert_allclose(run.dC_dw[:, 0], (run.a[:, 0] - 0.0) * 1.5, rtol=1e-12)
    d = cost_derivation(4.0, 0.0, 1.0)
    a = 1 / (1 + math.exp(-4.0))
    assert d["a"] == pytest.approx(a)
    assert d["dC_da"] * d["sigma_prime"] == pytest.approx(d["cross_entropy"])
    assert d["quadratic"] == pytest.approx(a * a * (1 - a))
    # saturated: sigma' from z keeps its true tiny value instead of a(1 - a) = 0
    sat = cost_derivation(40.0, 0.0, 3.0)
    assert 0 < sat["sigma_prime"] < 1e-17
    assert sat["quadratic"] == pytest.approx(3.0 * sat["sigma_prime"], rel=1e-12)
    assert math.isfinite(sat["dC_da"])


def test_gradient_profile_reverses_for_the_quadratic_cost():
    prof = gradient_profile(0.0, np.linspace(-10, 10, 2001))
    order = np.argsort(prof.error)
    ce, quad = prof.cross_entropy[order], prof.quadratic[order]
    assert np.all(np.diff(ce) >= 0)  # bigger mistake, bigger push
    np.testing.assert_allclose(ce, prof.error[order])
    peak = np.argmax(quad)
    assert 0.5 < prof.error[order][peak] < 0.8  # the quadratic push peaks, then falls
    assert quad[-1] < 0.01 * quad[peak]


def test_arrival_slowdown_is_harmless():
    run = train_neuron(NeuronSetup(w0=(0.6,), b0=(0.9,), epochs=1000))
    arr = arrival(run)
    assert arr.slow_epoch is not None and arr.slow_epoch > arr.peak_epoch
    assert arr.cost_ratio < 0.05  # by the time it slows, most of the cost is gone
    assert abs(run.a[arr.slow_epoch, 0]) < 0.5 * run.a[0, 0]


def test_extreme_settings_stay_finite_and_silent():
    # warnings are errors in this suite, so silence is checked too
    setup = NeuronSetup(
        w0=(10.0, -10.0, 10.0), b0=(10.0, -10.0, -10.0), x=3.0, y=1.0, eta=10.0, epochs=1000
    )
    for cost in ("quadratic", "cross_entropy"):
        run = train_neuron(NeuronSetup(**{**setup.__dict__, "cost": cost}))
        assert run.diverged_at is None
        for field in ("w", "b", "a", "cost", "sigma_prime", "dC_dw", "dC_db"):
            assert np.isfinite(getattr(run, field)).all()
    stuck = train_neuron(NeuronSetup(w0=(-10.0,), b0=(-10.0,), x=2.0, y=1.0, eta=10.0, epochs=1000))
    assert stuck.a[-1, 0] < 1e-6  # the quadratic cost cannot rescue a fully saturated neuron


def test_starts_surface_and_helpers():
    s = starts_with_presets(2.0, 2.0)
    assert s.labels == ("starts close", "starts badly wrong") and s.current == 1
    s = starts_with_presets(-1.0, 3.0)
    assert s.labels[-1] == "your start" and s.current == 2 and s.w0[-1] == -1.0
    run = train_neuron(NeuronSetup(s.w0, s.b0))
    (w_lo, w_hi), (b_lo, b_hi) = window(run)
    assert w_lo < run.w.min() and w_hi > run.w.max() and b_lo < run.b.min() and b_hi > run.b.max()
    surf = cost_surface("quadratic", 1.0, 0.0, (-2, 2), (-3, 3), n=11)
    assert surf.cost.shape == (11, 11)
    np.testing.assert_allclose(surf.cost[5, 5], 0.125)  # z = 0: a = 1/2, C = (1/2)^2 / 2
    assert first_epoch_below(np.array([3.0, 2.0, 1.0]), 1.5) == 2
    assert first_epoch_below(np.array([3.0, 2.0]), 0.5) is None


# --- the verdicts the pages' sentences are chosen by ----------------------------------------


def one(w0, b0, x=1.0, y=0.0, eta=0.15, epochs=300, cost="quadratic"):
    return train_neuron(NeuronSetup((w0,), (b0,), x, y, eta, epochs, cost))


def test_course_of_the_presets_plateau_and_at_once():
    run = train_neuron(BOTH)
    close, wrong = course(run, 0.0, 0), course(run, 0.0, 1)
    g = np.abs(run.dC_db[:, 1])
    assert wrong.kind == "plateau"
    assert wrong.peak_epoch == int(np.argmax(g)) and 0 < wrong.peak_epoch < 300
    assert wrong.growth == pytest.approx(g.max() / g[0]) and wrong.growth >= PLATEAU
    assert close.kind == "at once" and close.growth < PLATEAU
    assert wrong.error0 == pytest.approx(run.a[0, 1]) and wrong.error_end == pytest.approx(
        run.a[-1, 1]
    )
    assert wrong.halved_at == first_epoch_within(run.a[:, 1], 0.0, 0.5 * run.a[0, 1])
    assert wrong.sigma_prime0 == pytest.approx(run.sigma_prime[0, 1])


def test_course_nothing_to_learn_and_never_moved():
    # w = b = -10, y = 0: a = sigma(-20) ~ 2e-9, already at its target
    nothing = course(one(-10.0, -10.0), 0.0)
    assert nothing.kind == "nothing to learn" and nothing.error0 < NOTHING_TO_LEARN
    assert nothing.halved_at is None
    # w = b = 10, y = 0: a ~ 1, badly wrong, and sigma' ~ 2e-9 keeps it there for 2000 epochs
    run = one(10.0, 10.0, epochs=2000)
    stuck = course(run, 0.0)
    assert stuck.kind == "never moved"
    assert np.abs(run.a[:, 0] - run.a[0, 0]).max() < STILL * stuck.error0
    assert stuck.halved_at is None and stuck.sigma_prime0 < 1e-8
    # cross-entropy's gradient is large there, yet at a tiny eta the output has not moved
    assert course(one(10.0, 10.0, eta=0.001, epochs=10, cost="cross_entropy"), 0.0).kind == (
        "never moved"
    )


def test_course_overshoots_and_still_on_the_plateau():
    run = one(2.0, 2.0, x=1.0, y=0.5, eta=10.0, epochs=300, cost="cross_entropy")
    crs = course(run, 0.5)
    signs = np.sign(run.a[:, 0] - 0.5)
    assert crs.kind == "overshoots" and crs.overshoots
    assert np.count_nonzero(np.diff(signs)) >= 2 and crs.error_end >= crs.error0 / 2
    # saturated at x = 3, it first waits on a plateau, then overshoots: both are said
    both = course(one(2.0, 2.0, x=3.0, y=0.5, eta=10.0), 0.5)
    assert both.kind == "plateau" and both.overshoots and both.growth >= PLATEAU
    assert not course(train_neuron(BOTH), 0.0, 1).overshoots
    # x = 0: only the bias learns; from b = -2 towards y = 1 sigma' grows for the first epochs
    run = one(-10.0, -2.0, x=0.0, y=1.0, epochs=10)
    crs = course(run, 1.0)
    assert crs.kind == "still on the plateau" and crs.peak_epoch == 10
    assert np.all(np.diff(np.abs(run.dC_db[:, 0])) > 0)


def test_race_and_relation_say_ties():
    assert race(3, 5) == "a" and race(5, 3) == "b" and race(4, 4) == "tie"
    assert race(None, 5) == "b" and race(5, None) == "a" and race(None, None) == "neither"
    assert relation(2.0, 1.0) == "larger" and relation(1.0, 2.0) == "smaller"
    assert relation(1.0, 1.0000001) == "tie" and relation(0.0, 0.0) == "tie"
    assert relation(86.0, 86.04, atol=0.05) == "tie" and relation(86.0, 86.2, atol=0.05) == (
        "smaller"
    )


def test_compare_halving_covers_every_outcome():
    run = train_neuron(BOTH)
    h = compare_halving([course(run, 0.0, i) for i in range(2)])
    assert (h.kind, h.bigger, h.smaller) == ("smaller first", 1, 0)
    assert h.ratio == pytest.approx(course(run, 0.0, 1).halved_at / course(run, 0.0, 0).halved_at)

    def fake(error0, halved_at, kind="at once"):
        return Course(kind, error0, error0 / 4, halved_at, 0, 1.0, 0.2, False)

    assert compare_halving([fake(0.9, 10), fake(0.5, 10)]).kind == "tie"
    assert compare_halving([fake(0.9, 5), fake(0.5, 10)]).kind == "bigger first"
    assert compare_halving([fake(0.9, None), fake(0.5, None)]).kind == "neither"
    assert compare_halving([fake(0.9, None), fake(0.5, 7)]).kind == "smaller first"
    assert compare_halving([fake(0.5, 3), fake(0.5, 9)]).kind == "same error"
    # a start with nothing to learn is left out of the comparison
    assert compare_halving([fake(0.9, 5), fake(1e-9, None, "nothing to learn")]).kind == "too few"
    three = [fake(0.9, 30), fake(1e-9, None, "nothing to learn"), fake(0.4, 10)]
    assert compare_halving(three)[:3] == ("smaller first", 0, 2)


def test_sizes_in_words_and_the_distance_below_the_maximum():
    assert error_size(0.005) == "almost zero" and error_size(0.05) == "small"
    assert error_size(0.3) == "moderate" and error_size(0.98) == "large"
    assert below_max(0.25) == 1.0 and below_max(0.025) == pytest.approx(10.0)
    assert below_max(0.0) == math.inf
    assert below_max(float(sigmoid_prime(np.array(0.0)))) < AT_MAXIMUM


def test_arrival_is_harmless_only_when_most_of_the_cost_is_gone():
    arr = arrival(one(0.6, 0.9, epochs=1000))
    assert arr.harmless == (arr.cost_ratio <= LEARNT) and arr.harmless
    assert not Arrival(5, None, None).harmless and not Arrival(5, 40, 0.5).harmless
