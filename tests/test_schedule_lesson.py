"""The schedules section: one test per claim the page makes, the measures on constructed
curves, and the sentences on constructed results (ties, divergence, no junk numbers)."""

import math
import re

import numpy as np
import pytest

from explain.nn.training import Divergence, History
from explain.schedule_lesson import (
    DEFAULT,
    DEFAULT_PAIR,
    BatchPair,
    BatchRun,
    ScheduleRace,
    ScheduleRun,
    Windows,
    batch_sentence,
    decay_gains,
    decay_sentence,
    plateau,
    run_batch_pair,
    run_schedules,
    schedule_curves,
    schedule_sentence,
    schedule_table,
)

JUNK = re.compile(r"nan|inf\b|∞|\de[+-]?\d|None")


def clean(text: str) -> bool:
    """No NaN, infinity, e-notation or None in a sentence meant for a reader."""
    return not JUNK.search(text)


@pytest.fixture(scope="module")
def default_race():
    return run_schedules(DEFAULT)


@pytest.fixture(scope="module")
def default_pair():
    return run_batch_pair(DEFAULT_PAIR)


# --- the page's claims, on its defaults -------------------------------------------------------


def test_decayed_schedules_end_with_lower_training_cost_than_the_constant_rate(default_race):
    const = default_race["constant"]
    for name in ("step_decay", "cosine"):
        assert default_race[name].final_cost < const.final_cost / 1.5
    gains = {g.name: g for g in decay_gains(default_race)}
    assert set(gains) == set(DEFAULT.schedules) - {"constant"}
    assert all(g.code == "lower" and g.ratio > 2 for g in gains.values())


def test_the_constant_rate_hovers_on_the_default(default_race):
    hover = plateau(default_race["constant"].windows)
    assert hover.hovering
    assert hover.settled_epoch is not None and 2 <= hover.settled_epoch <= DEFAULT.epochs
    assert hover.level < hover.start / 4  # it learned first, then stopped falling
    text = decay_sentence(default_race)
    assert "stopped falling by epoch" in text and "falls further" in text
    assert clean(text)


def test_default_race_has_no_nan_and_the_table_and_sentence_read(default_race):
    rows = schedule_table(default_race)
    assert [r.name for r in rows] == list(DEFAULT.schedules)
    for run in default_race.values():
        assert run.diverged_at is None
        assert all(np.all(np.isfinite(a)) for a in run.windows)
        assert len(run.windows.cost) == DEFAULT.epochs * 5
        assert 0 < run.final_accuracy <= run.best_accuracy <= 1
    text = schedule_sentence(rows)
    assert "ended highest" in text or "level at the top" in text
    assert clean(text)


def test_smaller_batch_has_the_noisier_per_step_cost(default_pair):
    for eta in DEFAULT_PAIR.etas:
        small, large = (r for r in default_pair if r.eta == eta)
        assert (small.batch_size, large.batch_size) == (DEFAULT_PAIR.small, DEFAULT_PAIR.large)
        assert small.relative_noise > 1.5 * large.relative_noise
    assert "as noisy" in batch_sentence(default_pair)


def test_the_rate_that_suits_a_batch_grows_with_it(default_pair):
    cost = {(r.batch_size, r.eta): r.final_cost for r in default_pair}
    lo, hi = DEFAULT_PAIR.etas
    assert cost[(10, lo)] < cost[(10, hi)] / 2
    assert cost[(100, hi)] < cost[(100, lo)] / 2
    text = batch_sentence(default_pair)
    assert "grows with the batch" in text and clean(text)


# --- no training: the rate curves ------------------------------------------------------------


