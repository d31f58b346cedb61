"""Weight initialization: the scale of the first weights decides whether signals survive."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import line_chart
from charts.figures import accuracy_curves, per_layer_histograms
from explain.experiments import MnistExperiment
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.propagation import DeepSetup, predicted_weight_std
from ui import widgets
from ui.cache import mnist_runs, propagation_summary, symmetry_runs
from ui.display import show_chart
from ui.format import nice
from ui.site import link

INIT_KEYS = ["small", "normal", "gaussian", "scaled", "xavier", "he"]
INITS = {k: WEIGHT_INIT_LABELS.get(k, "Gaussian, σ from the slider") for k in INIT_KEYS}
SIGMAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0, 2.0)
SYMMETRY = {"hidden": 30, "epochs": 5}

st.title("Weight initialization")
st.markdown(
    "Before any learning, the initial weights already decide whether a deep network can learn: "
    "each layer multiplies the spread of its inputs by a factor that depends on the scale of its "
    "weights. Too small, and the signal dies out layer by layer; too large, and the units "
    "saturate. Below, 1,000 random inputs go through a stack of layers that has not been "
    "trained at all."
)
seed = widgets.seed()

# --- 1. forward -------------------------------------------------------------------------------
st.header("1. Activations, layer by layer")


DEAD_SIGNAL = {"tanh": "a spike at 0", "sigmoid": "a spike at 0.5", "relu": "a spike at 0 alone"}
FLAT = {
    "tanh": "spikes at ±1",
    "sigmoid": "spikes at 0 and 1",
    "relu": "values piling up at the right edge",
}


def activation_histograms(stats, act, init_text):
    """Each layer's histogram of activations, with what a dead or saturated shape looks like."""
    show_chart(
        per_layer_histograms(
            stats.act_edges,
            stats.act_hist,
            title=f"Distribution of the activations in each layer ({act}, {init_text})",
            x_title="activation",
        ),
        f"All panels share their axes. Look at how the shape changes with depth: "
        f"{DEAD_SIGNAL[act]} means the signal has died out; {FLAT[act]} mean saturated or "
        "exploding units."
        + (
            " ReLU outputs exactly 0 for about half of the values by design, so a tall bar at 0 "
            "is normal; what matters is the spread of the rest."
            if act == "relu"
            else ""
        )
        + (
            f" {100 * stats.act_clipped:.1f}% of the values lie beyond the axis and are counted "
            "in the edge bins."
            if stats.act_clipped > 0.001
            else ""
        ),
    )


def activation_scale(stats, act, layers_idx):
    """Mean, standard deviation and spread per layer beside the share of saturated values."""
    scale = pd.concat(
        [
            pd.DataFrame({"layer": layers_idx, "value": v, "statistic": name})
            for name, v in (
                ("mean", stats.act_mean),
                ("standard deviation", stats.act_std),
                ("spread across inputs", stats.spread),
            )
        ],
        ignore_index=True,
    )
    left, right = st.columns(2, gap="large")
    with left:
        show_chart(
            line_chart(
                scale,
                x="layer",
                y="value",
                color="statistic",
                color_title="statistic",
                points=True,
                x_integer=True,
                height=260,
                title="Mean and standard deviation per layer",
                x_title="layer",
                y_title="activation",
            ),
            "The spread across inputs (each unit's standard deviation over the 1,000 inputs, "
            "averaged over units) is the signal: how differently the layer responds to different "
            "inputs. When it falls to 0, every input looks the same to the next layer, even if "
            "the overall standard deviation stays up (sigmoid units parked at different values).",
        )
    with right:
        sat_name = {
            "tanh": "|a| > 0.99",
            "sigmoid": "a < 0.01 or a > 0.99",
            "relu": "a = 0 exactly",
        }[act]
        show_chart(
            line_chart(
                pd.DataFrame(
                    {"layer": layers_idx, "value": 100 * stats.saturated, "statistic": sat_name}
                ),
                x="layer",
                y="value",
                color="statistic",
                color_title="flat region",
                points=True,
                x_integer=True,
                y_domain=(0, 100),
                height=260,
                title="Share of values in the flat region",
                x_title="layer",
                y_title="values (%)",
            ),
            "Values where the activation is flat pass (almost) no gradient. For ReLU about 50% is "
            "expected at any healthy scale.",
        )


