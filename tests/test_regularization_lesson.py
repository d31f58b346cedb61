"""The overfitting and regularization page: one test per claim on the page's default runs, the
demos (ridge, decay, dropout, weight images) against independent references, and the sentences
on constructed runs (ties, a remedy that holds the network back, no overfitting, divergence)."""

import re
from dataclasses import replace

import numpy as np
import pytest

from explain.nn.datasets import load_mnist
from explain.nn.network import Params
from explain.nn.training import Divergence, History, evaluate
from explain.regularization_lesson import (
    BUDGET,
    DEFAULT,
    EPOCH_CHOICES,
    KINDS,
    N_TRAIN_CHOICES,
    RegRun,
    RegSetup,
    SplitRng,
    decay_demo,
    decay_sentence,
    dropout_check,
    dropout_mask,
    dropout_sentence,
    early_sentence,
    epoch_choices,
    overfit,
    overfit_sentence,
    remedy_sentence,
    ridge,
    ridge_demo,
    ridge_sentence,
    roughness,
    run_remedies,
    run_remedy,
    summary_rows,
    summary_sentence,
    weight_edges,
    weight_histogram,
    weight_images,
)

JUNK = re.compile(r"nan|inf\b|∞|\de[+-]?\d|None|\(\)")


def clean(text: str) -> bool:
    """No NaN, infinity, e-notation, None or empty brackets in a sentence for a reader."""
    return bool(text) and not JUNK.search(text)


@pytest.fixture(scope="module")
def runs():
    """The page's default run under every remedy (about 26 s on one idle core)."""
    return run_remedies(DEFAULT)


# --- the page's claims, on its defaults -----------------------------------------------------


def test_the_default_run_overfits(runs):
    o = overfit(runs["none"])
    assert o.overfitting and o.train_falling
    assert o.low_epoch < 50 < o.final_epoch == DEFAULT.epochs  # the cost turns early
    assert o.rise > 0.2
    assert abs(o.final_accuracy - o.at_low) < 0.03  # accuracy stops improving
    assert runs["none"].gap > 0.12 and runs["none"].train_accuracy == 1.0
    text = overfit_sentence(runs["none"])
    assert "kept falling" in text and "stopped improving" in text and clean(text)


def test_unregularized_gap_is_larger_than_with_l2_at_the_default_lambda(runs):
    none, l2 = runs["none"], runs["l2"]
    assert none.gap > l2.gap + 0.03
    assert l2.eval_accuracy > none.eval_accuracy + 0.03
    assert l2.test_accuracy > none.test_accuracy  # on digits no choice saw
    assert none.cost_gap > l2.cost_gap
    text = remedy_sentence(none, l2)
    assert "narrower" in text and "L2 helped" in text and clean(text)


def test_l1_leaves_more_exact_zeros_than_l2(runs):
    l1, l2 = runs["l1"], runs["l2"]
    assert l2.zero_fraction == 0.0
    assert l1.zero_fraction > 0.4
    assert l1.zero_lit > 0.25  # not only the weights of pixels blank in every digit
    assert l1.eval_accuracy > runs["none"].eval_accuracy  # and it still learns


def test_l2_weight_images_are_smooth_and_l1s_sparse(runs):
    none, l2, l1 = (roughness(runs[k].W1) for k in ("none", "l2", "l1"))
    assert none > 0.9  # the N(0, 1) start, still there: noise
    assert l2 < 0.5 < l1


def test_dropout_evaluation_is_deterministic_and_training_is_not(runs):
    x = load_mnist().validation.x[:100]
    check = dropout_check(runs["dropout"].params, DEFAULT.keep_prob, x, seed=0)
    assert check.eval_difference == 0.0
    assert check.train_difference > 0.1
    assert check.scaled_mean == pytest.approx(check.full_mean, rel=0.02)
    assert check.unscaled_mean == pytest.approx(DEFAULT.keep_prob * check.full_mean, rel=0.02)
    assert check.kept_fraction == pytest.approx(DEFAULT.keep_prob, abs=0.01)
    assert clean(dropout_sentence(check))


