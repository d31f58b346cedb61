"""The training lab's diagnosis: what holds a network back, read from its measured History.

The lab lets the reader configure and train a network; this module turns the run's per-epoch
record (``History``: costs, accuracies and, per hidden layer, gradient norms, saturated and
dead shares) into findings. Each rule is one function with its threshold in its docstring;
each ``Finding`` quotes the numbers that triggered it, links the page that explains it, says
the fix the site teaches and carries that fix as changes to the lab's configuration (field
names of ``LabConfig``), so the page can offer it as one click. ``diagnose`` runs every rule
and orders what it finds by importance: a diverged run first, "healthy" only when nothing
else applies.

Non-goals: certainty (the thresholds are rules of thumb, named and explained below), and
fixes that need several runs to tune; a fix is one change that the site's pages show working.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explain.nn.training import Divergence, History
from explain.words import amount

# Activations whose derivative goes to 0 at both ends, so that "saturated" means stuck.
SATURATING = ("sigmoid", "tanh")
# Ratio of one end of the network's gradient to the other that counts as vanishing or
# exploding. Nielsen's [784, 30, 30, 30, 30, 10] sigmoid network starts near 100 between
# its first and last hidden layers; two sigmoid layers differ by about 4 (sigma' <= 1/4),
# which trains fine. Ten is where the first layer learns an order of magnitude slower.
GRADIENT_RATIO = 10.0
RATIO_CAP = 1e6  # larger ratios (a layer with no gradient at all) read "over a million"
SATURATED_SHARE = 0.5  # half the units x samples pass back under 5% of sigma'(0)
DEAD_SHARE = 0.5  # half a layer dead: a third dead still learns well (ReLU + He: 90% with 33%)
RISE = 0.02  # a training-cost rise of more than 2% in an epoch is not evaluation noise
ABOVE_MIN = 1.25  # a run that ends 25% above its own best cost lost what it had learned
SLOW_DROP = 0.05  # under 5% of the cost per epoch: a hundred epochs still leave over half
FLAT = 0.005  # under 0.5% per epoch is a plateau (stuck units, dead ReLUs), not a slope
LOW_ACCURACY = 0.9  # ...while under 90% of the training set is right
GAP = 0.05  # five points between training and validation accuracy
WIDEN = 0.03  # the gap must have grown by three points: epoch-to-epoch noise is about two
WIDE_GAP = 0.10  # ten points apart and widening is overfitting once validation cost turns up
FEW = 1000  # fewer training samples than this: the overfitting fix is more data
TURNED = 1.02  # ... by more than the 2% it wobbles from epoch to epoch
EVAL_RISE = 1.1  # validation cost 10% above its minimum


class Finding(NamedTuple):
    """One thing the run shows, its evidence, where the site explains it, and its fix.

    code: "diverged", "exploding", "vanishing", "saturated", "dead_relu", "lr_too_high",
    "lr_too_low", "overfitting" or "healthy"; page: a page's url path; fix: LabConfig field
    changes (empty when no single change applies).
    """

    code: str
    title: str
    evidence: str
    page: str
    fix_text: str
    fix: dict


def _rows(history: History) -> int:
    return len(history.epoch)


def _layers(a: np.ndarray, rows: int) -> np.ndarray:
    """A per-layer field as (rows, n_hidden); an empty history's fields are 1-D and empty."""
    a = np.asarray(a, dtype=float)
    return np.zeros((rows, 0)) if a.size == 0 else a.reshape(rows, -1)


def _nice(v: float) -> float:
    """v to two significant digits, for a learning rate or penalty offered as a fix."""
    return float(f"{v:.2g}")


def _times(r: float) -> str:
    return "over a million" if r >= RATIO_CAP else amount(r)


def _end_ratio(history: History) -> tuple[float, float] | None:
    """First over last hidden layer's ||dC/db||: at initialization, and the geometric mean
    over all rows; None with fewer than two hidden layers or no gradient in the last one."""
    g = _layers(history.grad_norm, _rows(history))
    if g.shape[0] == 0 or g.shape[1] < 2 or np.any(g[:, -1] <= 0):
        return None
    r = np.clip(g[:, 0] / g[:, -1], 1 / RATIO_CAP, RATIO_CAP)
    return float(r[0]), float(np.exp(np.mean(np.log(r))))


