"""The unstable gradient problem: a product of w * sigma'(z) factors, measured on MNIST."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import bar_chart, hline, labelled_points, layered, line_chart, range_rules, vline
from charts.frames import curves_frame, layers_frame, points_frame
from charts.palette import layer_name
from explain.nn.datasets import SPLIT_SIZES
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.unstable import (
    BOOK_ACCURACY,
    BOOK_DEPTH_EPOCHS,
    BOOK_INIT_NORMS,
    BOOK_N_TRAIN,
    BOOK_SPEED_EPOCHS,
    SAME_WITHIN,
    ChainSetup,
    book_lmbda,
    chain_verdict,
    compare,
    depth_accuracy_experiments,
    depth_verdict,
    escape_summary,
    escape_width,
    random_chain_ratios,
    speed_of_learning_experiments,
    speed_verdict,
)
from ui import widgets
from ui.cache import (
    chain_run,
    init_bias_gradients,
    init_gradient_norms,
    jacobian_factor_norms,
    mnist_runs,
)
from ui.display import show_chart
from ui.format import nice, nice_log10, num, plural, sci_latex
from ui.site import link

SPEED_EPOCHS = (20, 300, 100)  # the speed-of-learning slider: least, most, default
DEPTH_EPOCHS = (1, 20, 8)  # the accuracy-against-depth slider
SAME_PERCENT = round(100 * (SAME_WITHIN - 1))
# the initializations' names, written without markup ("n_in" reads as code)
INIT_NAMES = {k: v.replace("n_in", "nᵢₙ") for k, v in WEIGHT_INIT_LABELS.items()}
ACT_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU"}


def factor(log10_ratio: float) -> str:
    """How many times larger or smaller, from the log10 of a ratio: '**202×**' (exact far
    beyond float64, where it is written as a power of ten)."""
    d = abs(log10_ratio)
    return f"**{nice(10**d)}×**" if d < 300 else f"**${sci_latex(d)}$×**"


def size_words(cmp, tail: str, words=("smaller", "larger")) -> str:
    """'**3.3×** smaller than <tail>' for a Comparison that is 'smaller', 'larger' or 'same'
    (``words`` replaces 'smaller' and 'larger', e.g. with 'shorter' and 'longer')."""
    if cmp.verdict == "same":
        exact = "exactly the same as" if cmp.log10_ratio == 0 else "about the same as"
        within = "" if cmp.log10_ratio == 0 else f" (within {SAME_PERCENT}%)"
        return f"{exact} {tail}{within}"
    word = words[0] if cmp.verdict == "smaller" else words[1]
    return f"{factor(cmp.log10_ratio)} {word} than {tail}"


def text_table(df: pd.DataFrame, numeric: list[str], fmt=nice) -> tuple[pd.DataFrame, dict]:
    """Numbers written for reading (never '2.1e-09'), right-aligned: (table, column_config)."""
    out = df.copy()
    for c in numeric:
        out[c] = [fmt(float(v)) for v in df[c]]
    config = {c: st.column_config.TextColumn(alignment="right") for c in numeric}
    return out, config


st.title("Vanishing and exploding gradients")
st.markdown(
    "On its way back, the error is multiplied in every layer by a weight and by the slope "
    "σ′(z). In a deep network those factors multiply, and the product shrinks (vanishes) or "
    "grows (explodes)."
)
with st.expander("Where this page comes from"):
    st.markdown(
        "Cross-entropy removed σ′ from the output layer, but every hidden layer still "
        "multiplies the error by σ′(z). This page follows Nielsen's chapter 5: first a "
        "chain of single neurons, where the product can be written out, then real networks "
        "learning real handwritten digits, then the general case, a product of matrices."
    )

# --- 1. a chain -----------------------------------------------------------------------------
st.header("1. Why: a chain of single neurons")
EXPLODE = {"chain_w": "fixed", "w": 100.0, "chain_b": "centred"}
BOOK = {"chain_w": "normal", "chain_b": "normal"}


def chain_formula(chain, verdict, setup):
    """dC/db_1 written out as its factors, with a caption on what is elided or zero."""
    depth = setup.depth
    shown = list(range(depth)) if depth <= 5 else [0, 1, depth - 2, depth - 1]
    terms = []
    for j in shown:
        terms.append(rf"\underbrace{{\sigma'(z_{{{j + 1}}})}}_{{{num(chain.sigma_prime[j])}}}")
        if j < depth - 1:
            terms.append(rf"\underbrace{{w_{{{j + 2}}}}}_{{{num(chain.w[j + 1])}}}")
        if depth > 5 and j == 1:
            terms.append(r"\cdots")
    terms.append(
        rf"\underbrace{{\frac{{\partial C}}{{\partial a_{{{depth}}}}}}}_{{{num(chain.dC_daL)}}}"
    )
    st.latex(
        r"\begin{aligned}\frac{\partial C}{\partial b_1} &= "
        + r"\,".join(terms)
        + r"\\ &= "
        + sci_latex(chain.log10_grad[0], chain.sign[0])
        + r"\end{aligned}\,"
    )
    zero = {
        "weight": "A weight is exactly 0, which cuts the chain",
        "slope": "A slope σ′(z) is exactly 0 in float64 (z lies far in σ's flat tail)",
    }
    st.caption(
        f"C = (a − y)²/2 for the output a of neuron {depth}, with y = {setup.y:g} and input "
        f"a₀ = {setup.a0:g}. "
        + (
            "All factors shown."
            if depth <= 5
            else f"{depth - 4} middle layers elided; all are in the table below."
        )
        + (
            f" {zero[verdict.zero_cause]}: ∂C/∂b is 0 for layers 1 to {verdict.zero_through}."
            if verdict.trend == "cut"
            else ""
        )
        + (
            " The output equals its target, so there is nothing to learn: every gradient is 0."
            if verdict.trend == "nothing to learn"
            else ""
        )
    )


def bars_frame(ch, name, depth):
    """One chain's log10 |dC/db_j| per layer, without the layers where it is exactly 0."""
    df = pd.DataFrame({"layer": np.arange(1, depth + 1), "log10": ch.log10_grad, "chain": name})
    return df[np.isfinite(df["log10"])]