def test_rate_curves_match_the_formulas_after_a_warm_up():
    # 100 digits in batches of 10: 10 steps an epoch, 100 steps, the first 10 warming up
    setup = ScheduleRace(eta=2.0, n_train=100, epochs=10, batch_size=10, warmup_epochs=1)
    curves = schedule_curves(setup)
    eta = {name: dict(zip(*curves[name])) for name in setup.schedules}
    w = 10
    for name in setup.schedules:
        assert eta[name][0] == pytest.approx(2.0 / 10)  # (t + 1) / steps of the ramp
        assert eta[name][9] == pytest.approx(2.0)
        assert eta[name][w] == pytest.approx(2.0)
    assert eta["constant"][99] == 2.0
    assert eta["step_decay"][w + 49] == 2.0 and eta["step_decay"][w + 50] == 1.0
    assert eta["exponential"][w + 20] == pytest.approx(2.0 * 0.85**2)
    assert eta["inverse_time"][w + 30] == pytest.approx(2.0 / (1 + 0.5 * 3))
    assert eta["cosine"][w + 45] == pytest.approx(1.0)  # half way through the 90 steps left
    assert eta["cosine_restarts"][w + 25] == pytest.approx(1.0)
    assert eta["cosine_restarts"][w + 50] == pytest.approx(2.0)  # the restart


def test_thinned_curves_keep_both_sides_of_every_jump():
    setup = ScheduleRace(n_train=1000, epochs=20, schedules=("step_decay", "cosine_restarts"))
    steps, rates = schedule_curves(setup, max_points=50)["step_decay"]
    assert len(steps) < 100 and steps[-1] == setup.total_steps - 1
    for drop in (500, 1000, 1500):  # every 5 epochs of 100 steps
        assert {drop - 1, drop} <= set(steps.tolist())
    full = dict(zip(*schedule_curves(setup)["step_decay"]))
    assert all(full[s] == r for s, r in zip(steps, rates))


# --- same start, same batches ------------------------------------------------------------------


def test_every_schedule_starts_from_the_same_weights_on_the_same_batches():
    setup = ScheduleRace(
        schedules=("constant", "step_decay"), n_train=200, epochs=3, every_epochs=2, eta=1.0
    )
    ticks = []
    runs = run_schedules(setup, on_progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(i, 6) for i in range(1, 7)]
    a, b = (runs[n].history for n in setup.schedules)
    assert a.eval_cost[0] == b.eval_cost[0]
    # identical rates for 2 epochs (40 steps): identical costs, step by step, then apart
    wa, wb = runs["constant"].windows, runs["step_decay"].windows
    assert np.array_equal(wa.cost[:10], wb.cost[:10])
    assert not np.array_equal(wa.cost[10:], wb.cost[10:])


def test_both_batch_sizes_start_from_the_same_weights():
    runs = run_batch_pair(BatchPair(n_train=200, epochs=1, scaled=False))
    assert [(r.batch_size, r.eta) for r in runs] == [(10, 0.3), (100, 0.3)]
    assert runs[0].history.eval_cost[0] == runs[1].history.eval_cost[0]


# --- plateau on constructed curves -------------------------------------------------------------


def windows_of(cost, per_epoch=5) -> Windows:
    cost = np.asarray(cost, dtype=float)
    n = len(cost)
    return Windows(np.arange(1, n + 1) / per_epoch, cost, np.zeros(n), np.ones(n))


def test_plateau_finds_the_level_and_where_a_noisy_cost_settled():
    rng = np.random.default_rng(0)
    t = np.arange(100) / 5  # 20 epochs
    cost = 0.2 + 2.0 * np.exp(-t / 1.5) + 0.03 * rng.standard_normal(100)
    hover = plateau(windows_of(cost))
    assert hover.hovering
    assert hover.level == pytest.approx(0.2, abs=0.02)
    assert hover.spread == pytest.approx(0.03, rel=0.4)
    # 2 exp(-t / 1.5) falls below 2 x 0.03 / sqrt(5) ~ 0.027 after t ~ 6.5
    assert 6 <= hover.settled_epoch <= 9


def test_plateau_calls_a_steady_fall_still_falling():
    cost = np.linspace(1.0, 0.1, 60) + 0.001 * np.sin(np.arange(60))
    hover = plateau(windows_of(cost))
    assert not hover.hovering and hover.fall > hover.spread


