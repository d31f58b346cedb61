"""Activation functions: saturation, slopes through depth, zero-centring, and dead ReLUs."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import labelled_points, layered, line_chart, range_rules, shaded_spans
from charts.frames import curves_frame, layers_frame
from explain.experiments import MnistExperiment
from explain.nn.activations import flat_regions, get_activation, sigmoid
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.zero_centred import (
    ETA_GRID,
    TwoWeightSetup,
    best,
    same_sign_fraction,
)
from ui import widgets
from ui.cache import depth_gradient_norms, mnist_runs, zig_zag_runs
from ui.display import show_chart
from ui.format import nice, plural
from ui.site import link

SHOWN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]
NAMES = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "elu": "ELU",
}

st.title("Activation functions")
st.markdown(
    "The activation decides two things backpropagation cares about: how large its slope f′(z) "
    "can be (every layer multiplies the gradient by it) and whether its outputs are centred on "
    "zero (they are the next layer's inputs). This page compares sigmoid, tanh, ReLU, leaky "
    "ReLU and ELU on both counts, then shows two failure modes: zig-zag updates from positive "
    "inputs, and ReLU units that die."
)
seed = widgets.seed()

# --- 1. the functions ------------------------------------------------------------------------
st.header("1. Each function and its slope")
slope = widgets.stepped(
    "Leaky ReLU slope for z < 0", "slope", (0.01, 0.02, 0.05, 0.1, 0.2, 0.3), 0.01
)
z = np.linspace(-6, 6, 601)
CAPTIONS = {
    "sigmoid": "Grey: saturated, f′ below 5% of its maximum. The slope never exceeds 1/4, and "
    "the output is always positive.",
    "tanh": "The light-blue dots, 2σ(2z) − 1, lie exactly on tanh: a rescaled sigmoid, centred "
    "on 0, with slope 1 at z = 0. Grey: saturated, where tanh′ is below 5% of 1.",
    "relu": "Slope exactly 1 for z > 0, so no shrinking; exactly 0 for z < 0 (grey), where the "
    "unit passes no gradient at all.",
    "leaky_relu": f"Like ReLU, but slope {slope:g} instead of 0 for z < 0 (grey: below 5% of "
    "the maximum slope, yet not zero): a switched-off unit still passes a little gradient.",
    "elu": "Smooth, slope 1 for z > 0, and negative outputs down to −1 that pull the mean of "
    "its outputs towards 0. Grey: flat, for very negative z.",
}
cols = st.columns(3)
for i, name in enumerate(SHOWN):
    act = get_activation(name, slope=slope)
    fz, pz = act.fn(z), act.prime(z)
    peak = int(np.argmax(pz))
    spans = pd.DataFrame(
        [
            {"z0": a, "z1": b, "region": "f′ below 5% of its maximum"}
            for a, b in flat_regions(name, z, slope=slope)
        ]
    )
    layers = [
        line_chart(
            curves_frame(z, {"f(z)": fz, "f′(z)": pz}),
            x="z",
            y="value",
            color="curve",
            color_title="curve",
            height=220,
            title=f"{act.name}: max slope {pz.max():.3g}",
            x_title="z",
            y_title="value",
            y_domain={"sigmoid": (-0.1, 1.1), "tanh": (-1.3, 1.3)}.get(name, (-1.5, 3)),
        ),
        labelled_points(
            pd.DataFrame(
                {"z": [z[peak]], "value": [pz[peak]], "label": [f"max f′ = {pz[peak]:.3g}"]}
            ),
            x="z",
            y="value",
            label="label",
        ),
    ]
    if name == "tanh":
        every = slice(0, None, 20)
        check = curves_frame(z[every], {"2σ(2z) − 1": 2 * sigmoid(2 * z[every]) - 1})
        layers.append(
            line_chart(
                check,
                x="z",
                y="value",
                color="curve",
                color_title="curve",
                title="",
                x_title="z",
                y_title="value",
                height=220,
            ).mark_point(filled=True, size=30)
        )
    if len(spans):
        layers.insert(0, shaded_spans(spans, x="z0", x2="z1", label="region"))
    with cols[i % 3]:
        show_chart(layered(*layers, height=220), CAPTIONS[name])
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


@st.fragment
def through_depth(seed, slope):
    """Section 2, rerun alone: owns the number of hidden layers, their width and the init."""
    c1, c2, c3 = st.columns(3)
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
    label = {n: NAMES[n] + (f" ({slope:g})" if n == "leaky_relu" else "") for n in SHOWN}
    norms = {label[n]: depth_gradient_norms(n, depth, width, init, seed, slope) for n in SHOWN}
    df = pd.concat(
        [
            pd.DataFrame({"hidden layer": np.arange(1, depth + 1), "‖δ‖": v, "activation": name})
            for name, v in norms.items()
        ],
        ignore_index=True,
    ).assign(activation=lambda d: d["activation"].str.replace(r" \(.*\)", "", regex=True))
    ratio = {n: v[-1] / v[0] for n, v in norms.items() if v[0] > 0}
    close = abs(np.log(ratio.get("ReLU", 1) / ratio.get(label["leaky_relu"], 1))) < 0.1
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
        "get a tiny fraction of the last layer's gradient. A flat line keeps every layer learning."
        + (
            " ReLU and leaky ReLU nearly coincide here (the purple line hides the green one)."
            if close
            else ""
        ),
    )
    st.markdown(
        "Last hidden layer's gradient divided by the first's: "
        + ", ".join(f"{n} **{nice(r)}×**" for n, r in ratio.items())
        + f". Weights {WEIGHT_INIT_LABELS[init]}, zero biases, cross-entropy, 500 training digits."
    )


through_depth(seed, slope)

# --- 3. zero-centred inputs ---------------------------------------------------------------------
st.header("3. Not zero-centred: updates that zig-zag")
st.markdown(
    "For one training example, ∂C/∂wᵢ = δ · xᵢ. If every input xᵢ is positive (raw pixels, or "
    "the outputs of a sigmoid layer), all of a neuron's weight gradients share the sign of δ: "
    "every update points into the quadrant (+, +) or (−, −). Below, a linear neuron with two "
    "weights learns from one example at a time and must reach w* = (1, −1), which needs one "
    "weight up and the other down."
)


def path_chart(paths, eta2):
    """The two weights' paths from (0, 0), for positive and for centred inputs."""
    pframe = pd.concat(
        [
            pd.DataFrame(
                {"w₁": p.w[:, 0], "w₂": p.w[:, 1], "step": np.arange(len(p.w)), "inputs": n}
            )
            for n, p in paths.items()
        ],
        ignore_index=True,
    )
    target = pd.DataFrame({"w₁": [1.0], "w₂": [-1.0], "label": ["target w* = (1, −1)"]})
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
                title=f"The path of the two weights from (0, 0), η = {eta2:g}",
                x_title="weight w₁",
                y_title="weight w₂",
                height=380,
                x_domain=(-0.6, 1.6),
                y_domain=(-1.6, 0.6),
            ),
            labelled_points(target, x="w₁", y="w₂", label="label"),
            height=380,
        ),
        "Each dot is one update. Vermillion (positive inputs) can only step along (+, +) or "
        "(−, −), so it zig-zags across the diagonal; blue (centred inputs) can also step "
        "sideways, though each single example still makes it jitter."
        + (
            " The positive-input run diverged and left the picture."
            if paths["positive inputs"].diverged
            else ""
        ),
    )