TREND = {
    "vanishing": "**Vanishing**: layer 1's gradient is {size}.",
    "exploding": "**Exploding**: layer 1's gradient is {size}.",
    "no change": "**No change**: layer 1's gradient is {size}.",
    "cut": "**Cut**: a factor of exactly 0 makes the gradients of layers 1 to {through} exactly 0.",
    "nothing to learn": "**Nothing to learn**: the output equals its target, so every "
    "gradient is 0.",
}


def chain_bullets(chain, verdict, boom, depth):
    """What the chart shows, each sentence chosen by the chain's verdict."""
    n = depth - 1
    counts = f"Factors |wⱼ₊₁ σ′(zⱼ)| above 1: **{verdict.above_one} of {n}**" + (
        f"; exactly 1: **{verdict.at_one}**" if verdict.at_one else ""
    )
    bullets = [
        "σ′(z) never exceeds 1/4; the largest σ′ in your chain is "
        f"**{nice(chain.sigma_prime.max())}**.",
        counts + ".",
        TREND[verdict.trend].format(
            size=size_words(verdict.first_vs_last, f"layer {depth}'s (the last)"),
            through=verdict.zero_through,
        ),
        f"The exploding chain's layer 1 gradient is {nice_log10(boom.log10_grad[0])}.",
    ]
    st.markdown("\n".join(f"- {b}" for b in bullets))


