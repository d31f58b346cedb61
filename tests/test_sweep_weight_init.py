"""The weight-initialization page's verdicts against the numbers they interpret.

A sweep over the page's controls at their extremes (activation x initialization, with the
slider's smallest and largest sigma, x width x depth) checks every verdict on the simulation
directly; a few of those settings are then opened as pages, and each sentence is checked
against the data of the chart it interprets.
"""

import itertools

import numpy as np
import pandas as pd
import pytest

from charts import line_chart
from charts.builders import _powers_of_ten
from charts.figures import GRID_AXIS, GRID_GAP, per_layer_histograms
from explain.nn.datasets import load_mnist
from explain.propagation import (
    BLOCKED,
    DeepSetup,
    accuracy_noise,
    gradient_verdict,
    propagate,
    propagation_stats,
    rule_deviation,
    signal_verdict,
    start_race,
)
from explain.symmetry import SymmetryRun, one_digit_accuracy, symmetry_verdict
from tests.pagetools import assert_charts_finite, charts, run_page, text
from ui.format import nice

PAGE = "pages/deep_networks/weight_init.py"
ACTS = ("tanh", "relu", "sigmoid")
INITS = (
    ("small", 0.05),
    ("normal", 0.05),
    ("gaussian", 0.001),  # the slider's extremes
    ("gaussian", 2.0),
    ("scaled", 0.05),
    ("xavier", 0.05),
    ("he", 0.05),
)
WIDTHS, DEPTHS = (10, 500), (2, 20)
SETTINGS = list(itertools.product(ACTS, INITS, WIDTHS, DEPTHS))


SAMPLES = 300  # inputs per setting (the page sends 1,000): the same verdicts, a third the time


@pytest.fixture(scope="module")
def sweep():
    """(activation, (init, sigma), width, depth) -> PropagationStats, at every extreme."""
    return {
        s: propagation_stats(
            DeepSetup(
                depth=s[3],
                width=s[2],
                activation=s[0],
                init=s[1][0],
                sigma=s[1][1],
                n_samples=SAMPLES,
            )
        )
        for s in SETTINGS
    }


def test_signal_verdicts_agree_with_the_spreads(sweep):
    for (act, (init, sigma), width, depth), stats in sweep.items():
        v = signal_verdict(stats, act)
        where = (act, init, sigma, width, depth, v)
        assert v.first == stats.spread[0] and v.last == stats.spread[-1], where
        assert v.kind in {"collapses", "saturates", "explodes", "healthy", "shrinks", "grows"}
        if v.kind == "collapses":
            assert v.last < 1e-3 * v.first, where
        if v.kind == "explodes":
            assert v.last > 1e3 * v.first, where
        if v.kind == "saturates":  # "x% of layer L's values are in the flat tails"
            assert act != "relu" and v.saturated > 0.5, where
            assert v.saturated == pytest.approx(stats.saturated[-1])
        if v.kind == "healthy":
            assert 0.1 <= v.last / v.first <= 10 and 0.8 <= v.per_layer <= 1.25, where
        if v.kind in ("shrinks", "collapses"):
            assert v.last < v.first, where
        if v.kind in ("grows", "explodes"):
            assert v.last > v.first, where
        if v.kind == "collapses" and v.peak > 0.9:  # "the panel is a single bar"
            inside = (stats.act_edges[:-1] >= v.peak_lo) & (stats.act_edges[1:] <= v.peak_hi)
            assert stats.act_hist[-1, inside].sum() == pytest.approx(v.peak)
            assert v.peak_hi - v.peak_lo <= 2.01 * np.diff(stats.act_edges).max()


def test_signal_verdicts_at_the_settings_the_lesson_is_about(sweep):
    for act, width in itertools.product(ACTS, WIDTHS):
        tiny = sweep[(act, ("gaussian", 0.001), width, 20)]
        assert signal_verdict(tiny, act).kind == "collapses", (act, width)
    for act in ("tanh", "sigmoid"):
        assert signal_verdict(sweep[(act, ("normal", 0.05), 500, 20)], act).kind == "saturates"
    assert signal_verdict(sweep[("relu", ("normal", 0.05), 500, 20)], "relu").kind == "explodes"
    assert signal_verdict(sweep[("relu", ("he", 0.05), 500, 20)], "relu").kind == "healthy"


def test_gradient_verdicts_agree_with_the_standard_deviations(sweep):
    for (act, (init, sigma), width, depth), stats in sweep.items():
        v = gradient_verdict(stats)
        where = (act, init, sigma, width, depth, v)
        assert v.ratio == pytest.approx(stats.grad_std[0] / stats.grad_std[-1]), where
        grows = stats.grad_std[0] > stats.grad_std[-1]
        # the issue: a gradient that grows is never called vanishing (nor shrinking)
        assert not (grows and v.kind in ("vanishes", "shrinks")), where
        assert (v.kind in ("grows", "explodes")) == (v.ratio > 2), where
        if v.kind == "vanishes":  # "x% of its values sit in the two bins around 0, the spike"
            assert v.ratio < 0.1 and v.centre > 0.5, where
        if v.kind == "explodes":
            assert v.ratio > 10, where
        if v.kind == "steady":  # "changes by a factor of only ..."
            assert 0.5 <= v.ratio <= 2, where
        assert 0 <= v.blocked <= 1 and 0 <= v.beyond <= 1, where


