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
    NeuronSetup,
    by_error,
    cost_derivation,
    first_epoch_within,
    gradient_profile,
    starts_with_presets,
)
from ui import widgets
from ui.cache import mnist_runs, neuron_run
from ui.display import show_chart
from ui.format import num
from ui.neuron_controls import neuron_controls
from ui.site import link

COSTS = {"quadratic": "quadratic", "cross_entropy": "cross-entropy"}


st.title("The cross-entropy fix")
st.markdown(
    f"The same sigmoid neuron as on {link('learning-slowdown', 'Learning slowdown')}, trained "
    "on two costs: the quadratic cost C = (a − y)²/2 and the **cross-entropy** "
    "C = −[y ln a + (1 − y) ln(1 − a)]. Both are small when a is close to y and large when it "
    "is far, but the gradient of cross-entropy has no σ′(z) in it."
)

c = neuron_controls(show_eta=False)
mode = widgets.radio(
    "Learning rates",
    "eta_mode",
    ["same", "book"],
    "same",
    labels={
        "same": "the same η for both",
        "book": "as in Nielsen's book (η = 0.15 quadratic, 0.005 cross-entropy)",
    },
)
shared = widgets.stepped("Shared η", "eta", ETA_CHOICES, 0.15) if mode == "same" else None
etas = {cost: BOOK_ETA[cost] if shared is None else shared for cost in COSTS}
starts = starts_with_presets(c.w0, c.b0)
k, me = starts.current, starts.labels[starts.current]
who = "your neuron" if me == "your start" else f"the neuron that {me}"
runs = {
    label: neuron_run(NeuronSetup(starts.w0, starts.b0, c.x, c.y, etas[cost], c.epochs, cost))
    for cost, label in COSTS.items()
}
frame = neuron_runs_frame(runs, list(starts.labels))
frame = frame.assign(
    db=frame["dC_db"].abs(),
    rel=frame["C"] / frame.groupby(["cost", "start"])["C"].transform("first"),
)
order = by_error(runs["quadratic"], c.y)
worst, best = order[0], order[-1]

# --- 1. side by side ---------------------------------------------------------------------
st.header("1. Both costs, both starts")
halve = {
    (cost, i): first_epoch_within(run.a[:, i], c.y, 0.5 * abs(run.a[0, i] - c.y))
    for cost, run in runs.items()
    for i in range(len(starts.labels))
}
push = {cost: np.abs(run.dC_db[0]) for cost, run in runs.items()}
table = pd.DataFrame(
    {
        "start": list(starts.labels),
        "error |a − y| at epoch 0": np.abs(runs["quadratic"].a[0] - c.y),
        **{f"first step η·|∂C/∂b|, {cost}": etas[key] * push[cost] for key, cost in COSTS.items()},
        **{
            f"epochs to halve the error, {cost}": [
                str(halve[(cost, i)]) if halve[(cost, i)] is not None else f"> {c.epochs}"
                for i in range(len(starts.labels))
            ]
            for cost in COSTS.values()
        },
    }
).iloc[order]
number = st.column_config.NumberColumn(format="%.4g")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={col: number for col in table.columns[1:4]},
)
st.caption(
    f"η = {etas['quadratic']:g} for the quadratic cost and {etas['cross_entropy']:g} for "
    "cross-entropy. Rows go from the biggest initial error down."
)
q, ce = push["quadratic"], push["cross-entropy"]
err0 = np.abs(runs["quadratic"].a[0] - c.y)
if err0[worst] > err0[best]:
    st.markdown(
        f"At the first step, cross-entropy pushes the start with the bigger error "
        f"**{'harder' if ce[worst] > ce[best] else 'less hard'}** than the other "
        f"(|∂C/∂b| = {ce[worst]:.3g} against {ce[best]:.3g}); the quadratic cost pushes it "
        + (
            f"**{q[best] / q[worst]:.1f}× less** ({q[worst]:.3g} against {q[best]:.3g})."
            if q[worst] < q[best] and q[worst] > 0
            else f"{q[worst]:.3g} against {q[best]:.3g}."
        )
    )
q_peak = int(np.argmax(np.abs(runs["quadratic"].dC_db[:, worst])))
ce_peak = int(np.argmax(np.abs(runs["cross-entropy"].dC_db[:, worst])))
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
        "Colour is the cost, the line style is the start (see the legend). "
        + (
            f"From the start with the biggest error ({starts.labels[worst]}), blue "
            "(cross-entropy) moves from the first epoch while vermillion (quadratic) waits on "
            "a plateau."
            if q_peak > 0
            else "With these settings neither cost starts on a plateau: the neurons are not "
            "saturated."
        ),
    )