def test_early_stopping_returns_the_best_validation_epochs_parameters(runs):
    early, none = runs["early"], runs["none"]
    kept = early.kept_epoch
    assert early.stopped_at == kept + DEFAULT.patience
    h = early.history
    assert early.best_epoch == kept and early.best_accuracy == h.eval_accuracy.max()
    # Its curves are the unregularized run's, up to the stop: same weights, same mini-batches.
    rows = len(h.epoch)
    np.testing.assert_array_equal(h.eval_accuracy, none.history.eval_accuracy[:rows])
    # The returned parameters are those of the unregularized run trained for `kept` epochs...
    short = run_remedy(replace(DEFAULT, epochs=kept))
    for a, b in zip(early.params.W + early.params.b, short.params.W + short.params.b):
        np.testing.assert_array_equal(a, b)
    # ...and score the recorded best on the validation digits.
    _, acc = evaluate(DEFAULT.spec(), early.params, load_mnist().validation)
    assert acc == early.eval_accuracy == early.best_accuracy
    text = early_sentence(none, early, runs["l2"])
    assert f"keeps epoch {kept}'s network" in text and clean(text)


def test_default_runs_are_finite_and_the_table_and_sentences_read(runs):
    for run in runs.values():
        assert run.diverged_at is None
        assert all(np.all(np.isfinite(v)) for v in run.history[:5])
        assert all(np.all(np.isfinite(w)) for w in run.params.W)
        assert clean(overfit_sentence(run)) and clean(remedy_sentence(runs["none"], run))
    rows = summary_rows(runs)
    assert [r.kind for r in rows] == list(KINDS)
    assert rows[-1].epochs == runs["early"].stopped_at
    text = summary_sentence(rows)
    assert "scored highest" in text and clean(text)


# --- the setup and the runs ------------------------------------------------------------------


def test_setup_checks_its_values_and_remedy_resets_the_other_remedies():
    for bad in (
        {"kind": "l3"},
        {"n_train": 0},
        {"n_train": 8001},
        {"epochs": 0},
        {"eta": 0.0},
        {"lmbda": -1.0},
        {"lmbda": 2000.0},  # eta lambda / n = 1: the decay factor would be 0
        {"keep_prob": 0.0},
        {"keep_prob": 1.5},
        {"patience": 0},
    ):
        with pytest.raises(ValueError, match="must|not among"):
            RegSetup(**bad)
    moved = RegSetup(lmbda=3.0, lmbda1=1.0, keep_prob=0.8, patience=3, seed=7)
    assert moved.remedy("none") == RegSetup(seed=7)
    assert moved.remedy("l2") == RegSetup(kind="l2", lmbda=3.0, seed=7)
    assert moved.remedy("early").config().patience == 3
    assert moved.remedy("dropout").spec().keep_prob == 0.8
    assert moved.remedy("l1").spec().keep_prob == 1.0
    assert RegSetup(kind="l1").describe() == "L1 (λ₁ = 0.2)"


def test_epoch_choices_stay_within_the_budget():
    for n in N_TRAIN_CHOICES:
        choices = epoch_choices(n)
        assert choices and all(n * e <= BUDGET for e in choices)
    assert epoch_choices(1000) == EPOCH_CHOICES
    assert DEFAULT.epochs in epoch_choices(DEFAULT.n_train)


def test_split_rng_keeps_the_mini_batches_whatever_the_masks_draw():
    plain = np.random.default_rng(3)
    split = SplitRng(np.random.default_rng(3), np.random.default_rng(4))
    for n in (5, 9, 5):
        split.random((4, 7))  # masks in between do not move the shuffles
        np.testing.assert_array_equal(split.permutation(n), plain.permutation(n))
    with pytest.raises(AttributeError):
        split.normal()


def test_short_runs_are_deterministic_and_report_progress():
    setup = RegSetup(n_train=200, epochs=3)
    ticks = []
    first = run_remedies(setup, ("none", "dropout"), on_progress=lambda d, t: ticks.append((d, t)))
    assert ticks == [(d, 6) for d in range(1, 7)]
    again = run_remedy(setup.remedy("dropout"))
    np.testing.assert_array_equal(first["dropout"].W1, again.W1)
    assert first["dropout"].history.eval_cost.tolist() == again.history.eval_cost.tolist()
    assert not np.array_equal(first["none"].W1, again.W1)  # dropout changed the training


def test_a_run_that_never_runs_out_of_patience_keeps_its_best_epoch():
    run = run_remedy(RegSetup(kind="early", n_train=200, epochs=4, patience=50))
    assert run.stopped_at is None
    assert run.kept_epoch == run.best_epoch
    assert "never went 50 epochs" in early_sentence(
        run_remedy(RegSetup(n_train=200, epochs=4)), run
    )