def steps_comparison(paths):
    """How the two runs' step counts compare at the chosen η ('' if either never arrives)."""
    p_steps, c_steps = (p.steps for p in paths.values())
    if not (p_steps and c_steps):
        return ""
    if p_steps < 0.8 * c_steps:
        return (
            "At this η the positive inputs even arrive sooner "
            f"({p_steps} against {c_steps} steps). "
        )
    if p_steps > 1.25 * c_steps:
        return f"At this η the positive inputs need {p_steps / c_steps:.1f}× the steps. "
    return "At this η both need about the same number of steps. "


def zig_zag_verdict(paths, scans, setup):
    """Steps and same-sign updates of each run, then what centring buys: stability."""

    def steps_text(p):
        if p.diverged:
            return "diverges"
        return (
            f"**{p.steps}** steps" if p.steps is not None else f"more than {setup.max_steps} steps"
        )

    st.markdown(
        "\n".join(
            f"- {n}: {steps_text(p)} at η = {setup.eta:g}; "
            f"**{100 * same_sign_fraction(p.grads):.0f}%** "
            "of its updates had both components of the same sign"
            for n, p in paths.items()
        )
    )
    bests = {n: best(s) for n, s in scans.items()}
    top = max(ETA_GRID)

    def largest(s) -> str:
        ok = s.etas[~np.isnan(s.steps)]
        if not len(ok):
            return "none of those tried"
        return f"≥ {top:g} (the largest tried)" if ok.max() >= top else f"{ok.max():.2g}"

    if all(bests.values()):
        (bp_eta, bp_steps), (bc_eta, bc_steps) = bests.values()
        st.markdown(
            steps_comparison(paths)
            + "The cost of non-centred inputs is **stability**: the mean adds a steep direction "
            "along (1, 1) that caps the usable η, while the direction that matters, (1, −1), "
            "is just as shallow for both. The largest η that still arrives is "
            f"**{largest(scans['positive inputs'])}** for positive inputs and "
            f"**{largest(scans['zero-centred inputs'])}** for centred ones; each at its best η "
            f"({bp_eta:.2g} and {bc_eta:.2g}) needs **{bp_steps}** and **{bc_steps}** steps."
        )


