"""One neuron, quadratic cost: it learns slowest exactly when it is most wrong."""

import numpy as np
import streamlit as st

from charts import heatmap, labelled_points, layered, line_chart, vline
from charts.figures import sigmoid_marker
from charts.frames import curves_frame, grid_frame, neuron_frame
from explain.neuron import (
    NeuronSetup,
    arrival,
    by_error,
    first_epoch_within,
    starts_with_presets,
    window,
)
from explain.nn.activations import sigmoid, sigmoid_prime
from ui import widgets
from ui.cache import neuron_run, neuron_surface
from ui.display import show_chart
from ui.format import num
from ui.neuron_controls import neuron_controls
from ui.site import link

st.title("Learning slowdown")
st.markdown(
    "One sigmoid neuron gets the input x and should output y. It starts with weight w₀ and "
    "bias b₀ and learns by gradient descent on the **quadratic cost** C = (a − y)²/2, where "
    "a = σ(wx + b). We would expect it to learn fastest when it is most wrong. It does the "
    "opposite. Pick a preset, or drag the sliders: every number below is recomputed."
)

c = neuron_controls()
starts = starts_with_presets(c.w0, c.b0)
run = neuron_run(NeuronSetup(starts.w0, starts.b0, c.x, c.y, c.eta, c.epochs, "quadratic"))
k, me = starts.current, starts.labels[starts.current]
who = "your neuron" if me == "your start" else f"the neuron that {me}"
frame = neuron_frame(run, list(starts.labels))
if (c.x, c.y) != (1.0, 0.0):
    st.caption(
        "The presets' names describe them at x = 1, y = 0; with your x and y the sentences "
        "below rank the starts by their actual error |a − y|."
    )

# --- 1. the plateau -------------------------------------------------------------------
st.header("1. Watch it learn")
err0 = np.abs(run.a[0] - c.y)
halve = [first_epoch_within(run.a[:, i], c.y, 0.5 * err0[i]) for i in range(len(err0))]


def epochs_text(n):
    return f"**{n}** epochs" if n is not None else f"more than **{c.epochs}** epochs"


st.markdown(
    "Epochs until the error |a − y| is half of what it was at the start: "
    + "; ".join(
        f"{starts.labels[i]} (a = {run.a[0, i]:.3f}, error {err0[i]:.3f}): {epochs_text(halve[i])}"
        for i in by_error(run, c.y)
    )
    + "."
)
worst, best = by_error(run, c.y)[0], by_error(run, c.y)[-1]
if halve[worst] is not None and halve[best]:
    ratio = halve[worst] / halve[best]
    st.markdown(
        f"The start with the bigger mistake takes **{ratio:.1f}×** as long to halve it"
        + (" — the opposite of what we would want." if ratio > 1 else ".")
    )
elif halve[worst] is None and halve[best] is not None:
    st.markdown(
        f"The start with the bigger mistake has not halved it within {c.epochs} epochs, "
        f"while the smaller mistake took {halve[best]}."
    )
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
        "Look for a plateau: a start whose cost stays flat for many epochs before it falls. "
        "With the presets it is the purple one (w = 2, b = 2).",
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
        f"The target is y = {c.y:g}. Compare how far each start is from it with how fast it moves.",
    )


# --- 2. why: sigma' -------------------------------------------------------------------
@st.fragment
def why_sigma_prime(c, run, frame, k, me, who):
    """Section 2; owns the epoch slider."""
    st.header("2. Why: the factor σ′(z)")
    epoch = widgets.slider(
        f"Epoch to inspect ({me})",
        "epoch",
        0,
        1000,
        0,
        step=1,
        help="Moves the marker on the sigmoid and the numbers in the formula. "
        "It stops at the last epoch trained.",
    )
    epoch = min(epoch, len(run.epoch) - 1)
    z, a, sp = run.z[epoch, k], run.a[epoch, k], run.sigma_prime[epoch, k]
    left, right = st.columns([1, 1], gap="large")
    with left:
        zs = np.linspace(min(-10.0, z - 1), max(10.0, z + 1), 401)
        show_chart(
            sigmoid_marker(
                zs,
                sigmoid(zs),
                sigmoid_prime(zs),
                z,
                a,
                sp,
                title=f"Where the neuron sits at epoch {epoch}",
                x_title="weighted input z = wx + b",
            ),
            "Where σ is flat (|z| large), σ′ is nearly 0: the output barely responds to any change "
            "of w or b, so the gradient is small.",
        )
    with right:
        st.markdown(f"At epoch **{epoch}**, for {who}:")
        dw, db = run.dC_dw[epoch, k], run.dC_db[epoch, k]
        st.latex(
            rf"""\begin{{aligned}}
            \frac{{\partial C}}{{\partial w}} &= (a-y)\,\sigma'(z)\,x \\
            &= ({a:.4g} - {c.y:g}) \times {num(sp)} \times {num(c.x)} = {num(dw)}\\[4pt]
            \frac{{\partial C}}{{\partial b}} &= (a-y)\,\sigma'(z) = {num(db)}
            \end{{aligned}}"""
        )
        size = "large" if abs(a - c.y) > 0.5 else "small" if abs(a - c.y) < 0.1 else "moderate"
        st.markdown(
            f"The error a − y = **{a - c.y:.3g}** is {size}; σ′(z) = **{sp:.3g}** is "
            f"**{0.25 / sp:,.3g}×** below its maximum of 1/4, and it multiplies everything."
            if sp > 0
            else "σ′(z) has underflowed to 0: this neuron cannot learn at all."
        )
    grads = frame[frame["start"] == me].melt(
        id_vars=["epoch"], value_vars=["dC_dw", "dC_db"], var_name="gradient", value_name="size"
    )
    grads = grads.assign(
        gradient=grads["gradient"].map({"dC_dw": "|∂C/∂w|", "dC_db": "|∂C/∂b|"}),
        size=grads["size"].abs(),
    )
    note = {
        c.x == 0: " With x = 0, ∂C/∂w = 0: the weight cannot learn at all, only the bias.",
        c.x == 1: " With x = 1 the two lines coincide (dashed over solid).",
    }.get(True, "")
    show_chart(
        layered(
            line_chart(
                grads[grads["size"] > 0],
                x="epoch",
                y="size",
                color="gradient",
                color_title="gradient",
                dash="gradient",
                log_y=True,
                title=f"Gradient size against epoch ({me})",
                x_title="epoch",
                y_title="|gradient| (log scale)",
            ),
            vline(epoch, f"epoch {epoch}"),
        ),
        "The gradient is the speed of learning. From a badly wrong start it first grows, from "
        "tiny, as the neuron leaves the flat part of σ: that is the plateau of section 1. "
        "∂C/∂w = x · ∂C/∂b." + note,
    )


