"""Activation functions: saturation, slopes through depth, zero-centring, and dead ReLUs."""

import math

import numpy as np
import pandas as pd
import streamlit as st

from charts import labelled_points, layered, line_chart, range_rules, shaded_spans
from charts.frames import curves_frame, layers_frame
from explain.activation_verdicts import (
    FLAT,
    STUCK_BELOW,
    dead_verdict,
    depth_trend,
    lines_coincide,
    relu_variance,
)
from explain.experiments import MnistExperiment
from explain.nn.activations import flat_regions, get_activation, sigmoid
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.zero_centred import (
    TwoWeightSetup,
    centring_effect,
    compare_steps,
    same_sign_fraction,
    stability,
)
from ui import widgets
from ui.cache import depth_gradient_norms, mnist_runs, relu_backward_sizes, zig_zag_runs
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
INIT_LINK = link("weight-initialization", "Weight initialization")

st.title("Activation functions")
st.markdown(
    "Every layer multiplies the gradient by its activation's slope f′(z), and feeds its "
    "outputs to the next layer as inputs. Below: how sigmoid, tanh, ReLU, leaky ReLU and ELU "
    "do on both counts, then two failure modes, zig-zag updates and dead ReLUs."
)
c_seed, c_slope = st.columns([1, 3], gap="large")
with c_seed:
    seed = widgets.seed()
with c_slope:
    slope = widgets.stepped(
        "Leaky ReLU slope for z < 0 (used on the whole page)",
        "slope",
        (0.01, 0.02, 0.05, 0.1, 0.2, 0.3),
        0.01,
    )

# --- 1. the functions ------------------------------------------------------------------------
st.header("1. Each function and its slope")
z = np.linspace(-6, 6, 601)
CAPTIONS = {
    "sigmoid": "Grey: saturated, f′ below 5% of its maximum. The slope never exceeds 1/4, and "
    "the output is always positive.",
    "tanh": "The dots, 2σ(2z) − 1, lie exactly on tanh: a rescaled sigmoid, centred on 0, with "
    "slope 1 at z = 0. Grey: saturated, where tanh′ is below 5% of 1.",
    "relu": "Slope exactly 1 for z > 0, exactly 0 for z < 0 (grey), where the unit passes no "
    "gradient at all. A slope of 1 keeps a gradient's size, but a unit that is off for half "
    "its inputs passes back only half its variance: section 2 shows what that does over "
    "many layers.",
    "leaky_relu": f"Like ReLU, but slope {slope:g} instead of 0 for z < 0 (grey: below 5% of "
    "the maximum slope, yet not zero): a switched-off unit still passes a little gradient.",
    "elu": "Smooth, slope 1 for z > 0, and negative outputs down to −1 that pull the mean of "
    "its outputs towards 0. Grey: flat, for very negative z.",
}


def identity_dots():
    """2 sigma(2z) - 1 at every 20th z, as hollow dots to lay over the tanh curve."""
    every = slice(0, None, 20)
    check = curves_frame(z[every], {"2σ(2z) − 1": 2 * sigmoid(2 * z[every]) - 1})
    return line_chart(
        check,
        x="z",
        y="value",
        color="curve",
        color_title="check",
        title="",
        x_title="z",
        y_title="value",
        height=220,
    ).mark_point(filled=False, size=40, strokeWidth=1.5)