def test_gradient_verdicts_at_the_settings_the_lesson_is_about(sweep):
    for act in ACTS:
        assert gradient_verdict(sweep[(act, ("small", 0.05), 500, 20)]).kind == "vanishes"
    saturated = gradient_verdict(sweep[("tanh", ("normal", 0.05), 500, 20)])
    assert saturated.kind == "explodes" and saturated.blocked > 0.5
    assert gradient_verdict(sweep[("relu", ("he", 0.05), 500, 20)]).kind == "steady"


@pytest.mark.parametrize(("act", "init"), [("tanh", "normal"), ("sigmoid", "normal")])
def test_blocked_gradients_belong_to_units_in_the_flat_tails(act, init):
    setup = DeepSetup(activation=act, init=init, depth=6, width=300)
    prop, stats = propagate(setup), propagation_stats(setup)
    g, slope = prop.grads[0], prop.primes[0]
    blocked = np.abs(g) < 1e-3 * np.sqrt(np.mean(g * g))
    assert stats.grad_blocked[0] == pytest.approx(blocked.mean())
    assert stats.grad_blocked[0] > BLOCKED
    assert np.mean(slope[blocked] < 1e-2) > 0.9  # "where f'(z) is about 0"


def test_relu_blocked_gradients_are_exactly_the_switched_off_units():
    setup = DeepSetup(activation="relu", init="he", depth=6, width=300)
    prop, stats = propagate(setup), propagation_stats(setup)
    switched_off = prop.zs[0] <= 0
    assert np.all(prop.grads[0][switched_off] == 0)
    assert stats.grad_blocked[0] == pytest.approx(switched_off.mean(), abs=0.01)


def test_rule_deviation_is_the_largest_relative_gap():
    stats = propagation_stats(DeepSetup(activation="tanh", init="xavier", depth=4, width=50))
    gap = np.abs(stats.var_z / stats.var_z_rule - 1)
    assert rule_deviation(stats) == pytest.approx(gap.max())


# --- the page itself, at extremes: each sentence against its chart's numbers ---------------

QUICK = {"t_epochs": "2", "t_n": "1000"}
PAGES = [
    {"act": "tanh", "init": "normal"},  # the issue's example: saturated, yet exploding
    {"act": "relu", "init": "normal", "depth": "20"},
    {"act": "sigmoid", "init": "gaussian", "sigma": "0.001", "width": "10", "depth": "20"},
    {"act": "relu", "init": "he", "width": "10", "depth": "2"},
    {"act": "tanh", "init": "gaussian", "sigma": "2.0", "width": "10", "depth": "20"},
    {"act": "tanh", "init": "he", "depth": "2"},  # under 1% saturated in the last layer
]


def first_and_last(frame, field: str, name: str) -> tuple[float, float]:
    """A series' values in layer 1 and in the last layer."""
    values = frame[frame[field] == name].sort_values("layer")["value"].to_numpy()
    return values[0], values[-1]


@pytest.mark.parametrize("query", PAGES, ids=lambda q: "-".join(q.values()))
def test_page_sentences_follow_the_charts(query):
    at = run_page(PAGE, {**query, **QUICK})
    shown, page = charts(at), text(at)
    assert_charts_finite(at)
    g1, g_last = first_and_last(
        shown["Standard deviation of the gradient per layer"], "statistic", "standard deviation"
    )
    ratio = g1 / g_last  # going back from layer L to layer 1
    if ratio > 2:
        assert f"grows {nice(ratio)}×" in page
        assert "the spike of a vanishing gradient" not in page
    elif ratio < 0.5:
        assert f"shrinks {nice(1 / ratio)}×" in page
    else:
        assert f"changes by a factor of only {nice(ratio)}" in page
    if ratio < 0.1:
        assert "the spike of a vanishing gradient" in page
    s_first, s_last = first_and_last(
        shown["Mean and standard deviation per layer"], "statistic", "spread across inputs"
    )
    if s_last < 1e-3 * s_first:
        assert "the signal **collapses**" in page
    elif s_last > 1e3 * s_first:
        assert "the signal **explodes**" in page
    flat = shown["Share of values in the flat region"].sort_values("layer")["value"].to_numpy()
    first, last = (f"{v:.0f}%" if v >= 1 or v == 0 else f"{v:.1g}%" for v in flat[[0, -1]])
    assert f"Here {first} of layer 1's values and {last} of layer {len(flat)}'s" in page


def test_the_issue_example_is_not_called_vanishing():
    at = run_page(PAGE, {"act": "tanh", "init": "normal", **QUICK})
    page = text(at)
    assert "is not a vanishing gradient" in page
    assert "Saturation alone does not mean vanishing" in page
    assert "the signal **saturates**" in page


