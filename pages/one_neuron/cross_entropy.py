"""The cross-entropy fix: the sigma' factor cancels, so the bigger the mistake, the faster."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import labelled_points, layered, line_chart
from charts.figures import accuracy_curves
from charts.frames import neuron_runs_frame
from explain.experiments import MnistExperiment
from explain.neuron import (
    BOOK_ETA,
    ETA_CHOICES,
    NOTHING_TO_LEARN,
    NeuronSetup,
    by_error,
    cost_derivation,
    course,
    gradient_profile,
    race,
    relation,
    starts_with_presets,
)
from explain.nn.datasets import SPLIT_SIZES
from ui import widgets
from ui.cache import mnist_runs, neuron_run
from ui.display import show_chart
from ui.format import nice, num
from ui.neuron_controls import epoch_to_inspect, neuron_controls
from ui.site import link

COSTS = {"quadratic": "quadratic", "cross_entropy": "cross-entropy"}
PLATEAU_KINDS = ("never moved", "still on the plateau", "plateau")


st.title("The cross-entropy fix")
st.markdown(
    f"The neuron of {link('learning-slowdown', 'Learning slowdown')}, trained on two costs: the "
    "quadratic cost C = (a − y)²/2 and the **cross-entropy** C = −[y ln a + (1 − y) ln(1 − a)]. "
    "Both are small when a is close to y, but the gradient of cross-entropy has no σ′(z) in it."
)

mode = widgets.radio(
    "Learning rates",
    "eta_mode",
    ["same", "book"],
    "same",
    labels={
        "same": "the same η for both (the slider)",
        "book": f"as in Nielsen's book (η = {BOOK_ETA['quadratic']:g} quadratic, "
        f"{BOOK_ETA['cross_entropy']:g} cross-entropy)",
    },
)
c = neuron_controls(
    eta_label="Shared η",
    eta_in_presets=False,
    eta_disabled=mode == "book",
    eta_help="The learning rate of both costs, unless the book's rates are chosen above.",
)
etas = {cost: BOOK_ETA[cost] if mode == "book" else c.eta for cost in COSTS}
starts = starts_with_presets(c.w0, c.b0)
k, me = starts.current, starts.labels[starts.current]
who = "your neuron" if me == "your start" else f"the neuron that {me}"
runs = {
    label: neuron_run(NeuronSetup(starts.w0, starts.b0, c.x, c.y, etas[cost], c.epochs, cost))
    for cost, label in COSTS.items()
}
courses = {
    cost: [course(run, c.y, i) for i in range(len(starts.labels))] for cost, run in runs.items()
}
frame = neuron_runs_frame(runs, list(starts.labels))
frame = frame.assign(
    db=frame["dC_db"].abs(),
    rel=frame["C"] / frame.groupby(["cost", "start"])["C"].transform("first"),
)
order = by_error(runs["quadratic"], c.y)
worst, best = order[0], order[-1]
q_w, ce_w = courses["quadratic"][worst], courses["cross-entropy"][worst]
biggest = f"From the start with the biggest error (“{starts.labels[worst]}”)"


def bold(n: int) -> str:
    """'**1** epoch', '**17** epochs'."""
    return f"**{n}** epoch" + ("" if n == 1 else "s")


def output_caption() -> str:
    """Which cost halves the biggest error first, as measured."""
    if ce_w.kind == "nothing to learn":
        return f"Every start is within {NOTHING_TO_LEARN:g} of its target: nothing to learn."
    n_q, n_ce = q_w.halved_at, ce_w.halved_at
    return (
        "Colour is the cost, the line style is the start. "
        + {
            "a": f"{biggest}, cross-entropy halves the error in {bold(n_ce)}, the quadratic "
            + (f"cost in **{n_q}**." if n_q is not None else f"cost not within {c.epochs}."),
            "b": f"{biggest}, the quadratic cost halves the error first here: in {bold(n_q)}, "
            + (
                f"cross-entropy in **{n_ce}**."
                if n_ce is not None
                else f"cross-entropy not within {c.epochs}."
            )
            + (
                " Compare the learning rates." if etas["quadratic"] != etas["cross_entropy"] else ""
            ),
            "tie": f"{biggest}, both costs halve the error in {bold(n_q)}: a tie.",
            "neither": f"{biggest}, neither cost halves the error within {c.epochs} epochs.",
        }[race(n_ce, n_q)]
    )


def gradient_caption() -> str:
    """Where each cost's gradient peaks for the biggest error, as measured."""
    if ce_w.kind == "nothing to learn":
        return "Every gradient is tiny: there is nothing to learn."
    early = "at epoch 0" if ce_w.peak_epoch == 0 else f"early, at epoch {ce_w.peak_epoch}"
    cross = {
        "at once": f"cross-entropy's gradient is largest {early} and shrinks with the error",
        "never moved": f"cross-entropy's gradient stays near |a − y| = {nice(ce_w.error0)}, yet "
        f"with η = {etas['cross_entropy']:g} its output has not moved within {c.epochs} epochs",
        "overshoots": "cross-entropy's steps overshoot: η is too large for them",
        "still on the plateau": "cross-entropy's gradient is still growing at the last epoch",
        "plateau": f"cross-entropy's gradient peaks at epoch {ce_w.peak_epoch}",
    }[ce_w.kind]
    quadratic = {
        "at once": "the quadratic cost's is largest at once too"
        if q_w.peak_epoch == 0
        else f"the quadratic cost's peaks early too, at epoch {q_w.peak_epoch}",
        "never moved": "the quadratic cost's stays tiny: that neuron never moves",
        "overshoots": "the quadratic cost's steps overshoot: η is too large for them",
        "still on the plateau": "the quadratic cost's is still growing at the last epoch",
        "plateau": f"the quadratic cost's grows {nice(q_w.growth)}× and peaks only at epoch "
        f"{q_w.peak_epoch}",
        "nothing to learn": "the quadratic cost's is tiny",
    }[q_w.kind]
    jumpy = [
        cost
        for cost, crs in (("cross-entropy", ce_w), ("quadratic cost", q_w))
        if crs.overshoots and crs.kind != "overshoots"
    ]
    then = "".join(
        f" Then the {cost}'s steps overshoot: η is too large for them." for cost in jumpy
    )
    return f"{biggest}, {cross}; {quadratic}.{then}"


