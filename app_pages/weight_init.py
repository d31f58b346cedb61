"""Weight initialization: the scale of the first weights decides whether signals survive."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import histogram_grid, line_chart
from charts.frames import histograms_frame, history_frame
from explain.experiments import MnistExperiment
from explain.propagation import DeepSetup, layer_histograms, layer_moments, predicted_weight_std
from ui import widgets
from ui.cache import deep_propagation, mnist_runs, symmetry_runs
from ui.display import show_chart
from ui.site import link

INITS = {
    "small": "Gaussian, σ = 0.01",
    "normal": "Gaussian, σ = 1",
    "gaussian": "Gaussian, σ from the slider",
    "xavier": "Xavier: σ² = 2 / (n_in + n_out)",
    "he": "He: σ² = 2 / n_in",
}
SIGMAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0, 2.0)

st.title("Weight initialization")
st.markdown(
    "Before any learning, the initial weights already decide whether a deep network can learn: "
    "each layer multiplies the spread of its inputs by a factor that depends on the scale of its "
    "weights. Too small, and the signal dies out layer by layer; too large, and the units "
    "saturate. Below, 1,000 random inputs go through a stack of layers that has not been "
    "trained at all."
)

# --- 1. forward -------------------------------------------------------------------------------
st.header("1. Activations, layer by layer")
c1, c2, c3, c4, c5 = st.columns(5)
with c1:
    act = widgets.select("Activation", "act", ["tanh", "relu", "sigmoid"], "tanh")
with c2:
    init = widgets.select("Initialization", "init", list(INITS), "small", labels=INITS)
with c3:
    sigma = widgets.stepped("σ (for the slider option)", "sigma", SIGMAS, 0.05)
with c4:
    width = widgets.stepped("Neurons per layer", "width", (10, 50, 100, 200, 300, 500), 500)
with c5:
    depth = widgets.slider("Layers", "depth", 2, 20, 10)
seed = widgets.seed()
setup = DeepSetup(depth=depth, width=width, activation=act, init=init, sigma=sigma, seed=seed)
prop = deep_propagation(setup)
names = [f"layer {k + 1}" for k in range(depth)]
mean, std = layer_moments(prop.activations)
limit = (
    1.0
    if act in ("tanh", "sigmoid")
    else max(float(np.percentile(np.abs(prop.activations[0]), 99.5)), 1e-12)
)
hist = layer_histograms(prop.activations, bins=40, limit=limit)
show_chart(
    histogram_grid(
        histograms_frame(hist.edges, hist.fractions, names),
        x="lo",
        x2="hi",
        y="share",
        panel="layer",
        panel_order=names,
        title=f"Distribution of the activations in each layer ({act}, {INITS[init].split(':')[0]})",
        x_title="activation value",
        y_title="share of values",
    ),
    "All panels share their axes. Look for the shape to change with depth: a spike at 0 means "
    "the signal has died out; spikes at ±1 (tanh) or 0 and 1 (sigmoid) mean saturated units.",
)
moments = pd.concat(
    [
        pd.DataFrame({"layer": np.arange(1, depth + 1), "value": mean, "statistic": "mean"}),
        pd.DataFrame(
            {"layer": np.arange(1, depth + 1), "value": std, "statistic": "standard deviation"}
        ),
    ],
    ignore_index=True,
)
left, right = st.columns([3, 2], gap="large")
with left:
    show_chart(
        line_chart(
            moments,
            x="layer",
            y="value",
            color="statistic",
            color_title="statistic",
            points=True,
            x_integer=True,
            title="Mean and standard deviation per layer",
            x_title="layer",
            y_title="activation",
        ),
        "A healthy network keeps the standard deviation roughly level from layer to layer.",
    )
with right:
    w_std = predicted_weight_std(init, width, width, sigma)
    var_x = 1.0  # the inputs are N(0, 1)
    st.markdown("**The rule.** For z = Σᵢ wᵢ xᵢ with independent, zero-mean terms,")
    st.latex(
        rf"""\begin{{aligned}}
        \operatorname{{Var}}(z) &= n_{{in}}\,\operatorname{{Var}}(w)\,\operatorname{{Var}}(x)\\
        &= {width} \times {w_std:.4g}^2 \times {var_x:g} = {width * w_std**2 * var_x:.4g}
        \end{{aligned}}"""
    )
    st.markdown(
        "So a layer multiplies the variance by n_in·Var(w) = "
        f"**{width * w_std**2:.3g}** before the activation. Var(w) = 1/n_in keeps it at 1; "
        "Xavier's 2/(n_in + n_out) is the same for "
        "square layers and also keeps the backward pass level; He's 2/n_in doubles it because "
        "ReLU zeroes half of its inputs."
    )
    ratio = std[-1] / std[0] if std[0] > 0 else float("nan")
    st.markdown(
        f"Measured: the activations' standard deviation goes from **{std[0]:.3g}** in layer 1 to "
        f"**{std[-1]:.3g}** in layer {depth}, a factor of **{ratio:.3g}**."
    )

# --- 2. backward ------------------------------------------------------------------------------
st.header("2. Gradients, layer by layer")
gmean, gstd = layer_moments(prop.grads)
glimit = max(float(np.percentile(np.abs(prop.grads[-1]), 99.5)), 1e-12)
ghist = layer_histograms(prop.grads, bins=40, limit=glimit)
show_chart(
    histogram_grid(
        histograms_frame(ghist.edges, ghist.fractions, names),
        x="lo",
        x2="hi",
        y="share",
        panel="layer",
        panel_order=names,
        color=None,
        title="Distribution of the gradient ∂C/∂zˡ in each layer",
        x_title="gradient value (clipped to the last layer's range)",
        y_title="share of values",
    ),
    "Values beyond the last layer's range are clipped to its edges. "
    "The backward pass starts at the last layer with a unit-variance gradient. Read right to "
    "left: a spike at 0 in the first layers is a vanishing gradient; values piling up at the "
    "clipped edges of the range are an exploding one.",
)
show_chart(
    line_chart(
        pd.DataFrame(
            {"layer": np.arange(1, depth + 1), "value": gstd, "statistic": "standard deviation"}
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
    f"{gstd[0] / gstd[-1]:.3g}.",
)

# --- 3. symmetry -------------------------------------------------------------------------------
st.header("3. Why not start from equal weights?")
st.markdown(
    "If every weight starts equal (zero, or any constant) and the biases too, every hidden unit "
    "computes the same output, receives the same error in backpropagation and makes the same "
    "update. The units stay identical copies, and a layer of 30 behaves like one neuron."
)
sym = symmetry_runs(30, 5, seed)
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
                "initial weights": [labels[k] for k in sym],
                "distinct hidden units after training": [int(r.distinct[-1]) for r in sym.values()],
                "validation accuracy": [f"{100 * r.accuracy[-1]:.1f}%" for r in sym.values()],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption("[784, 30, 10] sigmoid network, zero biases, 5 epochs on 1,000 digits, η = 0.5.")

# --- 4. training on MNIST ------------------------------------------------------------------------
st.header("4. Training with each initialization")
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
acc = history_frame(runs, "eval_accuracy").assign(value=lambda d: 100 * d["value"])
show_chart(
    line_chart(
        acc.rename(columns={"run": "initial weights"}),
        x="epoch",
        y="value",
        color="initial weights",
        color_title="initial weights",
        points=True,
        x_integer=True,
        title=f"Validation accuracy, [784, {hidden}, 10] sigmoid network",
        x_title="epoch",
        y_title="accuracy (%)",
    ),
    "Same network, data, seed and learning rate (η = 0.1, λ = 5, mini-batch 10): only the "
    "scale of the initial weights differs.",
)
a_big, a_small = (100 * r.history.eval_accuracy for r in runs.values())
st.markdown(
    f"After one epoch: N(0, 1) **{a_big[1]:.1f}%**, N(0, 1/n_in) **{a_small[1]:.1f}%**; after "
    f"{t_epochs}: **{a_big[-1]:.1f}%** and **{a_small[-1]:.1f}%**. Nielsen reports the same "
    "pattern with 50,000 training digits: the scaled initialization gets to good accuracy much "
    f"sooner. Ours use {t_n:,} digits, so our accuracies are lower."
)
st.info(
    "The scale of the weights matters because of the activation's slope: see "
    f"{link('activations', 'Activation functions')} and "
    f"{link('vanishing-gradients', 'Vanishing and exploding gradients')}."
)
