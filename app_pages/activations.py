"""Activation functions: saturation, slopes through depth, zero-centring, and dead ReLUs."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import labelled_points, layered, line_chart, shaded_spans
from charts.frames import curves_frame, history_frame, layers_frame
from explain.activations import ACTIVATIONS, flat_regions, get_activation, sigmoid
from explain.experiments import MnistExperiment
from explain.initializers import WEIGHT_INIT_LABELS
from explain.zero_centred import (
    TwoWeightSetup,
    best,
    eta_scan,
    inputs,
    path,
    same_sign_fraction,
)
from ui import widgets
from ui.cache import depth_gradient_norms, mnist_runs
from ui.display import show_chart
from ui.site import link

SHOWN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]

st.title("Activation functions")
st.markdown(
    "The activation decides two things backpropagation cares about: how large its slope f′(z) "
    "can be (every layer multiplies the gradient by it) and whether its outputs are centred on "
    "zero (they are the next layer's inputs). This page compares sigmoid, tanh, ReLU, leaky "
    "ReLU and ELU on both counts, then shows two failure modes: zig-zag updates from positive "
    "inputs, and ReLU units that die."
)

# --- 1. the functions ------------------------------------------------------------------------
st.header("1. Each function and its slope")
slope = widgets.stepped(
    "Leaky ReLU slope for z < 0", "slope", (0.01, 0.02, 0.05, 0.1, 0.2, 0.3), 0.01
)
z = np.linspace(-6, 6, 601)
cols = st.columns(3)
for i, name in enumerate(SHOWN):
    act = get_activation(name, slope=slope)
    curves = {"f(z)": act.fn(z), "f′(z)": act.prime(z)}
    if name == "tanh":
        curves["2σ(2z) − 1"] = 2 * sigmoid(2 * z) - 1
    frame = curves_frame(z, curves)
    peak = int(np.argmax(act.prime(z)))
    spans = pd.DataFrame(
        [
            {"z0": a, "z1": b, "region": "f′ below 5% of its maximum"}
            for a, b in flat_regions(name, z, slope=slope)
        ]
    )
    layers = [
        line_chart(
            frame,
            x="z",
            y="value",
            color="curve",
            color_title="curve",
            height=220,
            dash="curve" if name == "tanh" else None,
            title=f"{act.name}: max slope {act.prime(z).max():.3g}",
            x_title="z",
            y_title="value",
            y_domain=(-1.5, 3) if name not in ("sigmoid", "tanh") else None,
        ),
        labelled_points(
            pd.DataFrame(
                {
                    "z": [z[peak]],
                    "value": [act.prime(z)[peak]],
                    "curve": ["f′(z)"],
                    "label": [f"max f′ = {act.prime(z)[peak]:.3g}"],
                }
            ),
            x="z",
            y="value",
            label="label",
        ),
    ]
    if len(spans):
        layers.insert(0, shaded_spans(spans, x="z0", x2="z1", label="region"))
    with cols[i % 3]:
        show_chart(
            layered(*layers, height=220),
            {
                "sigmoid": "Grey: saturated, f′ < 5% of 1/4. Its slope never exceeds 1/4, and its "
                "output is always positive.",
                "tanh": "The dashed light-blue curve 2σ(2z) − 1 lies exactly on tanh: a rescaled "
                "sigmoid, centred on 0, with slope 1 at z = 0.",
                "relu": "Slope exactly 1 for z > 0, so no shrinking; exactly 0 for z < 0 (grey), "
                "where the unit passes no gradient at all.",
                "leaky_relu": f"Like ReLU, but slope {slope:g} instead of 0 for z < 0: a switched-"
                "off unit still passes a little gradient.",
                "elu": "Smooth, slope 1 for z > 0, and negative outputs that pull the mean of its "
                "outputs towards 0.",
            }[name],
        )
with cols[2]:
    z0 = 1.3
    st.markdown(
        f"**Check the identity** at z = {z0}: tanh({z0}) = **{np.tanh(z0):.6f}** and "
        f"2σ({2 * z0:g}) − 1 = **{2 * float(sigmoid(np.array(2 * z0))) - 1:.6f}**. "
        "Because tanh′(0) = 1 = 4 · σ′(0), tanh keeps four times more gradient per layer "
        "than sigmoid near zero."
    )

# --- 2. through depth ------------------------------------------------------------------------
st.header("2. Through depth: which activations keep the gradient alive")
c1, c2, c3, c4 = st.columns(4)
with c1:
    depth = widgets.slider("Hidden layers", "depth", 2, 20, 8)
with c2:
    width = widgets.stepped("Neurons per layer", "width", (10, 20, 30, 50, 100, 200), 30)
with c3:
    init_names = ["scaled", "xavier", "he"]
    init = widgets.select(
        "Initial weights",
        "init",
        init_names,
        "scaled",
        labels={k: WEIGHT_INIT_LABELS[k] for k in init_names},
    )
with c4:
    seed = widgets.seed()
norms = {
    ACTIVATIONS[n].name if n != "leaky_relu" else "leaky ReLU": depth_gradient_norms(
        n, depth, width, init, seed, slope
    )
    for n in SHOWN
}
df = pd.concat(
    [
        pd.DataFrame({"hidden layer": np.arange(1, depth + 1), "‖δ‖": v, "activation": name})
        for name, v in norms.items()
    ],
    ignore_index=True,
)
show_chart(
    line_chart(
        df[df["‖δ‖"] > 0],
        x="hidden layer",
        y="‖δ‖",
        color="activation",
        color_title="activation",
        log_y=True,
        points=True,
        x_integer=True,
        title=f"Speed of learning of each layer at initialization ({depth} × {width}, MNIST)",
        x_title="hidden layer (1 = nearest the input)",
        y_title="‖∂C/∂bˡ‖ (log scale)",
    ),
    "A line that climbs steeply from left to right is a vanishing gradient: the first layers "
    "get a tiny fraction of the last layer's gradient. A flat line keeps every layer learning.",
)
ratio = {n: v[-1] / v[0] for n, v in norms.items() if v[0] > 0}
st.markdown(
    "Last hidden layer's gradient divided by the first's: "
    + ", ".join(f"{n} **{r:,.3g}×**" for n, r in ratio.items())
    + f". Weights {WEIGHT_INIT_LABELS[init]}, zero biases, cross-entropy, 500 training digits."
)

# --- 3. zero-centred inputs ---------------------------------------------------------------------
st.header("3. Not zero-centred: updates that zig-zag")
st.markdown(
    "For one training example, ∂C/∂wᵢ = δ · xᵢ. If every input xᵢ is positive (raw pixels, or "
    "the outputs of a sigmoid layer), all of a neuron's weight gradients share the sign of δ: "
    "every update points into the quadrant (+, +) or (−, −). Below, a neuron with two weights "
    "must reach w* = (1, −1), which needs one weight up and the other down."
)
c1, c2 = st.columns(2)
with c1:
    mean = widgets.stepped("Mean of the positive inputs", "mean", (0.5, 1.0, 1.5, 2.0, 3.0), 1.0)
with c2:
    eta2 = widgets.stepped("Learning rate η", "eta2", (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5), 0.1)
setup = TwoWeightSetup(mean=mean, eta=eta2)
x_pos, x_cen = inputs(setup)
paths = {"positive inputs": path(x_pos, setup), "zero-centred inputs": path(x_cen, setup)}
pframe = pd.concat(
    [
        pd.DataFrame({"w₁": p.w[:, 0], "w₂": p.w[:, 1], "step": np.arange(len(p.w)), "inputs": n})
        for n, p in paths.items()
    ],
    ignore_index=True,
)
target = pd.DataFrame({"w₁": [1.0], "w₂": [-1.0], "label": ["target w* = (1, −1)"]})
left, right = st.columns([3, 2], gap="large")
with left:
    show_chart(
        layered(
            line_chart(
                pframe,
                x="w₁",
                y="w₂",
                color="inputs",
                color_title="inputs",
                order="step",
                points=True,
                title="The path of the two weights, from (0, 0)",
                x_title="weight w₁",
                y_title="weight w₂",
                height=380,
            ),
            labelled_points(target, x="w₁", y="w₂", label="label"),
        ),
        "Each dot is one update. The vermillion path can only step along (+, +) or (−, −) "
        "directions, so it reaches the target by zig-zagging; the blue path moves freely.",
    )
with right:
    scans = {
        n: eta_scan(x, setup)
        for n, x in (("positive inputs", x_pos), ("zero-centred inputs", x_cen))
    }

    def steps_text(p):
        if p.diverged:
            return "diverges"
        return (
            f"**{p.steps}** steps" if p.steps is not None else f"more than {setup.max_steps} steps"
        )

    lines = [
        f"- {n}: {steps_text(p)} at η = {eta2:g}; **{100 * same_sign_fraction(p.grads):.0f}%** of "
        "its updates had both components of the same sign"
        for n, p in paths.items()
    ]
    st.markdown("\n".join(lines))
    bests = {n: best(s) for n, s in scans.items()}
    largest = {
        n: s.etas[~np.isnan(s.steps)].max() if (~np.isnan(s.steps)).any() else None
        for n, s in scans.items()
    }
    if all(bests.values()):
        (bp_eta, bp_steps), (bc_eta, bc_steps) = (
            bests["positive inputs"],
            bests["zero-centred inputs"],
        )
        p_steps, c_steps = (p.steps for p in paths.values())
        if p_steps and c_steps and 0.8 < p_steps / c_steps < 1.25:
            same = "At this η both need about the same number of steps: the zig-zag is paid for in "
        else:
            same = "The zig-zag is paid for in "
        st.markdown(
            same + "**stability**. The largest η that still arrives is "
            f"**{largest['positive inputs']:.2g}** for positive inputs and "
            f"**{largest['zero-centred inputs']:.2g}** for centred ones, and at its best η each "
            f"needs **{bp_steps}** and **{bc_steps}** steps."
        )
    scan_df = pd.concat(
        [pd.DataFrame({"η": s.etas, "steps": s.steps, "inputs": n}) for n, s in scans.items()],
        ignore_index=True,
    ).dropna()
    show_chart(
        line_chart(
            scan_df,
            x="η",
            y="steps",
            color="inputs",
            color_title="inputs",
            log_x=True,
            log_y=True,
            points=True,
            title="Steps to reach w* against η",
            x_title="η (log scale)",
            y_title="steps (log scale)",
            height=240,
        ),
        "A line ends where that η no longer converges.",
    )

st.subheader("Zero-centring real digits")
c1, c2, c3 = st.columns(3)
with c1:
    zc_act = widgets.select("Hidden activation", "zc_act", ["tanh", "sigmoid"], "tanh")
with c2:
    zc_epochs = widgets.slider("Epochs", "zc_epochs", 2, 20, 8)
with c3:
    zc_eta = widgets.stepped("η", "zc_eta", (0.02, 0.05, 0.1, 0.2, 0.5), 0.1)
base = MnistExperiment(activation=zc_act, eta=zc_eta, epochs=zc_epochs, n_train=2000, seed=seed)
zc = dict(
    zip(
        ["raw pixels", "mean-subtracted pixels"],
        mnist_runs([base, base.with_(centre=True)], "Training on raw and centred digits"),
    )
)
acc = (
    history_frame(zc, "eval_accuracy")
    .assign(value=lambda d: 100 * d["value"])
    .rename(columns={"run": "inputs"})
)
show_chart(
    line_chart(
        acc,
        x="epoch",
        y="value",
        color="inputs",
        color_title="inputs",
        points=True,
        x_integer=True,
        title=f"[784, 30, 10] {zc_act} network: validation accuracy",
        x_title="epoch",
        y_title="accuracy (%)",
    ),
    "Raw pixels lie in [0, 1], so every input to the first layer is positive. Subtracting each "
    "pixel's mean over the training digits centres them; nothing else changes.",
)
raw, cen = (100 * r.history.eval_accuracy for r in zc.values())
gain1, gain_n = cen[1] - raw[1], cen[-1] - raw[-1]


def points(g: float) -> str:
    return f"**{abs(g):.1f} points {'better' if g >= 0 else 'worse'}**"


st.markdown(
    f"After one epoch: raw **{raw[1]:.1f}%**, centred **{cen[1]:.1f}%** (centring is "
    f"{points(gain1)}); after {zc_epochs}: raw **{raw[-1]:.1f}%**, centred **{cen[-1]:.1f}%** "
    f"({points(gain_n)}). Expect a modest effect: with 784 inputs and a random mix of weight "
    "signs, the first layer's updates are far less constrained than the two-weight neuron's, "
    "and the hidden layer's own outputs (tanh: centred; sigmoid: positive) feed the next layer."
)

# --- 4. dead ReLUs ---------------------------------------------------------------------------
st.header("4. Dead ReLUs")
st.markdown(
    "A ReLU unit whose z is negative for every input passes no gradient (f′ = 0), so nothing "
    "ever changes its incoming weights: it is dead for good. A large learning rate, or biases "
    "that start negative, can kill many units at once. Leaky ReLU keeps a small slope for "
    "z < 0, so a switched-off unit still learns and can come back."
)
c1, c2, c3 = st.columns(3)
with c1:
    bias0 = widgets.stepped(
        "Initial biases (all equal)", "bias0", (-2.0, -1.5, -1.0, -0.5, 0.0), -1.0
    )
with c2:
    dr_eta = widgets.stepped("η", "dr_eta", (0.01, 0.05, 0.1, 0.2, 0.5, 1.0), 0.1)
with c3:
    dr_epochs = widgets.slider("Epochs", "dr_epochs", 2, 20, 8)
dead_base = MnistExperiment(
    sizes=(784, 100, 100, 10),
    cost="log_likelihood",
    weight_init="he",
    bias_init="constant",
    bias_value=bias0,
    eta=dr_eta,
    epochs=dr_epochs,
    n_train=2000,
    seed=seed,
)
dead_runs = dict(
    zip(
        ["ReLU", f"leaky ReLU ({slope:g})"],
        mnist_runs(
            [
                dead_base.with_(activation="relu"),
                dead_base.with_(activation="leaky_relu", slope=slope),
            ],
            "Training ReLU and leaky ReLU networks",
        ),
    )
)
frames = []
for name, r in dead_runs.items():
    if r.diverged_at:
        st.warning(f"{name}: {r.diverged_at}. Lower η.")
    if len(r.history.epoch):
        frames.append(layers_frame(r.history.epoch, 100 * r.history.dead, activation=name))
if frames:
    show_chart(
        line_chart(
            pd.concat(frames, ignore_index=True),
            x="epoch",
            y="value",
            color="layer",
            color_title="hidden layer",
            dash="activation",
            points=True,
            x_integer=True,
            y_domain=(0, 100),
            title="Units that never activate on 1,000 training digits",
            x_title="epoch",
            y_title="dead units (%)",
        ),
        "Solid: ReLU, dashed: leaky ReLU; one colour per hidden layer. A solid line that stays "
        "high is a layer whose units died and can never recover.",
    )
summary = []
for name, r in dead_runs.items():
    if len(r.history.epoch):
        d0, d1 = 100 * r.history.dead[0], 100 * r.history.dead[-1]
        summary.append(
            f"{name}: dead units {', '.join(f'{a:.0f}%→{b:.0f}%' for a, b in zip(d0, d1))} "
            f"(layers 1, 2), validation accuracy **{100 * r.history.eval_accuracy[-1]:.1f}%**"
        )
st.markdown("From the first epoch to the last — " + "; ".join(summary) + ".")
st.info(
    "Activations fix the slope; the other half of a healthy signal is the scale of the initial "
    f"weights: see {link('weight-initialization', 'Weight initialization')}."
)