def halving_cell(cost: str, i: int) -> str:
    crs = courses[cost][i]
    if crs.kind == "nothing to learn":
        return "nothing to learn"
    return str(crs.halved_at) if crs.halved_at is not None else f"> {c.epochs}"


def push_sentence() -> str | None:
    """Does each cost push the bigger error harder at epoch 0? Quotes the table's numbers."""
    q, ce = push["quadratic"], push["cross-entropy"]
    live = [i for i in order if courses["quadratic"][i].kind != "nothing to learn"]
    if len(live) < 2:
        return None
    big, small = live[0], live[-1]
    named = f"the bigger error (“{starts.labels[big]}”)", f"the smaller (“{starts.labels[small]}”)"
    if relation(err0[big], err0[small], atol=1e-4) == "tie":
        labels = starts.labels[big], starts.labels[small]
        return f"“{labels[0]}” and “{labels[1]}” are equally wrong: no cost can favour either."
    words = {"larger": "harder", "smaller": "less hard", "tie": "exactly as hard"}
    quadratic = {
        "smaller": f"**{nice(q[small] / q[big])}× less**" if q[big] > 0 else "not at all",
        "larger": "harder too",
        "tie": "exactly as hard",
    }[relation(q[big], q[small])]
    return (
        f"At epoch 0, cross-entropy pushes {named[0]} **{words[relation(ce[big], ce[small])]}** "
        f"than {named[1]}: |∂C/∂b| = {nice(ce[big])} against {nice(ce[small])}. The quadratic "
        f"cost pushes it {quadratic}: {nice(q[big])} against {nice(q[small])}."
    )


# --- 1. side by side ---------------------------------------------------------------------
st.header("1. Both costs, both starts")
left, right = st.columns(2)
with left:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="a",
            color="cost",
            color_title="cost",
            dash="start",
            title="Output a against epoch",
            x_title="epoch",
            y_title="output a",
            y_domain=(0, 1),
        ),
        output_caption(),
    )
with right:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="db",
            color="cost",
            color_title="cost",
            dash="start",
            title="Gradient |∂C/∂b| against epoch",
            x_title="epoch",
            y_title="|∂C/∂b| (log scale)",
            log_y=True,
            y_powers=True,
        ),
        gradient_caption(),
    )
