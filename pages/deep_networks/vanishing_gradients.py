"""The unstable gradient problem: a product of w * sigma'(z) factors, measured on MNIST."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import bar_chart, hline, labelled_points, layered, line_chart, range_rules, vline
from charts.frames import curves_frame, layers_frame, points_frame
from charts.palette import layer_name
from explain.nn.initializers import WEIGHT_INIT_LABELS
from explain.unstable import (
    BOOK_ACCURACY,
    BOOK_INIT_NORMS,
    ChainSetup,
    book_lmbda,
    depth_accuracy_experiments,
    escape_width,
    random_chain_ratios,
    speed_of_learning_experiments,
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
from ui.format import plural, sci_latex, times
from ui.site import link

st.title("Vanishing and exploding gradients")
st.markdown(
    "Cross-entropy removed σ′ from the output layer. Every hidden layer still multiplies the "
    "error by a weight and by σ′(z) on its way back, and in a deep network those factors "
    "multiply. This page follows Nielsen's chapter 5: first a chain of single neurons, where "
    "the product can be written out, then real networks learning real handwritten digits."
)

# --- 1. a chain -----------------------------------------------------------------------------
st.header("1. Why: a chain of single neurons")
EXPLODE = {"chain_w": "fixed", "w": 100.0, "chain_b": "centred"}
BOOK = {"chain_w": "normal", "chain_b": "normal"}


def chain_formula(chain, depth):
    """dC/db_1 written out as its factors, with a caption on what is elided or zero."""
    shown = list(range(depth)) if depth <= 5 else [0, 1, depth - 2, depth - 1]
    terms = []
    for j in shown:
        terms.append(rf"\underbrace{{\sigma'(z_{{{j + 1}}})}}_{{{chain.sigma_prime[j]:.3g}}}")
        if j < depth - 1:
            terms.append(rf"\underbrace{{w_{{{j + 2}}}}}_{{{chain.w[j + 1]:.3g}}}")
        if depth > 5 and j == 1:
            terms.append(r"\cdots")
    terms.append(
        rf"\underbrace{{\frac{{\partial C}}{{\partial a_{{{depth}}}}}}}_{{{chain.dC_daL:.3g}}}"
    )
    st.latex(
        r"\frac{\partial C}{\partial b_1} = "
        + r"\,".join(terms)
        + " = "
        + sci_latex(chain.log10_grad[0], chain.sign[0])
    )
    zero_at = np.flatnonzero(~np.isfinite(chain.log10_grad))
    st.caption(
        f"C = (a − y)²/2 for the output a of neuron {depth}, with y = 0 and input a₀ = 1. "
        + (
            "All factors shown."
            if depth <= 5
            else f"{depth - 4} middle layers elided; all are in the table."
        )
        + (
            f" A factor is exactly 0 (w = 0 cuts the chain), so ∂C/∂b is 0 for layers 1 to "
            f"{zero_at.max() + 1}."
            if len(zero_at)
            else ""
        )
    )


def bars_frame(ch, name, depth):
    """One chain's log10 |dC/db_j| per layer, without the layers where it is exactly 0."""
    df = pd.DataFrame({"layer": np.arange(1, depth + 1), "log10": ch.log10_grad, "chain": name})
    return df[np.isfinite(df["log10"])]