# --- the demos -------------------------------------------------------------------------------


def test_ridge_matches_least_squares_at_zero_and_shrinks_as_lambda_grows():
    demo = ridge_demo(0.0, seed=1)
    reference = np.linalg.lstsq(demo.X, demo.y, rcond=None)[0]
    np.testing.assert_allclose(demo.w0, reference, rtol=1e-6, atol=1e-9)
    # at lambda > 0, ridge is least squares on X stacked over sqrt(lambda) I
    X, y, k = demo.X, demo.y, demo.X.shape[1]
    stacked = np.linalg.lstsq(np.vstack([X, np.sqrt(0.3) * np.eye(k)]), np.r_[y, np.zeros(k)])[0]
    np.testing.assert_allclose(ridge(X, y, 0.3), stacked, rtol=1e-8)
    norms = [ridge_demo(lm, seed=1).norm for lm in (0.0, 0.01, 0.1, 1.0, 10.0)]
    assert all(a > b for a, b in zip(norms, norms[1:]))
    assert ridge_demo(0.1, seed=1).error > demo.error  # the penalty costs fit on its points
    assert clean(ridge_sentence(ridge_demo(0.1, seed=0))) and clean(ridge_sentence(demo))
    with pytest.raises(ValueError, match="more points than the degree"):
        ridge_demo(0.1, n_points=4, degree=4)


def test_decay_demo_gives_the_live_numbers():
    d = decay_demo(DEFAULT.remedy("l2"))
    assert d.factor == 1 - DEFAULT.eta * DEFAULT.lmbda / DEFAULT.n_train
    assert d.per_epoch == pytest.approx(d.factor**100, rel=1e-12)
    assert d.over_run == pytest.approx(d.factor ** (100 * DEFAULT.epochs), rel=1e-9)
    text = decay_sentence(d)
    assert "1 − 5 × 10⁻⁴" in text and clean(text)
    assert "shrinks to 22%" in decay_sentence(decay_demo(replace(DEFAULT, lmbda=0.1)))
    assert "no decay" in decay_sentence(decay_demo(replace(DEFAULT, lmbda=0.0)))


def test_dropout_mask_is_the_engines_inverted_mask():
    mask = dropout_mask(0.5, batch=10, units=30, seed=2)
    assert mask.shape == (10, 30) and set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(mask, dropout_mask(0.5, seed=2))
    assert 0.3 < np.mean(mask > 0) < 0.7
    assert np.mean(dropout_mask(0.8, batch=1000, units=30) > 0) == pytest.approx(0.8, abs=0.01)
    np.testing.assert_array_equal(dropout_mask(1.0), np.ones((10, 30)))


def test_weight_images_and_histogram():
    W1 = np.arange(784 * 3, dtype=float).reshape(784, 3)
    images = weight_images(W1, units=(2, 0))
    assert images.shape == (2, 28, 28)
    assert images[0, 5, 7] == W1[28 * 5 + 7, 2] and images[1, 27, 0] == W1[28 * 27, 0]
    W = np.array([[0.0, 0.0, 0.5, -2.0]])
    edges = weight_edges(W, np.array([[1.0]]), bins=5)
    np.testing.assert_allclose(edges, np.linspace(-2, 2, 6))
    counts = weight_histogram(np.array([[0.0, 0.0, 0.5, -2.0, 9.0]]), edges)
    assert counts.tolist() == [1, 0, 2, 1, 1]  # the zeros in the centre bin, 9 in the last
    rng = np.random.default_rng(0)
    assert roughness(rng.normal(size=(784, 4))) == pytest.approx(1.0, abs=0.05)
    smooth = np.tile(np.linspace(0, 1, 784)[:, None], (1, 2))
    assert roughness(smooth) < 0.01 and roughness(np.zeros((784, 2))) == 0.0


# --- sentences on constructed runs -----------------------------------------------------------