push = {cost: np.abs(run.dC_db[0]) for cost, run in runs.items()}
err0 = np.abs(runs["quadratic"].a[0] - c.y)
rows = [
    "| start | error \\|a − y\\| at epoch 0 | \\|∂C/∂b\\| at epoch 0, quadratic "
    "| \\|∂C/∂b\\| at epoch 0, cross-entropy | epochs to halve the error, quadratic "
    "| epochs to halve the error, cross-entropy |",
    "|---|--:|--:|--:|--:|--:|",
]
for i in order:
    cells = [starts.labels[i], nice(err0[i]), nice(push["quadratic"][i])]
    cells += [nice(push["cross-entropy"][i]), halving_cell("quadratic", i)]
    cells += [f"**{halving_cell('cross-entropy', i)}**"]
    rows.append("| " + " | ".join(cells) + " |")
st.markdown("\n".join(rows))
sentence = push_sentence()
st.caption(
    f"η = {etas['quadratic']:g} for the quadratic cost and {etas['cross_entropy']:g} for "
    "cross-entropy. Rows go from the biggest initial error down."
)
if sentence:
    st.markdown(sentence)
show_chart(
    line_chart(
        frame[np.isfinite(frame["rel"]) & (frame["rel"] > 0)],
        x="epoch",
        y="rel",
        color="cost",
        color_title="cost",
        dash="start",
        title="Cost relative to its value at epoch 0",
        x_title="epoch",
        y_title="C / C(epoch 0) (log scale)",
        log_y=True,
        y_powers=True,
    ),
    "The two costs have different units, so each is divided by its own starting value: a "
    "flat start is a plateau; a curve that falls from the first epoch is learning at once.",
)
with st.expander("Why the learning rates are not comparable"):
    st.markdown(
        "η multiplies the gradient, and the two costs have different gradients for the same "
        "error: the quadratic one carries σ′(z) ≤ 1/4, so it is at least four times smaller "
        "everywhere. The same η is a bigger step for cross-entropy. Nielsen chose "
        f"η = {BOOK_ETA['quadratic']:g} and {BOOK_ETA['cross_entropy']:g} to make each plot "
        "readable, and warned that comparing the speeds across costs is apples and oranges: "
        "what matters is *how* the speed changes with the error. A larger η speeds the "
        "quadratic cost up everywhere, but its badly wrong start stays the slow one; only the "
        "shape of the cost can make the gradient grow with the error."
    )


# --- 2. the derivation --------------------------------------------------------------------
def cancel_sentence(d: dict, x: float) -> str:
    """What the numbers of the derivation show, chosen by them."""
    if x == 0:
        return "With x = 0 neither cost can change w: ∂C/∂w = 0. Only the bias learns."
    if d["quadratic"] == 0 or d["sigma_prime"] == 0:
        return "Here a − y = 0: both gradients are 0, there is nothing to learn."
    return (
        f"∂C/∂a = {nice(d['dC_da'])} cancels σ′(z) = {nice(d['sigma_prime'])} exactly, so the "
        f"cross-entropy gradient is **{nice(abs(d['cross_entropy'] / d['quadratic']))}×** the "
        "quadratic cost's here: 1/σ′(z), which is at least 4 and grows without bound as the "
        "neuron saturates."
    )


def profile_points(d: dict, y: float, x: float) -> pd.DataFrame:
    """The current neuron on both curves of section 3, labels placed so they stay apart."""
    error = d["a"] - y
    grad = {
        "quadratic": abs(d["quadratic"] / x) if x else abs(error * d["sigma_prime"]),
        "cross-entropy": abs(error),
    }
    side = "left" if error > 0.5 - y else "right"  # away from the nearer end of the x axis
    close = abs(grad["quadratic"] - grad["cross-entropy"]) < 0.08 * max(1.0, *grad.values())
    labels = {cost: f"{cost}: {nice(v)}" for cost, v in grad.items()}
    if close:  # one label for both dots
        labels = {"quadratic": "", "cross-entropy": "; ".join(labels.values())}
    return pd.DataFrame(
        {
            "error": [error] * 2,
            "gradient": list(grad.values()),
            "cost": list(grad),
            "label": list(labels.values()),
            "side": side,
        }
    )