with right:
    show_chart(
        line_chart(
            frame[frame["db"] > 0],
            x="epoch",
            y="db",
            color="cost",
            color_title="cost",
            dash="start",
            title="Gradient |∂C/∂b| against epoch",
            x_title="epoch",
            y_title="|∂C/∂b| (log scale)",
            log_y=True,
        ),
        (
            f"From the start with the biggest error ({starts.labels[worst]}), cross-entropy's "
            f"gradient is largest at epoch {ce_peak} and shrinks with the error; the quadratic "
            f"cost's peaks only at epoch {q_peak}."
            if q_peak > ce_peak
            else "Here both costs push hardest at the start and slow down together as the error "
            "shrinks."
        ),
    )
show_chart(
    line_chart(
        frame[np.isfinite(frame["rel"])],
        x="epoch",
        y="rel",
        color="cost",
        color_title="cost",
        dash="start",
        title="Cost relative to its value at epoch 0",
        x_title="epoch",
        y_title="C / C(epoch 0)",
    ),
    "The two costs have different units, so each is divided by its own starting value: a "
    "flat start is a plateau; a curve that falls from the first epoch is learning at once.",
)
st.markdown(
    "**Why the learning rates are not comparable.** η multiplies the gradient, and the two "
    "costs have different gradients for the same error: the quadratic one carries σ′(z) ≤ 1/4, "
    "so it is at least four times smaller everywhere. The same η is a bigger step for "
    "cross-entropy. Nielsen chose η = 0.15 and 0.005 to make each plot readable, and warned that "
    "comparing the speeds across costs is apples and oranges: what matters is *how* the speed "
    "changes with the error. A larger η speeds the quadratic cost up everywhere, but its badly "
    "wrong start stays the slow one; only the shape of the cost can make the gradient grow with "
    "the error."
)


# --- 2. the derivation --------------------------------------------------------------------
@st.fragment
def where_sigma_prime_goes(c, runs, k, me, who):
    """Sections 2 and 3; owns the epoch slider, which both follow."""
    st.header("2. Where σ′ goes")
    epoch = widgets.slider(
        f"Epoch to inspect (cross-entropy run, {me})",
        "epoch",
        0,
        1000,
        0,
        step=1,
        help="The numbers on the right and the dots in section 3 follow this epoch.",
    )
    epoch = min(epoch, c.epochs)
    z_now = float(runs["cross-entropy"].z[epoch, k])
    d = cost_derivation(z_now, c.y, c.x)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("With a = σ(z) and z = wx + b, the chain rule gives")
        st.latex(
            r"""\begin{aligned}
            C &= -\bigl[y\ln a + (1-y)\ln(1-a)\bigr]\\
            \frac{\partial C}{\partial a} &= \frac{a-y}{a(1-a)}\\
            \frac{\partial a}{\partial z} &= \sigma'(z) = a(1-a)\\
            \frac{\partial C}{\partial w} &= \frac{\partial C}{\partial a}\,\sigma'(z)\,x
              = \frac{a-y}{a(1-a)}\,a(1-a)\,x = (a-y)\,x
            \end{aligned}"""
        )
    with right:
        st.markdown(
            f"In numbers, at epoch {epoch} for {who} (a = {d['a']:.4g}, y = {c.y:g}, x = {c.x:g}):"
        )
        st.latex(
            rf"""\begin{{aligned}}
            \frac{{\partial C}}{{\partial a}} &= {num(d["dC_da"])}, \qquad
              \sigma'(z) = {num(d["sigma_prime"])}\\
            \text{{cross-entropy: }}\frac{{\partial C}}{{\partial w}} &= {num(d["dC_da"])}
              \times {num(d["sigma_prime"])} \times {num(c.x)} = {num(d["cross_entropy"])}\\
            \text{{quadratic: }}\frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x
              = {num(d["quadratic"])}
            \end{{aligned}}"""
        )
        if d["quadratic"] != 0 and d["sigma_prime"] > 0:
            st.markdown(
                f"∂C/∂a = {d['dC_da']:.3g} cancels σ′(z) = {d['sigma_prime']:.3g} exactly, so "
                "the cross-entropy gradient is "
                f"**{abs(d['cross_entropy'] / d['quadratic']):,.3g}×** the quadratic cost's "
                "here: 1/σ′(z), which is at least 4 and grows without bound as the neuron "
                "saturates."
            )
        elif c.x == 0:
            st.markdown("With x = 0 neither cost can change w: ∂C/∂w = 0. Only the bias learns.")

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
    here = pd.DataFrame(
        {
            "error": [d["a"] - c.y] * 2,
            "gradient": [
                abs(d["quadratic"] / c.x) if c.x else abs((d["a"] - c.y) * d["sigma_prime"]),
                abs(d["a"] - c.y),
            ],
            "cost": ["quadratic", "cross-entropy"],
        }
    ).assign(label=lambda f: f["gradient"].map(lambda v: f"{v:.3g}"))
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
                here, x="error", y="gradient", label="label", color="cost", color_title="cost"
            ),
        ),
        "Cross-entropy's push grows in proportion to the error, in both directions. The quadratic "
        "cost's rises, peaks, and falls back to zero as the error approaches its largest possible "
        "value: a saturated, badly wrong neuron is pushed least. The dots are the current neuron "
        f"at epoch {epoch}.",
    )