def chain_bars(chain, verdict, boom, depth, seed):
    """Your chain's gradients beside the exploding chain's, with what they say."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        both = pd.concat(
            [
                bars_frame(chain, "your chain", depth),
                bars_frame(boom, "exploding: w = 100, z = 0", depth),
            ]
        )
        show_chart(
            bar_chart(
                both,
                x="layer",
                y="log10",
                color="chain",
                color_title="chain",
                x_offset="chain",
                title="Each layer's bias gradient |∂C/∂bⱼ|",
                x_title="layer j (1 = first)",
                y_title="log₁₀ |∂C/∂bⱼ|",
                x_sort=list(range(1, depth + 1)),
            ),
            "The axis is log₁₀, so gradients of any size stay readable: 0 is a gradient of 1, "
            "−3 is 1/1000, and a bar below 0 is a gradient smaller than 1. “exploding” (every "
            f"w = 100, every z = 0) grows by w·σ′(0) = 100 × 1/4 = {nice(boom.factor[0])} per "
            "layer."
            + (
                f" Layers 1 to {verdict.zero_through} of your chain have no bar: their gradient "
                "is exactly 0."
                if verdict.zero_through
                else ""
            ),
        )
    with right:
        chain_bullets(chain, verdict, boom, depth)
        r = random_chain_ratios(2, rng=np.random.default_rng(seed))
        median = np.median(r)
        st.markdown(
            f"Across {len(r):,} random two-layer stretches with N(0, 1) weights and biases, the "
            f"gradient {'shrinks' if median < 1 else 'grows'} by a median factor of "
            f"**{nice(1 / median if median < 1 else median)}**, and shrinks by more than 16 in "
            f"**{nice(100 * np.mean(r < 1 / 16))}%** of them."
        )


def chain_table(chain, verdict, depth):
    """A float64 failure warning, then every layer of the chain as numbers."""
    if verdict.float_failure is not None:
        j = chain.float_fails_at
        how, sees = {
            "underflow": ("underflows to 0", "exactly 0"),
            "overflow": ("overflows to infinity", "infinity"),
        }[verdict.float_failure]
        st.warning(
            f"In ordinary float64 arithmetic this gradient {how} at layer {j}: a computer "
            f"running plain backpropagation would see {sees} there. The chart uses logarithms, "
            "which stay exact."
        )
    table = pd.DataFrame(
        {
            "layer j": np.arange(1, depth + 1),
            "wⱼ": chain.w,
            "bⱼ": chain.b,
            "zⱼ": chain.z,
            "σ′(zⱼ)": chain.sigma_prime,
            "factor": chain.factor,
            "log₁₀ |∂C/∂bⱼ|": chain.log10_grad,
        }
    )
    shown, config = text_table(table, list(table.columns[1:-1]))
    shown["log₁₀ |∂C/∂bⱼ|"] = [f"{v:.2f}" if np.isfinite(v) else "−∞ (0)" for v in chain.log10_grad]
    config["log₁₀ |∂C/∂bⱼ|"] = st.column_config.TextColumn(alignment="right")
    with st.expander("Every layer of your chain, as numbers"):
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
        st.caption(
            "factor is wⱼ₊₁ σ′(zⱼ) for every layer but the last; the last one is the output "
            "neuron's own error, its σ′(z) times ∂C/∂a."
        )


def escape_window(w_now):
    """How wide the window of inputs is in which a factor |w sigma'| reaches 1; marks your w."""
    st.subheader("How narrow the escape is")
    w_top = max(30.0, 1.35 * (w_now or 0))  # room right of your w for its label
    ws = np.linspace(0, w_top, 1201)
    esc = escape_summary(np.linspace(0, 30, 3001), w_now)  # the peak on a fixed grid
    marks = points_frame(esc.w_best, {"widest": esc.width_best}, x_name="|w|")
    marks["label"] = f"widest: {nice(esc.width_best)}"
    layers = [
        line_chart(
            curves_frame(ws, {"width": escape_width(ws)}, x_name="|w|"),
            x="|w|",
            y="value",
            title="Width of the inputs a for which |w σ′(wa + b)| ≥ 1",
            x_title="weight |w|",
            y_title="width of the interval of a",
        ),
        labelled_points(marks, x="|w|", y="value", label="label"),
    ]
    yours = ""
    if w_now is not None:
        width = esc.width_yours
        layers.append(
            vline(w_now, "your w: no window" if width == 0 else f"your w: width {nice(width)}")
        )
        yours = f" At your |w| = {nice(w_now)} the window is " + (
            "empty." if width == 0 else f"{nice(width)} wide."
        )
    show_chart(
        layered(*layers),
        "To avoid vanishing, a factor needs |w σ′(wa + b)| ≥ 1. That is impossible for |w| < 4 "
        f"(σ′ ≤ 1/4), and even at its best, |w| ≈ {nice(esc.w_best)}, the input a (a sigmoid "
        f"output, so between 0 and 1) must fall in a window only {nice(esc.width_best)} wide: "
        + ("under half" if esc.under_half else "at least half")
        + " of its possible values, for one well-tuned neuron. A large weight pushes z into "
        "σ's flat tails." + yours,
    )


