"""The cross-entropy fix: the sigma' factor cancels, so the bigger the mistake, the faster."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import labelled_points, layered, line_chart
from charts.frames import history_frame, neuron_runs_frame, points_frame
from explain.experiments import MnistExperiment
from explain.neuron import (
    BOOK_ETA,
    ETA_CHOICES,
    NeuronSetup,
    cost_derivation,
    first_epoch_within,
    gradient_profile,
    starts_with_presets,
    train_neuron,
)
from ui import widgets
from ui.cache import mnist_runs
from ui.display import show_chart
from ui.neuron_controls import neuron_controls
from ui.site import page_url

COSTS = {"quadratic": "quadratic", "cross_entropy": "cross-entropy"}

st.title("The cross-entropy fix")
st.markdown(
    f"The same sigmoid neuron as on [Learning slowdown]({page_url('learning-slowdown')}), "
    "trained on two costs: the quadratic cost C = (a − y)²/2 and the **cross-entropy** "
    "C = −[y ln a + (1 − y) ln(1 − a)]. Both are small when a is close to y and large when it "
    "is far, but the gradient of cross-entropy has no σ′(z) in it."
)

c = neuron_controls(show_eta=False)
mode = widgets.radio(
    "Learning rates",
    "eta_mode",
    ["book", "same"],
    "book",
    labels={
        "book": "as in Nielsen's book (η = 0.15 quadratic, 0.005 cross-entropy)",
        "same": "the same η for both",
    },
)
shared = widgets.stepped("Shared η", "eta", ETA_CHOICES, 0.15) if mode == "same" else None
etas = {cost: BOOK_ETA[cost] if shared is None else shared for cost in COSTS}
starts = starts_with_presets(c.w0, c.b0)
k, me = starts.current, starts.labels[starts.current]
runs = {
    label: train_neuron(NeuronSetup(starts.w0, starts.b0, c.x, c.y, etas[cost], c.epochs, cost))
    for cost, label in COSTS.items()
}
frame = neuron_runs_frame(runs, list(starts.labels))

# --- 1. side by side ---------------------------------------------------------------------
st.header("1. Both costs, both starts")
halve = {
    (cost, i): first_epoch_within(run.a[:, i], c.y, 0.5 * abs(run.a[0, i] - c.y))
    for cost, run in runs.items()
    for i in range(len(starts.labels))
}
push = {cost: np.abs(run.dC_dw[0]) for cost, run in runs.items()}
table = pd.DataFrame(
    {
        "start": list(starts.labels),
        "a at epoch 0": runs["quadratic"].a[0],
        **{f"first |∂C/∂w|, {cost}": push[cost] for cost in COSTS.values()},
        **{
            f"epochs to halve, {cost}": [
                str(halve[(cost, i)]) if halve[(cost, i)] is not None else f"> {c.epochs}"
                for i in range(len(starts.labels))
            ]
            for key, cost in COSTS.items()
        },
    }
)
number = st.column_config.NumberColumn(format="%.4g")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={col: number for col in table.columns[1:4]},
)
st.caption(
    f"η = {etas['quadratic']:g} for the quadratic cost and {etas['cross_entropy']:g} for "
    "cross-entropy. “Epochs to halve” counts until |a − y| is half of its value at epoch 0."
)
q, ce = push["quadratic"], push["cross-entropy"]
st.markdown(
    f"At the first step, cross-entropy pushes the badly wrong neuron **harder** than the close "
    f"one ({ce[1]:.3g} against {ce[0]:.3g}); the quadratic cost pushes it **{q[0] / q[1]:.1f}× "
    f"less** ({q[1]:.3g} against {q[0]:.3g})."
)
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
        "Solid lines start close, dashed ones badly wrong. From the badly wrong start, blue "
        "(cross-entropy) moves from the first epoch; vermillion (quadratic) waits on a plateau.",
    )
with right:
    show_chart(
        line_chart(
            frame[frame["size"] > 0],
            x="epoch",
            y="size",
            color="cost",
            color_title="cost",
            dash="start",
            title="Gradient |∂C/∂w| against epoch",
            x_title="epoch",
            y_title="|∂C/∂w| (log scale)",
            log_y=True,
        ),
        "Cross-entropy's gradient is largest at the start, when the neuron is most wrong; the "
        "quadratic cost's is smallest there.",
    )
show_chart(
    line_chart(
        frame,
        x="epoch",
        y="C",
        color="cost",
        color_title="cost",
        dash="start",
        title="Cost against epoch",
        x_title="epoch",
        y_title="cost C (each in its own units)",
    ),
    "The two costs have different scales (cross-entropy is unbounded as a → 1 − y), so compare "
    "the shapes: a plateau, or a fall from the first epoch.",
)
st.markdown(
    "**Why the learning rates differ.** η multiplies the gradient, and the two costs have "
    "different gradients for the same error: the quadratic one carries σ′(z) ≤ 1/4, so it is at "
    "least four times smaller everywhere. The same η is therefore a much bigger step for "
    "cross-entropy; the book lowered it to 0.005 to show that the speed-up does not come from "
    "taking bigger steps. A larger η speeds the quadratic cost up everywhere, but the badly "
    "wrong start stays the slow one: only the shape of the cost can make the gradient grow "
    "with the error."
)

# --- 2. the derivation --------------------------------------------------------------------
st.header("2. Where σ′ goes")
a0 = float(runs["cross-entropy"].a[0, k])
d = cost_derivation(a0, c.y, c.x)
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
    st.markdown(f"In numbers, at the start of the neuron that {me} (a = {a0:.4f}, y = {c.y:g}):")
    st.latex(
        rf"""\begin{{aligned}}
        \frac{{\partial C}}{{\partial a}} &= {d["dC_da"]:.4g}, \quad
          \sigma'(z) = {d["sigma_prime"]:.4g}\\
        \text{{cross-entropy: }}\frac{{\partial C}}{{\partial w}} &= {d["dC_da"]:.4g}
          \times {d["sigma_prime"]:.4g} \times {c.x:g} = {d["cross_entropy"]:.4g}\\
        \text{{quadratic: }}\frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x
          = {d["quadratic"]:.4g}
        \end{{aligned}}"""
    )
    if d["quadratic"] != 0:
        st.markdown(
            f"The large ∂C/∂a of cross-entropy exactly cancels the small σ′(z): its gradient is "
            f"**{abs(d['cross_entropy'] / d['quadratic']):,.3g}×** the quadratic cost's here."
        )

# --- 3. gradient against error -------------------------------------------------------------
st.header("3. The bigger the mistake, the faster it learns?")
zs = np.linspace(-10, 10, 801)
prof = gradient_profile(c.y, zs)
curves = pd.concat(
    [
        pd.DataFrame({"error": prof.error, "gradient": prof.quadratic, "cost": "quadratic"}),
        pd.DataFrame(
            {"error": prof.error, "gradient": prof.cross_entropy, "cost": "cross-entropy"}
        ),
    ],
    ignore_index=True,
)
here = points_frame(
    abs(a0 - c.y),
    {"quadratic": abs(d["quadratic"] / c.x) if c.x else 0.0, "cross-entropy": abs(a0 - c.y)},
    x_name="error",
)
show_chart(
    layered(
        line_chart(
            curves,
            x="error",
            y="gradient",
            color="cost",
            color_title="cost",
            title=f"How hard each cost pushes, against the size of the error (y = {c.y:g})",
            x_title="error |a − y|",
            y_title="|∂C/∂b| = |∂C/∂z|",
        ),
        labelled_points(
            here.rename(columns={"curve": "cost"}),
            x="error",
            y="value",
            label="label",
            color="cost",
            color_title="cost",
        ),
    ),
    "Cross-entropy's push grows in proportion to the error. The quadratic cost's rises, peaks, "
    "and falls back to zero as the error approaches its largest value: a saturated, badly "
    "wrong neuron is pushed least. The dots are the current neuron at epoch 0.",
)

# --- 4. softmax with log-likelihood on MNIST ------------------------------------------------
st.header("4. Many outputs: softmax with log-likelihood")
st.markdown(
    "For a classifier with one output per class, a **softmax** output layer "
    r"a_j = e^{z_j} / Σ_k e^{z_k} with the **log-likelihood** cost C = −ln a_y "
    "has the same property: its output-layer error is δᴸ = ∂C/∂zᴸ = aᴸ − y, with no σ′. "
    "Below, three [784, 30, 10] networks learn the same MNIST digits from the same initial "
    "weights: sigmoid outputs with the quadratic cost, sigmoid outputs with cross-entropy, and "
    "softmax with log-likelihood."
)
st.latex(
    r"\delta^L_{\text{quadratic}} = (a^L - y)\odot\sigma'(z^L) \qquad "
    r"\delta^L_{\text{cross-entropy}} = a^L - y \qquad \delta^L_{\text{softmax+LL}} = a^L - y"
)
m1, m2, m3, m4, m5 = st.columns(5)
with m1:
    m_eta = widgets.stepped("η", "m_eta", ETA_CHOICES, 0.5)
with m2:
    m_epochs = widgets.slider("Epochs", "m_epochs", 2, 30, 10)
with m3:
    m_n = widgets.stepped("Training digits", "m_n", (500, 1000, 2000, 4000, 8000), 2000)
with m4:
    m_init = widgets.select(
        "Initial weights",
        "m_init",
        ["scaled", "normal"],
        "scaled",
        labels={"scaled": "N(0, 1/n_in)", "normal": "N(0, 1): saturates"},
    )
with m5:
    m_seed = widgets.seed("m_seed")
base = MnistExperiment(
    n_train=int(m_n), epochs=int(m_epochs), eta=float(m_eta), weight_init=m_init, seed=m_seed
)
names = {
    "quadratic": "quadratic",
    "cross_entropy": "cross-entropy",
    "log_likelihood": "softmax + log-likelihood",
}
results = dict(
    zip(
        names.values(),
        mnist_runs([base.with_(cost=cost) for cost in names], "Training three networks on MNIST"),
    )
)
acc = history_frame(results, "eval_accuracy").assign(value=lambda d: 100 * d["value"])
acc = acc.rename(columns={"run": "cost"})
show_chart(
    line_chart(
        acc,
        x="epoch",
        y="value",
        color="cost",
        color_title="output layer and cost",
        title="Validation accuracy on 1,000 held-out digits",
        x_title="epoch",
        y_title="accuracy (%)",
        points=True,
        x_integer=True,
    ),
    "Same data, same seed, same initial weights: only the output layer's cost differs.",
)
final = {name: 100 * r.history.eval_accuracy[-1] for name, r in results.items()}
first = {
    name: 100 * r.history.eval_accuracy[1]
    for name, r in results.items()
    if len(r.history.eval_accuracy) > 1
}
diverged = [f"{name}: {r.diverged_at}" for name, r in results.items() if r.diverged_at]
if diverged:
    st.warning("Training stopped early — " + "; ".join(diverged))
if len(first) == 3:
    st.markdown(
        "After one epoch: "
        + ", ".join(f"{n} **{v:.1f}%**" for n, v in first.items())
        + ". After the last: "
        + ", ".join(f"{n} **{v:.1f}%**" for n, v in final.items())
        + f" (trained on {m_n:,} digits, so below the book's figures for 50,000)."
    )

st.info(
    "Cross-entropy repairs the **output** layer only. Every hidden layer still multiplies its "
    "error by σ′(z) on the way back (δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ′(zˡ)), and in a deep network those "
    "factors pile up: that is where [vanishing gradients]("
    + page_url("vanishing-gradients")
    + ") begin."
)