def test_plateau_of_a_flat_cost_settled_from_the_start_and_of_a_short_run_is_none():
    flat = plateau(windows_of(np.full(30, 0.5)))
    assert flat.hovering and flat.settled_epoch is None and flat.spread == 0
    assert plateau(windows_of(np.ones(11))) is None


# --- sentences on constructed results ----------------------------------------------------------


def history(acc) -> History:
    """A History whose validation accuracy per epoch (row 0 the start) is ``acc``."""
    acc = np.asarray(acc, dtype=float)
    n = len(acc)
    zeros = np.zeros((n, 1))
    return History(
        np.arange(n), np.ones(n), acc, np.ones(n), acc, zeros, zeros, zeros, zeros, zeros, zeros
    )


def run(name, cost, end=None, acc=(0.1, 0.9), diverged=None, eta=3.0) -> ScheduleRun:
    """A ScheduleRun with windowed costs ``cost`` and final validation accuracy acc[-1]."""
    win = windows_of(cost)
    end = float(np.mean(cost[-5:])) if end is None else end
    trained = diverged is None or len(acc) > 1
    return ScheduleRun(
        name,
        eta,
        history(acc),
        win,
        acc[-1] if trained else None,
        max(acc[1:]) if trained else None,
        int(np.argmax(acc[1:])) + 1 if trained else None,
        end,
        end,
        diverged,
    )


HOVER = 0.3 + 0.05 * np.sin(np.arange(60)) + np.r_[np.linspace(2, 0, 20), np.zeros(40)]
FALLING = np.linspace(1.0, 0.02, 60)


def test_decay_sentence_says_how_much_lower_each_decay_ended():
    results = {
        "constant": run("constant", HOVER),
        "cosine": run("cosine", np.linspace(2, 0.06, 60), end=0.06),
        "inverse_time": run("inverse_time", np.linspace(2, 0.3, 60), end=0.3),
    }
    text = decay_sentence(results)
    assert "hovers near 0.3" in text
    assert "cosine to 0.06 (5× lower)" in text
    assert "1/t ended about where the constant rate hovers" in text
    assert clean(text)


def test_decay_sentence_says_so_when_the_constant_rate_ends_lower():
    results = {
        "constant": run("constant", FALLING, eta=0.3),
        "step_decay": run("step_decay", np.linspace(1.0, 0.2, 60), end=0.2),
    }
    text = decay_sentence(results)
    assert text.startswith("With a constant rate of 0.3 ")
    assert "still falling" in text and "ended higher" in text
    assert clean(text)


def test_decay_sentence_without_constant_or_after_it_diverged():
    assert "no hovering to compare" in decay_sentence({"cosine": run("cosine", HOVER)})
    gone = run("constant", HOVER[:7], acc=(0.1,), diverged=Divergence(1, 7), eta=5.0)
    text = decay_sentence({"constant": gone, "cosine": run("cosine", HOVER)})
    assert text.startswith("With a constant rate of 5 training diverged")
    assert "diverged in epoch 1 (step 7)" in text and "cosine" in text
    assert clean(text)


def test_schedule_sentence_names_ties_noise_and_the_best_epoch():
    rows = schedule_table(
        {
            "constant": run("constant", HOVER, acc=(0.1, 0.80, 0.85)),
            "cosine": run("cosine", HOVER, acc=(0.1, 0.90, 0.912)),
            "step_decay": run("step_decay", HOVER, acc=(0.1, 0.93, 0.912)),
            "exponential": run("exponential", HOVER, acc=(0.1, 0.89, 0.90)),
        }
    )
    text = schedule_sentence(rows)
    assert "Cosine and step decay ended level at the top, at 91.2%" in text
    assert "exponential (90.0%) is within noise of it" in text
    assert "Constant (85.0%) ended lower" in text
    assert "best epoch of all reached 93.0% (step decay in epoch 1)" in text
    assert clean(text)


