"""Weight initialization: the scale of the first weights decides whether signals survive."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import line_chart
from charts.figures import accuracy_curves, per_layer_histograms
from explain.experiments import MnistExperiment
from explain.nn.datasets import SPLIT_SIZES
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.propagation import (
    BLOCKED,
    SATURATED,
    DeepSetup,
    accuracy_noise,
    gradient_verdict,
    predicted_weight_std,
    rule_deviation,
    signal_verdict,
    start_race,
)
from explain.symmetry import ETA, N_TRAIN, VALUE, symmetry_verdict
from ui import widgets
from ui.cache import mnist_runs, propagation_summary, symmetry_runs
from ui.display import show_chart
from ui.format import nice, num
from ui.site import link

INIT_KEYS = ["small", "normal", "gaussian", "scaled", "xavier", "he"]
INITS = {k: WEIGHT_INIT_LABELS.get(k, "Gaussian, σ from the slider") for k in INIT_KEYS}
SIGMAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0, 2.0)
SYMMETRY = {"hidden": 30, "epochs": 5}
GRID_WIDTH = 720  # px: the histogram grids fit the text column of a 1280 px wide window
N_INPUTS = DeepSetup().n_samples
N_VALIDATION = SPLIT_SIZES["validation"]


def pct(share: float) -> str:
    """A share (0..1) as a percentage for prose."""
    return f"{100 * share:.0f}%" if share >= 0.01 or share == 0 else f"{100 * share:.1g}%"


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + "."


st.title("Weight initialization")
lead, seed_column = st.columns([3, 1], gap="large")
with seed_column:
    seed = widgets.seed()
with lead:
    st.markdown(
        "Before any training, the scale of the initial weights already decides whether a deep "
        "network can learn: too small, and the signal dies out layer by layer; too large, and "
        "the units saturate or the values explode."
    )
    with st.expander("Why the scale matters, and what this page does"):
        st.markdown(
            "Each layer multiplies the spread of its inputs by a factor that depends on the scale "
            "of its weights, so over many layers a slightly wrong scale compounds. Below, "
            f"{N_INPUTS:,} random inputs go through a stack of layers that has not been trained at "
            "all (section 1), and a random gradient goes back through the same stack (section 2). "
            "Section 3 shows why the weights cannot simply start equal, section 4 what the scale "
            "does to training on MNIST."
        )

# --- 1. forward -------------------------------------------------------------------------------
st.header("1. Activations, layer by layer")

PARKED = {"tanh": 0.0, "sigmoid": 0.5, "relu": 0.0}  # where a unit with no signal sits
TAILS = {"tanh": "±1", "sigmoid": "0 and 1", "relu": "the right edge"}


def panel_look(v, act: str, depth: int) -> str:
    """What the histogram grid shows for this signal verdict, in the panels' own terms."""
    if v.kind == "collapses" and v.peak > 0.9:
        at = (
            f"at {PARKED[act]:g}"
            if v.peak_lo <= PARKED[act] <= v.peak_hi
            else f"between {nice(v.peak_lo)} and {nice(v.peak_hi)}"
        )
        return (
            f"by layer {depth} the panel is a single bar {at} ({pct(v.peak)} of the values): "
            "every input gives nearly the same value"
        )
    if v.kind == "collapses":
        return (
            f"layer {depth}'s panel still looks spread out, but that spread is between units: "
            "each unit gives nearly the same value for every input (see the spread across "
            "inputs below)"
        )
    return {
        "saturates": f"the panels pile up at {TAILS[act]}: the units sit in the flat tails",
        "explodes": f"the values run off the right edge of the axis ({pct(v.beyond)} of layer "
        f"{depth}'s values lie beyond it and are counted in the last bin)",
        "healthy": "the panels keep about the same width from layer to layer",
        "shrinks": "the panels narrow layer by layer",
        "grows": "the panels widen layer by layer",
        "dead": "every panel is a single bar: no input differs from another",
    }[v.kind]