def fake_run(
    kind="none",
    val=(0.5, 0.8, 0.84),
    val_cost=(2.0, 1.0, 1.5),
    train_cost=(2.0, 0.5, 0.1),
    train_acc=1.0,
    test=0.84,
    diverged=None,
    **setup,
) -> RegRun:
    """A run with the given validation curve; accuracies are fractions."""
    rows = len(val)
    zeros = np.zeros((rows, 1))
    history = History(
        np.arange(rows),
        np.array(train_cost, dtype=float),
        np.r_[np.full(rows - 1, 0.5), train_acc],
        np.array(val_cost, dtype=float),
        np.array(val, dtype=float),
        *(zeros,) * 6,
    )
    best = int(np.argmax(val))
    done = diverged is None
    W = (np.zeros((784, 30)), np.zeros((30, 10)))
    return RegRun(
        RegSetup(kind=kind, epochs=max(rows - 1, 1), **setup),
        history,
        Params(W, (np.zeros(30), np.zeros(10))),
        train_acc if done else None,
        val[-1] if done else None,
        test if done else None,
        train_cost[-1] if done else None,
        val_cost[-1] if done else None,
        val_cost[-1] if done else None,
        best,
        val[best],
        0.0,
        0.0,
        0.0,
        rows - 1,
        None,
        diverged,
    )


def test_no_overfitting_when_validation_cost_keeps_falling():
    run = fake_run(
        val=(0.1, 0.8, 0.85, 0.9), val_cost=(3, 1.0, 0.8, 0.7), train_cost=(3, 1, 0.7, 0.5)
    )
    o = overfit(run)
    assert not o.overfitting and o.low_epoch == 3
    text = overfit_sentence(run)
    assert "still falling" in text and "highest at the end, 90.0%" in text and clean(text)
    wobble = fake_run(val=(0.1, 0.8, 0.81, 0.8), val_cost=(3, 1.0, 0.9, 0.95))
    assert "no clear turn upwards" in overfit_sentence(wobble)
    assert "not overfitting" in overfit_sentence(
        fake_run(val_cost=(3, 1.0, 2.0), train_cost=(3, 0.5, 0.9))
    )


def test_overfit_sentence_says_when_accuracy_kept_moving():
    run = fake_run(
        val=(0.1, 0.6, 0.7, 0.8), val_cost=(3, 1.0, 1.2, 1.5), train_cost=(3, 1, 0.5, 0.2)
    )
    assert overfit(run).overfitting
    text = overfit_sentence(run)
    assert "rose by 20.0 points" in text and clean(text)
    one = fake_run(val=(0.1,), val_cost=(3,), train_cost=(3,), diverged=Divergence(1, 40))
    assert (
        overfit_sentence(one) == "Training diverged in epoch 1, before a single epoch was recorded."
    )


def test_remedy_sentence_cases():
    none = fake_run(train_acc=1.0, val=(0.5, 0.84, 0.84), test=0.84)
    helped = fake_run("l2", train_acc=0.99, val=(0.5, 0.88, 0.89), test=0.89)
    held_back = fake_run("l2", train_acc=0.85, val=(0.5, 0.8, 0.78), test=0.78, lmbda=10.0)
    tie = fake_run("dropout", train_acc=1.0, val=(0.5, 0.84, 0.845), test=0.845)
    texts = {name: remedy_sentence(none, r) for name, r in
             [("helped", helped), ("held", held_back), ("tie", tie)]}  # fmt: skip
    assert "L2 helped" in texts["helped"]
    assert "holds the network back" in texts["held"] and "λ = 10" in texts["held"]
    assert "the same within noise" in texts["tie"] and "did not help" in texts["tie"]
    assert "within the noise of 1,000 digits" in texts["tie"]
    assert all(clean(t) for t in texts.values())
    gone = fake_run("l1", diverged=Divergence(3, 250))
    assert remedy_sentence(none, gone) == "No comparison: L1 (λ₁ = 0.2) diverged in epoch 3."
    assert "diverged in epoch 3" in overfit_sentence(gone)


def test_summary_sentence_ties_and_divergence():
    a = fake_run("l2", val=(0.5, 0.9, 0.9), test=0.9)
    b = fake_run("l1", val=(0.5, 0.9, 0.9), test=0.9)
    c = fake_run("none", val=(0.5, 0.8, 0.8), test=0.8)
    gone = fake_run("dropout", diverged=Divergence(2, 150))
    text = summary_sentence(summary_rows({"l2": a, "l1": b, "none": c, "dropout": gone}))
    assert "L2 and L1 tie for the top, at 90.0%" in text
    assert "Below that: no regularization (80.0%)" in text
    assert "Diverged: dropout (keep 0.5)." in text and clean(text)
    assert summary_sentence(summary_rows({"dropout": gone})).startswith("No run finished.")
    same = summary_sentence(summary_rows({"l2": a, "l1": b}))
    assert "same gap" in same and clean(same)