def diverged(
    history: History, *, diverged_at: Divergence | None, eta: float, activation: str = "relu"
) -> Finding | None:
    """The run overflowed. At epoch 0 the untrained network already does (its initial weights
    are too large: no learning rate is involved yet); later, a step was too large, so the fix
    is a third of eta (a factor the learning-rate page shows turning divergence into descent).
    """
    if diverged_at is None:
        return None
    if diverged_at.epoch == 0:
        init = "he" if activation not in SATURATING else "xavier"
        return Finding(
            "diverged",
            "The untrained network overflows",
            "The cost overflowed before the first step: the initial weights are too large.",
            "weight-initialization",
            "Scale the initial weights to the layer's fan-in (Xavier, or He for ReLUs).",
            {"weight_init": init},
        )
    epochs = _rows(history) - 1
    return Finding(
        "diverged",
        "Training diverged",
        f"The cost overflowed at epoch {diverged_at.epoch}, step {diverged_at.step}"
        + (f", after {epochs} complete epochs." if epochs > 0 else ", in the first epoch."),
        "learning-rate",
        f"The steps were too large: divide the learning rate by 3, to {amount(_nice(eta / 3))}.",
        {"eta": _nice(eta / 3)},
    )


def exploding(history: History, *, norm: str = "none", weight_init: str = "") -> Finding | None:
    """The first hidden layer's ||dC/db|| is GRADIENT_RATIO times the last's (at
    initialization or on average over the run): the gradient grows on its way back, so the
    first layers take steps an order of magnitude too large for the rate that suits the last."""
    ratios = _end_ratio(history)
    if ratios is None or max(ratios) < GRADIENT_RATIO:
        return None
    init, mean = ratios
    fix = {"weight_init": "scaled"} if weight_init in ("normal", "gaussian") else {}
    if not fix and norm == "none":
        fix = {"norm": "batch"}
    return Finding(
        "exploding",
        "Exploding gradients",
        f"The first hidden layer's gradient is {_times(init)} times the last one's at "
        f"initialization and {_times(mean)} times on average over the run.",
        "vanishing-gradients",
        "Keep every layer's gain near 1: smaller initial weights, N(0, 1/n_in), or batch "
        "normalization.",
        fix,
    )


def vanishing(history: History, *, activation: str, norm: str = "none") -> Finding | None:
    """The last hidden layer's ||dC/db|| is GRADIENT_RATIO times the first's (at
    initialization or on average over the run): the first layer learns ten times slower."""
    ratios = _end_ratio(history)
    if ratios is None or min(ratios) > 1 / GRADIENT_RATIO:
        return None
    init, mean = (1 / r for r in ratios)
    if activation in SATURATING:
        fix, text = {"activation": "relu", "weight_init": "he"}, "ReLU units with He weights"
    elif norm == "none":
        fix, text = {"norm": "batch"}, "batch normalization"
    else:
        fix, text = {}, "fewer layers"
    return Finding(
        "vanishing",
        "Vanishing gradients",
        f"The first hidden layer's gradient is {_times(init)} times smaller than the last "
        f"one's at initialization and {_times(mean)} times smaller on average over the run.",
        "vanishing-gradients",
        f"Each layer multiplies the gradient by w σ'(z); keep that product near 1: {text}.",
        fix,
    )


def saturated(
    history: History, *, activation: str, cost: str = "cross_entropy", norm: str = "none"
) -> Finding | None:
    """In some hidden layer at the end of the run, a share of at least SATURATED_SHARE of the
    units x samples are saturated (act'(z) under 5% of its maximum): half the layer learns at
    a twentieth of its speed. Only for sigmoid and tanh, whose derivative vanishes at both
    ends (a ReLU's zero side is the dead-unit rule)."""
    s = _layers(history.saturated, _rows(history))
    if activation not in SATURATING or s.size == 0 or s[-1].max() < SATURATED_SHARE:
        return None
    layer = int(np.argmax(s[-1]))
    if cost == "quadratic":
        page, fix = "cross-entropy", {"cost": "cross_entropy"}
        text = "Use the cross-entropy cost, whose output delta does not carry σ'(z)"
    elif norm == "none":
        page, fix = "batch-norm", {"norm": "batch"}
        text = "Batch normalization keeps every layer's z near 0, where σ' is largest"
    else:
        page, fix = "activations", {"activation": "relu", "weight_init": "he"}
        text = "ReLU units do not saturate for z > 0"
    return Finding(
        "saturated",
        "Saturated units",
        f"At the end, {amount(100 * s[-1, layer])}% of hidden layer {layer + 1}'s units × "
        f"samples are saturated (derivative under 5% of its maximum).",
        page,
        text + "; smaller initial weights also help.",
        fix,
    )