def activation_histograms(stats, act, init_text, verdict, depth):
    """Each layer's histogram of activations, and what this setting's panels show."""
    show_chart(
        per_layer_histograms(
            stats.act_edges,
            stats.act_hist,
            title=f"Distribution of the activations in each layer ({act}, {init_text})",
            x_title="activation",
            fit_width=GRID_WIDTH,
            panel_height=90,
        ),
        f"All panels share their axes. Here {panel_look(verdict, act, depth)}."
        + (
            " ReLU outputs exactly 0 for about half of the values by design, so a tall bar at 0 "
            "is normal; what matters is the spread of the rest."
            if act == "relu"
            else ""
        )
        + (
            f" Over all layers {pct(stats.act_clipped)} of the values lie beyond the axis and "
            "are counted in the edge bins."
            if stats.act_clipped > 0.001 and verdict.kind != "explodes"
            else ""
        ),
    )


def spread_caption(stats, depth) -> str:
    """The mean and standard deviation chart's caption, with this setting's numbers."""
    sd, spread = stats.act_std[-1], stats.spread[-1]
    text = (
        "The spread across inputs (each unit's standard deviation over the "
        f"{N_INPUTS:,} inputs, averaged over units) is the signal: how differently the layer "
        "responds to different inputs. "
    )
    if spread > 0 and sd > 10 * spread:
        return text + (
            f"Here layer {depth}'s standard deviation ({nice(sd)}) is {nice(sd / spread)}× its "
            f"spread across inputs ({nice(spread)}): the units differ from one another, but each "
            "gives about the same value whatever the input."
        )
    return text + (
        f"Here the two stay close (layer {depth}: {nice(sd)} and {nice(spread)}): the values "
        "differ because the inputs differ."
    )


def activation_scale(stats, act, depth, layers_idx):
    """Size of the values per layer (log scale) beside the share of saturated values."""
    scale = pd.concat(
        [
            pd.DataFrame({"layer": layers_idx, "value": v, "statistic": name})
            for name, v in (
                ("|mean|", np.abs(stats.act_mean)),
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
                x_domain=(1, depth),
                log_y=True,
                y_powers="auto",
                height=240,
                title="Mean and standard deviation per layer",
                x_title="layer",
                y_title="activation (log scale)",
            ),
            spread_caption(stats, depth),
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
                x_domain=(1, depth),
                y_domain=(0, 100),
                height=240,
                title="Share of values in the flat region",
                x_title="layer",
                y_title="values (%)",
            ),
            "Values where the activation is flat pass (almost) no gradient. Here "
            f"{pct(stats.saturated[0])} of layer 1's values and {pct(stats.saturated[-1])} of "
            f"layer {depth}'s."
            + (" For ReLU about half is expected at any healthy scale." if act == "relu" else ""),
        )


def signal_sentence(v, depth) -> str:
    """The verdict on the forward pass, in words, with its numbers."""
    return {
        "dead": "has no spread across inputs even in layer 1",
        "collapses": f"**collapses**: by layer {depth} the spread across inputs is {nice(v.last)}, "
        f"{nice(1 / v.total)}× smaller than in layer 1, so every input gives nearly the same "
        "output",
        "saturates": f"**saturates**: {pct(v.saturated)} of layer {depth}'s values are in the "
        "flat tails",
        "explodes": f"**explodes**: the spread across inputs grows about {nice(v.per_layer)}× per "
        f"layer, from {nice(v.first)} in layer 1 to {nice(v.last)} in layer {depth}",
        "healthy": f"**stays healthy**: the spread across inputs changes by a factor of only "
        f"{nice(v.per_layer)} per layer ({nice(v.first)} → {nice(v.last)})",
        "shrinks": f"**shrinks** about {nice(1 / v.per_layer)}× per layer ({nice(v.first)} → "
        f"{nice(v.last)})",
        "grows": f"**grows** about {nice(v.per_layer)}× per layer ({nice(v.first)} → "
        f"{nice(v.last)})",
    }[v.kind]


def squared(v: float) -> str:
    """v² in LaTeX, bracketed when v is written with a power of ten."""
    text = num(v)
    return f"({text})^2" if "times" in text else f"{text}^2"