def chain_bars(chain, boom, depth, seed):
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
            layered(
                bar_chart(
                    both,
                    x="layer",
                    y="log10",
                    color="chain",
                    color_title="chain",
                    x_offset="chain",
                    title="Each layer's bias gradient, your chain beside the exploding one",
                    x_title="layer j (1 = first)",
                    y_title="log₁₀ |∂C/∂b_j|",
                    x_sort=list(range(1, depth + 1)),
                ),
                hline(0.0, "|∂C/∂b| = 1"),
            ),
            "The axis is log₁₀, so it stays readable from 10⁻¹⁰⁰⁰ to 10⁴⁰: 0 is a gradient of 1, "
            "−3 is 1/1000. Blue is your chain: bars below 0 are gradients smaller than 1. "
            f"Vermillion (every w = 100, every z = 0) grows by w·σ′(0) = 100 × 1/4 = "
            f"{boom.factor[0]:g} per layer.",
        )
    with right:
        g1, g3 = (chain.log10_grad[0], chain.log10_grad[2]) if depth >= 3 else (np.nan, np.nan)
        ratio13 = 10 ** (g3 - g1) if np.isfinite(g1) and np.isfinite(g3) else None
        big = np.abs(chain.factor[:-1])
        bullets = [
            "σ′(z) never exceeds 1/4; the largest σ′ in your chain is "
            f"**{chain.sigma_prime.max():.3g}**.",
            f"Factors |w σ′(z)| above 1: **{int((big > 1).sum())} of {len(big)}**.",
        ]
        if ratio13 is not None and 0 < ratio13 < np.inf:
            bullets.append(f"Layer 1's gradient is {times(1 / ratio13)} than layer 3's.")
        boom_first = sci_latex(boom.log10_grad[0])
        bullets.append(f"Exploding chain: layer 1's gradient is ${boom_first}$.")
        st.markdown("\n".join(f"- {b}" for b in bullets))
        r = random_chain_ratios(2, rng=np.random.default_rng(seed))
        st.markdown(
            f"Across 20,000 random two-layer stretches with N(0, 1) weights and biases, the "
            f"gradient shrinks by a median factor of **{np.median(1 / r):,.0f}**, and by more "
            f"than 16 in **{100 * np.mean(r < 1 / 16):.0f}%** of them."
        )


def chain_table(chain, depth):
    """A float64 failure warning, then every layer of the chain as numbers."""
    if chain.float_fails_at is not None:
        j = chain.float_fails_at
        how = "underflows to 0" if chain.grad[j - 1] == 0 else "overflows to infinity"
        st.warning(
            f"In ordinary float64 arithmetic this gradient {how} at layer {j}: a computer running "
            "plain backpropagation would see exactly 0 (or infinity) there. The chart uses "
            "logarithms, which stay exact."
        )
    table = pd.DataFrame(
        {
            "layer j": np.arange(1, depth + 1),
            "w_j": chain.w,
            "b_j": chain.b,
            "z_j": chain.z,
            "σ′(z_j)": chain.sigma_prime,
            "factor (w_{j+1} σ′(z_j))": chain.factor,
            "log₁₀ |∂C/∂b_j|": chain.log10_grad,
        }
    )
    with st.expander("Every layer of your chain, as numbers"):
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.4g") for c in table.columns[1:]
            },
        )
        st.caption("The last factor is σ′(z_L) ∂C/∂a_L: the output neuron's own delta.")