def scan_chart(scans):
    """Steps to reach w* against η, for positive and for centred inputs."""
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
            title="Steps to reach w* against η (each point a separate run)",
            x_title="η (log scale)",
            y_title="steps (log scale)",
            height=240,
        ),
        "Where the two lines overlap, centring changes nothing; the vermillion line stops at the "
        f"largest η that still converges for positive inputs. η beyond {max(ETA_GRID):g} was not "
        "tried.",
    )


@st.fragment
def zig_zag(seed):
    """The two-weight neuron, rerun alone: owns the mean of the inputs and the learning rate."""
    c1, c2 = st.columns(2)
    with c1:
        mean = widgets.stepped(
            "Mean of the positive inputs", "mean", (0.5, 1.0, 1.5, 2.0, 3.0), 1.0
        )
    with c2:
        eta2 = widgets.stepped(
            "Learning rate η", "eta2", (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5), 0.1
        )
    setup = TwoWeightSetup(mean=mean, eta=eta2, seed=seed)
    paths, scans = zig_zag_runs(setup)
    left, right = st.columns([3, 2], gap="large")
    with left:
        path_chart(paths, eta2)
    with right:
        zig_zag_verdict(paths, scans, setup)
    scan_chart(scans)


zig_zag(seed)

st.subheader("Zero-centring real digits")


def centring_chart(acc_by, n_used, zc_act):
    """Validation accuracy per epoch on raw and on mean-subtracted digits, mean and range."""
    band = pd.concat(
        [
            pd.DataFrame(
                {
                    "epoch": np.arange(a.shape[1]),
                    "value": a.mean(0),
                    "lo": a.min(0),
                    "hi": a.max(0),
                    "inputs": n,
                }
            )
            for n, a in acc_by.items()
        ],
        ignore_index=True,
    )
    show_chart(
        layered(
            line_chart(
                band,
                x="epoch",
                y="value",
                color="inputs",
                color_title="inputs",
                points=True,
                x_integer=True,
                y_domain=(max(0, band["lo"].iloc[1:].min() - 5), 100),
                title=f"[784, 30, 10] {zc_act} network: validation accuracy "
                f"(mean of {n_used} seeds)",
                x_title="epoch",
                y_title="accuracy (%)",
            ),
            range_rules(band, x="epoch", lo="lo", hi="hi", color="inputs"),
        ),
        "Raw pixels lie in [0, 1], so every input to the first layer is positive; subtracting "
        "each pixel's mean over the training digits centres them. Bars: lowest to highest of "
        "the seeds. Accuracy is measured on 1,000 validation digits (about ±1 point).",
    )