def variance_rule(stats, width, w_std, layers_idx):
    """Var(z) = n_in Var(w) E[x^2] with this page's numbers, against the measured Var(z)."""
    st.subheader("The rule, with the numbers")
    st.latex(
        rf"""\begin{{aligned}}
    \operatorname{{Var}}(z) &= n_{{in}}\,\operatorname{{Var}}(w)\,\mathbb{{E}}[x^2]\\
    \text{{layer 1: }} &= {width} \times {squared(w_std)} \times 1 = {num(width * w_std**2)}
    \end{{aligned}}\,"""
    )
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(
            "For z = Σᵢ wᵢ xᵢ with independent terms and zero-mean weights, each layer "
            f"multiplies the mean square of its input by n_in·Var(w) = **{nice(width * w_std**2)}**"
            " (E[x²] is the variance only for zero-mean inputs, as in layer 1)."
        )
        with st.expander("Why Xavier and He"):
            st.markdown(
                "Var(w) = 1/n_in keeps the factor at 1. Xavier's 2/(n_in + n_out) equals 1/n_in "
                "for square layers and also balances the backward pass; He's 2/n_in doubles it "
                "because ReLU zeroes half of its inputs, halving E[x²]."
            )
    with right:
        dev = rule_deviation(stats)
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
                rule,
                x="layer",
                y="value",
                color="source",
                color_title="",
                dash="source",
                points=True,
                x_integer=True,
                x_domain=(1, len(layers_idx)),
                log_y=True,
                y_powers="auto",
                height=240,
                title="Variance of z per layer: the rule against the measurement",
                x_title="layer",
                y_title="Var(zˡ) (log scale)",
            ),
            (
                "The rule, fed each layer's measured inputs, predicts every layer's Var(z): the "
                "two lines lie on top of each other."
                if dev < 0.15
                else "The rule, fed each layer's measured inputs, is off by up to "
                f"{pct(dev)} here: it is an average over all possible draws of the weights, "
                f"and this one draw of {width} × {width} weights per layer departs from it."
            ),
        )


def gradient_look(v, act, depth) -> str:
    """What the gradient histograms show for this gradient verdict, chosen by its numbers."""
    spread = (
        f"{pct(v.beyond)} of its values lie beyond the axis (counted in the edge bins)"
        if v.beyond > 0.01
        else "its values spread across the whole axis"
    )
    look = {
        "none": "No gradient comes back at all: f′(z) is 0 for every unit of the last layer.",
        "vanishes": f"By layer 1 the gradient has shrunk {nice(1 / v.ratio)}×: {pct(v.centre)} "
        "of its values sit in the two bins around 0, the spike of a vanishing gradient.",
        "shrinks": f"The panels narrow towards layer 1: its gradient is {nice(1 / v.ratio)}× "
        f"smaller than layer {depth}'s.",
        "steady": f"The panels keep their width: layer 1's gradient is {nice(v.ratio)}× layer "
        f"{depth}'s.",
        "grows": f"The panels widen towards layer 1: its gradient is {nice(v.ratio)}× larger "
        f"than layer {depth}'s, and {spread}.",
        "explodes": f"By layer 1 the gradient has grown {nice(v.ratio)}× and {spread}: an "
        "exploding gradient.",
    }[v.kind]
    if v.blocked <= BLOCKED or v.kind == "none":
        return look
    cause = (
        "are 0: their units are switched off (z < 0) and pass nothing back"
        if act == "relu"
        else f"are (almost) 0: their units sit in {act}'s flat tails, where f′(z) ≈ 0"
    )
    rest = {"steady": "keep their size", "grows": "grow", "explodes": "grow"}.get(v.kind)
    contrast = (
        f", so the tall bar at 0 is not a vanishing gradient: the others {rest}" if rest else ""
    )
    return f"{look} {pct(v.blocked)} of layer 1's gradients {cause}{contrast}."


def gradient_change(v) -> str:
    """How std(dC/dz) changes from the last layer back to layer 1, in words."""
    if v.kind in ("vanishes", "shrinks"):
        return f"shrinks {nice(1 / v.ratio)}×"
    if v.kind == "steady":
        return f"changes by a factor of only {nice(v.ratio)}"
    return "cannot be measured: it is 0" if v.kind == "none" else f"grows {nice(v.ratio)}×"


