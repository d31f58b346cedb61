"""The optimizer race's verdicts against their numbers.

First the gap and race verdicts on constructed Histories (gap above one, about even,
reversed, a layer that did not move, no epoch recorded, divergence; ties, every run
diverged, none learned), then the setup, then the page's claims on the real default race,
then a sweep over every offered learning rate.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings

import numpy as np
import pytest

from explain.nn.training import Divergence, History, TrainResult
from explain.optimizer_race import (
    DEFAULT_ETAS,
    ETA_CHOICES,
    EVEN,
    LEARNED,
    RaceSetup,
    common_target,
    gap_phrase,
    gap_sentence,
    layer_gap,
    race_summary,
    race_table,
    run_race,
    sig2,
    times,
)

# --- constructed runs ------------------------------------------------------------------------


def history(updates: list[list[float]], accuracy: list[float] | None = None) -> History:
    """A History with row 0 at initialization and one row per entry of ``updates``.

    updates: per trained epoch, ||Delta W^l|| / ||W^l|| of every weight layer, output last.
    accuracy: validation accuracy of every row, row 0 included (default: 0.1 throughout).
    """
    ur = np.array([[0.0] * len(updates[0]), *updates]) if updates else np.zeros((1, 4))
    rows, hidden = len(ur), ur.shape[1] - 1
    acc = np.array(accuracy if accuracy is not None else [0.1] * rows, dtype=float)
    per_layer = np.zeros((rows, hidden))
    return History(
        epoch=np.arange(rows),
        train_cost=np.ones(rows),
        train_accuracy=acc,
        eval_cost=2.0 - acc,
        eval_accuracy=acc,
        grad_norm=per_layer,
        act_mean=per_layer,
        act_std=per_layer,
        saturated=per_layer,
        dead=per_layer,
        no_gradient=per_layer,
        lr=np.full(rows, 0.1),
        update_ratio=ur,
    )


def gaps(*ratios: float) -> list[list[float]]:
    """Update-ratio rows whose last hidden / first hidden is each ratio (output layer 9.0)."""
    return [[0.01, 0.02, 0.01 * r, 9.0] for r in ratios]


def empty_history() -> History:
    """What training returns when it diverged before recording even row 0."""
    return History(*(np.array([]) for _ in History._fields))


def result(accuracy: list[float], diverged: Divergence | None = None) -> TrainResult:
    """A run whose validation accuracy per row (row 0 first) is ``accuracy``."""
    h = history(gaps(*[2.0] * (len(accuracy) - 1)), accuracy) if accuracy else empty_history()
    return TrainResult(None, h, diverged)


# what a sentence must never show: nan, inf, None, 'e+07', float junk such as 6.4999
NO_JUNK = re.compile(r"\bnan\b|\binf\b|\bNone\b|e[+-]\d|\d\.\d{3,}")


# --- the gap between the first and the last hidden layer -------------------------------------


def test_layer_gap_divides_last_hidden_by_first_and_leaves_out_the_output_layer():
    g = layer_gap(history([[0.01, 0.02, 0.065, 9.0], [0.02, 0.01, 0.04, 0.0]]))
    np.testing.assert_allclose(g.ratio, [6.5, 2.0])
    assert (g.first, g.last) == pytest.approx((6.5, 2.0))
    assert g.typical == pytest.approx(math.sqrt(13.0))  # geometric mean over the epochs
    assert (g.first_epoch, g.last_epoch) == (1, 2)
    np.testing.assert_array_equal(g.epochs, [1, 2])
    np.testing.assert_allclose(g.per_layer, [0.015, 0.015, 0.0525])  # hidden layers only
    assert g.diverged_at is None


def test_gap_above_one_says_the_last_layer_moved_further_then_how_it_changed():
    text = gap_sentence("sgd", layer_gap(history(gaps(6.499999, 2.7, 0.56))))
    assert text == (
        "SGD: in epoch 1, the last hidden layer's weights moved 6.5× as far as the first's, "
        "relative to their size; by epoch 3, the first hidden layer's weights moved 1.8× as "
        "far as the last's."
    )


def test_gap_within_even_reads_about_as_far_edges_included():
    for r in (1.0, EVEN, 1 / EVEN, 1.2, 0.8):
        assert "about as far" in gap_phrase(r), r
    assert "1.5× as far as the first's" in gap_phrase(1.51)
    text = gap_sentence("adam", layer_gap(history(gaps(1.4, 0.7))))
    assert text == (
        "Adam: in epoch 1, the first and the last hidden layers' weights moved about as far, "
        "relative to their size; by epoch 2, the first and the last hidden layers' weights "
        "moved about as far."
    )


def test_reversed_gap_says_the_first_layer_moved_further():
    text = gap_sentence("adam", layer_gap(history(gaps(0.23, 0.25))))
    assert "in epoch 1, the first hidden layer's weights moved 4.3× as far as the last's" in text
    assert "by epoch 2, the first hidden layer's weights moved 4× as far as the last's." in text


def test_a_layer_that_did_not_move_is_named_without_infinity_or_nan():
    first_still = layer_gap(history([[0.0, 0.02, 0.03, 0.1], [0.0, 0.0, 0.0, 0.1]]))
    assert math.isinf(first_still.first) and math.isnan(first_still.last)
    assert math.isnan(first_still.typical)  # no epoch where both moved
    text = gap_sentence("sgd", first_still)
    assert "the first hidden layer's weights did not move at all, while the last's did" in text
    assert "neither the first nor the last hidden layer's weights moved" in text
    assert not NO_JUNK.search(text)
    last_still = layer_gap(history([[0.02, 0.01, 0.0, 0.1], [0.01, 0.01, 0.04, 0.1]]))
    assert last_still.first == 0.0 and last_still.typical == pytest.approx(4.0)
    assert "the last hidden layer's weights did not move at all" in gap_sentence("sgd", last_still)


@pytest.mark.parametrize("make", [empty_history, lambda: history([])], ids=["no_rows", "row_0"])
def test_no_recorded_epoch_gives_nan_and_none_and_says_so(make):
    g = layer_gap(make())
    assert g.first_epoch is None and g.last_epoch is None
    assert len(g.ratio) == len(g.epochs) == len(g.per_layer) == 0
    assert all(math.isnan(v) for v in (g.first, g.last, g.typical))
    assert gap_sentence("sgd", g) == "SGD: no epoch recorded, so no update sizes to compare."


def test_diverged_run_says_where_then_what_it_measured_before():
    g = layer_gap(history(gaps(6.5, 3.0)), Divergence(3, 412))
    assert gap_sentence("momentum", g).startswith(
        "momentum diverged at epoch 3 (step 412); before that, in epoch 1, the last hidden "
        "layer's weights moved 6.5× as far"
    )
    early = layer_gap(empty_history(), Divergence(1, 37))
    assert gap_sentence("adam", early) == (
        "Adam diverged at epoch 1 (step 37), so no epoch was recorded: no update sizes to compare."
    )
    at_init = gap_sentence("sgd", layer_gap(empty_history(), Divergence(0, 0)))
    assert at_init.startswith("SGD diverged at initialization") and "no update sizes" in at_init


def test_one_recorded_epoch_is_one_clause():
    text = gap_sentence("rmsprop", layer_gap(history(gaps(3.0))))
    assert "by epoch" not in text and text.startswith("RMSProp: in epoch 1, the last hidden")


def test_layer_gap_needs_two_hidden_layers():
    with pytest.raises(ValueError, match="two hidden layers"):
        layer_gap(history([[0.1, 0.2]]))


def test_sig2_gives_two_significant_digits_without_junk():
    cases = {
        6.499999: "6.5",
        0.5555: "0.56",
        4.0: "4",
        9.96: "10",
        34.4: "34",
        99.7: "100",
        1234.0: "1,200",
        2.34e7: "2.3 × 10⁷",
        1.2e-5: "1.2 × 10⁻⁵",
    }
    for x, text in cases.items():
        assert sig2(x) == text, x
    assert times(6.499999) == "6.5×"
    assert times(1.1e10) == "1.1 × 10¹⁰ times"
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="positive finite"):
            sig2(bad)


# --- the race table and its summary ----------------------------------------------------------


def test_common_target_is_the_highest_whole_percent_every_learning_run_reached():
    runs = [result([0.09, 0.5, 0.86, 0.8]), result([0.09, 0.29, 0.2])]
    assert common_target(runs) == 0.29  # not 0.28: 100 * 0.29 is 28.999999999999996
    stuck = result([0.09, 0.11, 0.117])  # left out: every run "reaches" 11% at once
    diverged = result([0.09, 0.15], Divergence(2, 300))
    assert common_target([*runs, stuck, diverged]) == 0.29
    assert common_target([stuck, diverged]) is None
    assert common_target([result([0.3, 0.25, 0.28])]) is None  # did not beat its start
    assert common_target([]) is None


def test_race_table_reads_each_run():
    rows = race_table(
        ["sgd", "adam", "momentum"],
        [
            result([0.09, 0.3, 0.86, 0.85]),
            result([0.09, 0.7, 0.9, 0.9]),
            result([0.09], Divergence(1, 50)),
        ],
    )
    sgd, adam, mom = rows
    assert (sgd.label, sgd.target, sgd.epochs_to_target) == ("SGD", 0.86, 2)
    assert (sgd.final_accuracy, sgd.best_accuracy, sgd.best_epoch) == (0.85, 0.86, 2)
    assert sgd.final_cost == pytest.approx(2.0 - 0.85) and sgd.learned
    assert (adam.best_epoch, adam.epochs_to_target) == (2, 2)  # first epoch at the best
    assert mom.diverged_at == Divergence(1, 50) and mom.best_epoch is None
    assert math.isnan(mom.final_accuracy) and mom.start_accuracy == 0.09 and not mom.learned
    with pytest.raises(ValueError, match="1 names for 0 results"):
        race_table(["sgd"], [])


def test_race_summary_names_the_first_to_the_target_and_the_highest_end():
    rows = race_table(
        ["sgd", "momentum", "adam"],
        [
            result([0.09, 0.3, 0.7, 0.8, 0.855]),
            result([0.09, 0.5, 0.8, 0.82, 0.848]),
            result([0.09, 0.81, 0.79, 0.78, 0.787]),
        ],
    )
    assert race_summary(rows) == (
        "Adam reached 81% validation accuracy first, in 1 epoch (momentum in 3, SGD in 4). "
        "SGD ended highest, at 85.5%; momentum (84.8%) is within noise of it (1,000 validation "
        "digits). Adam (78.7%) ended lower."
    )


def test_race_summary_groups_followers_that_tie():
    rows = race_table(
        ["sgd", "momentum", "adam", "adagrad", "rmsprop"],
        [
            result([0.09, 0.3, 0.8, 0.8]),
            result([0.09, 0.5, 0.8, 0.81]),
            result([0.09, 0.8, 0.8, 0.8]),
            result([0.09, 0.3, 0.5, 0.8]),
            result([0.09, 0.11, 0.12, 0.1]),  # stuck: never reaches the target
        ],
    )
    assert race_summary(rows).startswith(
        "Adam reached 80% validation accuracy first, in 1 epoch (SGD and momentum in 2, "
        "Adagrad in 3). RMSProp never did."
    )


def test_race_summary_names_ties_as_ties():
    rows = race_table(
        ["sgd", "adam", "adagrad"],
        [
            result([0.09, 0.5, 0.85, 0.881]),
            result([0.09, 0.6, 0.85, 0.8814]),  # 88.1% shown, like SGD's
            result([0.09, 0.4, 0.6, 0.85]),
        ],
    )
    text = race_summary(rows)
    assert text.startswith("SGD and Adam both reached 85% validation accuracy in 2 epochs")
    assert "(Adagrad in 3)" in text
    assert "SGD and Adam ended level at the top, at 88.1%. Adagrad (85.0%) ended lower." in text
    three = race_table(["sgd", "momentum", "adam"], [result([0.09, 0.5, 0.9])] * 3)
    assert race_summary(three) == (
        "SGD, momentum and Adam all reached 90% validation accuracy in 2 epochs. "
        "SGD, momentum and Adam ended level, at 90.0%."
    )


def test_race_summary_says_which_ends_are_within_noise_of_the_top():
    ends = [0.857, 0.855, 0.848, 0.787, 0.744]  # the default race's
    names = ["adagrad", "sgd", "momentum", "adam", "rmsprop"]
    rows = race_table(names, [result([0.09, 0.7, a]) for a in ends])
    assert race_summary(rows).endswith(
        "Adagrad ended highest, at 85.7%; SGD (85.5%) and momentum (84.8%) are within noise of "
        "it (1,000 validation digits). Adam (78.7%) and RMSProp (74.4%) ended lower."
    )
    assert "SGD (85.5%) is within noise" in race_summary(rows[:2])
    assert "within noise" not in race_summary(rows[:2], n_eval=10**7)


def test_race_summary_with_a_stuck_and_a_diverged_run():
    rows = race_table(
        ["sgd", "adam", "rmsprop"],
        [
            result([0.09, 0.11, 0.117]),
            result([0.09, 0.6, 0.8]),
            result([0.09, 0.4], Divergence(2, 312)),
        ],
    )
    text = race_summary(rows)
    assert text.startswith("Only Adam reached 80% validation accuracy, in 2 epochs.")
    assert "Adam ended highest, at 80.0%. SGD (11.7%) ended lower." in text
    assert text.endswith("Diverged: RMSProp at epoch 2 (step 312).")


def test_race_summary_of_one_run_reaching_the_target_or_racing_alone():
    rows = race_table(["sgd", "rmsprop"], [result([0.09, 0.1, 0.108]), result([0.09, 0.2, 0.284])])
    assert race_summary(rows).startswith(
        "Only RMSProp reached 28% validation accuracy, in 2 epochs. RMSProp ended highest"
    )
    alone = race_table(["adam"], [result([0.09, 0.7, 0.9, 0.88])])
    assert race_summary(alone) == "Adam ended at 88.0% validation accuracy, after 90.0% in epoch 2."
    steady = race_table(["adam"], [result([0.09, 0.7, 0.9])])
    assert race_summary(steady) == "Adam ended at 90.0% validation accuracy."


def test_race_summary_when_every_run_diverged():
    rows = race_table(
        ["sgd", "adam"],
        [result([0.09, 0.5], Divergence(2, 350)), result([0.09], Divergence(1, 7))],
    )
    assert rows[0].target is None
    assert race_summary(rows) == (
        "Every run diverged: SGD at epoch 2 (step 350) and Adam at epoch 1 (step 7)."
    )
    at_init = race_table(["sgd"], [TrainResult(None, empty_history(), Divergence(0, 0))])
    assert race_summary(at_init) == "Every run diverged: SGD at initialization."


def test_race_summary_when_none_learned():
    rows = race_table(["sgd", "adam"], [result([0.09, 0.11, 0.117]), result([0.09, 0.1, 0.098])])
    assert rows[0].target is None and all(r.epochs_to_target is None for r in rows)
    assert race_summary(rows) == (
        f"No run learned: none reached {LEARNED:.0%} (guessing gives 10%); "
        "the best final validation accuracy was 11.7% (SGD)."
    )
    learned_then_diverged = race_table(
        ["sgd", "adam"], [result([0.09, 0.11]), result([0.09, 0.6], Divergence(2, 300))]
    )
    text = race_summary(learned_then_diverged)
    assert text.startswith("No run that kept going learned")
    assert text.endswith("Diverged: Adam at epoch 2 (step 300).")
    assert race_summary([]) == "No optimizer ran."


# --- the setup -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizers": ("sgd", "lbfgs")}, "lbfgs"),
        ({"optimizers": ("adamw",)}, "adamw"),  # without weight decay it is Adam
        ({"optimizers": ()}, "not among"),
        ({"optimizers": ("sgd", "adam", "sgd")}, "twice"),
        ({"optimizers": ("sgd", "adam"), "etas": (0.1,)}, "1 rates for 2"),
        ({"optimizers": ("sgd",), "etas": (0.0,)}, "positive"),
        ({"optimizers": ("sgd",), "etas": (math.nan,)}, "positive"),
        ({"hidden_layers": 1}, "two hidden layers"),
        ({"epochs": 0}, "at least 1"),
    ],
)
def test_race_setup_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RaceSetup(**kwargs)


def test_experiments_share_everything_but_optimizer_and_eta():
    setup = RaceSetup(optimizers=("sgd", "nesterov", "adam"), etas=(0.1, 0.01, 0.003), seed=7)
    exps = setup.experiments()
    assert [e.optimizer for e in exps] == ["sgd", "nesterov", "adam"]
    assert [e.eta for e in exps] == [0.1, 0.01, 0.003]
    assert [setup.eta_of(o) for o in setup.optimizers] == [0.1, 0.01, 0.003]
    shared = [dataclasses.replace(e, optimizer="sgd", eta=1.0) for e in exps]
    assert shared[0] == shared[1] == shared[2]
    e = exps[0]
    assert (e.sizes, e.seed, e.activation, e.cost, e.weight_init) == (
        (784, 30, 30, 30, 10),
        7,
        "sigmoid",
        "cross_entropy",
        "scaled",
    )
    assert (e.lmbda, e.record_every, e.n_train, e.epochs, e.batch_size) == (0.0, 1, 2000, 10, 10)
    assert RaceSetup(hidden_layers=4).experiments()[0].sizes == (784, 30, 30, 30, 30, 10)
    assert RaceSetup().eta_of("adam") == DEFAULT_ETAS["adam"]
    with pytest.raises(KeyError):
        RaceSetup().eta_of("rmsprop")


def test_every_default_rate_is_offered_on_a_log_spaced_list():
    assert set(ETA_CHOICES) == set(DEFAULT_ETAS)
    for name, choices in ETA_CHOICES.items():
        assert DEFAULT_ETAS[name] in choices, name
        assert 7 <= len(choices) <= 10, name
        steps = np.diff(np.log10(choices))
        assert np.all(steps > 0.3) and np.all(steps < 0.6), name  # about half a decade each
        assert choices[-1] / choices[0] >= 1000, name  # from far too small to far too large


# --- the page's claims on the real default race ----------------------------------------------


@pytest.fixture(scope="module")
def default_race():
    setup = RaceSetup(optimizers=tuple(DEFAULT_ETAS))
    return setup, run_race(setup)


def test_every_run_starts_from_the_same_network(default_race):
    _, results = default_race
    starts = {(r.history.eval_accuracy[0], r.history.eval_cost[0]) for r in results}
    assert len(starts) == 1


def test_adaptive_methods_narrow_the_gap_sgd_shows(default_race):
    setup, results = default_race
    gap = {n: layer_gap(r.history, r.diverged_at) for n, r in zip(setup.optimizers, results)}
    assert gap["sgd"].first_epoch == 1
    assert gap["sgd"].first > 3, gap["sgd"].first
    assert gap["adam"].first < gap["sgd"].first / 3, (gap["adam"].first, gap["sgd"].first)
    assert "the last hidden layer's weights moved" in gap_sentence("sgd", gap["sgd"])


def test_every_default_rate_learns(default_race):
    setup, results = default_race
    rows = race_table(setup.optimizers, results)
    for row in rows:
        assert row.diverged_at is None, row.name
        assert row.final_accuracy > 0.5, (row.name, row.final_accuracy)
    assert rows[0].target is not None and rows[0].target >= 0.7
    assert not NO_JUNK.search(race_summary(rows))


# --- every offered rate ----------------------------------------------------------------------


@pytest.mark.parametrize("i", range(max(len(c) for c in ETA_CHOICES.values())))
def test_every_offered_rate_gives_clean_sentences(i):
    names = tuple(ETA_CHOICES)
    etas = tuple(ETA_CHOICES[n][min(i, len(ETA_CHOICES[n]) - 1)] for n in names)
    setup = RaceSetup(names, etas, hidden_layers=2 + i % 4, n_train=500, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        results = run_race(setup)
    sentences = [
        gap_sentence(n, layer_gap(r.history, r.diverged_at)) for n, r in zip(names, results)
    ]
    sentences.append(race_summary(race_table(names, results)))
    for text in sentences:
        assert text and text.endswith("."), text
        assert not NO_JUNK.search(text), text