def test_schedule_sentence_when_runs_diverge():
    gone = run("constant", HOVER[:3], acc=(0.1,), diverged=Divergence(2, 412))
    also = run("cosine", HOVER[:1], acc=(0.1,), diverged=Divergence(0, 0))
    text = schedule_sentence(schedule_table({"constant": gone, "cosine": also}))
    assert text == (
        "Every schedule diverged: constant in epoch 2 (step 412) and cosine at initialization."
    )
    mixed = schedule_sentence(schedule_table({"constant": gone, "cosine": run("cosine", HOVER)}))
    assert mixed.startswith("Cosine ended at 90.0%.") and "Diverged: constant" in mixed
    assert clean(mixed) and schedule_sentence([]) == "No schedule ran."


def batch_run(batch, eta, level, noise, cost, acc, diverged=None) -> BatchRun:
    win = windows_of([level] * 10)
    return BatchRun(batch, eta, history((0.1, acc)), win, level, noise, acc, cost, diverged)


def test_batch_sentence_reads_noise_and_which_rate_suits_which_batch():
    runs = [
        batch_run(10, 0.3, 0.03, 0.03, 0.027, 0.927),
        batch_run(10, 3.0, 0.2, 0.22, 0.17, 0.892),
        batch_run(100, 0.3, 0.28, 0.06, 0.27, 0.912),
        batch_run(100, 3.0, 0.04, 0.017, 0.042, 0.931),
    ]
    text = batch_sentence(runs)
    assert "4.7× as noisy" in text  # (0.03 / 0.03) / (0.06 / 0.28)
    assert "Batch 10 did better at rate 0.3" in text
    assert "Batch 100 did better at rate 3" in text
    assert "within noise of 1,000 digits" in text  # 93.1% against 91.2%
    assert "grows with the batch" in text and clean(text)


def test_batch_sentence_on_ties_one_rate_and_divergence():
    tie = [
        batch_run(10, 0.3, 0.03, 0.03, 0.03, 0.92),
        batch_run(10, 3.0, 0.03, 0.03, 0.04, 0.92),
        batch_run(100, 0.3, 0.28, 0.06, 0.27, 0.91),
        batch_run(100, 3.0, 0.04, 0.017, 0.042, 0.93),
    ]
    text = batch_sentence(tie)
    assert "Batch 10 ended about as low at rate 0.3 as at 3" in text
    assert "grows" not in text and clean(text)
    one = batch_sentence(tie[::2])
    assert "At the same rate, batch 100 takes 10× fewer steps" in one and clean(one)
    gone = [r._replace(diverged_at=Divergence(1, 5), level=None, noise=None) for r in tie]
    assert batch_sentence(gone).startswith("Every run diverged: batch 10 at rate 0.3 in epoch 1")


def test_absurd_rates_diverge_without_nan_or_warnings():
    runs = run_schedules(
        ScheduleRace(eta=1e300, n_train=200, epochs=2, schedules=("constant", "cosine"))
    )
    for r in runs.values():
        assert r.diverged_at is not None and r.final_accuracy is None and r.final_cost is None
        assert all(np.all(np.isfinite(a)) for a in r.windows)
    assert "diverged" in decay_sentence(runs)
    assert schedule_sentence(schedule_table(runs)).startswith("Every schedule diverged")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"schedules": ()}, "not among"),
        ({"schedules": ("constant", "constant")}, "named twice"),
        ({"schedules": ("adam",)}, "not among"),
        ({"eta": 0.0}, "positive"),
        ({"eta": math.nan}, "positive"),
        ({"epochs": 0}, "at least|>= 1"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
    ],
)
def test_race_setup_rejects_nonsense(changes, match):
    with pytest.raises(ValueError, match=match):
        ScheduleRace(**changes)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"small": 100, "large": 10}, "small < large"),
        ({"eta": -1}, "positive"),
        ({"eta": 1e308}, "finite"),
    ],
)
def test_batch_pair_rejects_nonsense(changes, match):
    with pytest.raises(ValueError, match=match):
        BatchPair(**changes)