def function_chart(name: str):
    """One activation and its slope, the flat regions shaded, the largest slope marked."""
    act = get_activation(name, slope=slope)
    fz, pz = act.fn(z), act.prime(z)
    peak = int(np.argmax(pz))
    spans = pd.DataFrame(
        [
            {"z0": a, "z1": b, "region": "f′ below 5% of its maximum"}
            for a, b in flat_regions(name, z, slope=slope)
        ]
    )
    peak_label = pd.DataFrame(
        {"z": [z[peak]], "value": [pz[peak]], "label": [f"max f′ = {nice(pz[peak])}"]}
    ).assign(side="right" if name == "sigmoid" else "left")
    layers = [
        line_chart(
            curves_frame(z, {"f(z)": fz, "f′(z)": pz}),
            x="z",
            y="value",
            color="curve",
            color_title="curve",
            height=220,
            title=f"{act.name}: max slope {nice(pz.max())}",
            x_title="z",
            y_title="value",
            y_domain={"sigmoid": (-0.1, 1.1), "tanh": (-1.3, 1.3)}.get(name, (-1.5, 3)),
        ),
        labelled_points(peak_label, x="z", y="value", label="label", side="side"),
    ]
    if name == "tanh":
        layers.append(identity_dots())
    if len(spans):
        layers.insert(0, shaded_spans(spans, x="z0", x2="z1", label="region"))
    chart = layered(*layers, height=220)
    # the dots get their own legend, with a dot: the lines' legend keeps its line symbols
    return chart.resolve_scale(color="independent") if name == "tanh" else chart


cols = st.columns(3)
for i, name in enumerate(SHOWN):
    with cols[i % 3]:
        show_chart(function_chart(name), CAPTIONS[name])
with cols[2]:
    z0 = 1.3
    st.markdown(
        f"**Check the identity** at z = {z0}: tanh({z0}) = **{np.tanh(z0):.6f}** and "
        f"2σ({2 * z0:g}) − 1 = **{2 * float(sigmoid(np.array(2 * z0))) - 1:.6f}**. "
        "Because tanh′(0) = 1 = 4 · σ′(0), tanh keeps four times more gradient per layer "
        "than sigmoid near zero."
    )

# --- 2. through depth ------------------------------------------------------------------------
st.header("2. The gradient through depth")


def depth_chart(norms: dict, depth: int, width: int, coincide: bool):
    """||dC/db^l|| per hidden layer, one line per activation, on a log scale."""
    df = pd.concat(
        [
            pd.DataFrame({"hidden layer": np.arange(1, depth + 1), "‖δ‖": v, "activation": name})
            for name, v in norms.items()
        ],
        ignore_index=True,
    )
    show_chart(
        line_chart(
            df,
            x="hidden layer",
            y="‖δ‖",
            color="activation",
            color_title="activation",
            log_y=True,
            y_powers=True,
            points=True,
            x_integer=True,
            x_domain=(1, depth),
            title=f"Speed of learning of each layer at initialization ({depth} × {width}, MNIST)",
            x_title="hidden layer (1 = nearest the input)",
            y_title="‖∂C/∂bˡ‖ (log scale)",
        ),
        "Read each line from right to left, the way the gradient travels: a line that climbs "
        "from left to right is a gradient that shrinks on its way back, so the first layers "
        "learn slowest. A flat line keeps every layer learning."
        + (
            " ReLU and leaky ReLU nearly coincide here: one line hides the other."
            if coincide
            else ""
        ),
    )


TREND_WORDS = {
    "vanishes": "**vanishes**",
    "shrinks": "**shrinks**",
    "flat": f"stays **within {FLAT:g}×**",
    "grows": "**grows**",
    "explodes": "**explodes**",
}


def trend_sentence(trends: dict) -> str:
    """One clause per kind of trend, naming the activations with their measured ratios."""
    clauses = []
    for code, words in TREND_WORDS.items():
        named = [f"{n} ({times(t.ratio)})" for n, t in trends.items() if t.code == code]
        if named:
            clauses.append(f"{words} with " + _join(named))
    cut = [n for n, t in trends.items() if t.code == "cut"]
    if cut:
        clauses.append("reaches the first layer **not at all** with " + _join(cut))
    none = [n for n, t in trends.items() if t.code == "none"]
    if none:
        clauses.append("is **zero** in every hidden layer with " + _join(none))
    return "From the last hidden layer back to the first, the gradient " + "; ".join(clauses) + "."


