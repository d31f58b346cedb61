"""One neuron, quadratic cost: it learns slowest exactly when it is most wrong."""

import numpy as np
import streamlit as st

from charts import heatmap, labelled_points, layered, line_chart, vline
from charts.frames import curves_frame, grid_frame, neuron_frame, points_frame
from explain.activations import sigmoid, sigmoid_prime
from explain.neuron import (
    NeuronSetup,
    arrival,
    cost_surface,
    first_epoch_below,
    starts_with_presets,
    train_neuron,
    window,
)
from ui import widgets
from ui.display import show_chart
from ui.neuron_controls import neuron_controls
from ui.site import page_url

st.title("Learning slowdown")
st.markdown(
    "One sigmoid neuron gets the input x and should output y. It starts with weight w₀ and "
    "bias b₀ and learns by gradient descent on the **quadratic cost** C = (a − y)²/2, where "
    "a = σ(wx + b). We would expect it to learn fastest when it is most wrong. It does the "
    "opposite. Pick a preset, or drag the sliders: every number below is recomputed."
)

c = neuron_controls()
starts = starts_with_presets(c.w0, c.b0)
setup = NeuronSetup(starts.w0, starts.b0, c.x, c.y, c.eta, c.epochs, "quadratic")
run = train_neuron(setup)
k = starts.current
me = starts.labels[k]
who = "your neuron" if me == "your start" else f"the neuron that {me}"
frame = neuron_frame(run, list(starts.labels))
if run.diverged_at is not None:
    st.error(f"The neuron's weights overflowed at epoch {run.diverged_at}; showing epochs before.")

# --- 1. the plateau -------------------------------------------------------------------
st.header("1. Watch it learn")
a0 = run.a[0]
reach = [first_epoch_below(np.abs(run.a[:, i] - c.y), 0.5 * abs(a0[i] - c.y)) for i in range(2)]


def epochs_text(n):
    return f"**{n}** epochs" if n is not None else f"more than **{c.epochs}** epochs"


summary = (
    f"Starting close (a = {a0[0]:.2f}), the neuron halves its error |a − y| in "
    f"{epochs_text(reach[0])}; starting badly wrong (a = {a0[1]:.2f}), it needs "
    f"{epochs_text(reach[1])}."
)
if None not in reach and reach[0] > 0:
    summary += f" The bigger mistake takes **{reach[1] / reach[0]:.1f}×** as long to halve."
st.markdown(summary)
left, right = st.columns(2)
with left:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="C",
            color="start",
            color_title="start",
            title="Cost against epoch",
            x_title="epoch",
            y_title="quadratic cost C",
        ),
        "Look at the purple line: from w = 2, b = 2 the cost sits on a plateau for a long "
        "time before it starts to fall.",
    )
with right:
    show_chart(
        line_chart(
            frame,
            x="epoch",
            y="a",
            color="start",
            color_title="start",
            title="Output a against epoch",
            x_title="epoch",
            y_title="output a = σ(wx + b)",
            y_domain=(0, 1),
        ),
        f"The target is y = {c.y:g}. The badly wrong neuron is furthest from it, "
        "yet it moves least.",
    )

# --- 2. why: sigma' -------------------------------------------------------------------
st.header("2. Why: the factor σ′(z)")
if st.session_state.get("epoch", 0) > c.epochs:  # fewer epochs than the inspected one
    st.session_state["epoch"] = c.epochs
epoch = widgets.slider(
    f"Epoch to inspect ({me})",
    "epoch",
    0,
    c.epochs,
    0,
    step=1,
    help="Moves the marker on the sigmoid and the numbers in the formula.",
)
epoch = min(epoch, len(run.epoch) - 1)
z, a, sp = run.z[epoch, k], run.a[epoch, k], run.sigma_prime[epoch, k]
left, right = st.columns([1, 1], gap="large")
with left:
    zs = np.linspace(min(-10.0, z - 1), max(10.0, z + 1), 401)
    show_chart(
        layered(
            line_chart(
                curves_frame(zs, {"σ(z)": sigmoid(zs), "σ′(z)": sigmoid_prime(zs)}),
                x="z",
                y="value",
                color="curve",
                color_title="function",
                title=f"Where the neuron sits at epoch {epoch}",
                x_title="weighted input z = wx + b",
                y_title="value",
            ),
            labelled_points(
                points_frame(z, {"σ(z)": a, "σ′(z)": sp}),
                x="z",
                y="value",
                label="label",
                color="curve",
            ),
        ),
        "Where σ is flat (|z| large), σ′ is nearly 0: the neuron's output barely responds to "
        "any change of w or b, so the gradient is small.",
    )