@st.fragment
def where_sigma_prime_goes(c, runs, k, me, who):
    """Sections 2 and 3; owns the epoch slider, which both follow."""
    st.header("2. Where σ′ goes")
    epoch = epoch_to_inspect(
        f"Epoch to inspect (cross-entropy run, {me})",
        c.epochs,
        "The numbers on the right and the dots in section 3 follow this epoch.",
    )
    z_now = float(runs["cross-entropy"].z[epoch, k])
    d = cost_derivation(z_now, c.y, c.x)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("With a = σ(z) and z = wx + b, the chain rule gives")
        # the thin space after an aligned block: KaTeX draws it 2 px past the box it reserves
        st.latex(
            r"""\begin{aligned}
            C &= -\bigl[y\ln a + (1-y)\ln(1-a)\bigr]\\
            \frac{\partial C}{\partial a} &= \frac{a-y}{a(1-a)}\\
            \frac{\partial a}{\partial z} &= \sigma'(z) = a(1-a)\\
            \frac{\partial C}{\partial w} &= \frac{\partial C}{\partial a}\,\sigma'(z)\,x\\
              &= \frac{a-y}{a(1-a)}\,a(1-a)\,x\\
              &= (a-y)\,x
            \end{aligned}\,"""
        )
    with right:
        st.markdown(
            f"In numbers, at epoch {epoch} for {who} (a = {nice(d['a'])}, y = {c.y:g}, "
            f"x = {c.x:g}):"
        )
        # the thin space after an aligned block: KaTeX draws it 2 px past the box it reserves
        st.latex(
            rf"""\begin{{aligned}}
            \frac{{\partial C}}{{\partial a}} &= {num(d["dC_da"])}\\
            \sigma'(z) &= {num(d["sigma_prime"])}\\
            a - y &= \frac{{\partial C}}{{\partial a}}\,\sigma'(z) = {num(d["a"] - c.y)}\\[6pt]
            &\text{{cross-entropy:}}\\
            \frac{{\partial C}}{{\partial w}} &= (a-y)\,x = {num(d["cross_entropy"])}\\[6pt]
            &\text{{quadratic:}}\\
            \frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x\\
            &= {num(d["quadratic"])}
            \end{{aligned}}\,"""
        )
        st.markdown(cancel_sentence(d, c.x))

    # --- 3. gradient against error -------------------------------------------------------------
    st.header("3. The bigger the mistake, the faster it learns?")
    zs = np.linspace(-12, 12, 961)
    prof = gradient_profile(c.y, zs)
    signed = prof.signed_error
    curves = pd.concat(
        [
            pd.DataFrame(
                {"error": signed, "gradient": prof.quadratic, "cost": "quadratic", "z": zs}
            ),
            pd.DataFrame(
                {"error": signed, "gradient": prof.cross_entropy, "cost": "cross-entropy", "z": zs}
            ),
        ],
        ignore_index=True,
    )
    here = profile_points(d, c.y, c.x)
    both_ways = signed.min() < 0 < signed.max()
    show_chart(
        layered(
            line_chart(
                curves,
                x="error",
                y="gradient",
                color="cost",
                color_title="cost",
                order="z",
                title=f"How hard each cost pushes, against the error (y = {c.y:g})",
                x_title="error a − y (over every z from −12 to 12)",
                y_title="|∂C/∂b| = |∂C/∂z|",
            ),
            labelled_points(
                here,
                x="error",
                y="gradient",
                label="label",
                color="cost",
                color_title="cost",
                side="side",
            ),
        ),
        "Cross-entropy's push grows in proportion to the error"
        + (", in both directions" if both_ways else "")
        + ". The quadratic cost's rises, peaks, and falls back to zero as the error approaches "
        "its largest possible value: a saturated, badly wrong neuron is pushed least. The dots "
        f"are the current neuron at epoch {epoch}.",
    )


where_sigma_prime_goes(c, runs, k, me, who)


# --- 4. softmax with log-likelihood on MNIST ------------------------------------------------
def mnist_sentences(results: dict, m_eta_q: float, m_eta: float, m_n: int) -> str:
    """Accuracies after the first and last epoch, and what the learning rates were."""
    acc = {n: 100 * r.history.eval_accuracy for n, r in results.items()}
    text = (
        "After one epoch: "
        + ", ".join(f"{n} **{v[1]:.1f}%**" for n, v in acc.items() if len(v) > 1)
        + ". After the last: "
        + ", ".join(f"{n} **{v[-1]:.1f}%**" for n, v in acc.items())
        + ". "
    )
    text += {
        "larger": f"The quadratic cost was given a larger η ({m_eta_q:g} against {m_eta:g} for "
        "the others), to make up for σ′ ≤ 1/4. ",
        "smaller": f"The quadratic cost was given a smaller η ({m_eta_q:g} against {m_eta:g} for "
        "the others), which slows it further. ",
        "tie": f"All three used the same η = {m_eta:g}. ",
    }[relation(m_eta_q, m_eta)]
    others = max(v[-1] for n, v in acc.items() if n != "quadratic")
    gap = relation(acc["quadratic"][-1], others, atol=0.05)
    text += {
        "smaller": f"The quadratic cost ends {others - acc['quadratic'][-1]:.1f} points below "
        "the better of the other two. ",
        "larger": f"The quadratic cost ends {acc['quadratic'][-1] - others:.1f} points above "
        "the better of the other two. ",
        "tie": "The quadratic cost ends level with the better of the other two. ",
    }[gap]
    return text + f"Trained on {m_n:,} digits; the book's networks saw 50,000."