def times(ratio: float) -> str:
    """'15.4 times smaller' for a last-to-first ratio above 1, '2.1 times larger' below."""
    return f"{nice(ratio)} times smaller" if ratio >= 1 else f"{nice(1 / ratio)} times larger"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def relu_measured(rv) -> str:
    """What the per-digit variance of delta did per layer, in the words its code earns."""
    v, p = nice(rv.per_digit), nice(rv.predicted)
    return {
        "halves": f"the variance of δ per digit **halves** from layer to layer (×{v} on average)",
        "kept": f"the variance of δ per digit **is kept** (×{v} per layer on average)",
    }.get(
        rv.code,
        f"the variance of δ per digit changes ×{v} per layer on average, against ×{p} that "
        "the rule predicts for wide layers",
    )


def relu_lesson(trend, rv, init: str, depth: int) -> str:
    """The paragraph about ReLU's line: the variance rule, then this network's numbers."""
    if trend.code in ("cut", "none"):
        return (
            "**ReLU:** no gradient reaches the first hidden layer of this network "
            "(‖∂C/∂b¹‖ = 0), so there is no per-layer factor to measure. Try another seed."
        )
    shrinking = trend.code in ("vanishes", "shrinks")
    first, last = rv.agreement
    agree = (
        "What still shrinks is the average over the 500 digits: nearer the input their "
        f"gradients agree less (the average keeps {100 * first:.0f}% of one digit's size in "
        f"layer 1, {100 * last:.0f}% in layer {depth}). "
        if rv.code == "kept" and shrinking and first < last
        else ""
    )
    head = (
        "**Why ReLU's gradient shrinks although its slope is 1.** "
        if shrinking
        else "**ReLU and the scale of the weights.** "
    )
    he = "is the one that doubles it" if init == "he" else "doubles it (choose it above)"
    return (
        head + "A ReLU unit is off, with slope 0, for about half its inputs, so going back "
        "through a layer keeps only about half the variance of δ, unless the weights double it. "
        f"Here, with {WEIGHT_INIT_LABELS[init]}, {relu_measured(rv)}, and the chart's gradient "
        f"changes by a factor {nice(rv.averaged)} per layer: {times(trend.ratio)} in layer 1 "
        f"than in layer {depth}. {agree}He initialization, Var(w) = 2/n_in, {he}: "
        f"see {INIT_LINK}."
    )


def relu_rule(rv, init: str, slope: float) -> str:
    """The variance rule written out, with the prediction and this network's measurement."""
    return (
        "Backpropagation through hidden layer l computes δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ f′(zˡ). With n "
        "units per layer and independent weights of variance Var(w), "
        "Var(δˡ) = n · Var(w) · E[f′(z)²] · Var(δˡ⁺¹). ReLU's f′ is 1 where z > 0 and 0 "
        "elsewhere, so E[f′(z)²] = P(z > 0) ≈ ½. "
        f"With {WEIGHT_INIT_LABELS[init]}, n · Var(w) = {nice(rv.n_var_w)}, so the rule "
        f"predicts a variance factor of **{nice(rv.predicted)}** per layer (a size factor of "
        f"{nice(math.sqrt(rv.predicted))}); measured on this network, per digit: "
        f"**{nice(rv.per_digit)}**. The chart shows ‖∂C/∂bˡ‖, the gradient averaged over the "
        f"500 digits, whose size changes by {nice(rv.averaged)} per layer. Leaky ReLU keeps "
        f"E[f′(z)²] ≈ ½ (1 + slope²) = {(1 + slope**2) / 2:.6g}, barely more than ReLU."
    )


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
    norms = {NAMES[n]: depth_gradient_norms(n, depth, width, init, seed, slope) for n in SHOWN}
    trends = {n: depth_trend(v) for n, v in norms.items()}
    depth_chart(norms, depth, width, lines_coincide(norms["ReLU"], norms["leaky ReLU"]))
    st.markdown(
        trend_sentence(trends)
        + f" Weights {WEIGHT_INIT_LABELS[init]}, zero biases, cross-entropy, 500 training digits;"
        f" leaky ReLU with slope {slope:g}."
    )
    rv = relu_variance(relu_backward_sizes(depth, width, init, seed), init, width)
    st.markdown(relu_lesson(trends["ReLU"], rv, init, depth))
    if trends["ReLU"].code not in ("cut", "none"):
        with st.expander("The variance rule behind it, with this network's numbers"):
            st.markdown(relu_rule(rv, init, slope))