def dead_relu(history: History, *, activation: str, eta: float = 0.0) -> Finding | None:
    """In some hidden layer at the end of the run, at least DEAD_SHARE of the ReLU units
    never fire on the probe set: they pass no gradient back and will never learn again."""
    d = _layers(history.dead, _rows(history))
    if activation != "relu" or d.size == 0 or d[-1].max() < DEAD_SHARE:
        return None
    layer = int(np.argmax(d[-1]))
    return Finding(
        "dead_relu",
        "Dead ReLUs",
        f"At the end, {amount(100 * d[-1, layer])}% of hidden layer {layer + 1}'s units "
        f"never fire on any probe sample (at initialization: {amount(100 * d[0, layer])}%).",
        "activations",
        "A leaky ReLU keeps a small slope for z < 0, so no unit dies; a smaller learning "
        "rate also knocks fewer units out.",
        {"activation": "leaky_relu", **({"eta": _nice(eta / 5)} if eta > 0 else {})},
    )


def lr_too_high(history: History, *, eta: float, schedule: str = "constant") -> Finding | None:
    """The training cost rose by more than RISE in at least two epochs and in a quarter of
    them, or ends ABOVE_MIN times its own minimum: steps overshoot the valley."""
    c = np.asarray(history.train_cost, dtype=float)
    if c.size < 2:
        return None
    rises = int(np.sum(np.diff(c) > RISE * np.abs(c[:-1])))
    above = c[-1] / c.min() if c.min() > 0 else 1.0
    if not ((rises >= 2 and rises >= (c.size - 1) / 4) or above >= ABOVE_MIN):
        return None
    new = _nice(eta / 3)
    decay = "" if schedule != "constant" else ", or let a decaying schedule shrink it"
    return Finding(
        "lr_too_high",
        "Learning rate too high",
        f"The training cost rose in {rises} of {c.size - 1} epochs"
        + (
            f" and ends at {amount(c[-1], 3)}, {amount(above, 3)} times its lowest value "
            f"({amount(c.min(), 3)})."
            if above >= ABOVE_MIN
            else f": it falls only unsteadily, the rate kicking it back up (it ends at "
            f"{amount(c[-1], 3)})."
        ),
        "learning-rate",
        f"Divide the learning rate by 3, to {amount(new)}{decay}.",
        {"eta": new},
    )