def centring_verdict(acc_by, n_used, zc_epochs):
    """What centring changed after one epoch and at the end, against the noise."""
    raw, cen = (a.mean(0) for a in acc_by.values())
    gains = cen - raw
    return (
        f"Averaged over {n_used} seeds, centring changes the accuracy by "
        f"**{gains[1]:+.1f} points** after one epoch and **{gains[-1]:+.1f}** after "
        f"{plural(zc_epochs, 'epoch')}. "
        "Differences under about 1 point are within the noise of 1,000 validation digits. "
        + (
            "Here centring clearly speeds up the start, as the two-weight neuron predicts: "
            "larger learning rates, where stability matters, show it best."
            if gains[1] > 3
            else "Here centring made the start worse, an exception to the rule: try other "
            "seeds or learning rates."
            if gains[1] < -3
            else "Here the effect is modest: with 784 inputs the first layer is far less "
            "constrained than the two-weight neuron; try a larger η, where stability matters."
        )
    )


@st.fragment
def zero_centring_digits(seed):
    """Raw against centred digits, rerun alone: owns the activation, epochs and η."""
    c1, c2, c3 = st.columns(3)
    with c1:
        zc_act = widgets.select("Hidden activation", "zc_act", ["tanh", "sigmoid"], "tanh")
    with c2:
        zc_epochs = widgets.slider("Epochs", "zc_epochs", 2, 20, 6)
    with c3:
        zc_eta = widgets.stepped("η", "zc_eta", (0.02, 0.05, 0.1, 0.2, 0.5), 0.5)
    seeds = (seed, seed + 1, seed + 2)
    base = MnistExperiment(activation=zc_act, eta=zc_eta, epochs=zc_epochs, n_train=2000)
    exps = [base.with_(seed=s, centre=c) for c in (False, True) for s in seeds]
    runs = mnist_runs(exps, "Training on raw and centred digits, three seeds each")
    acc_by = {
        name: np.array(
            [100 * r.history.eval_accuracy for r in runs[i * 3 : i * 3 + 3] if not r.diverged_at]
        )
        for i, name in enumerate(["raw pixels", "mean-subtracted pixels"])
    }
    n_used = min(len(a) for a in acc_by.values())
    if n_used:
        centring_chart(acc_by, n_used, zc_act)
        st.markdown(centring_verdict(acc_by, n_used, zc_epochs))
    else:
        st.warning("Some runs diverged: lower η.")


zero_centring_digits(seed)

# --- 4. dead ReLUs ---------------------------------------------------------------------------
st.header("4. Dead ReLUs")
st.markdown(
    "A ReLU unit whose z is negative for every input passes no gradient (f′ = 0): nothing "
    "changes its incoming weights, and unless an earlier layer changes what it receives, it "
    "stays off. Biases that start negative can switch off whole layers at once; so can a step "
    "that is too large. A leaky ReLU unit in the same state still passes slope × δ, so it keeps "
    "learning and can come back."
)


def dead_charts(ok):
    """Two charts per layer and epoch: units with no gradient, and units never positive."""
    left, right = st.columns(2)
    for col, field, title, note in (
        (
            left,
            "no_gradient",
            "Units that get no gradient (cannot learn)",
            "Share of each layer's units whose error δ is exactly 0 on every probe digit: their "
            "weights cannot change. Solid: ReLU, dashed: leaky ReLU.",
        ),
        (
            right,
            "dead",
            "Units never positive on the probe digits",
            "Share of units with z ≤ 0 on all 1,000 probe digits. For ReLU they output 0 and pass "
            "no gradient; leaky units there still learn, and a falling dashed line is units "
            "coming back.",
        ),
    ):
        frames = [
            layers_frame(r.history.epoch, 100 * getattr(r.history, field), activation=n)
            for n, r in ok.items()
        ]
        if frames:
            with col:
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
                        title=title,
                        x_title="epoch",
                        y_title="units (%)",
                        height=260,
                    ),
                    note,
                )