through_depth(seed, slope)

# --- 3. zero-centred inputs ---------------------------------------------------------------------
st.header("3. Not zero-centred: updates that zig-zag")
st.markdown(
    "A linear neuron with two weights learns from one example at a time and must reach "
    "w* = (1, −1), one weight up and the other down: from positive inputs, and from the same "
    "inputs centred on zero."
)
with st.expander("Why positive inputs zig-zag"):
    st.markdown(
        "For one training example, ∂C/∂wᵢ = δ · xᵢ. If every input xᵢ is positive (raw pixels, "
        "or the outputs of a sigmoid layer), all of a neuron's weight gradients share the sign "
        "of δ: every update points into the quadrant (+, +) or (−, −), and reaching weights of "
        "mixed sign takes a zig-zag. The same non-zero mean also adds a steep direction along "
        "(1, 1) to the cost surface, which caps the learning rate that does not diverge."
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
    target = pd.DataFrame({"w₁": [1.0], "w₂": [-1.0], "label": ["w* = (1, −1)"], "side": ["right"]})
    same_sign = same_sign_fraction(paths["positive inputs"].grads)
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
            labelled_points(target, x="w₁", y="w₂", label="label", side="side"),
            height=380,
        ),
        "Each dot is one update. "
        + (
            "Every step of the positive-inputs path goes along (+, +) or (−, −), so it zig-zags "
            "across the diagonal; "
            if same_sign == 1
            else f"{100 * same_sign:.0f}% of the positive-inputs path's steps go along (+, +) "
            "or (−, −); "
        )
        + "the zero-centred path can also step sideways, though each single example still "
        "makes it jitter."
        + (
            " The positive-input run diverged and left the picture."
            if paths["positive inputs"].diverged
            else ""
        ),
    )


def steps_sentence(paths, setup) -> str:
    """How the two runs' step counts compare at the chosen η."""
    code, ratio = compare_steps(paths["positive inputs"], paths["zero-centred inputs"])
    p, c = (p.steps for p in paths.values())
    return {
        "sooner": f"At this η the positive inputs even arrive sooner ({p} against {c} steps). ",
        "later": f"At this η the positive inputs need {nice(ratio)}× the steps. ",
        "same": "At this η both need about the same number of steps. ",
        "only_centred": "At this η only the centred inputs arrive. ",
        "only_positive": "At this η only the positive inputs arrive. ",
        "neither": f"At this η neither arrives within {setup.max_steps:,} steps. ",
    }[code]


def stability_sentence(scans) -> str:
    """What the learning-rate scans show: which inputs tolerate the larger η."""
    s = stability(scans["positive inputs"], scans["zero-centred inputs"])

    def largest(v) -> str:
        return f"≥ {nice(s.top)} (the largest tried)" if v >= s.top else nice(v)

    if s.code == "no_arrival":
        missing = [
            n
            for n, v in (("positive", s.largest_positive), ("centred", s.largest_centred))
            if v is None
        ]
        return f"With {_join(missing)} inputs no η tried arrives within the step limit."
    facts = (
        f"The largest η that still arrives is **{largest(s.largest_positive)}** for positive "
        f"inputs and **{largest(s.largest_centred)}** for centred ones; at their best η "
        f"({nice(s.best_positive[0])} and {nice(s.best_centred[0])}) they need "
        f"**{s.best_positive[1]}** and **{s.best_centred[1]}** steps."
    )
    if s.code == "centred_stabler":
        return (
            "The cost of non-centred inputs is **stability**: the mean adds a steep direction "
            "along (1, 1) that caps the usable η, while the direction that matters, (1, −1), "
            "is just as shallow for both. " + facts
        )
    if s.code == "positive_stabler":
        return "Here the positive inputs tolerate the larger η. " + facts
    return "Here both tolerate the same η: at this mean, centring buys no stability. " + facts