def escape_window(w_now):
    """How wide the window of inputs is in which a factor |w sigma'| reaches 1; marks your w."""
    st.subheader("How narrow the escape is")
    w_top = max(30.0, (w_now or 0) + 5)
    ws = np.linspace(0, w_top, 1201)
    width = escape_width(ws)
    peak = int(np.argmax(width))
    marks = points_frame(ws[peak], {"widest": width[peak]}, x_name="|w|")
    layers = [
        line_chart(
            curves_frame(ws, {"width": width}, x_name="|w|"),
            x="|w|",
            y="value",
            title="Width of the inputs a for which |w σ′(wa + b)| ≥ 1",
            x_title="weight |w|",
            y_title="width of the interval of a",
        ),
        labelled_points(marks, x="|w|", y="value", label="label"),
    ]
    if w_now is not None:
        layers.append(
            vline(w_now, f"your w: width {float(escape_width(np.array([w_now]))[0]):.3f}")
        )
    show_chart(
        layered(*layers),
        f"To avoid vanishing, a factor needs |w σ′(wa + b)| ≥ 1. That is impossible for |w| < 4 "
        f"(σ′ ≤ 1/4), and even at its best, |w| ≈ {ws[peak]:.1f}, the input a (a sigmoid output, "
        f"so between 0 and 1) must fall in a window only {width[peak]:.2f} wide: under half of "
        "its possible values, for one well-tuned neuron. A large weight pushes z into σ's flat "
        "tails.",
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
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        depth = widgets.slider("Depth (neurons in the chain)", "depth", 2, 30, 4)
    with c2:
        weights = widgets.select(
            "Weights",
            "chain_w",
            ["normal", "fixed"],
            "normal",
            labels={"normal": "random, N(0, 1)", "fixed": "all equal to w"},
        )
        w_fixed = widgets.slider(
            "w (when all equal)", "w", -100.0, 100.0, 1.0, step=0.5, disabled=weights == "normal"
        )
    with c3:
        biases = widgets.select(
            "Biases",
            "chain_b",
            ["normal", "zero", "centred"],
            "normal",
            labels={
                "normal": "random, N(0, 1)",
                "zero": "all 0",
                "centred": "b_j = −w_j a_{j−1} (z = 0)",
            },
        )
    with c4:
        seed = widgets.seed("chain_seed")
    chain = chain_run(ChainSetup(depth, weights, w_fixed, biases, seed=seed))
    boom = chain_run(ChainSetup(depth, "fixed", 100.0, "centred"))
    chain_formula(chain, depth)
    chain_bars(chain, boom, depth, seed)
    chain_table(chain, depth)
    escape_window(abs(w_fixed) if weights == "fixed" else None)


chain_section()


# --- 2. MNIST ---------------------------------------------------------------------------------
st.header("2. Measured: real networks on MNIST digits")
st.markdown(
    "Networks [784, 30, 10] up to [784, 30, 30, 30, 30, 10], cross-entropy cost, biases N(0, 1), "
    "as in the book. The **speed of learning** of a hidden layer is the length of its gradient "
    "‖δˡ‖ = ‖∂C/∂bˡ‖, averaged over 1,000 training digits. The digits are the MNIST test set "
    "shipped with the site, split into 8,000 training, 1,000 validation and 1,000 test digits "
    "(1,000 validation digits measure an accuracy to about ±0.7 points). Change the activation "
    f"or the initialization to preview the fixes on the {link('activations', 'activation')} and "
    f"{link('weight-initialization', 'initialization')} pages."
)
m1, m2, m3 = st.columns(3)
with m1:
    act = widgets.select(
        "Activation",
        "act",
        ["sigmoid", "tanh", "relu"],
        "sigmoid",
        labels={"sigmoid": "sigmoid (the book)", "tanh": "tanh", "relu": "ReLU"},
    )
with m2:
    inits = ["scaled", "xavier", "he", "normal"]
    init = widgets.select(
        "Weight initialization",
        "init",
        inits,
        "scaled",
        labels={k: WEIGHT_INIT_LABELS[k] + (" (the book)" if k == "scaled" else "") for k in inits},
    )
with m3:
    mseed = widgets.seed("mnist_seed")
book_setting = act == "sigmoid" and init == "scaled"


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
    if hidden > 1:
        tall = np.mean(np.abs(g.db[-1][:6])) / max(np.mean(np.abs(g.db[0][:6])), 1e-300)
        six_note = (
            f"Compare the colours: on average the bars of hidden layer {hidden} are "
            f"{times(tall)} than those of hidden layer 1 (nearest the input)."
        )
    else:
        six_note = "With one hidden layer there is nothing to compare: choose 2 to 4."
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
        six_note,
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
                long[long["‖δ‖"] > 0],
                x="hidden layer",
                y="‖δ‖",
                color="network",
                color_title="network",
                dash="source",
                points=True,
                log_y=True,
                x_integer=True,
                x_domain=(0.8, 4.2),
                title="Speed of learning of each hidden layer at initialization",
                x_title="hidden layer (1 = nearest the input)",
                y_title="‖δˡ‖ (log scale)",
            ),
            range_rules(
                norms_df[norms_df["lowest of 10 seeds"] > 0],
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
            else ". The book's values are shown only for its own setting (sigmoid, N(0, 1/n_in))."
        ),
    )
    if book_setting:
        ratio = norms_df["median"] / norms_df["Nielsen's book"]
        inside = (norms_df["Nielsen's book"] >= norms_df["lowest of 10 seeds"]) & (
            norms_df["Nielsen's book"] <= norms_df["highest of 10 seeds"]
        )
        st.markdown(
            f"Our medians are **{ratio.min():.2f}–{ratio.max():.2f}×** the book's numbers, "
            "and the book's value lies within our range over ten seeds for "
            f"**{int(inside.sum())} of {len(inside)}** layers: a random initialization is a "
            "draw, and the book reports one."
        )
    st.dataframe(
        norms_df,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.3g") for c in norms_df.columns[2:]
        },
    )