@st.fragment
def chain_section():
    """Section 1, rerun alone: owns the chain presets, depth, weights, w, biases and seed."""
    widgets.preset_buttons(
        {"book": BOOK, "explode": EXPLODE},
        {
            "book": "Random weights, N(0, 1), as in the book",
            "explode": "Exploding: every w = 100, biases so that z = 0",
        },
        key="chain_preset",
    )
    c1, c2, c3, c4, c5 = st.columns([5, 4, 5, 4, 4])
    with c1:
        depth = widgets.slider("Depth (neurons)", "depth", 2, 30, 4)
    with c2:
        weights = widgets.select(
            "Weights",
            "chain_w",
            ["normal", "fixed"],
            "normal",
            labels={"normal": "N(0, 1)", "fixed": "all equal to w"},
        )
    with c3:
        w_fixed = widgets.slider(
            "w (when all equal)", "w", -100.0, 100.0, 1.0, step=0.5, disabled=weights == "normal"
        )
    with c4:
        biases = widgets.select(
            "Biases",
            "chain_b",
            ["normal", "zero", "centred"],
            "normal",
            labels={"normal": "N(0, 1)", "zero": "all 0", "centred": "so that z = 0"},
            help="“so that z = 0”: bⱼ = −wⱼ aⱼ₋₁, which puts every neuron at σ′'s peak, 1/4.",
        )
    with c5:
        seed = widgets.seed("chain_seed")
    setup = ChainSetup(depth, weights, w_fixed, biases, seed=seed)
    chain = chain_run(setup)
    verdict = chain_verdict(chain)
    boom = chain_run(ChainSetup(depth, "fixed", 100.0, "centred"))
    chain_bars(chain, verdict, boom, depth, seed)
    chain_formula(chain, verdict, setup)
    chain_table(chain, verdict, depth)
    escape_window(abs(w_fixed) if weights == "fixed" else None)


chain_section()


# --- 2. MNIST ---------------------------------------------------------------------------------
st.header("2. Measured: real networks on MNIST digits")
st.markdown(
    "Networks with 1 to 4 hidden layers of 30 neurons learn handwritten digits, as in the "
    "book. The **speed of learning** of a hidden layer is the length of its gradient, "
    "‖δˡ‖ = ‖∂C/∂bˡ‖."
)
with st.expander("About these networks and digits"):
    st.markdown(
        "Networks [784, 30, 10] up to [784, 30, 30, 30, 30, 10], cross-entropy cost, biases "
        "N(0, 1), as in the book; ‖δˡ‖ is averaged over 1,000 training digits. The digits are "
        "the MNIST test set shipped with the site, split into "
        f"{SPLIT_SIZES['train']:,} training, {SPLIT_SIZES['validation']:,} validation and "
        f"{SPLIT_SIZES['test']:,} test digits. Change the activation or the initialization to "
        f"preview the fixes on the {link('activations', 'activation')} and "
        f"{link('weight-initialization', 'initialization')} pages."
    )
m1, m2, m3 = st.columns(3)
with m1:
    act = widgets.select(
        "Activation",
        "act",
        ["sigmoid", "tanh", "relu"],
        "sigmoid",
        labels={**ACT_NAMES, "sigmoid": "sigmoid (the book)"},
    )
with m2:
    inits = ["scaled", "xavier", "he", "normal"]
    init = widgets.select(
        "Weight initialization",
        "init",
        inits,
        "scaled",
        labels={k: INIT_NAMES[k] + (" (the book)" if k == "scaled" else "") for k in inits},
    )
with m3:
    mseed = widgets.seed("mnist_seed")
book_setting = act == "sigmoid" and init == "scaled"


def six_note(g, hidden):
    """The sentence under the six-neuron bars: the last hidden layer's against the first's."""
    if hidden == 1:
        return "With one hidden layer there is nothing to compare: choose 2 to 4."
    cmp = compare(np.mean(np.abs(g.db[-1][:6])), np.mean(np.abs(g.db[0][:6])))
    first, last = "hidden layer 1 (nearest the input)", f"hidden layer {hidden}"
    if cmp.verdict == "zero":
        return f"The bars of {last} are all 0: no error reaches it."
    if cmp.verdict == "reference zero":
        return f"The bars of {first} are all 0: no error reaches it."
    if cmp.verdict == "both zero":
        return "Every bar is 0: no error reaches these layers."
    meaning = {
        "larger": ": the error shrinks on its way back to the input.",
        "smaller": ": the error grows on its way back to the input.",
        "same": ".",
    }[cmp.verdict]
    sizes = size_words(cmp, f"those of {first}", ("shorter", "longer"))
    return f"On average the bars of {last} are {sizes}{meaning}"