def signal_verdict(stats, act, depth):
    """Whether the signal collapses, saturates, stays healthy, shrinks or grows with depth."""
    s0, s1 = stats.spread[0], stats.spread[-1]
    per_layer = (s1 / s0) ** (1 / max(depth - 1, 1)) if s0 > 0 and s1 > 0 else 0.0
    if s0 > 0 and s1 < 1e-3 * s0:
        return (
            f"**collapses**: by layer {depth} the spread across inputs is {nice(s1)}, so every "
            "input gives the same output"
        )
    if act in ("tanh", "sigmoid") and stats.saturated[-1] > 0.5:
        return (
            f"**saturates**: {100 * stats.saturated[-1]:.0f}% of layer {depth}'s values are in "
            "the flat tails"
        )
    if 0.8 <= per_layer <= 1.25:
        return f"**stays healthy**: the spread changes by only {per_layer:.2f}× per layer"
    if per_layer < 0.8:
        return f"**shrinks** by about {per_layer:.2f}× per layer ({nice(s0)} → {nice(s1)})"
    return f"**grows** by about {per_layer:.2f}× per layer ({nice(s0)} → {nice(s1)})"


def variance_rule(stats, width, w_std, layers_idx):
    """Var(z) = n_in Var(w) E[x^2] with this page's numbers, against the measured Var(z)."""
    st.subheader("The rule, with the numbers")
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown("For z = Σᵢ wᵢ xᵢ with independent terms and zero-mean weights,")
        st.latex(
            rf"""\begin{{aligned}}
        \operatorname{{Var}}(z) &= n_{{in}}\,\operatorname{{Var}}(w)\,\mathbb{{E}}[x^2]\\
        \text{{layer 1: }} &= {width} \times {w_std:.4g}^2 \times 1 = {width * w_std**2:.4g}
        \end{{aligned}}"""
        )
        st.markdown(
            f"So each layer multiplies the mean square of its input by n_in·Var(w) = "
            f"**{nice(width * w_std**2)}** (E[x²] is the variance only for zero-mean inputs, as "
            "in layer 1). Var(w) = 1/n_in keeps the factor at 1. Xavier's 2/(n_in + n_out) "
            "equals 1/n_in for square layers and also balances the backward pass; He's 2/n_in "
            "doubles it because ReLU zeroes half of its inputs, halving E[x²]."
        )
    with right:
        ok = (stats.var_z > 0) & (stats.var_z_rule > 0)
        dev = float(np.max(np.abs(stats.var_z[ok] / stats.var_z_rule[ok] - 1))) if ok.any() else 0.0
        rule = pd.concat(
            [
                pd.DataFrame(
                    {"layer": layers_idx, "value": stats.var_z, "source": "measured Var(z)"}
                ),
                pd.DataFrame(
                    {
                        "layer": layers_idx,
                        "value": stats.var_z_rule,
                        "source": "rule: n·Var(w)·E[x²]",
                    }
                ),
            ],
            ignore_index=True,
        )
        show_chart(
            line_chart(
                rule[rule["value"] > 0],
                x="layer",
                y="value",
                color="source",
                color_title="",
                dash="source",
                points=True,
                x_integer=True,
                log_y=True,
                height=260,
                title="Variance of z per layer: the rule against the measurement",
                x_title="layer",
                y_title="Var(zˡ) (log scale)",
            ),
            (
                "The rule, fed each layer's measured inputs, predicts every layer's Var(z): the "
                "two lines lie on top of each other."
                if dev < 0.15
                else f"The rule, fed each layer's measured inputs, agrees with the measurement to "
                f"within {100 * dev:.0f}%: with {width} units per layer the sum has few terms, so "
                "the particular draw of weights shows."
            ),
        )