def zig_zag_verdict(paths, scans, setup):
    """Steps and same-sign updates of each run, then what centring buys: stability."""

    def steps_text(p):
        if p.diverged:
            return "diverges"
        if p.steps is None:
            return f"more than {setup.max_steps:,} steps"
        return f"**{p.steps}** steps"

    st.markdown(
        "\n".join(
            f"- {n}: {steps_text(p)} at η = {setup.eta:g}; "
            f"**{100 * same_sign_fraction(p.grads):.0f}%** "
            "of its updates had both components of the same sign"
            for n, p in paths.items()
        )
    )
    st.markdown(steps_sentence(paths, setup) + stability_sentence(scans))


def scan_chart(scans):
    """Steps to reach w* against η, for positive and for centred inputs."""
    scan_df = pd.concat(
        [pd.DataFrame({"η": s.etas, "steps": s.steps, "inputs": n}) for n, s in scans.items()],
        ignore_index=True,
    ).dropna()
    s = stability(scans["positive inputs"], scans["zero-centred inputs"])
    stops = (
        f"The positive-inputs line stops at η = {nice(s.largest_positive)}, the largest that "
        "still arrives for positive inputs. "
        if s.largest_positive is not None and s.largest_positive < s.top
        else ""
    )
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
        "Where the two lines overlap, centring changes nothing. "
        + stops
        + f"η beyond {nice(s.top)} was not tried.",
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
    ).query("epoch > 0")  # the untrained networks (about 10%) would flatten the seeds' bars
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
                y_domain=(max(0, band["lo"].min() - 2), min(100, band["hi"].max() + 2)),
                title=f"[784, 30, 10] {zc_act} network: validation accuracy "
                f"(mean of {n_used} seeds)",
                x_title="epochs trained",
                y_title="accuracy (%)",
            ),
            range_rules(band, x="epoch", lo="lo", hi="hi", color="inputs"),
        ),
        "Raw pixels lie in [0, 1], so every input to the first layer is positive; subtracting "
        "each pixel's mean over the training digits centres them. Bars: lowest to highest of "
        "the seeds, on 1,000 validation digits.",
    )


def signed(v: float) -> str:
    """+7.9 or −2.2 (a true minus sign), one decimal."""
    return f"{v:+.1f}".replace("-", "−")


ZC_ETAS = (0.02, 0.05, 0.1, 0.2, 0.5)
CENTRING_START = {
    "better": "After one epoch every centred run is ahead of every raw one: centring speeds "
    "up the start, as the two-weight neuron predicts.",
    "worse": "After one epoch every centred run is behind every raw one: here centring slowed "
    "the start, against the two-weight neuron's prediction; try other seeds or learning rates.",
    "overlap": "After one epoch the seeds' ranges overlap: no difference beyond their spread. "
    "With 784 inputs the first layer is far less constrained than the two-weight neuron.",
}
CENTRING_END = {
    "better": "every centred run is ahead of every raw one",
    "worse": "every centred run is behind every raw one",
    "overlap": "the seeds' ranges overlap",
}