@st.fragment
def six_neurons(act, init, mseed):
    """The first tab's bar chart, rerun alone: owns the number of hidden layers."""
    hidden = widgets.radio("Hidden layers", "hidden", [1, 2, 3, 4], 2)
    g = init_bias_gradients(hidden, act, init, mseed)
    six = pd.DataFrame(
        [
            {"neuron": str(n + 1), "layer": layer_name(k + 1), "gradient": float(db[n])}
            for k, db in enumerate(g.db)
            for n in range(6)
        ]
    )
    show_chart(
        bar_chart(
            six,
            x="neuron",
            y="gradient",
            color="layer",
            color_title="hidden layer",
            x_offset="layer",
            title=f"∂C/∂b of the first six neurons per hidden layer ({hidden} hidden)",
            x_title="neuron",
            y_title="∂C/∂b (mean over 1,000 digits)",
        ),
        six_note(g, hidden),
    )


def norms_table(act, init, mseed, book_setting):
    """Each hidden layer's ‖δ‖ at initialization for 2 to 4 hidden layers, over seeds 0-9."""
    seeds = 10
    rows = []
    for n_hidden in (2, 3, 4):
        norms = init_gradient_norms(n_hidden, act, init, seeds)
        ours = (
            norms[mseed] if mseed < seeds else init_bias_gradients(n_hidden, act, init, mseed).norms
        )
        for k in range(n_hidden):
            row = {
                "network": f"{n_hidden} hidden layers",
                "hidden layer": k + 1,
                "this site": ours[k],
                "lowest of 10 seeds": norms[:, k].min(),
                "highest of 10 seeds": norms[:, k].max(),
                "median": np.median(norms[:, k]),
            }
            if book_setting:
                row["Nielsen's book"] = BOOK_INIT_NORMS[n_hidden][k]
            rows.append(row)
    return pd.DataFrame(rows)


def norms_at_initialization(act, init, mseed, book_setting):
    """The first tab's line chart of ‖δˡ‖ per hidden layer, beside the book's when it applies."""
    norms_df = norms_table(act, init, mseed, book_setting)
    sources = ["this site", "Nielsen's book"] if book_setting else ["this site"]
    long = norms_df.melt(
        id_vars=["network", "hidden layer"],
        value_vars=sources,
        var_name="source",
        value_name="‖δ‖",
    )
    show_chart(
        layered(
            line_chart(
                long,
                x="hidden layer",
                y="‖δ‖",
                color="network",
                color_title="network",
                dash="source",
                points=True,
                log_y=True,
                y_powers=True,
                x_integer=True,
                x_domain=(0.8, 4.2),
                title="Speed of learning of each hidden layer at initialization",
                x_title="hidden layer (1 = nearest the input)",
                y_title="‖δˡ‖ (log scale)",
            ),
            range_rules(
                norms_df,
                x="hidden layer",
                lo="lowest of 10 seeds",
                hi="highest of 10 seeds",
                color="network",
                log_y=True,
            ),
        ),
        "Solid: this site, for the chosen seed; thick bars: the range over seeds 0–9"
        + (
            "; dashed: the book's values."
            if book_setting
            else ". The book's values are shown only for its own setting (sigmoid, "
            f"{INIT_NAMES['scaled']})."
        ),
    )
    if book_setting:
        ratio = norms_df["median"] / norms_df["Nielsen's book"]
        inside = (norms_df["Nielsen's book"] >= norms_df["lowest of 10 seeds"]) & (
            norms_df["Nielsen's book"] <= norms_df["highest of 10 seeds"]
        )
        st.markdown(
            f"Our medians are **{nice(ratio.min())}–{nice(ratio.max())}×** the book's numbers, "
            "and the book's value lies within our range over ten seeds for "
            f"**{int(inside.sum())} of {len(inside)}** layers: a random initialization is a "
            "draw, and the book reports one."
        )
    shown, config = text_table(norms_df, list(norms_df.columns[2:]))
    with st.expander("The numbers behind the chart"):
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def silence_sentence(group, rows):
    """Hidden layers whose gradient is exactly 0 for the same reason since the same epoch."""
    s, many = group[0], len(group) > 1
    names = ", ".join(str(g.layer) for g in group[:-1]) + f" and {group[-1].layer}"
    who = (
        f"The gradients of hidden layers {names} are"
        if many
        else f"The gradient of hidden layer {s.layer} is"
    )
    when = (
        f"from epoch {s.from_epoch} on"
        if s.to_the_end
        else f"at {s.zero_rows} of {rows} recorded epochs (first at epoch {s.from_epoch})"
    )
    them, their = ("them", "their") if many else ("it", "its")
    why = {
        "dead": f"every unit in {them} has z ≤ 0 on every probe digit, where ReLU's slope is 0 "
        "(dead ReLUs)",
        "cut": f"hidden layer {s.by} passes no error back to {them}",
        "flat": f"{their} units' slopes are 0 wherever an error arrives (saturated units)",
        "cancels": f"{their} per-digit gradients cancel exactly in the mean",
    }[s.cause]
    return f"{who} exactly 0 {when}: {why}."