def gradient_charts(stats, depth, layers_idx):
    """Section 2: each layer's histogram of dC/dz, then its standard deviation per layer."""
    st.header("2. Gradients, layer by layer")
    show_chart(
        per_layer_histograms(
            stats.grad_edges,
            stats.grad_hist,
            title="Distribution of the gradient ∂C/∂zˡ in each layer",
            x_title="∂C/∂z",
        ),
        "The backward pass starts from a random gradient ∂C/∂aᴸ ~ N(0, 1), multiplied by f′(zᴸ), "
        "and runs right to left. A spike at 0 in the first layers is a vanishing gradient; values "
        "piling up at the edges (the axis is the last layer's range, beyond it values are "
        "clipped) an exploding one.",
    )
    factor = stats.grad_factor_rule
    show_chart(
        line_chart(
            pd.DataFrame(
                {"layer": layers_idx, "value": stats.grad_std, "statistic": "standard deviation"}
            ),
            x="layer",
            y="value",
            color="statistic",
            color_title="statistic",
            points=True,
            x_integer=True,
            log_y=True,
            title="Standard deviation of the gradient per layer",
            x_title="layer",
            y_title="std of ∂C/∂zˡ (log scale)",
            height=240,
        ),
        f"From layer {depth} back to layer 1 the gradient's spread changes by a factor of "
        f"{nice(stats.grad_std[0] / stats.grad_std[-1])}. Going back one layer multiplies its "
        f"variance by about n·Var(w)·E[f′(z)²], here {nice(factor.min())} to "
        f"{nice(factor.max())}: below 1 it vanishes, above 1 it explodes. Saturation alone does "
        "not mean vanishing: with σ = 1 and tanh, large weights can outweigh the small slopes.",
    )


@st.fragment
def propagation(seed):
    """Sections 1 and 2, rerun alone: owns the activation, init, σ, width and depth they share."""
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        act = widgets.select("Activation", "act", ["tanh", "relu", "sigmoid"], "tanh")
    with c2:
        init = widgets.select("Initialization", "init", INIT_KEYS, "small", labels=INITS)
    with c3:
        sigma = widgets.stepped(
            "σ (for the slider option)", "sigma", SIGMAS, 0.05, disabled=init != "gaussian"
        )
    with c4:
        width = widgets.stepped("Neurons per layer", "width", (10, 50, 100, 200, 300, 500), 500)
    with c5:
        depth = widgets.slider("Layers", "depth", 2, 20, 10)
    stats = propagation_summary(
        DeepSetup(depth=depth, width=width, activation=act, init=init, sigma=sigma, seed=seed)
    )
    w_std = predicted_weight_std(init, width, width, sigma)
    init_text = f"Gaussian, σ = {sigma:g}" if init == "gaussian" else INITS[init]
    layers_idx = np.arange(1, depth + 1)
    activation_histograms(stats, act, init_text)
    activation_scale(stats, act, layers_idx)
    st.markdown(f"With {act} and {init_text}, the signal {signal_verdict(stats, act, depth)}.")
    variance_rule(stats, width, w_std, layers_idx)
    # --- 2. backward: the same controls feed it, so it reruns with section 1 ---
    gradient_charts(stats, depth, layers_idx)


propagation(seed)

# --- 3. symmetry -------------------------------------------------------------------------------
st.header("3. Why not start from equal weights?")
st.markdown(
    "If every weight starts equal (zero, or any constant) and the biases too, every hidden unit "
    "computes the same output, receives the same error in backpropagation and makes the same "
    f"update. The units stay identical copies, and a layer of {SYMMETRY['hidden']} behaves like "
    "one neuron."
)
sym = symmetry_runs(SYMMETRY["hidden"], SYMMETRY["epochs"], seed)
labels = {"zeros": "all zero", "constant": "all 0.5", "scaled": "random, N(0, 1/n_in)"}
sdf = pd.concat(
    [
        pd.DataFrame({"epoch": r.epoch, "value": r.spread, "start": labels[k]})
        for k, r in sym.items()
    ],
    ignore_index=True,
)
left, right = st.columns([1, 1], gap="large")
with left:
    show_chart(
        line_chart(
            sdf,
            x="epoch",
            y="value",
            color="start",
            color_title="initial weights",
            points=True,
            x_integer=True,
            title="Difference between hidden units",
            x_title="epoch",
            y_title="largest weight difference",
        ),
        "Both equal starts stay at exactly 0 (their lines overlap) during training: the units "
        "never separate. Random starts differ from the first step and keep diverging.",
    )