@st.fragment
def mnist_comparison():
    """Section 4; owns the MNIST controls (m_eta_q, m_eta, m_epochs, m_n, m_init, m_seed)."""
    st.header("4. Many outputs: softmax with log-likelihood")
    base = MnistExperiment()
    layers = ", ".join(str(n) for n in base.sizes)
    st.markdown(
        "A classifier with one output per class can use a **softmax** output layer "
        r"$a_j = e^{z_j} / \sum_k e^{z_k}$ with the **log-likelihood** cost $C = -\ln a_y$: "
        f"its output error δᴸ = aᴸ − y has no σ′ either. Three [{layers}] networks learn the "
        "same digits from the same initial weights."
    )
    # the thin space after an aligned block: KaTeX draws it 2 px past the box it reserves
    st.latex(
        r"\begin{aligned}\delta^L_{\text{quadratic}} &= (a^L - y)\odot\sigma'(z^L)\\"
        r"\delta^L_{\text{cross-entropy}} = \delta^L_{\text{softmax+LL}} &= a^L - y"
        r"\end{aligned}\,"
    )
    m1, m2, m3 = st.columns(3)
    with m1:
        m_eta_q = widgets.stepped("η, quadratic", "m_eta_q", ETA_CHOICES, 2.0)
    with m2:
        m_eta = widgets.stepped("η, the other two", "m_eta", ETA_CHOICES, 0.5)
    with m3:
        m_epochs = widgets.slider("Epochs", "m_epochs", 2, 30, 10)
    m4, m5, m6 = st.columns(3)
    with m4:
        m_n = widgets.stepped("Training digits", "m_n", (500, 1000, 2000, 4000, 8000), 2000)
    with m5:
        m_init = widgets.select(
            "Initial weights",
            "m_init",
            ["normal", "scaled"],
            "normal",
            labels={"normal": "N(0, 1): saturates", "scaled": "N(0, 1/nᵢₙ)"},
        )
    with m6:
        m_seed = widgets.seed("m_seed")
    base = base.with_(n_train=int(m_n), epochs=int(m_epochs), weight_init=m_init, seed=m_seed)
    names = {
        "quadratic": "quadratic",
        "cross_entropy": "cross-entropy",
        "log_likelihood": "softmax + log-likelihood",
    }
    exps = [
        base.with_(cost=cost, eta=float(m_eta_q if cost == "quadratic" else m_eta))
        for cost in names
    ]
    results = dict(zip(names.values(), mnist_runs(exps, "Training three networks on MNIST")))
    show_chart(
        accuracy_curves(
            results,
            legend="output layer and cost",
            title=f"Validation accuracy on {SPLIT_SIZES['validation']:,} held-out digits",
        ),
        "Same data, same seed, same initial weights: only the output layer and its cost differ. "
        "N(0, 1) weights saturate many sigmoid outputs, where the quadratic cost is slow; "
        "compare with N(0, 1/nᵢₙ).",
    )
    diverged = [
        f"{name} at epoch {r.diverged_at.epoch}"
        for name, r in results.items()
        if r.diverged_at is not None
    ]
    if diverged:
        st.warning("Training diverged and stopped early: " + "; ".join(diverged) + ".")
    st.markdown(mnist_sentences(results, m_eta_q, m_eta, int(m_n)))


mnist_comparison()

st.info(
    "Cross-entropy repairs the **output** layer only. Every hidden layer still multiplies its "
    "error by σ′(z) on the way back, δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), and in a deep network those "
    f"factors pile up: that is where {link('vanishing-gradients', 'vanishing gradients')} begin."
)