def silence_groups(silent):
    """Silent layers grouped by what their sentence says (when, since when, why)."""
    groups: dict[tuple, list] = {}
    for s in silent:
        groups.setdefault((s.from_epoch, s.to_the_end, s.zero_rows, s.cause, s.by), []).append(s)
    return list(groups.values())


def speed_notes(v, n_hidden):
    """The sentences beside one speed-of-learning chart, chosen by its verdict."""
    notes = [silence_sentence(g, v.rows) for g in silence_groups(v.silent)]
    last = f"hidden layer {n_hidden}'s"
    comparable = ("smaller", "larger", "same")
    if v.end.verdict in comparable:
        notes.append(
            f"At epoch **{v.last_epoch}** hidden layer 1's ‖δ‖ is {size_words(v.end, last)}."
        )
    if v.rows_compared > 1 and v.typical.verdict in comparable:
        notes.append(
            f"Over the {v.rows_compared} recorded epochs where both have a gradient it is "
            f"{size_words(v.typical, last)} on average (geometric mean)."
        )
    return " ".join(notes)


def speed_chart(res, epochs, act):
    """One network's ‖δˡ‖ per hidden layer during training, with what it shows."""
    norms = res.history.grad_norm
    n_hidden = norms.shape[1]
    df = layers_frame(res.history.epoch, norms)
    drawn = df[df["value"] > 0]
    # a line of one point draws nothing: then mark the points
    lonely = (drawn.groupby("layer").size() < 2).any()
    chart_col, text_col = st.columns([3, 1], gap="large")
    with chart_col:
        show_chart(
            line_chart(
                drawn,
                x="epoch",
                y="value",
                color="layer",
                color_title="hidden layer",
                points=bool(lonely),
                log_y=True,
                y_powers=True,
                height=240,
                x_domain=(0, epochs),
                title=f"Speed of learning during training: {n_hidden} hidden layers",
                x_title="epoch",
                y_title="‖δˡ‖ (log scale)",
            ),
            "Each line is one hidden layer; the vertical gap between two lines is how "
            "many times faster one layer learns than the other. A line stops where its "
            "gradient is exactly 0.",
        )
    with text_col:
        st.markdown(speed_notes(speed_verdict(res.history, act), n_hidden))


@st.fragment
def speed_of_learning(act, init, mseed):
    """The second tab, rerun alone: owns the number of epochs of full-batch training."""
    lo, hi, default = SPEED_EPOCHS
    epochs = widgets.slider(
        "Epochs of full-batch gradient descent", "sol_epochs", lo, hi, default, step=20
    )
    experiments = speed_of_learning_experiments(act, init, epochs, mseed)
    exp = experiments[0]
    st.caption(
        f"The book's protocol: {exp.n_train:,} training digits, full-batch gradient descent, "
        f"η = {exp.eta:g}, λ = {exp.lmbda:g}, for {BOOK_SPEED_EPOCHS} epochs. Here the same, "
        f"for {lo} to {hi} epochs, so that a fresh run stays short (every run is stored: a "
        "second visit is instant). The same colour is the same hidden layer in every chart "
        "on the site."
    )
    results = mnist_runs(experiments, "Training three networks, full batch")
    for res in results:
        if res.diverged_at:
            st.error(f"{str(res.diverged_at).capitalize()}; the chart shows the epochs before.")
        if len(res.history.epoch) == 0:
            continue
        speed_chart(res, epochs, act)


def deepest_sentence(v, noise: str, layers) -> str:
    """The deepest network that trained, when it is not among the best: how far below, and
    (when that is more than chance) what its gradients show."""
    who = f"The deepest network{' that trained' if v.diverged else ''} ({layers(v.deepest)})"
    out = (
        f"{who} reaches **{v.accuracy[v.deepest]:.1f}%**, **{v.deepest_gap:.1f} points** below "
        "the best"
    )
    if v.deepest_gap < v.noise:
        return out + f": less than {noise}, so this could be chance."
    out += (
        ". More layers should not hurt in principle (a layer could learn to pass its input "
        "on); here they do."
    )
    g, last = v.deepest_gradients, f"its hidden layer {v.deepest}'s"
    if g is not None and g.verdict in ("smaller", "larger", "same"):
        out += f" At the end its hidden layer 1's ‖δ‖ is {size_words(g, last)}" + (
            ": its first layer learns slower than its last." if g.verdict == "smaller" else "."
        )
    elif g is not None and g.verdict in ("zero", "both zero"):
        out += " At the end its hidden layer 1 gets no gradient at all."
    return out