with right:
    st.markdown(f"At epoch **{epoch}**, for {who}:")
    st.latex(
        rf"""\begin{{aligned}}
        \frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x \\
        &= ({a:.4f} - {c.y:g}) \times {sp:.4f} \times {c.x:g} = {run.dC_dw[epoch, k]:.3g}\\[4pt]
        \frac{{\partial C}}{{\partial b}} &= (a-y)\,\sigma'(z) = {run.dC_db[epoch, k]:.3g}
        \end{{aligned}}"""
    )
    size = "large" if abs(a - c.y) > 0.5 else "small" if abs(a - c.y) < 0.1 else "moderate"
    st.markdown(
        f"The error a − y = **{a - c.y:.3f}** is {size}; σ′(z) = **{sp:.3g}** is "
        f"**{0.25 / sp:,.3g}×** below its maximum of 1/4, and it multiplies everything."
        if sp > 0
        else "σ′(z) has underflowed to 0: this neuron cannot learn at all."
    )
grads = frame.melt(
    id_vars=["epoch", "start"],
    value_vars=["dC_dw", "dC_db"],
    var_name="gradient",
    value_name="size",
)
grads = grads[grads["start"] == me].assign(
    gradient=lambda d: d["gradient"].map({"dC_dw": "|∂C/∂w|", "dC_db": "|∂C/∂b|"}),
    size=lambda d: d["size"].abs(),
)
grads = grads[grads["size"] > 0]
show_chart(
    layered(
        line_chart(
            grads,
            x="epoch",
            y="size",
            color="gradient",
            color_title="gradient",
            title=f"Gradient size against epoch ({me})",
            x_title="epoch",
            y_title="|gradient| (log scale)",
            log_y=True,
        ),
        vline(epoch, f"epoch {epoch}"),
    ),
    "The gradient is the speed of learning. For a badly wrong start it first grows, from "
    "tiny, as the neuron leaves the flat part of σ; that is the plateau in section 1. "
    "∂C/∂w = x · ∂C/∂b, so with x = 1 the two lines coincide.",
)

# --- 3. the cost surface ----------------------------------------------------------------
st.header("3. The ball rolling on the cost surface")
(w_lo, w_hi), (b_lo, b_hi) = window(run)
surface = cost_surface("quadratic", c.x, c.y, (w_lo, w_hi), (b_lo, b_hi), n=41)
grid = grid_frame(surface.w, surface.b, surface.cost, ("w", "b", "cost"))
every = max(1, c.epochs // 60)
path = neuron_frame(run, list(starts.labels), every=every)
ends = path.groupby("start").head(1).assign(label=lambda d: d["start"])
show_chart(
    layered(
        heatmap(
            grid,
            x="w",
            y="b",
            value="cost",
            title="Quadratic cost C(w, b) and the paths taken",
            x_title="weight w",
            y_title="bias b",
            value_title="cost C",
            scheme="greys",
        ),
        line_chart(
            path,
            x="w",
            y="b",
            color="start",
            color_title="start",
            order="epoch",
            title="",
            x_title="weight w",
            y_title="bias b",
            points=True,
        ),
        labelled_points(ends, x="w", y="b", label="label", color="start", color_title="start"),
        height=420,
    ),
    f"One dot every {every} epoch{'s' if every > 1 else ''}, from the labelled start. Dots "
    "bunch up where the surface is flat: on the dark plateau, where σ is saturated and the "
    "slope is nearly zero. Dark is high cost.",
)

# --- 4. the second cause ------------------------------------------------------------------
st.header("4. The second slowdown: arriving")
arr = arrival(run, k)
factors = curves_frame(
    run.epoch,
    {
        "|a − y|": np.abs(run.a[:, k] - c.y),
        "σ′(z)": run.sigma_prime[:, k],
        "|∂C/∂b|": np.abs(run.dC_db[:, k]),
    },
    x_name="epoch",
)
show_chart(
    line_chart(
        factors[factors["value"] > 0],
        x="epoch",
        y="value",
        color="curve",
        color_title="factor",
        title=f"The two factors of the gradient ({me})",
        x_title="epoch",
        y_title="value (log scale)",
        log_y=True,
    ),
    "|∂C/∂b| is the product of the other two lines. Early on σ′(z) keeps it small; later it "
    "is |a − y| that shrinks.",
)
if arr.slow_epoch is not None:
    st.markdown(
        f"The gradient peaks at epoch **{arr.peak_epoch}**. By epoch **{arr.slow_epoch}** it is "
        f"ten times smaller again, because a − y has shrunk, but by then the cost is down to "
        f"**{100 * arr.cost_ratio:.1f}%** of where it started. This slowdown is harmless: "
        "gradient descent slows as it arrives, because there is little left to learn. The first "
        "slowdown is the harmful one: it happens while the neuron is still badly wrong."
    )
else:
    st.markdown(
        "Within these epochs the gradient has not yet fallen to a tenth of its peak. Add epochs "
        "to see gradient descent slow down as it arrives: the factor a − y shrinks as the "
        "output approaches the target."
    )

st.info(
    "The cure for the first slowdown is a cost whose gradient does not carry σ′(z): "
    f"see [The cross-entropy fix]({page_url('cross-entropy')})."
)
