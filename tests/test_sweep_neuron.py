"""Sentences against numbers on the home page and the two one-neuron pages.

Each page runs at its presets and at every control's extremes (w0, b0 = ±10, x = ±3 and 0,
y = 0 and 1, the smallest and largest η, the fewest and most epochs, and a few
combinations). Every sentence that interprets a measurement is then checked against the
numbers, computed here from the raw simulation (not by the verdict functions the pages
use): nothing to learn, never moved, plateaus, overshooting, ties, ratios and epochs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from explain.neuron import BOOK_ETA, PRESETS, NeuronSetup, starts_with_presets, train_neuron
from explain.nn.activations import sigmoid_prime
from tests.pagetools import charts, run_page, text
from ui.format import nice

SLOWDOWN = "pages/one_neuron/learning_slowdown.py"
CROSS = "pages/one_neuron/cross_entropy.py"
HOME = "pages/start/home.py"
DEFAULT = {"w0": 2.0, "b0": 2.0, "x": 1.0, "y": 0.0, "eta": 0.15, "epochs": 300}
TARGET = 0.01  # an error below this is "nothing to learn"
MNIST_FAST = {"m_epochs": "2", "m_n": "500"}  # section 4 of the cross-entropy page, cheaply

SETTINGS = [
    {},  # starts badly wrong, the default
    {"w0": "0.6", "b0": "0.9"},  # starts close
    {"w0": "10", "b0": "10"},
    {"w0": "-10", "b0": "-10"},
    {"w0": "10", "b0": "-10"},
    {"w0": "-10", "b0": "10"},
    {"x": "3"},
    {"x": "-3"},
    {"x": "0"},
    {"y": "1"},
    {"y": "1", "w0": "-10", "b0": "-10"},
    {"eta": "0.001"},
    {"eta": "10"},
    {"epochs": "10"},
    {"epochs": "1000"},
    {"y": "0.5", "eta": "10", "x": "3"},  # the steps overshoot
    {"w0": "-10", "b0": "-10", "x": "3", "y": "1", "eta": "10", "epochs": "1000"},
    {"w0": "10", "b0": "10", "epochs": "10", "eta": "0.001"},
    {"x": "3", "y": "1"},  # only one start has anything to learn
    {"w0": "-10", "b0": "-2", "x": "0", "y": "1", "epochs": "10"},  # still on its plateau
]


def ids(query: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items()) or "default"


# --- independent measurements ---------------------------------------------------------------


def setting(query: dict) -> dict:
    s = {k: float(query.get(k, v)) for k, v in DEFAULT.items()}
    s["epochs"] = int(s["epochs"])
    return s


def halved(a: np.ndarray, y: float) -> int | None:
    """First epoch with |a - y| below half its first value."""
    err = np.abs(a - y)
    hit = np.flatnonzero(err < err[0] / 2)
    return int(hit[0]) if hit.size and err[0] > 0 else None


def still(a: np.ndarray, y: float) -> bool:
    """The output never moved by 1% of its first error."""
    return np.abs(a - a[0]).max() < 0.01 * abs(a[0] - y)


def flips(a: np.ndarray, y: float) -> int:
    signs = np.sign(a - y)
    return int(np.count_nonzero(np.diff(signs[signs != 0])))


def size_word(error: float) -> str:
    error = abs(error)
    if error < TARGET:
        return "almost zero"
    return "small" if error < 0.1 else "moderate" if error <= 0.5 else "large"


def train(s: dict, w0, b0, cost="quadratic", eta=None, epochs=None):
    setup = NeuronSetup(
        tuple(w0), tuple(b0), s["x"], s["y"], eta or s["eta"], epochs or s["epochs"], cost
    )
    return train_neuron(setup)


def one_of(body: str, phrases: list[str]) -> list[str]:
    return [p for p in phrases if p in body]


# --- the learning-slowdown page ---------------------------------------------------------------


def check_halving_list(body, s, starts, run):
    y, epochs = s["y"], s["epochs"]
    for i, label in enumerate(starts.labels):
        m = re.search(rf"{re.escape(label)} \(a = ([^,]+), error ([^)]+)\): (.*?)(?:; |\. )", body)
        assert m, label
        assert m[1] == nice(run.a[0, i]) and m[2] == nice(abs(run.a[0, i] - y))
        n, tail = halved(run.a[:, i], y), m[3]
        if abs(run.a[0, i] - y) < TARGET:
            assert tail.startswith("nothing to learn"), tail
        elif n is None:
            assert tail.startswith(f"not within **{epochs}** epochs"), tail
            assert ("never moves" in tail) == still(run.a[:, i], y)
        else:
            assert tail.startswith(f"**{n} epoch"), tail


def check_halving_verdict(body, s, starts, run):
    y = s["y"]
    err0 = np.abs(run.a[0] - y)
    live = [i for i in range(len(err0)) if err0[i] >= TARGET]
    if not live:
        assert "No start has anything to learn" in body
        return
    if len(live) == 1:
        assert "has anything to learn: nothing to compare" in body
        return
    big, small = max(live, key=lambda i: err0[i]), min(live, key=lambda i: err0[i])
    n_big, n_small = halved(run.a[:, big], y), halved(run.a[:, small], y)
    found = one_of(
        body, ["as long to halve as", "has not halved within", "halves first", "a tie", "Neither"]
    )
    assert len(found) == 1, found
    assert f"“{starts.labels[big]}”" in body and f"“{starts.labels[small]}”" in body
    if found[0] == "as long to halve as":
        assert n_big > n_small
        assert f"takes **{nice(n_big / n_small)}×** as long" in body
        assert "opposite of what we would want" in body
    elif found[0] == "has not halved within":
        assert n_big is None and n_small is not None and f"took {n_small}" in body
    elif found[0] == "halves first":
        assert n_big is not None and (n_small is None or n_big < n_small)
    elif found[0] == "a tie":
        assert n_big == n_small is not None
    else:
        assert n_big is None and n_small is None


def check_factor_sentence(body, s, run, k):
    """Section 2 at epoch 0 (the slider's default)."""
    a, y = run.a[0, k], s["y"]
    sp = float(sigmoid_prime(run.z[0, k]))
    assert f"The error a − y = **{nice(a - y)}** is {size_word(a - y)}" in body
    if abs(a - y) < TARGET:
        assert "there is little left to learn" in body
        return
    assert f"σ′(z) = **{nice(sp)}** is " in body
    if 0.25 / sp < 1.005:
        assert "is at its maximum of 1/4" in body
    else:
        assert f"**{nice(0.25 / sp)}×** below its maximum" in body
    assert ("the neuron is saturated, so it learns slowly" in body) == (sp < 0.025)


def check_gradient_caption(body, s, run, k):
    """Section 2's chart caption, about the inspected start over the page's epochs."""
    a, y, epochs = run.a[:, k], s["y"], s["epochs"]
    g = np.abs(run.dC_db[:, k])
    peak = int(np.argmax(g))
    m = re.search(r"Here it first grows (.+?)×, up to epoch (\d+)", body)
    if m:
        assert int(m[2]) == peak < epochs and g[peak] >= 2 * g[0] and m[1] == nice(g[peak] / g[0])
    if "Here the error is almost zero from the start" in body:
        assert abs(a[0] - y) < TARGET
    if "Here it stays tiny for all" in body:
        assert still(a, y)
    if "Here it is largest at epoch 0" in body:
        assert peak == 0
    if "Here it is still growing at the last epoch" in body:
        assert peak == epochs
    if "Here η is too large: each step overshoots" in body:
        assert flips(a, y) >= 2
    if abs(a[0] - y) < TARGET:
        assert "Here the error is almost zero from the start" in body
    elif still(a, y):
        assert "Here it stays tiny for all" in body


def check_plateau_captions(body, s, starts, run):
    y, epochs = s["y"], s["epochs"]
    for i, label in enumerate(starts.labels):
        g = np.abs(run.dC_db[:, i])
        m = re.search(rf"“{re.escape(label)}” falls fastest only at epoch (\d+)", body)
        if m:
            assert int(m[1]) == int(np.argmax(g)) < epochs and g.max() >= 2 * g[0]
        if f"“{label}” stays flat for all" in body:
            assert still(run.a[:, i], y)
        if f"“{label}” has not started to fall fast" in body:
            assert int(np.argmax(g)) == epochs
    if "no start waits on a plateau" in body:
        for i in range(len(starts.labels)):
            g = np.abs(run.dC_db[:, i])
            assert g.max() < 2 * g[0] and int(np.argmax(g)) < epochs


def check_arrival(body, s):
    """Section 4: the long run of the reader's own start."""
    y, long_epochs = s["y"], max(s["epochs"], 2000)
    run = train(s, (s["w0"],), (s["b0"],), epochs=long_epochs)
    a, g, cost = run.a[:, 0], np.abs(run.dC_db[:, 0]), run.cost[:, 0]
    peak, sp0 = int(np.argmax(g)), float(run.sigma_prime[0, 0])
    m = re.search(r"Until epoch (\d+) σ′\(z\) keeps it small \(it grows (.+?)× by then\)", body)
    if m:
        assert int(m[1]) == peak < long_epochs and g[peak] >= 2 * g[0]
        assert m[2] == nice(g[peak] / g[0])
    if "From this start it is largest at once" in body:
        assert peak == 0
    if "not small here: within" in body:
        assert sp0 >= 0.025
    if "never leaves the plateau" in body:
        assert still(a, y)
    nothing = abs(a[0] - y) < TARGET
    assert ("This neuron starts at its target already" in body) == nothing
    if nothing or still(a, y):
        assert "Until epoch" not in body and "The gradient peaks at epoch" not in body
    m = re.search(r"The gradient peaks at epoch \*\*(\d+)\*\*. By epoch \*\*(\d+)\*\*", body)
    if m:
        slow = peak + int(np.flatnonzero(g[peak:] < g[peak] / 10)[0])
        assert (int(m[1]), int(m[2])) == (peak, slow)
        ratio = cost[slow] / cost[0]
        assert f"the cost is down to **{nice(100 * ratio)}%**" in body
        assert ("This slowdown is harmless" in body) == (ratio <= 0.1)
    if "never falls back to a tenth of its peak" in body:
        assert not (g[peak:] < g[peak] / 10).any()


@pytest.mark.parametrize("query", SETTINGS, ids=ids)
def test_slowdown_sentences_agree_with_the_numbers(query):
    body = text(run_page(SLOWDOWN, query))
    s = setting(query)
    starts = starts_with_presets(s["w0"], s["b0"])
    run = train(s, starts.w0, starts.b0)
    check_halving_list(body, s, starts, run)
    check_halving_verdict(body, s, starts, run)
    check_factor_sentence(body, s, run, starts.current)
    check_gradient_caption(body, s, run, starts.current)
    check_plateau_captions(body, s, starts, run)
    check_arrival(body, s)
    for bad in ("nan", "inf", "e+", "e-0"):
        assert bad not in body.split("$$")[0].lower(), bad


# --- the cross-entropy page -------------------------------------------------------------------


def cell(a: np.ndarray, y: float, epochs: int) -> str:
    if abs(a[0] - y) < TARGET:
        return "nothing to learn"
    n = halved(a, y)
    return str(n) if n is not None else f"> {epochs}"


def check_table_and_push(body, s, starts, runs, etas):
    y, epochs = s["y"], s["epochs"]
    q, ce = runs["quadratic"], runs["cross_entropy"]
    assert f"η = {etas['quadratic']:g} for the quadratic cost and {etas['cross_entropy']:g}" in body
    err0 = np.abs(q.a[0] - y)
    for i, label in enumerate(starts.labels):
        row = [label, nice(err0[i]), nice(abs(q.dC_db[0, i])), nice(abs(ce.dC_db[0, i]))]
        row += [cell(q.a[:, i], y, epochs), f"**{cell(ce.a[:, i], y, epochs)}**"]
        assert "| " + " | ".join(row) + " |" in body, row
    m = re.search(
        r"pushes the bigger error \(“(.+?)”\) \*\*(.+?)\*\* than the smaller \(“(.+?)”\): "
        r"\|∂C/∂b\| = (.+?) against (.+?)\. The quadratic cost pushes it (.+?): (.+?) against "
        r"(.+?)\.(?:\s|$)",
        body,
    )
    live = [i for i in range(len(err0)) if err0[i] >= TARGET]
    assert (m is not None) == (len(live) >= 2 and err0[live].max() - err0[live].min() > 1e-3)
    if m:
        big, small = starts.labels.index(m[1]), starts.labels.index(m[3])
        assert err0[big] == err0[live].max() and err0[small] == err0[live].min()
        qb, qs = abs(q.dC_db[0, big]), abs(q.dC_db[0, small])
        cb, cs = abs(ce.dC_db[0, big]), abs(ce.dC_db[0, small])
        assert (m[4], m[5], m[7], m[8]) == (nice(cb), nice(cs), nice(qb), nice(qs))
        assert m[2] == ("harder" if cb > cs else "less hard")
        if "less" in m[6]:
            assert qb < qs and m[6] == f"**{nice(qs / qb)}× less**"
        if m[6] == "harder too":
            assert qb > qs


def check_cost_captions(body, s, starts, runs):
    y, epochs = s["y"], s["epochs"]
    q, ce = runs["quadratic"], runs["cross_entropy"]
    worst = int(np.argmax(np.abs(q.a[0] - y)))
    if abs(q.a[0, worst] - y) < TARGET:
        assert "nothing to learn" in body
        return
    n_q, n_ce = halved(q.a[:, worst], y), halved(ce.a[:, worst], y)
    m = re.search(r"cross-entropy halves the error in \*\*(\d+)\*\* epochs?, the quadratic", body)
    if m:
        assert int(m[1]) == n_ce and (n_q is None or n_ce < n_q)
        assert (f"cost in **{n_q}**" if n_q is not None else f"not within {epochs}") in body
    if "the quadratic cost halves the error first" in body:
        assert n_q is not None and (n_ce is None or n_q < n_ce)
    if "both costs halve the error in" in body:
        assert n_q == n_ce is not None
    if "neither cost halves the error" in body:
        assert n_q is None and n_ce is None
    g_q, g_ce = np.abs(q.dC_db[:, worst]), np.abs(ce.dC_db[:, worst])
    if "cross-entropy's gradient is largest at epoch 0" in body:
        assert int(np.argmax(g_ce)) == 0
    m = re.search(r"the quadratic cost's grows (.+?)× and peaks only at epoch (\d+)", body)
    if m:
        peak = int(np.argmax(g_q))
        assert int(m[2]) == peak < epochs and m[1] == nice(g_q[peak] / g_q[0])
        assert g_q[peak] >= 2 * g_q[0]
    if "that neuron never moves" in body:
        assert still(q.a[:, worst], y)
    if "its output has not moved within" in body:
        assert still(ce.a[:, worst], y)


def check_derivation(body, s, starts, runs):
    """Section 2 at epoch 0: the cross-entropy gradient is 1/sigma' times the quadratic one."""
    z = runs["cross_entropy"].z[0, starts.current]
    a = runs["cross_entropy"].a[0, starts.current]
    sp = float(sigmoid_prime(z))
    if s["x"] == 0:
        assert "With x = 0 neither cost can change w" in body
    elif a != s["y"]:
        assert f"gradient is **{nice(1 / sp)}×** the quadratic cost's" in body


CROSS_SETTINGS = [
    *SETTINGS,
    {"eta_mode": "book"},
    {"eta_mode": "book", "w0": "10", "b0": "10"},
    {"eta_mode": "book", "y": "1", "x": "-3"},
]


@pytest.mark.parametrize("query", CROSS_SETTINGS, ids=ids)
def test_cross_entropy_sentences_agree_with_the_numbers(query):
    body = text(run_page(CROSS, {**query, **MNIST_FAST}))
    s = setting(query)
    book = query.get("eta_mode") == "book"
    etas = {c: BOOK_ETA[c] if book else s["eta"] for c in ("quadratic", "cross_entropy")}
    starts = starts_with_presets(s["w0"], s["b0"])
    runs = {c: train(s, starts.w0, starts.b0, cost=c, eta=eta) for c, eta in etas.items()}
    check_table_and_push(body, s, starts, runs, etas)
    check_cost_captions(body, s, starts, runs)
    check_derivation(body, s, starts, runs)
    for bad in ("nan", "inf", "e+", "e-0"):
        assert bad not in body.split("$$")[0].lower(), bad


@pytest.mark.parametrize(
    ("eta_q", "eta", "said"),
    [
        ("2.0", "0.5", "a larger η (2 against 0.5 for the others)"),
        ("0.5", "0.5", "All three used the same η = 0.5"),
        ("0.1", "0.5", "a smaller η (0.1 against 0.5 for the others)"),
    ],
)
def test_mnist_note_names_the_learning_rates_used(eta_q, eta, said):
    at = run_page(CROSS, {"m_eta_q": eta_q, "m_eta": eta, **MNIST_FAST})
    body = text(at)
    assert said in body
    acc = charts(at)["Validation accuracy on 1,000 held-out digits"]
    last = acc[acc["epoch"] == acc["epoch"].max()].set_index("output layer and cost")["value"]
    gap = max(last["cross-entropy"], last["softmax + log-likelihood"]) - last["quadratic"]
    if gap > 0.05:
        assert f"ends {gap:.1f} points below the better of the other two" in body
    elif gap < -0.05:
        assert f"ends {-gap:.1f} points above the better of the other two" in body
    else:
        assert "ends level with the better of the other two" in body


# --- home -------------------------------------------------------------------------------------


@pytest.mark.parametrize("z", ["-10", "-3.5", "0", "0.1", "10"])
def test_home_factor_sentence_agrees_with_sigma_prime(z):
    body = text(run_page(HOME, {"z": z}))
    sp = float(sigmoid_prime(float(z)))
    assert f"multiplied by **{nice(sp)}**" in body
    if 0.25 / sp < 1.005:
        assert "σ′ is at its maximum of 1/4 here" in body and "× smaller" not in body
    else:
        assert f"**{nice(0.25 / sp)}×** smaller than at z = 0" in body


def test_the_sweep_covers_both_presets():
    assert {(float(q.get("w0", 2)), float(q.get("b0", 2))) for q in SETTINGS} >= set(
        PRESETS.values()
    )