where_sigma_prime_goes(c, runs, k, me, who)


# --- 4. softmax with log-likelihood on MNIST ------------------------------------------------
@st.fragment
def mnist_comparison():
    """Section 4; owns the MNIST controls (m_eta_q, m_eta, m_epochs, m_n, m_init, m_seed)."""
    st.header("4. Many outputs: softmax with log-likelihood")
    st.markdown(
        "For a classifier with one output per class, a **softmax** output layer "
        r"$a_j = e^{z_j} / \sum_k e^{z_k}$ with the **log-likelihood** cost $C = -\ln a_y$ "
        "has the same property: its output-layer error is δᴸ = ∂C/∂zᴸ = aᴸ − y, with no σ′. "
        "Below, three [784, 30, 10] networks learn the same handwritten digits (from the MNIST "
        "test set shipped with the site) from the same initial weights: sigmoid outputs with the "
        "quadratic cost, sigmoid outputs with cross-entropy, and softmax with log-likelihood."
    )
    st.latex(
        r"\delta^L_{\text{quadratic}} = (a^L - y)\odot\sigma'(z^L) \qquad "
        r"\delta^L_{\text{cross-entropy}} = a^L - y \qquad \delta^L_{\text{softmax+LL}} = a^L - y"
    )
    m1, m2, m3, m4, m5, m6 = st.columns(6)
    with m1:
        m_eta_q = widgets.stepped("η, quadratic", "m_eta_q", ETA_CHOICES, 2.0)
    with m2:
        m_eta = widgets.stepped("η, the other two", "m_eta", ETA_CHOICES, 0.5)
    with m3:
        m_epochs = widgets.slider("Epochs", "m_epochs", 2, 30, 10)
    with m4:
        m_n = widgets.stepped("Training digits", "m_n", (500, 1000, 2000, 4000, 8000), 2000)
    with m5:
        m_init = widgets.select(
            "Initial weights",
            "m_init",
            ["normal", "scaled"],
            "normal",
            labels={"normal": "N(0, 1): saturates", "scaled": "N(0, 1/n_in)"},
        )
    with m6:
        m_seed = widgets.seed("m_seed")
    base = MnistExperiment(n_train=int(m_n), epochs=int(m_epochs), weight_init=m_init, seed=m_seed)
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
            title="Validation accuracy on 1,000 held-out digits",
        ),
        "Same data, same seed, same initial weights: only the output layer and its cost differ. "
        "With N(0, 1) weights many sigmoid outputs start saturated, which is where the quadratic "
        "cost stalls; switch to N(0, 1/n_in) and the gap mostly closes.",
    )
    diverged = [f"{name}: {r.diverged_at}" for name, r in results.items() if r.diverged_at]
    if diverged:
        st.warning("Training stopped early: " + "; ".join(diverged))
    acc_at = {n: 100 * r.history.eval_accuracy for n, r in results.items()}
    if all(len(v) > 1 for v in acc_at.values()):
        st.markdown(
            "After one epoch: "
            + ", ".join(f"{n} **{v[1]:.1f}%**" for n, v in acc_at.items())
            + ". After the last: "
            + ", ".join(f"{n} **{v[-1]:.1f}%**" for n, v in acc_at.items())
            + f". The quadratic cost was given η = {m_eta_q:g} against {m_eta:g} for the others, "
            "to make up for σ′ ≤ 1/4. Trained on "
            f"{m_n:,} digits; the book's networks saw 50,000, so its accuracies are higher."
        )


mnist_comparison()

st.info(
    "Cross-entropy repairs the **output** layer only. Every hidden layer still multiplies its "
    "error by σ′(z) on the way back, δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), and in a deep network those "
    f"factors pile up: that is where {link('vanishing-gradients', 'vanishing gradients')} begin."
)