with right:
    st.dataframe(
        pd.DataFrame(
            {
                "weights": [labels[k] for k in sym],
                "distinct units": [
                    f"{int(r.distinct[-1])} of {SYMMETRY['hidden']}" for r in sym.values()
                ],
                "accuracy": [f"{100 * r.accuracy[-1]:.1f}%" for r in sym.values()],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        f"[784, {SYMMETRY['hidden']}, 10] sigmoid network, zero biases, "
        f"{SYMMETRY['epochs']} epochs on 1,000 digits, η = 0.5; accuracy on 1,000 validation "
        "digits. A single distinct unit still learns a little: the network is a one-neuron "
        "bottleneck."
    )


# --- 4. training on MNIST ------------------------------------------------------------------------
st.header("4. Training with each initialization")


def training_verdict(a_big, a_small, t_epochs, t_n):
    """Both accuracies after one epoch and at the end, against what Nielsen reports."""
    lead = a_small[1] - a_big[1]
    early = (
        "the scaled start leads early on too"
        if lead > 1.5
        else "N(0, 1) leads early on here, unlike in the book"
        if lead < -1.5
        else "the two start about level here"
    )
    late = a_small[-1] - a_big[-1]
    return (
        f"After one epoch: N(0, 1) **{a_big[1]:.1f}%**, N(0, 1/n_in) **{a_small[1]:.1f}%**; after "
        f"{t_epochs}: **{a_big[-1]:.1f}%** and **{a_small[-1]:.1f}%** ({late:+.1f} points). "
        "Nielsen, with 50,000 training digits and 30 epochs, finds the scaled initialization far "
        f"ahead early on and both ending near 96%. With our {t_n:,} digits {early}; by the last "
        "epoch " + ("the gap has closed." if abs(late) < 1.5 else "a gap remains.")
    )


@st.fragment
def training(seed):
    """Section 4, rerun alone: owns the hidden neurons, epochs and number of training digits."""
    c1, c2, c3 = st.columns(3)
    with c1:
        hidden = widgets.select("Hidden neurons", "hidden", [30, 100], 30)
    with c2:
        t_epochs = widgets.slider("Epochs", "t_epochs", 2, 30, 10)
    with c3:
        t_n = widgets.stepped("Training digits", "t_n", (1000, 2000, 4000, 8000), 8000)
    base = MnistExperiment(
        sizes=(784, hidden, 10), eta=0.1, lmbda=5.0, epochs=t_epochs, n_train=t_n, seed=seed
    )
    runs = dict(
        zip(
            ["N(0, 1)", "N(0, 1/n_in)"],
            mnist_runs(
                [base.with_(weight_init="normal"), base.with_(weight_init="scaled")],
                "Training with both initializations",
            ),
        )
    )
    show_chart(
        accuracy_curves(
            runs,
            legend="initial weights",
            title=f"Validation accuracy, [784, {hidden}, 10] sigmoid network",
        ),
        "Same network, data, seed and learning rate (η = 0.1, λ = 5, mini-batch 10): only the "
        "scale of the initial weights differs. Accuracy on 1,000 validation digits (about ±1 "
        "point).",
    )
    a_big, a_small = (100 * r.history.eval_accuracy for r in runs.values())
    if min(len(a_big), len(a_small)) > 1:
        st.markdown(training_verdict(a_big, a_small, t_epochs, t_n))


training(seed)
st.info(
    "The scale of the weights matters because of the activation's slope: see "
    f"{link('activations', 'Activation functions')} and "
    f"{link('vanishing-gradients', 'Vanishing and exploding gradients')}."
)
