"""The lab's diagnosis: each rule fires on a History that shows its symptom and stays quiet on
a healthy one; fixes name real LabConfig fields with valid values; texts stay readable."""

import math
import re

import numpy as np
import pytest

from explain import diagnosis as dx
from explain.nn.activations import ACTIVATIONS
from explain.nn.initializers import WEIGHT_INITS
from explain.nn.schedules import SCHEDULES
from explain.nn.training import Divergence, History

LAB_FIELDS = {
    "data", "n_train", "noise", "depth", "width", "activation", "weight_init", "cost", "norm",
    "groups", "keep_prob", "lmbda", "lmbda1", "optimizer", "eta", "beta", "schedule",
    "batch_size", "epochs", "seed",
}  # fmt: skip
PAGES = {
    "", "vanishing-gradients", "activations", "weight-initialization", "learning-rate",
    "regularization", "batch-norm", "optimizers", "cross-entropy",
}  # fmt: skip
CONFIG = dict(
    diverged_at=None, activation="sigmoid", cost="cross_entropy", eta=0.3, optimizer="sgd",
    norm="none", depth=3, n_train=1000, schedule="constant",
)  # fmt: skip


def history(rows: int = 11, n_hidden: int = 3, **fields) -> History:
    """A healthy run: cost falls fast, 95% train and 93% validation accuracy at the end,
    equal gradients in every layer, little saturation, no dead units."""
    t = np.linspace(0, 1, rows)
    base = dict(
        epoch=np.arange(rows),
        train_cost=2.3 * np.exp(-2 * rows / 11 * 11 * t / 5) + 0.1 if rows > 1 else [2.3],
        train_accuracy=0.1 + 0.85 * t if rows > 1 else [0.1],
        eval_cost=2.3 * np.exp(-2 * rows / 11 * 11 * t / 5) + 0.15 if rows > 1 else [2.3],
        eval_accuracy=0.1 + 0.83 * t if rows > 1 else [0.1],
        grad_norm=np.full((rows, n_hidden), 0.05),
        act_mean=np.zeros((rows, n_hidden)),
        act_std=np.ones((rows, n_hidden)),
        saturated=np.full((rows, n_hidden), 0.1),
        dead=np.zeros((rows, n_hidden)),
        no_gradient=np.zeros((rows, n_hidden)),
        lr=np.full(rows, 0.3),
        update_ratio=np.full((rows, n_hidden + 1), 1e-3),
    )
    base.update(fields)
    return History(**{k: np.asarray(v, dtype=float) for k, v in base.items()})


def empty() -> History:
    """What the engine records when the initial network already overflows."""
    return History(*(np.array([]) for _ in History._fields))


def per_layer(last: list[float], rows: int = 11) -> np.ndarray:
    return np.tile(last, (rows, 1))


def check(f: dx.Finding) -> None:
    """A finding links a page of the site, fixes with valid LabConfig values, reads cleanly."""
    assert f.page in PAGES
    assert set(f.fix) <= LAB_FIELDS
    valid = {
        "activation": ACTIVATIONS,
        "weight_init": WEIGHT_INITS,
        "cost": ("cross_entropy", "quadratic", "log_likelihood"),
        "norm": ("none", "batch", "layer", "group"),
        "schedule": SCHEDULES,
        "optimizer": ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
    }
    for k, v in f.fix.items():
        if k in valid:
            assert v in valid[k], (k, v)
        elif k == "keep_prob":
            assert 0 < v <= 1
        else:
            assert isinstance(v, float) and math.isfinite(v) and v > 0, (k, v)
    for text in (f.title, f.evidence, f.fix_text):
        assert not re.search(r"\bnan\b|\binf\b|\d[eE][+-]?\d|∞", text, re.IGNORECASE), text