def speed_chart(res, epochs):
    """One network's ‖δˡ‖ per hidden layer during training, with the ratio it ends at."""
    norms = res.history.grad_norm
    n_hidden = norms.shape[1]
    df = layers_frame(res.history.epoch, norms)
    chart_col, text_col = st.columns([3, 1], gap="large")
    with chart_col:
        show_chart(
            line_chart(
                df[df["value"] > 0],
                x="epoch",
                y="value",
                color="layer",
                color_title="hidden layer",
                log_y=True,
                height=240,
                x_domain=(0, epochs),
                title=f"Speed of learning during training: {n_hidden} hidden layers",
                x_title="epoch",
                y_title="‖δˡ‖ (log scale)",
            ),
            "Each line is one hidden layer; the vertical gap between two lines is how "
            "many times faster one layer learns than the other.",
        )
    with text_col:
        zero = [k for k in range(n_hidden) if np.any(norms[:, k] == 0)]
        notes = []
        for k in zero:
            e = int(res.history.epoch[np.argmax(norms[:, k] == 0)])
            notes.append(
                f"Hidden layer {k + 1}'s gradient is exactly 0 from epoch {e}: every "
                "unit in it is inactive on every digit (dead ReLUs), so its line stops."
            )
        if not zero:
            last, mean_ratio = (
                norms[-1, -1] / norms[-1, 0],
                np.exp(np.mean(np.log(norms[:, -1] / norms[:, 0]))),
            )
            notes.append(
                f"After **{int(res.history.epoch[-1])}** epochs the last hidden layer's "
                f"gradient is {times(last)} than the first's; {times(mean_ratio)} on "
                "average over the run."
            )
        st.markdown(" ".join(notes))


@st.fragment
def speed_of_learning(act, init, mseed):
    """The second tab, rerun alone: owns the number of epochs of full-batch training."""
    epochs = widgets.slider(
        "Epochs of full-batch gradient descent", "sol_epochs", 20, 500, 500, step=20
    )
    results = mnist_runs(
        speed_of_learning_experiments(act, init, epochs, mseed),
        "Training three networks, full batch",
    )
    for res in results:
        if res.diverged_at:
            st.error(str(res.diverged_at))
        if len(res.history.epoch) == 0:
            continue
        speed_chart(res, epochs)
    st.caption(
        "The book's protocol: 1,000 training digits, full-batch gradient descent, η = 0.1, "
        "λ = 5. The same colour is the same hidden layer in every chart on the site."
    )


def accuracy_verdict(ours, lmbda, scaled_l):
    """The best depth, the deepest network's accuracy, and what λ means here."""
    best_k = max(ours, key=ours.get)
    deepest = ours.get(4)
    return (
        f"Best depth here: **{best_k}** hidden layer{'s' if best_k > 1 else ''} "
        f"(**{ours[best_k]:.1f}%**). "
        + (
            f"The deepest network reaches **{deepest:.1f}%**, "
            f"{'below' if deepest < ours[best_k] else 'equal to'} the best. "
            if deepest is not None
            else ""
        )
        + "More layers should not hurt in principle (a layer could learn to pass its "
        "input on), "
        + (
            "yet here they do not help: the extra layers' gradients are small. "
            if best_k < 4
            else "and here the deepest network is the best one. "
        )
        + (
            f"λ is {lmbda:g}, which gives the book's weight decay per step (ηλ/n) on 8,000 digits. "
            if lmbda == scaled_l
            else f"λ = 5 on 8,000 digits decays the weights {5 / scaled_l:.3g} times "
            "harder per step than the book's λ = 5 on 50,000. "
        )
        + "Results vary by seed, most for the deepest network: try a few."
    )