def accuracy_verdict(v, lmbda, scaled_l, n_eval):
    """The best depth (ties said as ties), the deepest network, and what λ means here."""
    if not v.accuracy:
        return "Every network diverged: there is no accuracy to compare."
    layers = lambda k: f"**{k}** hidden layer{'s' if k > 1 else ''}"  # noqa: E731
    if len(v.best) == 1:
        out = [f"Best depth here: {layers(v.best[0])} (**{v.best_accuracy:.1f}%**)."]
    elif len(v.best) == len(v.accuracy):
        out = [f"All {len(v.best)} depths tie at **{v.best_accuracy:.1f}%**."]
    else:
        tied = ", ".join(str(k) for k in v.best[:-1]) + f" and {v.best[-1]}"
        out = [
            f"Best depth here: a tie between **{tied}** hidden layers "
            f"(**{v.best_accuracy:.1f}%** each)."
        ]
    noise = (
        f"two standard errors of an accuracy measured on {n_eval:,} digits, "
        f"**{v.noise:.1f} points**"
    )
    if len(v.accuracy) > 1 and 0 < v.spread < v.noise:
        out.append(
            f"All depths are within **{v.spread:.1f} points** of each other, less than {noise}: "
            "at this setting depth makes no measurable difference."
        )
    elif v.deepest in v.best and len(v.accuracy) > 1:
        out.append(
            "The deepest network is " + ("the best one." if len(v.best) == 1 else "among the best.")
        )
    elif len(v.accuracy) > 1:
        out.append(deepest_sentence(v, noise, layers))
    if v.diverged:
        out.append("Left out: " + ", ".join(f"{k} hidden" for k in v.diverged) + " (diverged).")
    out.append(
        f"λ is {lmbda:g}, which gives the book's weight decay per step (ηλ/n) on these digits."
        if lmbda == scaled_l
        else f"λ = 5 on these digits decays the weights {nice(5 / scaled_l)} times harder per "
        "step than the book's λ = 5 on its digits."
    )
    out.append("Results vary by seed: try a few.")
    return " ".join(out)


@st.fragment
def accuracy_against_depth(act, init, mseed):
    """The third tab, rerun alone: owns the epochs and the L2 strength λ."""
    n_train = SPLIT_SIZES["train"]
    e_col, l_col = st.columns(2)
    with e_col:
        lo, hi, default = DEPTH_EPOCHS
        a_epochs = widgets.slider("Epochs", "acc_epochs", lo, hi, default)
    with l_col:
        scaled_l = book_lmbda(n_train)
        lmbda = widgets.radio(
            "L2 strength λ",
            "acc_lmbda",
            [scaled_l, 5.0],
            scaled_l,
            labels={
                scaled_l: f"{scaled_l:g}: the book's decay per step on {n_train:,} digits",
                5.0: f"5: the book's number (for {BOOK_N_TRAIN:,} digits)",
            },
        )
    experiments = depth_accuracy_experiments(act, init, a_epochs, mseed, lmbda)
    results = mnist_runs(experiments, "Training four networks, mini-batch 10")
    depths = [len(e.sizes) - 2 for e in experiments]
    n_eval = SPLIT_SIZES["validation"]
    v = depth_verdict(dict(zip(depths, results)), n_eval)
    acc = pd.DataFrame(
        [{"hidden layers": k, "source": "this site", "accuracy": a} for k, a in v.accuracy.items()]
        + [
            {"hidden layers": k, "source": "Nielsen's book", "accuracy": a}
            for k, a in BOOK_ACCURACY.items()
        ]
    )
    lo_y = max(0.0, 10 * np.floor(min(acc["accuracy"].min() - 2, 90) / 10))
    show_chart(
        line_chart(
            acc,
            x="hidden layers",
            y="accuracy",
            color="source",
            color_title="source",
            points=True,
            x_integer=True,
            y_domain=(lo_y, 100),
            title="Validation accuracy against depth",
            x_title="hidden layers of 30 neurons",
            y_title="accuracy (%)",
        ),
        f"This site: {plural(a_epochs, 'epoch')} on {n_train:,} training digits (mini-batch "
        f"{experiments[0].batch_size}, η = {experiments[0].eta:g}), accuracy on {n_eval:,} "
        f"validation digits. The book: {BOOK_DEPTH_EPOCHS} epochs on {BOOK_N_TRAIN:,} digits; "
        f"here at most {hi}, so that a fresh run stays short."
        + (f" The y-axis starts at {lo_y:g}%." if lo_y > 0 else ""),
    )
    st.markdown(accuracy_verdict(v, lmbda, scaled_l, n_eval))
    diverged = [f"{k} hidden: {r.diverged_at}" for k, r in zip(depths, results) if r.diverged_at]
    if diverged:
        st.warning("Training stopped early: " + "; ".join(diverged))