HEALTHY = history()
SYMPTOMS = {
    "vanishing": history(grad_norm=per_layer([0.001, 0.01, 0.1])),
    "exploding": history(grad_norm=per_layer([2.0, 0.2, 0.02])),
    "saturated": history(saturated=per_layer([0.2, 0.7, 0.3])),
    "lr_too_high": history(train_cost=[2.3, 1.0, 1.4, 0.9, 1.3, 1.0, 1.5, 1.1, 1.4, 1.0, 1.3]),
    "lr_too_low": history(
        train_cost=2.3 * 0.98 ** np.arange(11), train_accuracy=np.linspace(0.1, 0.4, 11)
    ),
    "overfitting": history(
        train_accuracy=np.linspace(0.1, 1.0, 11),
        eval_accuracy=np.r_[np.linspace(0.1, 0.86, 6), [0.86, 0.85, 0.85, 0.84, 0.84]],
        eval_cost=[2.3, 1.2, 0.8, 0.6, 0.5, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
    ),
}


def rule(code: str, h: History, **config) -> dx.Finding | None:
    """The one rule named by ``code``, given the configuration values it takes."""
    c = {**CONFIG, **config}
    calls = {
        "diverged": lambda: dx.diverged(h, diverged_at=c["diverged_at"], eta=c["eta"]),
        "vanishing": lambda: dx.vanishing(h, activation=c["activation"], norm=c["norm"]),
        "exploding": lambda: dx.exploding(h, norm=c["norm"]),
        "saturated": lambda: dx.saturated(h, activation=c["activation"], cost=c["cost"]),
        "dead_relu": lambda: dx.dead_relu(h, activation=c["activation"]),
        "lr_too_high": lambda: dx.lr_too_high(h, eta=c["eta"], schedule=c["schedule"]),
        "lr_too_low": lambda: dx.lr_too_low(h, eta=c["eta"], optimizer=c["optimizer"]),
        "overfitting": lambda: dx.overfitting(h, n_train=c["n_train"], eta=c["eta"]),
    }
    return calls[code]()


@pytest.mark.parametrize("code", [*SYMPTOMS, "dead_relu", "diverged"])
def test_every_rule_is_quiet_on_a_healthy_run(code):
    assert rule(code, HEALTHY) is None
    assert rule(code, HEALTHY, activation="relu") is None


@pytest.mark.parametrize("code", list(SYMPTOMS))
def test_each_rule_fires_on_its_symptom(code):
    f = rule(code, SYMPTOMS[code])
    assert f is not None and f.code == code
    check(f)
    assert [g.code for g in dx.diagnose(SYMPTOMS[code], **CONFIG)] == [code]


def test_healthy_run_is_called_healthy_with_its_numbers():
    (f,) = dx.diagnose(HEALTHY, **CONFIG)
    assert f.code == "healthy" and "95%" in f.evidence and "93%" in f.evidence
    check(f)


def test_vanishing_quotes_the_ratio_and_fixes_by_activation():
    f = rule("vanishing", SYMPTOMS["vanishing"])
    assert "100 times smaller" in f.evidence
    assert f.fix == {"activation": "relu", "weight_init": "he"}
    assert rule("vanishing", SYMPTOMS["vanishing"], activation="relu").fix == {"norm": "batch"}
    # a ratio of 4 (two sigmoid layers) is not vanishing
    assert rule("vanishing", history(grad_norm=per_layer([0.01, 0.02, 0.04]))) is None
    # present only at initialization still counts; a layer with no gradient reads as a bound
    at_init = np.vstack([[0.0, 0.01, 0.1], per_layer([0.05, 0.05, 0.05], 10)])
    f = rule("vanishing", history(grad_norm=at_init))
    assert f is not None and "over a million times smaller" in f.evidence
    check(f)


def test_saturation_fix_depends_on_the_cost_and_only_for_saturating_units():
    h = SYMPTOMS["saturated"]
    f = rule("saturated", h)
    assert "70%" in f.evidence and "layer 2" in f.evidence
    assert f.fix == {"norm": "batch"}
    assert rule("saturated", h, cost="quadratic").fix == {"cost": "cross_entropy"}
    assert rule("saturated", h, activation="relu") is None


def test_dead_relus_only_for_relu():
    h = history(dead=per_layer([0.6, 0.0, 0.1]))
    f = rule("dead_relu", h, activation="relu")
    assert f.code == "dead_relu" and "60%" in f.evidence and "layer 1" in f.evidence
    assert f.fix == {"activation": "leaky_relu"}
    check(f)
    assert rule("dead_relu", h, activation="leaky_relu") is None
    # a third of a layer dead still learns well (ReLU + He on MNIST: 90% with 33% dead)
    assert rule("dead_relu", history(dead=per_layer([0.35, 0, 0])), activation="relu") is None
    assert dx.dead_relu(h, activation="relu", eta=0.5).fix == {
        "activation": "leaky_relu",
        "eta": 0.1,
    }


def test_learning_rate_fixes_give_the_new_rate():
    assert rule("lr_too_high", SYMPTOMS["lr_too_high"]).fix == {"eta": 0.1}
    assert rule("lr_too_low", SYMPTOMS["lr_too_low"]).fix == {"eta": 0.9}
    # a cost that ends far above its minimum is too high even without oscillation
    climbing = history(train_cost=[2.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4])
    assert rule("lr_too_high", climbing) is not None
    # falling slowly but already fitting the training set: nothing to fix
    fitted = history(train_cost=0.3 * 0.98 ** np.arange(11), train_accuracy=[0.95] * 11)
    assert rule("lr_too_low", fitted) is None


def test_overfitting_fix_is_l2_then_stronger():
    h = SYMPTOMS["overfitting"]
    assert rule("overfitting", h).fix == {"lmbda": 1.0}
    assert dx.overfitting(h, n_train=1000, eta=0.3, lmbda=1.0).fix == {"lmbda": 3.0}
    # a wide gap whose validation cost keeps falling is not (yet) overfitting
    assert rule("overfitting", history(eval_accuracy=np.linspace(0.1, 0.8, 11))) is None


def test_diverged_run_comes_first_and_skips_the_cost_rules():
    h = history(rows=3, grad_norm=per_layer([0.001, 0.01, 0.1], 3), train_cost=[2.3, 5.0, 9.0])
    found = dx.diagnose(h, **{**CONFIG, "diverged_at": Divergence(3, 250)})
    assert [f.code for f in found] == ["diverged", "vanishing"]
    assert "epoch 3, step 250" in found[0].evidence and found[0].fix == {"eta": 0.1}
    for f in found:
        check(f)


def test_order_follows_importance():
    h = history(
        grad_norm=per_layer([0.001, 0.01, 0.1]),
        saturated=per_layer([0.2, 0.7, 0.3]),
        train_cost=SYMPTOMS["lr_too_high"].train_cost,
    )
    assert [f.code for f in dx.diagnose(h, **CONFIG)] == ["vanishing", "saturated", "lr_too_high"]


def test_divergence_at_initialization_with_no_rows():
    found = dx.diagnose(empty(), **{**CONFIG, "diverged_at": Divergence(0, 0)})
    assert [f.code for f in found] == ["diverged"]
    assert found[0].page == "weight-initialization" and found[0].fix == {"weight_init": "xavier"}
    check(found[0])
    assert dx.diagnose(empty(), **CONFIG)[0].code == "healthy"


def test_single_row_and_single_layer_histories():
    one = history(rows=1)
    assert [f.code for f in dx.diagnose(one, **CONFIG)] == ["healthy"]
    check(dx.diagnose(one, **CONFIG)[0])
    vanish = history(rows=1, grad_norm=[[0.001, 0.01, 0.1]])
    assert [f.code for f in dx.diagnose(vanish, **CONFIG)] == ["vanishing"]
    shallow = history(n_hidden=1)
    assert [f.code for f in dx.diagnose(shallow, **{**CONFIG, "depth": 1})] == ["healthy"]
    short = history(rows=2, train_cost=[2.3, 2.2], train_accuracy=[0.1, 0.2])
    for f in dx.diagnose(short, **CONFIG):
        check(f)


def test_a_plateau_of_dead_units_is_not_a_rate_too_low():
    # measured on MNIST: ReLU at eta = 3, every unit dead, cost creeping down at 10% accuracy
    cost = [7.43, 3.28, 3.29, 3.34, 3.28, 3.34, 3.33, 3.33, 3.317, 3.298, 3.29]
    h = history(train_cost=cost, train_accuracy=[0.1] * 11, dead=per_layer([0.97, 1, 1]))
    assert rule("lr_too_low", h) is None
    slow = history(
        train_cost=2.3 * 0.98 ** np.arange(11),
        train_accuracy=np.linspace(0.1, 0.4, 11),
        dead=per_layer([0.5, 0, 0]),
    )
    assert [f.code for f in dx.diagnose(slow, **{**CONFIG, "activation": "relu"})] == ["dead_relu"]