def dead_summary(ok, leaky_name, dr_epochs):
    """Each network's stuck units from start to end, then whether the leaky one escaped."""
    lines = []
    for name, r in ok.items():
        h = r.history
        last = int(h.epoch[-1])
        lines.append(
            f"- **{name}**, from initialization to epoch {last}: no gradient "
            + ", ".join(
                f"{100 * a:.0f}% → {100 * b:.0f}%"
                for a, b in zip(h.no_gradient[0], h.no_gradient[-1])
            )
            + "; never positive "
            + ", ".join(f"{100 * a:.0f}% → {100 * b:.0f}%" for a, b in zip(h.dead[0], h.dead[-1]))
            + f" (layers 1, 2); validation accuracy **{100 * h.eval_accuracy[-1]:.1f}%**."
        )
    st.markdown("\n".join(lines))
    if "ReLU" not in ok or leaky_name not in ok:
        return
    relu_acc, leaky_acc = (100 * ok[n].history.eval_accuracy[-1] for n in ("ReLU", leaky_name))
    stuck = ok["ReLU"].history.no_gradient[-1].max()
    if stuck > 0.5 and leaky_acc > relu_acc + 5:
        st.markdown(
            f"Here the ReLU network is stuck ({100 * stuck:.0f}% of a layer cannot learn) while "
            f"the leaky one trains to {leaky_acc:.1f}%."
        )
    elif stuck > 0.5:
        st.markdown(
            f"Here {100 * stuck:.0f}% of a ReLU layer cannot learn. The leaky units all still "
            f"receive a gradient, but within {plural(dr_epochs, 'epoch')} they have not come "
            "back far enough to help: add epochs or raise the leaky slope in section 1."
        )
    else:
        st.markdown(
            "Here the two end close together: the switched-off units did not stop the ReLU "
            "network from learning. Try the negative-bias preset to see a layer die completely."
        )


@st.fragment
def dead_relus(seed, slope):
    """Section 4, rerun alone: owns the presets, the initial biases, η and the epochs."""
    widgets.preset_buttons(
        {"bias": {"bias0": -1.0, "dr_eta": 0.1}, "step": {"bias0": 0.0, "dr_eta": 0.5}},
        {
            "bias": "Negative initial biases (−1, η = 0.1)",
            "step": "Large steps (biases 0, η = 0.5)",
        },
        key="dead_preset",
    )
    c1, c2, c3 = st.columns(3)
    with c1:
        bias0 = widgets.stepped(
            "Initial biases (all equal)", "bias0", (-2.0, -1.5, -1.0, -0.5, 0.0), -1.0
        )
    with c2:
        dr_eta = widgets.stepped("η", "dr_eta", (0.01, 0.05, 0.1, 0.2, 0.5, 1.0), 0.1)
    with c3:
        dr_epochs = widgets.slider("Epochs", "dr_epochs", 2, 20, 6)
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
    leaky_name = f"leaky ReLU ({slope:g})"
    dead_runs = dict(
        zip(
            ["ReLU", leaky_name],
            mnist_runs(
                [
                    dead_base.with_(activation="relu"),
                    dead_base.with_(activation="leaky_relu", slope=slope),
                ],
                "Training ReLU and leaky ReLU networks",
            ),
        )
    )
    ok = {n: r for n, r in dead_runs.items() if len(r.history.epoch) > 1}
    for name, r in dead_runs.items():
        if r.diverged_at:
            st.warning(f"{name}: {r.diverged_at}; its curves stop there. Lower η to compare.")
    dead_charts(ok)
    dead_summary(ok, leaky_name, dr_epochs)


dead_relus(seed, slope)
st.info(
    "Activations fix the slope; the other half of a healthy signal is the scale of the initial "
    f"weights: see {link('weight-initialization', 'Weight initialization')}."
)