@st.fragment
def accuracy_against_depth(act, init, mseed):
    """The third tab, rerun alone: owns the epochs and the L2 strength λ."""
    e_col, l_col = st.columns(2)
    with e_col:
        a_epochs = widgets.slider("Epochs", "acc_epochs", 1, 30, 30)
    with l_col:
        scaled_l = book_lmbda(8000)
        lmbda = widgets.radio(
            "L2 strength λ",
            "acc_lmbda",
            [scaled_l, 5.0],
            scaled_l,
            labels={
                scaled_l: f"{scaled_l:g}: the book's decay per step on 8,000 digits",
                5.0: "5: the book's number (for 50,000 digits)",
            },
        )
    results = mnist_runs(
        depth_accuracy_experiments(act, init, a_epochs, mseed, lmbda),
        "Training four networks, mini-batch 10",
    )
    ours = {
        k: 100 * r.history.eval_accuracy[-1]
        for k, r in zip((1, 2, 3, 4), results)
        if len(r.history.epoch)
    }
    acc = pd.DataFrame(
        [{"hidden layers": k, "source": "this site", "accuracy": v} for k, v in ours.items()]
        + [
            {"hidden layers": k, "source": "Nielsen's book", "accuracy": v}
            for k, v in BOOK_ACCURACY.items()
        ]
    )
    lo = min(acc["accuracy"].min() - 2, 90)
    show_chart(
        line_chart(
            acc,
            x="hidden layers",
            y="accuracy",
            color="source",
            color_title="source",
            points=True,
            x_integer=True,
            y_domain=(max(0, lo), 100),
            title="Validation accuracy against depth",
            x_title="hidden layers of 30 neurons",
            y_title="accuracy (%)",
        ),
        f"This site: {plural(a_epochs, 'epoch')} on 8,000 training digits, accuracy on 1,000 "
        "validation digits. The book: 30 epochs on 50,000 digits. The y-axis is zoomed.",
    )
    if ours:
        st.markdown(accuracy_verdict(ours, lmbda, scaled_l))
    diverged = [
        f"{k} hidden: {r.diverged_at}" for k, r in zip((1, 2, 3, 4), results) if r.diverged_at
    ]
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
            hline(1.0, "1: neither shrinks nor grows"),
        ),
        f"Each bar is the largest stretch (spectral norm) of one layer's factor, averaged over "
        f"digits. {below} of {len(jn)} are below 1"
        + (": those layers can only shrink the error signal." if below else "."),
    )
with right:
    st.markdown(
        f"For the 4-hidden-layer network ({act}, {WEIGHT_INIT_LABELS[init]}) the factors' "
        f"norms multiply to **{np.prod(jn):.3g}**. That is an upper bound: the error that "
        f"actually reaches the first hidden layer is ‖δ¹‖/‖δᴸ‖ = **{shrink:.3g}** (median over "
        "the same digits), because the error vector is not lined up with each factor's most "
        "stretched direction. "
        + (
            "The signal shrinks on its way back: the shrinking the chain showed is at work "
            "here, matrix by matrix"
            + (", each Σ′ holding values ≤ 1/4 for sigmoid." if act == "sigmoid" else ".")
            if shrink < 1
            else "Here the error reaches the first layer undiminished: this choice of "
            "activation and initialization keeps the product near or above 1."
        )
    )
    st.markdown(
        "What helps: activations whose slope is 1 over a wide range ("
        + link("activations", "ReLU and its relatives")
        + "), initial weights scaled so that each factor stays near 1 ("
        + link("weight-initialization", "Xavier and He initialization")
        + "), normalization layers that keep every zˡ in the responsive range, and, against "
        "explosion, gradient clipping: rescaling a gradient whose norm exceeds a threshold."
    )