tabs = st.tabs(
    ["At initialization", "Speed of learning", "Accuracy against depth"],
    key="mnist_tab",
    bind="query-params",
)
with tabs[0]:
    if tabs[0].open is not False:
        six_neurons(act, init, mseed)
        norms_at_initialization(act, init, mseed, book_setting)
with tabs[1]:
    if tabs[1].open:
        speed_of_learning(act, init, mseed)
with tabs[2]:
    if tabs[2].open:
        accuracy_against_depth(act, init, mseed)

# --- 3. the general case ----------------------------------------------------------------------
st.header("3. The general case: a product of matrices")
st.latex(
    r"\delta^l = \Sigma'(z^l)\,(W^{l+1})^T\,\Sigma'(z^{l+1})\,(W^{l+2})^T \cdots "
    r"\Sigma'(z^{L-1})\,(W^L)^T\,\delta^L"
)
st.caption(
    "Σ′(zˡ) is the diagonal matrix of the activation's slopes in layer l; δᴸ = aᴸ − y is the "
    "output layer's error under cross-entropy."
)
jn, shrink = jacobian_factor_norms(4, act, init, mseed)
jdf = pd.DataFrame({"hidden layer": [layer_name(k + 1) for k in range(len(jn))], "norm": jn})
below = int((jn < 1).sum())
left, right = st.columns([3, 2], gap="large")
with left:
    show_chart(
        layered(
            bar_chart(
                jdf,
                x="hidden layer",
                y="norm",
                title="Size of each layer's backward factor",
                x_title="factor Σ′(zˡ)(Wˡ⁺¹)ᵀ of",
                y_title="spectral norm (mean over 200 digits)",
            ),
            hline(1.0, "1: neither shrinks nor grows", show_label=False),
        ),
        "Each bar is the largest stretch (spectral norm) of one layer's factor, averaged over "
        "digits; the dashed line is 1, where a factor neither shrinks nor grows the error. "
        f"{below} of {len(jn)} are below 1"
        + (": on a typical digit those layers can only shrink the error." if below else "."),
    )
with right:
    back = compare(shrink, 1.0)
    verdict = {
        "smaller": f"The error shrinks {factor(back.log10_ratio)} on its way back: the "
        "vanishing the chain showed, matrix by matrix"
        + (", each Σ′ holding values ≤ 1/4 for sigmoid." if act == "sigmoid" else "."),
        "larger": f"The error grows {factor(back.log10_ratio)} on its way back: exploding.",
        "same": "The error reaches the first hidden layer about undiminished (within "
        f"{SAME_PERCENT}%): this activation and initialization keep the product near 1.",
    }.get(back.verdict, "No error reaches the first hidden layer at all.")
    st.markdown(
        f"For the 4-hidden-layer network ({ACT_NAMES[act]}, {INIT_NAMES[init]}) the factors' norms "
        f"multiply to **{nice(float(np.prod(jn)))}**: the change the error would undergo if it "
        "were lined up with each factor's most stretched direction. What actually reaches the "
        f"first hidden layer is ‖δ¹‖/‖δᴸ‖ = **{nice(shrink)}** (median over the same digits). "
        + verdict
    )
    st.markdown(
        "What helps: activations whose slope is 1 over a wide range ("
        + link("activations", "ReLU and its relatives")
        + "), initial weights scaled so that each factor stays near 1 ("
        + link("weight-initialization", "Xavier and He initialization")
        + "), normalization layers that keep every zˡ in the responsive range, and, against "
        "explosion, gradient clipping: rescaling a gradient whose norm exceeds a threshold."
    )
