"""The learning-rate page's "Too small, right, too large" claims, each against the measurement
that makes it.

The quadratic: the path diverges above 2 / lambda_max and not below, oscillates between
1 / lambda_max and 2 / lambda_max and not below, for several condition numbers and angles;
the measured factor is theory's 1 - eta lambda_max. The neuron: its Hessian against finite
differences of its gradient, its thresholds against where crossing and settling actually
begin. MNIST: the default scan's largest rate diverges and a middle one is best; the range
test starts from the scan's network and batches, and its loss rises past the scan's first
diverging rate. Then the sentences on constructed inputs.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from explain.learning_rate import (
    NEURON,
    SCAN_ETAS,
    UNSETTLED,
    VERDICTS,
    RangeResult,
    RangeSetup,
    Scan,
    ScanSetup,
    cost_curvature,
    diverged_epoch,
    expected_verdict,
    neuron_hessian,
    neuron_lam_max,
    neuron_minimum,
    neuron_onsets,
    neuron_regime,
    quadratic_regime,
    range_sentence,
    regime_sentence,
    run_range_test,
    run_scan,
    scan_result,
    scan_sentence,
    smoothing_lag,
    swing,
)
from explain.nn.costs import get_cost
from explain.nn.datasets import load_mnist
from explain.nn.gradcheck import numerical_gradient, relative_error
from explain.nn.network import forward, init_params
from explain.nn.training import Divergence, History, TrainResult

KAPPAS = (1.0, 5.0, 20.0, 1000.0)
ANGLES = (0.0, 30.0, 77.0)
# what an unformatted float leaks into prose
BAD = re.compile(r"nan|inf\b|\d[eE][-+]?\d|\d\.\d{5,}")


def clean(text: str) -> None:
    assert text and not BAD.search(text), text


# --- the quadratic ---------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("angle", ANGLES)
def test_quadratic_diverges_above_two_over_lambda_max_and_not_below(kappa, angle):
    for f in (2.001, 2.01, 2.5, 5.0, 100.0):
        r = quadratic_regime(kappa, angle, f * 1.0)  # lambda_max = 1 on the page's quadratic
        assert r.diverge_at == pytest.approx(2.0) and r.lam_max == pytest.approx(1.0)
        assert r.verdict == "diverges", (f, r.swing)
    for f in (0.001, 0.1, 0.5, 0.99, 1.0, 1.01, 1.5, 1.99):
        r = quadratic_regime(kappa, angle, f)
        assert r.verdict != "diverges", (f, r.swing)
        assert abs(r.steep[-1]) < abs(r.steep[0])


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("angle", ANGLES)
def test_quadratic_oscillates_between_the_thresholds_and_not_below(kappa, angle):
    for f in (1.01, 1.2, 1.5, 1.9, 1.99):
        r = quadratic_regime(kappa, angle, f)
        assert r.verdict == "oscillates" and r.swing.flips == 1.0, (f, r.swing)
        # the measured factor is theory's |1 - eta lambda_max|
        assert r.swing.factor == pytest.approx(abs(r.predicted), rel=1e-6)
    for f in (0.003, 0.1, 0.5, 0.9, 0.99):
        r = quadratic_regime(kappa, angle, f)
        assert r.swing.crossings == 0 and r.verdict in ("crawls", "smooth"), (f, r.swing)


@pytest.mark.parametrize("angle", ANGLES)
def test_quadratic_exactly_at_the_thresholds(angle):
    at_one, at_two = quadratic_regime(20.0, angle, 1.0), quadratic_regime(20.0, angle, 2.0)
    assert at_one.verdict == "one step" and at_two.verdict == "bounces"
    assert at_two.swing.swing == pytest.approx(1.0) and at_two.swing.flips == 1.0
    assert "exactly 1/λ_max" in regime_sentence(at_one)
    assert "exactly 2/λ_max" in regime_sentence(at_two)
    assert expected_verdict(at_one) == "one step" and expected_verdict(at_two) == "bounces"


def test_quadratic_too_small_crawls_and_the_thresholds_come_from_the_surface():
    r = quadratic_regime(20.0, 30.0, 0.003)
    assert r.verdict == "crawls" and r.swing.halved_at is None
    assert "crawls" in regime_sentence(r)
    # a far smaller rate on a surface without plateaus still crawls, it never "stalls"
    assert quadratic_regime(20.0, 30.0, 1e-5).verdict == "crawls"
    lam_min, lam_max = r.lam_min, r.lam_max
    assert lam_max / lam_min == pytest.approx(20.0)
    assert r.oscillate_at == pytest.approx(1 / lam_max)


def test_quadratic_sentences_follow_the_verdicts():
    seen = set()
    for f in (0.003, 0.3, 1.0, 1.5, 2.0, 2.5, 100.0):
        r = quadratic_regime(20.0, 30.0, f)
        text = regime_sentence(r)
        clean(text)
        assert f"**{r.verdict}" in text, text
        seen.add(r.verdict)
    assert seen == {"crawls", "smooth", "one step", "oscillates", "bounces", "diverges"}
    assert "the run was stopped at step" in regime_sentence(quadratic_regime(20.0, 30.0, 100.0))


def test_swing_on_constructed_components():
    steady = np.array([1.0, -1.0] * 20)
    assert swing(steady, 1.0, None).verdict == "bounces"
    assert swing(np.array([1.0, 1e-13, 0.0, 0.0]), 1.0, None).verdict == "one step"
    grows = np.array([(-1.1) ** k for k in range(40)])
    assert swing(grows, 1.0, None).verdict == "diverges"
    flat = np.full(40, 0.9)
    assert swing(flat, 1.0, None, slope=0.01).verdict == "stalls"
    assert swing(flat, 1.0, None, slope=1.0).verdict == "crawls"
    assert swing(np.array([1.0]), 1.0, None).factor is None  # no step: nothing to measure
    assert set(VERDICTS) >= set(UNSETTLED)


# --- one neuron ------------------------------------------------------------------------------


def neuron_grad(cost: str, x: float, y: float, p: np.ndarray) -> np.ndarray:
    delta = get_cost(cost).delta(np.array([[p[0] * x + p[1]]]), np.array([[y]]))[0, 0]
    return np.array([delta * x, delta])


POINTS = [(1.0, 0.5, 2.0, 2.0), (1.0, 0.2, 0.6, 0.9), (-2.0, 0.7, 0.3, -1.0), (0.5, 0.05, 3.0, 1.0)]


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
@pytest.mark.parametrize(("x", "y", "w", "b"), POINTS)
def test_neuron_hessian_matches_finite_differences_of_its_gradient(cost, x, y, w, b):
    setup = dataclasses.replace(NEURON, x=x, y=y, cost=cost)
    p = np.array([w, b])
    numeric = np.array(
        [numerical_gradient(lambda j=j: neuron_grad(cost, x, y, p)[j], p) for j in range(2)]
    )
    assert relative_error(neuron_hessian(setup, w, b), numeric, floor=1e-6) < 1e-5
    # at the minimum its largest eigenvalue is the lambda_max the thresholds use
    w_star, b_star = neuron_minimum(setup)
    lam = np.linalg.eigvalsh(neuron_hessian(setup, w_star, b_star))
    assert lam[-1] == pytest.approx(neuron_lam_max(setup)) and abs(lam[0]) < 1e-12
    assert w_star * x + b_star == pytest.approx(math.log(y / (1 - y)))


def test_curvature_at_the_minimum_is_sigma_prime_or_its_square():
    z = np.array(0.0)
    assert float(cost_curvature("cross_entropy", z, 0.5)) == pytest.approx(0.25)
    assert float(cost_curvature("quadratic", z, 0.5)) == pytest.approx(0.0625)
    assert neuron_lam_max(NEURON) == pytest.approx(0.5)  # 2 sigma'(0): thresholds 2 and 4
    with pytest.raises(ValueError, match="strictly between"):
        neuron_minimum(dataclasses.replace(NEURON, y=0.0))


STARTS = [(2.0, 2.0), (0.6, 0.9), (-3.0, -3.0), (0.1, -0.2)]


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
@pytest.mark.parametrize("start", STARTS)
def test_at_target_half_the_neurons_thresholds_separate_its_regimes(cost, start):
    """At y = 0.5 the minimum is where the cost curves most, so the thresholds hold from any
    start: no crossing at or below 1 / lambda_max, crossings from just above it; settling
    below 2 / lambda_max, never above it (grid 3% apart)."""
    setup = dataclasses.replace(NEURON, w0=(start[0],), b0=(start[1],), cost=cost)
    o = neuron_onsets(setup)
    rel = o.etas / o.oscillate_at
    for r, crossed, settled, verdict in zip(rel, o.crossed, o.settled, o.verdicts):
        if r <= 1 + 1e-9:
            assert not crossed, (r, verdict)
        if 0.5 < r < 2 - 1e-9:  # (the quadratic cost from z = -6 crawls off its plateau below)
            assert settled and verdict not in UNSETTLED, (r, verdict)
        if r > 2 + 1e-9:
            assert not settled and verdict in UNSETTLED, (r, verdict)
    assert o.oscillate_at < o.crossing <= o.oscillate_at * 1.03
    assert o.unsettled == pytest.approx(o.diverge_at, rel=0.031)
    assert o.diverge_at == pytest.approx(2 * o.oscillate_at)


def test_the_neurons_regimes_and_sentences_at_target_half():
    lam = neuron_lam_max(NEURON)
    for f, verdict in [(0.5, "smooth"), (1.5, "oscillates"), (2.5, "bounces")]:
        r = neuron_regime(dataclasses.replace(NEURON, eta=f / lam))
        assert r.verdict == verdict and r.local
        text = regime_sentence(r)
        clean(text)
        assert "curvature at the minimum" not in text  # the thresholds told the truth


def test_elsewhere_the_neurons_thresholds_are_local():
    """At y = 0.2 the cost curves more on the way (towards z = 0) than at the minimum: from
    w = b = 2 the path crosses the floor below 1 / lambda_max, and the sentence says why.
    Started next to the minimum, the thresholds hold again."""
    far = dataclasses.replace(NEURON, y=0.2)
    o = neuron_onsets(far)
    assert o.crossing < 0.9 * o.oscillate_at
    assert o.unsettled == pytest.approx(o.diverge_at, rel=0.031)
    early = neuron_regime(dataclasses.replace(far, eta=0.9 * o.oscillate_at))
    assert early.swing.crossings > 0
    assert "curvature at the minimum" in regime_sentence(early)
    w, b = neuron_minimum(far)
    near = neuron_onsets(dataclasses.replace(far, w0=(w + 0.02,), b0=(b + 0.02,)))
    assert near.crossing == pytest.approx(near.oscillate_at, rel=0.031)
    assert near.unsettled == pytest.approx(near.diverge_at, rel=0.031)


def test_too_large_a_rate_throws_the_quadratic_cost_neuron_onto_a_plateau():
    setup = dataclasses.replace(NEURON, y=0.05, cost="quadratic", w0=(0.6,), b0=(0.9,))
    r = neuron_regime(dataclasses.replace(setup, eta=3 * 2 / neuron_lam_max(setup)))
    assert r.verdict == "stalls"
    text = regime_sentence(r)
    clean(text)
    assert "saturated" in text and "curvature at the minimum" in text


@pytest.mark.parametrize("eta", [1e-6, 1e3, 1e8])
def test_extreme_rates_give_finite_results(eta):
    neuron = neuron_regime(dataclasses.replace(NEURON, eta=eta))
    for r in (quadratic_regime(20.0, 30.0, eta), neuron):
        assert np.isfinite(r.path.xy).all() and np.isfinite(r.steep).all()
        assert math.isfinite(r.swing.swing) or r.verdict == "diverges"
        assert not any(isinstance(v, float) and math.isnan(v) for v in (*r, *r.swing))
        clean(regime_sentence(r))


# --- MNIST -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scan() -> Scan:
    return run_scan(ScanSetup())


@pytest.fixture(scope="module")
def range_result() -> RangeResult:
    return run_range_test(RangeSetup())


def test_the_default_scans_largest_rate_diverges_and_a_middle_one_is_best(scan):
    assert scan.setup.etas == SCAN_ETAS and len(SCAN_ETAS) == 8
    assert scan.runs[-1].diverged_epoch is not None
    assert scan.best is not None and 0 < scan.best < len(SCAN_ETAS) - 1
    assert [r.eta for r in scan.runs if r.diverged_epoch is not None] == [SCAN_ETAS[-1]]
    best = scan.runs[scan.best]
    # the smallest rate is far too small: it ends far below the best
    assert best.final_accuracy - scan.runs[0].final_accuracy > 20
    for r in scan.runs:
        assert np.isfinite(r.history.train_cost).all() and len(r.history.epoch) == 11
        assert 0 <= r.final_accuracy <= 100 and 0 <= r.best_accuracy <= 100
    # diverged means: the training cost ended an epoch above the untrained network's
    h = scan.runs[-1].history
    assert h.train_cost[scan.runs[-1].diverged_epoch] > h.train_cost[0]
    assert all((r.history.train_cost[1:] < r.history.train_cost[0]).all() for r in scan.runs[:-1])
    text = scan_sentence(scan)
    clean(text)
    assert f"**η = {best.eta:g}**" in text and "Diverged" in text and "epoch 1" in text


def test_the_range_test_starts_from_the_scans_network_and_batches(range_result):
    exp = ScanSetup().base
    data = load_mnist().train.take(exp.n_train)
    rng = np.random.default_rng(exp.seed)
    params = init_params(exp.spec, rng=rng)
    first = rng.permutation(len(data))[: exp.batch_size]  # the scan's first mini-batch too
    z = forward(exp.spec, params, data.x[first]).zs[-1]
    assert range_result.losses[0] == pytest.approx(exp.spec.cost_fn(z, data.y[first]))


def test_the_range_tests_loss_rises_past_the_scans_divergence(scan, range_result):
    rr, first = range_result, scan.first_diverging
    assert len(rr.lrs) == rr.setup.steps and rr.stopped_at is None
    assert np.isfinite(rr.losses).all() and np.isfinite(rr.smoothed).all()
    low = int(np.argmin(rr.smoothed))
    assert rr.lrs[low] < first  # the loss is lowest below the scan's divergence
    past = rr.smoothed[rr.lrs >= first]
    assert past.min() > 1.5 * rr.smoothed[low] and past[-1] > past[0]
    # it blows up past the largest rate the scan survived, and near the first it did not
    survived = max(r.eta for r in scan.runs if r.diverged_epoch is None)
    assert survived < rr.blew_up_at < 3 * first
    assert rr.suggestion == pytest.approx((rr.lrs[low] / 10, rr.lrs[low]))
    text = range_sentence(rr, scan)
    clean(text)
    lo, hi = rr.suggestion
    assert ("inside the suggested range" in text) == (lo <= scan.runs[scan.best].eta <= hi)
    assert smoothing_lag(rr.setup) == pytest.approx(10 ** (5 * 49 / 999))


def test_scan_setup_validation():
    with pytest.raises(ValueError, match="positive"):
        ScanSetup(etas=(0.1, -1.0))
    with pytest.raises(ValueError, match="twice"):
        ScanSetup(etas=(0.1, 0.1))
    with pytest.raises(ValueError, match="at least 1"):
        ScanSetup(epochs=0)
    with pytest.raises(ValueError, match="lr_min"):
        RangeSetup(lr_min=1.0, lr_max=0.1)
    assert [e.eta for e in ScanSetup().experiments()] == list(SCAN_ETAS)


# --- sentences on constructed scans ----------------------------------------------------------


def fake(cost: list[float], acc: list[float]) -> History:
    """A History with the given training cost and validation accuracy (fractions) per row."""
    n = len(cost)
    zeros = np.zeros((n, 1))
    acc_ = np.array(acc, dtype=float)
    return History(np.arange(n), np.array(cost, dtype=float), acc_, np.ones(n), acc_,
                   zeros, zeros, zeros, zeros, zeros, zeros)  # fmt: skip


def result(cost, acc, stopped: Divergence | None = None) -> TrainResult:
    return TrainResult(None, fake(cost, acc), stopped)


def make_scan(etas, results) -> Scan:
    return scan_result(ScanSetup(etas=tuple(etas), epochs=2), results)


def test_diverged_epoch_rule():
    assert diverged_epoch(fake([5, 3, 6, 2], [0.1] * 4), None) == 2
    assert diverged_epoch(fake([5, 3, 2], [0.1] * 3), None) is None
    assert diverged_epoch(fake([5, 3], [0.1] * 2), Divergence(2, 40)) == 2
    assert diverged_epoch(fake([], []), Divergence(0, 0)) == 0


def test_scan_sentence_ties_noise_and_losses():
    s = make_scan(
        [0.01, 0.1, 1.0, 10.0],
        [result([5, 4, 3], [0.1, 0.3, 0.5]), result([5, 2, 1], [0.1, 0.8, 0.9]),
         result([5, 2, 1], [0.1, 0.85, 0.9]), result([5, 9, 8], [0.1, 0.2, 0.3])],
    )  # fmt: skip
    text = scan_sentence(s)
    clean(text)
    assert s.best == 1  # a tie goes to the smaller rate
    assert "η = 0.1 and 1** ended level at the top, at 90.0%" in text
    assert "η = 0.01 by 40.0" in text and "η = 10 in epoch 1 (training cost 5 → 9)" in text
    close = make_scan(
        [0.1, 1.0], [result([5, 2, 1], [0.1, 0.8, 0.9]), result([5, 2, 1], [0.1, 0.8, 0.89])]
    )
    text = scan_sentence(close)
    clean(text)
    assert "The best rate was **η = 0.1**" in text and "η = 1 (89.0%) is within noise" in text


def test_scan_sentence_when_all_diverged_or_none_learned():
    every = make_scan(
        [1.0, 10.0],
        [result([5, 9, 9], [0.1, 0.1, 0.1]), result([5], [0.1], Divergence(1, 3))],
    )
    assert every.best is None and every.first_diverging == 1.0
    text = scan_sentence(every)
    clean(text)
    assert text.startswith("Every rate diverged") and "η = 10 in epoch 1" in text
    assert "η = 10 in epoch 1 (" not in text  # no row for the epoch the engine stopped in
    none = make_scan(
        [1e-4, 1e-3, 10.0],
        [result([5, 4.9, 4.8], [0.1, 0.11, 0.12]), result([5, 4, 3], [0.1, 0.15, 0.18]),
         result([5, 7, 7], [0.1, 0.1, 0.1])],
    )  # fmt: skip
    text = scan_sentence(none)
    clean(text)
    assert none.best is None and text.startswith("No rate that kept going learned")
    assert "18.0% (η = 0.001)" in text
    rr = RangeResult(RangeSetup(), np.array([0.1, 1.0]), np.ones(2), np.ones(2), (0.1, 1.0),
                     5.0, None, None)  # fmt: skip
    text = range_sentence(rr, none)
    clean(text)
    assert "no best rate" in text and "never rose above" in text


def test_range_sentence_places_the_best_rate():
    s = make_scan(
        [0.01, 0.1, 10.0],
        [result([5, 3, 2], [0.1, 0.5, 0.6]), result([5, 2, 1], [0.1, 0.8, 0.9]),
         result([5, 9, 8], [0.1, 0.1, 0.2])],
    )  # fmt: skip
    lrs = np.geomspace(1e-3, 100, 50)
    for (lo, hi), phrase in [((0.5, 5.0), "5 times below its lower end"),
                             ((0.002, 0.02), "5 times above its upper end"),
                             ((0.05, 0.5), "inside the suggested range")]:  # fmt: skip
        rr = RangeResult(RangeSetup(), lrs, np.ones(50), np.ones(50), (lo, hi), 5.0, 30.0, None)
        text = range_sentence(rr, s)
        clean(text)
        assert phrase in text and "(η = 0.1 did not)" in text and "3 times that rate" in text
    stopped = RangeResult(RangeSetup(), lrs, np.ones(50), np.ones(50), (0.05, 0.5), 5.0, None, 7.0)
    assert "stopped being a finite number at η = 7" in range_sentence(stopped, s)