why_sigma_prime(c, run, frame, k, me, who)

# --- 3. the cost surface ----------------------------------------------------------------
st.header("3. The ball rolling on the cost surface")
(w_lo, w_hi), (b_lo, b_hi) = window(run)
surface = neuron_surface("quadratic", c.x, c.y, (w_lo, w_hi), (b_lo, b_hi), n=41)
grid = grid_frame(surface.w, surface.b, surface.cost, ("w", "b", "cost"))
every = max(1, c.epochs // 60)
path = neuron_frame(run, list(starts.labels), every=every)
ends = path.groupby("start").head(1).assign(label=lambda d: "start: " + d["start"])
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
            colour_range=("#fcfcfc", "#8a8a8a"),
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
        labelled_points(ends, x="w", y="b", label="label"),
        height=440,
    ),
    f"One dot every {every} epoch{'s' if every > 1 else ''}; each path begins at its labelled "
    "black dot. Darker grey is higher cost. Dots bunch up where the surface is flat: on the "
    "high plateau where σ is saturated (the harmful slowdown), and again near the bottom, "
    "where the slope vanishes as the neuron arrives.",
)

# --- 4. the second cause ------------------------------------------------------------------
st.header("4. The second slowdown: arriving")
long_epochs = max(c.epochs, 2000)
long_run = neuron_run(NeuronSetup((c.w0,), (c.b0,), c.x, c.y, c.eta, long_epochs, "quadratic"))
arr = arrival(long_run, 0)
factors = curves_frame(
    long_run.epoch,
    {
        "|a − y|": np.abs(long_run.a[:, 0] - c.y),
        "σ′(z)": long_run.sigma_prime[:, 0],
        "|∂C/∂b|": np.abs(long_run.dC_db[:, 0]),
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
        title=f"The two factors of the gradient, over {long_epochs} epochs ({me})",
        x_title="epoch",
        y_title="value (log scale)",
        log_y=True,
    ),
    "|∂C/∂b| = |a − y| · σ′(z) is the product of the other two lines. "
    + (
        f"Until epoch {arr.peak_epoch} σ′(z) keeps it small; after that the error |a − y| shrinks."
        if arr.peak_epoch > 0
        else "From this start it is largest at once: σ′(z) is not small here, and the gradient "
        "only shrinks as the error |a − y| does."
    ),
)
if err0[k] < 0.01:
    st.markdown("This neuron starts at its target already: there is nothing left to learn.")
elif arr.slow_epoch is None:
    st.markdown(
        f"Within {long_epochs} epochs the gradient never falls back to a tenth of its peak: "
        "this neuron is still in its first, harmful slowdown (or stuck on the plateau)."
    )
else:
    st.markdown(
        f"The gradient peaks at epoch **{arr.peak_epoch}**. By epoch **{arr.slow_epoch}** it is "
        f"ten times smaller again, but by then the cost is down to **{100 * arr.cost_ratio:.1f}%** "
        "of where it started. This slowdown is harmless: gradient descent slows as it arrives, "
        "because there is little left to learn. The first slowdown is the harmful one: it "
        "happens while the neuron is still badly wrong."
    )
    if c.y in (0.0, 1.0):
        st.markdown(
            f"With y = {c.y:g}, σ′(z) = a(1 − a) is itself about |a − y| near the target, so the "
            "gradient shrinks like (a − y)² and the approach is slower than exponential. For a "
            "target strictly between 0 and 1, σ′ stays away from 0 and only a − y shrinks."
        )

st.info(
    "The cure for the first slowdown is a cost whose gradient does not carry σ′(z): "
    f"see {link('cross-entropy', 'The cross-entropy fix')}."
)
