"""The training lab's engine: configurations, checks, runs, decision regions and presets."""

import dataclasses
import time

import numpy as np
import pytest

from explain import lab
from explain.lab import (
    CHOICES,
    FIELDS,
    LARGEST,
    LIMITS,
    PRESET_LABELS,
    PRESETS,
    LabConfig,
    datasets,
    decision_grid,
    problems,
    run_lab,
    spec,
    train_config,
)

TOY = LabConfig(data="moons", n_train=200, depth=2, width=10, activation="tanh", epochs=5)


@pytest.fixture(scope="module")
def preset_runs():
    return {name: run_lab(LabConfig(**values)) for name, values in PRESETS.items()}


# --- problems ---------------------------------------------------------------------------------


def test_default_config_has_no_problems():
    assert problems(LabConfig()) == []
    assert all(problems(LabConfig(**values)) == [] for values in PRESETS.values())


def test_group_count_that_does_not_divide_the_width_names_widths_that_would():
    (message,) = problems(LabConfig(norm="group", groups=4, width=30))
    assert "4" in message and "30" in message
    assert "16" in message and "40" in message  # widths divisible by 4
    assert problems(LabConfig(norm="group", groups=5, width=30)) == []
    assert problems(LabConfig(norm="none", groups=4, width=30)) == []  # groups unused


def test_batch_larger_than_the_training_set():
    (message,) = problems(LabConfig(data="moons", n_train=100, batch_size=500))
    assert "500" in message and "100" in message


def test_regularization_too_strong_for_a_positive_decay_factor():
    (message,) = problems(LabConfig(n_train=100, eta=10.0, lmbda=30.0))
    assert "L2" in message and "positive" in message
    (message,) = problems(LabConfig(n_train=100, eta=10.0, lmbda1=10.0))
    assert "L1" in message
    assert problems(LabConfig(n_train=100, eta=10.0, lmbda=30.0, optimizer="adam")) == []


def test_unknown_names_and_out_of_range_numbers_are_reported_not_raised():
    found = problems(LabConfig(activation="swish", data="cifar", depth=40))
    assert len(found) == 3
    assert any("swish" in m and "relu" in m for m in found)
    assert any("cifar" in m for m in found)
    assert any("Depth 40" in m for m in found)
    (message,) = problems(LabConfig(n_train=8000, epochs=30))
    assert "15 epochs" in message
    with pytest.raises(ValueError, match="swish"):
        run_lab(LabConfig(activation="swish"))


def test_limits_and_choices_cover_the_fields_and_hold_the_defaults():
    assert set(LIMITS) | set(CHOICES) == set(FIELDS)
    default = LabConfig()
    for name, allowed in LIMITS.items():
        assert min(allowed) <= getattr(default, name) <= max(allowed)
    for name, options in CHOICES.items():
        assert getattr(default, name) in options


# --- building and running ---------------------------------------------------------------------


def test_network_shapes_follow_the_data():
    assert spec(LabConfig()).sizes == (784, 30, 30, 10)
    assert spec(dataclasses.replace(TOY, data="spiral")).sizes == (2, 10, 10, 3)
    assert spec(TOY).sizes == (2, 10, 10, 2)
    assert train_config(LabConfig(schedule="step_decay", epochs=9)).schedule.every_epochs == 3


def test_toy_validation_points_differ_from_the_training_points():
    train, validation = datasets(TOY)
    assert train.x.shape == (200, 2) and validation.x.shape[1] == 2
    assert not np.allclose(train.x[:50], validation.x[:50])


def test_same_seed_same_run_other_seed_other_run():
    config = dataclasses.replace(TOY, keep_prob=0.8)
    a, b = run_lab(config), run_lab(config)
    c = run_lab(dataclasses.replace(config, seed=1))
    for x, y in zip(a.history, b.history):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.history.train_cost, c.history.train_cost)


def test_toy_run_keeps_snapshots_and_a_row_per_epoch():
    done = []
    run = run_lab(TOY, on_epoch=lambda d, t: done.append((d, t)))
    assert list(run.history.epoch) == list(range(6)) and done[-1] == (5, 5)
    assert run.snapshot_epochs == (0, 1, 2, 3, 4, 5)
    assert run.snapshots[-1] is run.params
    assert run.history.dead.shape == (6, 2) and run.history.update_ratio.shape == (6, 3)


def test_snapshots_are_capped_for_long_runs(monkeypatch):
    monkeypatch.setattr(lab, "MAX_SNAPSHOTS", 4)
    run = run_lab(dataclasses.replace(TOY, n_train=100, width=4, epochs=10))
    assert run.snapshot_epochs == (0, 4, 8, 10)


def test_decision_grid_shapes_and_ranges():
    config = dataclasses.replace(TOY, data="blobs")
    run = run_lab(config)
    xs, ys, predicted, confidence = decision_grid(config, run.params, n=40)
    assert xs.shape == ys.shape == (40,)
    assert predicted.shape == confidence.shape == (40, 40)
    train, _ = datasets(config)
    assert xs[0] < train.x[:, 0].min() and xs[-1] > train.x[:, 0].max()
    assert np.all((confidence > 0) & (confidence <= 1))
    assert set(np.unique(predicted)) == {0, 1, 2}  # three blobs, each claimed


# --- presets ----------------------------------------------------------------------------------


def test_presets_are_full_configs_with_labels():
    assert set(PRESETS) == set(PRESET_LABELS)
    assert problems(LARGEST) == []
    for values in PRESETS.values():
        assert tuple(values) == FIELDS


def test_chapter5_barely_learns_and_fixed_learns_clearly_better(preset_runs):
    stuck, fixed = preset_runs["chapter5"].history, preset_runs["fixed"].history
    assert stuck.eval_accuracy[-1] < 0.3
    assert fixed.eval_accuracy[-1] > 0.8
    # the vanishing gradient: the first hidden layer learns far slower than the last
    assert stuck.grad_norm[-1, 0] < 0.1 * stuck.grad_norm[-1, -1]


def test_dead_relu_kills_a_large_share_of_units(preset_runs):
    run = preset_runs["dead_relu"]
    assert run.diverged_at is None
    assert run.history.dead[-1].max() > 0.3
    assert preset_runs["fixed"].history.dead[-1].max() < run.history.dead[-1].max()


def test_exploding_diverges_and_reports_where_without_nan(preset_runs):
    run = preset_runs["exploding"]
    assert run.diverged_at is not None and run.diverged_at.step >= 1
    assert all(np.all(np.isfinite(v)) for v in run.history)
    assert all(np.all(np.isfinite(W)) for W in run.params.W)


def test_overfitting_gap_grows(preset_runs):
    h = preset_runs["overfitting"].history
    gap = h.train_accuracy - h.eval_accuracy
    assert gap[-1] > 0.1 and gap[-1] > gap[1] + 0.05
    assert h.train_accuracy[-1] > 0.95


def test_default_config_trains_quickly():
    start = time.perf_counter()
    run = run_lab(LabConfig())
    assert time.perf_counter() - start < 10
    assert run.history.eval_accuracy[-1] > 0.8