def gradient_charts(stats, act, depth, layers_idx):
    """Section 2: each layer's histogram of dC/dz, then its standard deviation per layer."""
    st.header("2. Gradients, layer by layer")
    v = gradient_verdict(stats)
    show_chart(
        per_layer_histograms(
            stats.grad_edges,
            stats.grad_hist,
            title="Distribution of the gradient ∂C/∂zˡ in each layer",
            x_title="∂C/∂z",
            fit_width=GRID_WIDTH,
            panel_height=90,
        ),
        "The backward pass starts from a random gradient ∂C/∂aᴸ ~ N(0, 1), multiplied by "
        f"f′(zᴸ), and runs from layer {depth} back to layer 1; the axis is layer {depth}'s "
        f"range. {gradient_look(v, act, depth)}",
    )
    grad = pd.DataFrame(
        {"layer": layers_idx, "value": stats.grad_std, "statistic": "standard deviation"}
    )
    factors = (
        f"here {nice(v.factor_lo)}"
        if nice(v.factor_lo) == nice(v.factor_hi)
        else f"here {nice(v.factor_lo)} to {nice(v.factor_hi)}"
    )
    show_chart(
        line_chart(
            grad,
            x="layer",
            y="value",
            color="statistic",
            color_title="statistic",
            points=True,
            x_integer=True,
            x_domain=(1, depth),
            log_y=True,
            y_powers="auto",
            title="Standard deviation of the gradient per layer",
            x_title="layer",
            y_title="std of ∂C/∂zˡ (log scale)",
            height=240,
        ),
        f"From layer {depth} back to layer 1 the gradient's standard deviation "
        f"{gradient_change(v)}. Going back one layer multiplies its variance by about "
        f"n·Var(w)·E[f′(z)²], {factors}: below 1 it shrinks, above 1 it grows."
        + (saturation_note(v) if act != "relu" and v.saturated > SATURATED else ""),
    )
    return v


def saturation_note(v) -> str:
    """For a saturated stack: whether the small slopes or the large weights win."""
    if v.kind in ("vanishes", "shrinks"):
        return f" Here the flat tails ({pct(v.saturated)} of the values) win over the weights."
    outcome = (
        "the gradient keeps its size: the large weights make up for the small slopes"
        if v.kind == "steady"
        else "the large weights outweigh the small slopes"
    )
    return (
        f" Saturation alone does not mean vanishing: {pct(v.saturated)} of the values sit in "
        f"the flat tails, yet {outcome}."
    )


@st.fragment
def propagation(seed):
    """Sections 1 and 2, rerun alone: owns the activation, init, σ, width and depth they share."""
    c1, c2, c3 = st.columns([1, 1.6, 1.4])
    with c1:
        act = widgets.select("Activation", "act", ["tanh", "relu", "sigmoid"], "tanh")
    with c2:
        init = widgets.select("Initialization", "init", INIT_KEYS, "small", labels=INITS)
    with c3:
        sigma = widgets.stepped(
            "σ (for the slider option)", "sigma", SIGMAS, 0.05, disabled=init != "gaussian"
        )
    c4, c5 = st.columns(2)
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
    signal = signal_verdict(stats, act)
    activation_histograms(stats, act, init_text, signal, depth)
    st.markdown(f"With {act} and {init_text}, the signal {signal_sentence(signal, depth)}.")
    activation_scale(stats, act, depth, layers_idx)
    variance_rule(stats, width, w_std, layers_idx)
    # --- 2. backward: the same controls feed it, so it reruns with section 1 ---
    gradient_charts(stats, act, depth, layers_idx)


propagation(seed)

# --- 3. symmetry -------------------------------------------------------------------------------
st.header("3. Why not start from equal weights?")
st.markdown(
    "If every weight starts equal (zero, or any constant) and the biases too, every hidden unit "
    "computes the same output, receives the same error in backpropagation and makes the same "
    f"update: a layer of {SYMMETRY['hidden']} identical units behaves like one neuron."
)
sym = symmetry_runs(SYMMETRY["hidden"], SYMMETRY["epochs"], seed)
sv = symmetry_verdict(sym)
labels = {"zeros": "all zero", "constant": f"all {VALUE:g}", "scaled": "random, N(0, 1/n_in)"}
sdf = pd.concat(
    [
        pd.DataFrame({"epoch": r.epoch, "value": r.spread, "start": labels[k]})
        for k, r in sym.items()
    ],
    ignore_index=True,
)
equal_names = " and ".join(f"“{labels[k]}”" for k in sym if k != "scaled")
random_change = (
    f"grows from {nice(sv.random_first)} to {nice(sv.random_last)}"
    if sv.random_last > 1.1 * sv.random_first
    else f"shrinks from {nice(sv.random_first)} to {nice(sv.random_last)}"
    if sv.random_last < 0.9 * sv.random_first
    else f"stays near {nice(sv.random_last)}"
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
        (
            f"The equal starts ({equal_names}) stay at exactly 0 at every epoch, one line over "
            "the other: their units never separate."
            if sv.equal_stay_equal
            else f"The equal starts ({equal_names}) do separate: by the end they hold up to "
            f"{sv.equal_distinct} distinct units."
        )
        + f" With random weights the units differ from the start, and the difference "
        f"{random_change}.",
    )