def centring_verdict(acc_by, n_used, zc_epochs, zc_eta):
    """What centring changed after one epoch and at the end, against the seeds' spread."""
    raw, cen = acc_by.values()
    start, end = centring_effect(raw[:, 1], cen[:, 1]), centring_effect(raw[:, -1], cen[:, -1])
    return (
        f"Averaged over {n_used} seeds, centring changes the validation accuracy by "
        f"**{signed(start.gain)} points** after one epoch and **{signed(end.gain)}** after "
        f"{plural(zc_epochs, 'epoch')}. "
        + CENTRING_START[start.code]
        + (
            " Try a larger η, where stability matters."
            if start.code == "overlap" and zc_eta < max(ZC_ETAS)
            else ""
        )
        + f" After {plural(zc_epochs, 'epoch')} {CENTRING_END[end.code]}."
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
        zc_eta = widgets.stepped("η", "zc_eta", ZC_ETAS, 0.5)
    seeds = (seed, seed + 1, seed + 2)
    base = MnistExperiment(activation=zc_act, eta=zc_eta, epochs=zc_epochs, n_train=2000)
    exps = [base.with_(seed=s, centre=c) for c in (False, True) for s in seeds]
    runs = mnist_runs(exps, "Training on raw and centred digits, three seeds each")
    paired = [i for i in range(3) if not (runs[i].diverged_at or runs[3 + i].diverged_at)]
    acc_by = {
        name: np.array([100 * runs[3 * j + i].history.eval_accuracy for i in paired])
        for j, name in enumerate(["raw pixels", "mean-subtracted pixels"])
    }
    if not paired:
        st.warning("Every seed diverged on raw or on centred digits: lower η.")
        return
    centring_chart(acc_by, len(paired), zc_act)
    if len(paired) < 3:
        st.caption(
            f"Left out: {3 - len(paired)} of 3 seeds, which diverged on raw or centred digits."
        )
    st.markdown(centring_verdict(acc_by, len(paired), zc_epochs, zc_eta))


zero_centring_digits(seed)

# --- 4. dead ReLUs ---------------------------------------------------------------------------
st.header("4. Dead ReLUs")
st.markdown(
    "A ReLU unit whose z is negative for every input passes no gradient (f′ = 0), so nothing "
    "changes its incoming weights. A leaky unit in the same state still passes slope × δ."
)
with st.expander("How a unit dies, and how it can come back"):
    st.markdown(
        "With no gradient, a dead unit's own weights never change; it comes back only if an "
        "earlier layer changes what it receives. Biases that start negative can switch off "
        "whole layers at once; so can a step that is too large. A leaky ReLU unit keeps "
        "learning through its small slope, so it can come back by itself."
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
            "weights cannot change."
            + (" Solid: ReLU, dashed: leaky ReLU." if len(ok) == 2 else ""),
        ),
        (
            right,
            "dead",
            "Units never positive on the probe digits",
            "Share of units with z ≤ 0 on all 1,000 probe digits. For ReLU they output 0 and pass "
            "no gradient; leaky units there still learn"
            + (", and a falling dashed line is units coming back." if len(ok) == 2 else "."),
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


def run_line(name: str, h) -> str:
    """One network's units without gradient and never positive, start to end, and accuracy."""

    def per_layer(shares) -> str:
        return ", ".join(
            f"layer {i + 1} {100 * a:.0f}% → {100 * b:.0f}%"
            for i, (a, b) in enumerate(zip(shares[0], shares[-1]))
        )

    return (
        f"- **{name}**, from initialization to epoch {int(h.epoch[-1])}: no gradient in "
        f"{per_layer(h.no_gradient)}; never positive in {per_layer(h.dead)}; validation "
        f"accuracy {100 * h.eval_accuracy[0]:.1f}% → **{100 * h.eval_accuracy[-1]:.1f}%**."
    )


def units_words(u, whose: str) -> str:
    """'every unit of ... still receives a gradient' or 'X% of ...'s hidden layer k gets none'."""
    if u.all_get_gradient:
        return f"every unit of {whose} still receives a gradient"
    return f"{u.no_gradient:.0f}% of {whose}'s hidden layer {u.layer} gets no gradient"


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


NEAR_CHANCE = f"near chance (below {STUCK_BELOW:.0f}%; guessing scores 10%)"


def failure_sentence(v, leaky_name: str, dr_epochs: int) -> str:
    """The verdict when a run diverged or is stuck near chance, quoting its numbers."""
    r, k = v.relu, v.leaky
    if v.code == "both_diverged":
        return "Both runs diverged: lower η to compare them."
    if v.code == "relu_diverged":
        return "The ReLU run diverged, so there is nothing to compare: lower η."
    if v.code == "leaky_diverged":
        return (
            f"The {leaky_name} run diverged at this η; the ReLU one ends at {r.accuracy:.1f}%"
            + (f", {NEAR_CHANCE}" if r.stuck else "")
            + f", and {units_words(r, 'the ReLU network')}. Lower η to compare them."
        )
    if v.code == "both_stuck":
        return (
            f"**Neither network learns**: ReLU ends at {r.accuracy:.1f}% and {leaky_name} at "
            f"{k.accuracy:.1f}%, {NEAR_CHANCE}. {upper_first(units_words(r, 'the ReLU network'))}; "
            f"{units_words(k, 'the leaky network')}, but within {plural(dr_epochs, 'epoch')} "
            "that was not enough to recover: add epochs or raise the leaky slope at the top "
            "of the page."
        )
    if v.code == "relu_stuck":
        return (
            f"The ReLU network is **stuck** at {r.accuracy:.1f}%, {NEAR_CHANCE}: "
            f"{units_words(r, 'the ReLU network')}. The leaky one trains to **{k.accuracy:.1f}%**; "
            f"{units_words(k, 'the leaky network')}."
        )
    return (
        f"Here the leaky network stays {NEAR_CHANCE} ({k.accuracy:.1f}%) while ReLU trains "
        f"to **{r.accuracy:.1f}%**."
    )


def dead_sentence(v, leaky_name: str, dr_epochs: int) -> str:
    """The verdict on ReLU against leaky ReLU, in words, quoting its numbers."""
    if v.code not in ("tie", "leaky_ahead", "relu_ahead"):
        return failure_sentence(v, leaky_name, dr_epochs)
    r, k = v.relu, v.leaky
    level = (
        f"{r.accuracy:.1f}% for ReLU against {k.accuracy:.1f}% for {leaky_name}; differences "
        f"under {v.noise:.1f} points are noise on 1,000 validation digits"
    )
    losses = (
        f" Even so, at the end {units_words(r, 'the ReLU network')}: the other units carry "
        "the network."
        if r.no_gradient >= 10
        else ""
    )
    if v.code == "tie":
        return f"The two end **level** ({level}).{losses}"
    if v.code == "leaky_ahead":
        return f"The leaky network ends **{v.gap:.1f} points ahead** ({level}).{losses}"
    return f"ReLU ends **{-v.gap:.1f} points ahead** ({level}): leakiness did not help here."


def dead_controls(seed) -> MnistExperiment:
    """The presets and sliders of section 4, as the experiment both networks share."""
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
    return MnistExperiment(
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


@st.fragment
def dead_relus(seed, slope):
    """Section 4, rerun alone: owns the presets, the initial biases, η and the epochs."""
    dead_base = dead_controls(seed)
    leaky_name = f"leaky ReLU ({slope:g})"
    relu_run, leaky_run = mnist_runs(
        [dead_base.with_(activation="relu"), dead_base.with_(activation="leaky_relu", slope=slope)],
        "Training ReLU and leaky ReLU networks",
    )
    runs = {"ReLU": relu_run, leaky_name: leaky_run}
    ok = {n: r for n, r in runs.items() if len(r.history.epoch) > 1}
    for name, r in runs.items():
        if r.diverged_at:
            st.warning(f"{name}: {r.diverged_at}; its curves stop there. Lower η to compare.")
    dead_charts(ok)
    st.markdown("\n".join(run_line(n, r.history) for n, r in ok.items()))
    verdict = dead_verdict(
        None if relu_run.diverged_at else relu_run.history,
        None if leaky_run.diverged_at else leaky_run.history,
    )
    st.markdown(dead_sentence(verdict, leaky_name, dead_base.epochs))


dead_relus(seed, slope)
st.info(
    "Activations fix the slope; the other half of a healthy signal is the scale of the initial "
    f"weights: see {INIT_LINK}."
)