def lr_too_low(history: History, *, eta: float, optimizer: str = "sgd") -> Finding | None:
    """The training cost fell in each of the last epochs (the last third, at least 3), by
    FLAT to SLOW_DROP per epoch on average, while under LOW_ACCURACY of the training set is
    right: it is still going down the same slope, just slowly. (Flatter than FLAT is a
    plateau: measured on MNIST, a ReLU network whose units all died at eta = 3 creeps down
    by 0.4% per epoch at 10% accuracy, and a larger rate would not revive it.)"""
    c = np.asarray(history.train_cost, dtype=float)
    window = max(3, (c.size - 1) // 3)
    if c.size < window + 1 or np.asarray(history.train_accuracy)[-1] >= LOW_ACCURACY:
        return None
    tail = c[-window - 1 :]
    drops = -np.diff(tail) / tail[:-1]
    if np.any(drops <= 0) or not FLAT <= drops.mean() < SLOW_DROP:
        return None
    new = _nice(3 * eta)
    adam = " or switch to Adam" if optimizer == "sgd" else ""
    return Finding(
        "lr_too_low",
        "Learning rate too low",
        f"The training cost fell in each of the last {window} epochs, but only by "
        f"{amount(100 * drops.mean())}% per epoch, with "
        f"{amount(100 * history.train_accuracy[-1], 3)}% of the training set right.",
        "learning-rate",
        f"Take larger steps: triple the learning rate, to {amount(new)}{adam}.",
        {"eta": new},
    )


def overfitting(
    history: History, *, n_train: int, eta: float, lmbda: float = 0.0
) -> Finding | None:
    """Training accuracy ends GAP above validation accuracy, the gap is wider than when the
    validation cost was lowest, and the validation cost ends EVAL_RISE times that minimum:
    the network learns its training set's peculiarities."""
    tr, ev = np.asarray(history.train_accuracy), np.asarray(history.eval_accuracy)
    vc = np.asarray(history.eval_cost, dtype=float)
    if vc.size < 2 or vc.min() <= 0:
        return None
    best = int(np.argmin(vc))
    gap, gap_best = tr[-1] - ev[-1], tr[best] - ev[best]
    gaps = tr[1:] - ev[1:]  # the gap after each trained epoch
    widened = gap - float(gaps.min()) if gaps.size else 0.0
    rising = vc[-1] >= EVAL_RISE * vc.min()
    # either the textbook signature (gap and validation cost both up), or a gap so wide and
    # still widening that it needs no cost to confirm it
    turned = vc[-1] > TURNED * vc.min()  # validation cost is no longer at its lowest
    if gap < GAP or widened < WIDEN or not (rising or (gap >= WIDE_GAP and turned)):
        return None
    new = 1.0 if lmbda == 0 else _nice(3 * lmbda)
    fix = {"lmbda": new} if eta * new / n_train < 1 else {"keep_prob": 0.5}
    if n_train < FEW:  # with a few hundred samples no penalty beats ten times the data
        fix = {"n_train": min(10 * n_train, 8000)}
    return Finding(
        "overfitting",
        "Overfitting",
        f"Training accuracy ends {100 * gap:.1f} points above validation accuracy "
        f"({100 * gap_best:.1f} at epoch {int(history.epoch[best])}, where validation cost "
        f"was lowest); validation cost ends {amount(100 * (vc[-1] / vc.min() - 1))}% above it.",
        "regularization",
        (
            f"More data: with only {n_train:,} samples, ten times as many is the surest cure; "
            "L2 weight decay or dropout also help."
            if "n_train" in fix
            else "Regularize: L2 weight decay (λ = " + amount(new) + "), dropout, or more "
            "training data."
        ),
        fix,
    )


NOT_LEARNING = 0.3  # validation accuracy below this after training: far from any real fit


def not_learning(history: History, *, eta: float, optimizer: str = "sgd") -> Finding | None:
    """The run ended with validation accuracy under NOT_LEARNING (guessing among ten digits
    scores about 10%): whatever else is found, the network has not learned. Its fix: a
    larger rate (x 10), the common cause when no other rule fired."""
    ev = np.asarray(history.eval_accuracy, dtype=float)
    if ev.size < 2 or ev[-1] >= NOT_LEARNING:
        return None
    new = _nice(10 * eta)
    return Finding(
        "not_learning",
        "Not learning",
        f"After {int(history.epoch[-1])} epochs validation accuracy is "
        f"{amount(100 * ev[-1], 3)}% (it started at {amount(100 * ev[0], 3)}%): about what "
        "guessing scores.",
        "learning-rate",
        f"Nothing else stood out, so try a larger learning rate ({amount(new)}), or Adam.",
        {"eta": new},
    )


def healthy(history: History) -> Finding:
    """Nothing above applies: a short summary of where the run ended."""
    if _rows(history) == 0:
        evidence = "No epoch was recorded."
    else:
        evidence = (
            f"After {int(history.epoch[-1])} epochs: {amount(100 * history.train_accuracy[-1], 3)}"
            f"% of the training set and {amount(100 * history.eval_accuracy[-1], 3)}% of the "
            f"validation set right; training cost {amount(history.train_cost[0], 3)} → "
            f"{amount(history.train_cost[-1], 3)}."
        )
    return Finding("healthy", "No problem found", evidence, "", "", {})


def diagnose(
    history: History,
    *,
    diverged_at: Divergence | None,
    activation: str,
    cost: str,
    eta: float,
    optimizer: str,
    norm: str,
    depth: int,
    n_train: int,
    schedule: str,
    weight_init: str = "",
    lmbda: float = 0.0,
) -> list[Finding]:
    """Every finding the run earns, most important first; ["healthy"] when there is none.

    The cost-trend rules (rate too high or too low, overfitting) are skipped for a diverged
    run: its last epochs are cut off, and the divergence already says the rate is too high;
    "rate too low" is dropped next to dead ReLUs, which a larger rate makes worse.
    ``depth`` (hidden layers) is implied by the History's per-layer arrays; it is accepted so
    a page can pass its configuration through, and the gradient rules need at least two.
    """
    rows = _rows(history)
    found = [diverged(history, diverged_at=diverged_at, eta=eta, activation=activation)]
    if rows and depth >= 2:
        found += [
            exploding(history, norm=norm, weight_init=weight_init),
            vanishing(history, activation=activation, norm=norm),
        ]
    if rows:
        found += [
            saturated(history, activation=activation, cost=cost, norm=norm),
            dead_relu(history, activation=activation, eta=eta),
        ]
    if rows and diverged_at is None:
        found += [
            lr_too_high(history, eta=eta, schedule=schedule),
            lr_too_low(history, eta=eta, optimizer=optimizer),
            overfitting(history, n_train=n_train, eta=eta, lmbda=lmbda),
        ]
    found = [f for f in found if f is not None]
    if not found and diverged_at is None:
        stuck = not_learning(history, eta=eta, optimizer=optimizer)
        found = [stuck] if stuck is not None else []
    if any(f.code == "dead_relu" for f in found):
        # a larger rate kills more units: the slow fall is the dead units' doing
        found = [f for f in found if f.code != "lr_too_low"]
    codes = [f.code for f in found]
    if "diverged" in codes and "exploding" in codes:
        # exploding gradients at the start: a smaller rate will not save the weights
        found.sort(key=lambda f: f.code != "exploding")
    return found or [healthy(history)]