def learned_words(name: str, run) -> str:
    """One start's final accuracy against always answering the most common digit."""
    acc = f"{100 * run.accuracy[-1]:.1f}%"
    units = "its single distinct unit" if run.distinct[-1] == 1 else "the network"
    if sv.learned[name]:
        return f"with {labels[name]} weights {units} still reaches {acc}"
    return f"with {labels[name]} weights it ends at {acc}, no better than that"


with right:
    st.table(
        pd.DataFrame(
            {
                "weights": [labels[k] for k in sym],
                "distinct units": [
                    f"{int(r.distinct[-1])} of {SYMMETRY['hidden']}" for r in sym.values()
                ],
                "accuracy": [f"{100 * r.accuracy[-1]:.1f}%" for r in sym.values()],
            }
        ).set_index("weights")
    )
    st.caption(
        f"[784, {SYMMETRY['hidden']}, 10] sigmoid network, zero biases, "
        f"{SYMMETRY['epochs']} epochs on {N_TRAIN:,} digits, η = {ETA:g}; accuracy on "
        f"{N_VALIDATION:,} validation digits, where always answering the most common digit "
        f"scores {100 * sv.baseline:.1f}%. "
        + sentence("; ".join(learned_words(k, r) for k, r in sym.items() if k != "scaled"))
    )


# --- 4. training on MNIST ------------------------------------------------------------------------
st.header("4. Training with each initialization")

LEADER = {"scaled": "N(0, 1/n_in)", "normal": "N(0, 1)"}


def training_verdict(a_big, a_small, t_epochs, t_n):
    """Both accuracies after one epoch and at the end, against what Nielsen reports."""
    race = start_race(a_big, a_small)
    early = {
        "scaled": "the scaled start leads after one epoch too",
        "normal": "N(0, 1) leads after one epoch, unlike in the book",
        "tie": "the two are level after one epoch",
    }[race.early]
    late = (
        f"they end level (within {race.tol:g} points)"
        if race.late == "tie"
        else f"{LEADER[race.late]} is still ahead at the end"
    )
    return (
        f"After one epoch: N(0, 1) **{a_big[1]:.1f}%**, N(0, 1/n_in) **{a_small[1]:.1f}%**; after "
        f"{t_epochs}: **{a_big[-1]:.1f}%** and **{a_small[-1]:.1f}%** (N(0, 1/n_in) "
        f"{race.late_gap:+.1f} points). Nielsen, with 50,000 training digits and 30 epochs, finds "
        "the scaled initialization far ahead early on and both ending near 96%. With our "
        f"{t_n:,} digits {early}, and {late}."
    )


@st.fragment
def training(seed):
    """Section 4, rerun alone: owns the hidden neurons, epochs and number of training digits."""
    c1, c2, c3 = st.columns(3)
    with c1:
        hidden = widgets.select("Hidden neurons", "hidden", [30, 100], 30)
    with c2:
        t_epochs = widgets.slider("Epochs", "t_epochs", 2, 15, 10)
    with c3:
        t_n = widgets.stepped("Training digits", "t_n", (1000, 2000, 4000, 8000), 4000)
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
    a_big, a_small = (100 * r.history.eval_accuracy for r in runs.values())
    noise = accuracy_noise(float(np.mean([a_big[-1], a_small[-1]])), N_VALIDATION)
    show_chart(
        accuracy_curves(
            runs,
            legend="initial weights",
            title=f"Validation accuracy, [784, {hidden}, 10] sigmoid network",
        ),
        f"Same network, data, seed and learning rate (η = {base.eta:g}, λ = {base.lmbda:g}, "
        f"mini-batch {base.batch_size}): only the scale of the initial weights differs. Accuracy "
        f"on {N_VALIDATION:,} validation digits, give or take about {noise:.1f} points (one "
        "standard error).",
    )
    if min(len(a_big), len(a_small)) > 1:
        st.markdown(training_verdict(a_big, a_small, t_epochs, t_n))


training(seed)
st.info(
    "The scale of the weights matters because of the activation's slope: see "
    f"{link('activations', 'Activation functions')} and "
    f"{link('vanishing-gradients', 'Vanishing and exploding gradients')}."
)