def test_page_symmetry_and_training_sentences_follow_their_numbers():
    at = run_page(PAGE, {"width": "10", **QUICK})
    page = text(at)
    table = at.table[0].value
    baseline = one_digit_accuracy(load_mnist().validation.labels)
    for start, row in table.iterrows():
        if start.startswith("random"):
            continue
        acc = float(row["accuracy"].rstrip("%"))
        learned = f"with {start} weights its single distinct unit still reaches {acc:.1f}%"
        stuck = f"with {start} weights it ends at {acc:.1f}%, no better than that"
        said = learned.lower() in page.lower()
        assert said or stuck.lower() in page.lower(), start
        assert said == (acc / 100 > baseline + 0.03), start
    acc = charts(at)["Validation accuracy, [784, 30, 10] sigmoid network"]
    final = acc.sort_values("epoch").groupby("initial weights")["value"].last()
    gap = final["N(0, 1/n_in)"] - final["N(0, 1)"]
    if abs(gap) <= 1.5:
        assert "they end level" in page
    else:
        leader = "N(0, 1/n_in)" if gap > 0 else "N(0, 1)"
        assert f"{leader} is still ahead at the end" in page


# --- the small verdicts on constructed numbers -------------------------------------------


def test_start_race_calls_leads_and_ties():
    race = start_race(np.array([10.0, 50.0, 90.0]), np.array([10.0, 80.0, 91.0]))
    assert (race.early, race.late) == ("scaled", "tie")
    race = start_race(np.array([10.0, 80.0, 95.0]), np.array([10.0, 60.0, 90.0]))
    assert (race.early, race.late) == ("normal", "normal")
    assert race.early_gap == -20 and race.late_gap == -5
    exactly = start_race(np.array([0.0, 50.0]), np.array([0.0, 51.5]))
    assert exactly.early == exactly.late == "tie"


def run(spread, distinct, accuracy):
    n = len(spread)
    return SymmetryRun(np.arange(n), np.array(spread), np.array(distinct), np.array(accuracy))


def test_symmetry_verdict_on_constructed_runs():
    baseline = one_digit_accuracy(load_mnist().validation.labels)
    runs = {
        "zeros": run([0, 0, 0], [1, 1, 1], [0.1, 0.2, 0.3]),
        "constant": run([0, 0, 0], [1, 1, 1], [0.1, 0.1, baseline]),
        "scaled": run([0.2, 0.5, 1.0], [30, 30, 30], [0.1, 0.8, 0.9]),
    }
    v = symmetry_verdict(runs)
    assert v.equal_stay_equal and v.equal_distinct == 1
    assert (v.random_first, v.random_last, v.random_distinct) == (0.2, 1.0, 30)
    assert v.learned == {"zeros": True, "constant": False, "scaled": True}
    runs["constant"] = run([0, 1e-3, 2e-3], [1, 2, 3], [0.1, 0.1, 0.1])
    v = symmetry_verdict(runs)
    assert not v.equal_stay_equal and v.equal_distinct == 3


def test_one_digit_accuracy_and_accuracy_noise():
    assert one_digit_accuracy(np.array([3, 3, 1, 2])) == 0.5
    assert accuracy_noise(90.0, 1000) == pytest.approx(100 * np.sqrt(0.09 / 1000))
    assert accuracy_noise(100.0, 1000) == 0.0


# --- the charts: one tick format on log axes, histogram grids that fit the column ---------


def test_power_of_ten_axis_labels_span_the_data_in_at_most_seven_ticks():
    assert _powers_of_ten([2.9e-7, 0.2]) == [1e-7, 1e-5, 1e-3, 1e-1]
    many = _powers_of_ten([1e-35, 1e24])
    assert len(many) <= 7 and many[0] == 1e-35 and many[-1] <= 1e24
    assert _powers_of_ten([0.0, -1.0, np.nan]) == []
    df = pd.DataFrame({"layer": [1, 2, 3], "value": [1e-9, 1e-3, 1e2]})
    spec = line_chart(
        df, x="layer", y="value", title="t", x_title="x", y_title="y", log_y=True, y_powers=True
    ).build()
    axis = spec.to_dict()["encoding"]["y"]["axis"]
    assert axis["values"] == _powers_of_ten(df["value"])
    assert "'10' +" in axis["labelExpr"]


@pytest.mark.parametrize("depth", [2, 7, 20])
def test_histogram_grid_fits_the_width_it_is_given(depth):
    edges = np.linspace(-1, 1, 41)
    shares = np.full((depth, 40), 1 / 40)
    chart = per_layer_histograms(edges, shares, title="t", x_title="a", fit_width=720).build()
    spec = chart.to_dict()
    columns = spec["columns"]
    assert columns == min(5, depth)
    assert GRID_AXIS + columns * (spec["spec"]["width"] + GRID_GAP) <= 720
