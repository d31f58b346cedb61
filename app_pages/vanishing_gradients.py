"""The unstable gradient problem: a product of w * sigma'(z) factors, measured on MNIST."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import bar_chart, hline, labelled_points, layered, line_chart, range_rules
from charts.frames import curves_frame, layers_frame, points_frame
from charts.palette import layer_name
from explain.initializers import WEIGHT_INIT_LABELS
from explain.unstable import (
    BOOK_ACCURACY,
    BOOK_INIT_NORMS,
    ChainSetup,
    chain_gradients,
    depth_accuracy_experiments,
    escape_width,
    random_chain_ratios,
    speed_of_learning_experiments,
)
from ui import widgets
from ui.cache import init_bias_gradients, init_gradient_norms, jacobian_factor_norms, mnist_runs
from ui.display import show_chart
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
    w_fixed = widgets.slider("w (when all equal)", "w", -100.0, 100.0, 1.0, step=0.5)
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
chain = chain_gradients(ChainSetup(depth, weights, w_fixed, biases, seed=seed))
boom = chain_gradients(ChainSetup(depth, "fixed", 100.0, "centred"))


def fmt(v: float) -> str:
    return f"{v:.3g}"


shown = list(range(depth)) if depth <= 5 else [0, 1, depth - 2, depth - 1]
terms = []
for j in shown:
    terms.append(rf"\underbrace{{\sigma'(z_{{{j + 1}}})}}_{{{fmt(chain.sigma_prime[j])}}}")
    if j < depth - 1:
        terms.append(rf"\underbrace{{w_{{{j + 2}}}}}_{{{fmt(chain.w[j + 1])}}}")
    if depth > 5 and j == 1:
        terms.append(r"\cdots")
terms.append(
    rf"\underbrace{{\frac{{\partial C}}{{\partial a_{{{depth}}}}}}}_{{{fmt(chain.dC_daL)}}}"
)
st.latex(
    r"\frac{\partial C}{\partial b_1} = "
    + r"\,".join(terms)
    + rf" = {'-' if chain.sign[0] < 0 else ''}10^{{{chain.log10_grad[0]:.2f}}}"
)
st.caption(
    f"C = (a_{depth} − y)²/2 with y = 0 and input a₀ = 1. "
    + (
        "All factors shown."
        if depth <= 5
        else f"{depth - 4} middle layers elided; all are in the table."
    )
)
bars = pd.concat(
    [
        pd.DataFrame(
            {"layer": np.arange(1, depth + 1), "log10": chain.log10_grad, "chain": "your chain"}
        ),
        pd.DataFrame(
            {
                "layer": np.arange(1, depth + 1),
                "log10": boom.log10_grad,
                "chain": "exploding: w = 100, z = 0",
            }
        ),
    ],
    ignore_index=True,
)
bars = bars[np.isfinite(bars["log10"])]
left, right = st.columns([3, 2], gap="large")
with left:
    show_chart(
        layered(
            bar_chart(
                bars,
                x="layer",
                y="log10",
                color="chain",
                color_title="chain",
                x_offset="chain",
                title="Gradient of each layer's bias, on a log scale",
                x_title="layer j (1 = first)",
                y_title="log₁₀ |∂C/∂b_j|  (0 is 1, −3 is 1/1000)",
                x_sort=list(range(1, depth + 1)),
            ),
            hline(0.0, "|∂C/∂b| = 1"),
        ),
        "Blue: your chain, usually shrinking layer by layer towards the input (left). "
        "Vermillion: the exploding construction, where every factor is 25.",
    )
with right:
    ratio13 = 10 ** (chain.log10_grad[2] - chain.log10_grad[0]) if depth >= 3 else None
    big = np.abs(chain.factor[:-1])
    st.markdown(
        "- σ′(z) never exceeds 1/4; the largest σ′ in this chain is "
        f"**{chain.sigma_prime.max():.3f}**.\n"
        f"- Factors |w σ′(z)| above 1: **{int((big > 1).sum())} of {len(big)}**.\n"
        + (
            f"- Layer 1's gradient is **{ratio13:,.3g}×** smaller than layer 3's.\n"
            if ratio13 and ratio13 >= 1
            else f"- Layer 1's gradient is **{1 / ratio13:,.3g}×** larger than layer 3's.\n"
            if ratio13
            else ""
        )
        + f"- Exploding construction: every factor is **{boom.factor[0]:g}**, so the first layer's "
        f"gradient is **10^{boom.log10_grad[0]:.1f}**."
    )
    r = random_chain_ratios(2, rng=np.random.default_rng(seed))
    st.markdown(
        f"Across 20,000 random two-layer stretches with N(0, 1) weights and biases, the gradient "
        f"shrinks by a median factor of **{np.median(1 / r):,.0f}**, and by more than 16 in "
        f"**{100 * np.mean(r < 1 / 16):.0f}%** of them."
    )
    if chain.float_fails_at is not None:
        st.warning(
            f"In ordinary float64 arithmetic this product overflows or underflows at layer "
            f"{chain.float_fails_at}: the computer would report 0 or infinity. The chart uses "
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
        column_config={c: st.column_config.NumberColumn(format="%.4g") for c in table.columns[1:]},
    )
    st.caption("The last factor is σ′(z_L) ∂C/∂a_L: the output neuron's own delta.")

st.subheader("How narrow the escape is")
ws = np.linspace(0, 30, 601)
width = escape_width(ws)
peak = int(np.argmax(width))
marks = points_frame(ws[peak], {"widest": width[peak]}, x_name="|w|")
show_chart(
    layered(
        line_chart(
            curves_frame(ws, {"width": width}, x_name="|w|"),
            x="|w|",
            y="value",
            title="Width of the inputs a for which |w σ′(wa + b)| ≥ 1",
            x_title="weight |w|",
            y_title="width of the interval of a",
        ),
        labelled_points(marks, x="|w|", y="value", label="label"),
    ),
    f"To avoid vanishing, a factor needs |w σ′(wa + b)| ≥ 1. That is impossible for |w| < 4 "
    f"(σ′ ≤ 1/4), and even at its best, |w| ≈ {ws[peak]:.1f}, the input a must fall in a "
    f"window only {width[peak]:.2f} wide. A large weight pushes z into the flat tails of σ.",
)

# --- 2. MNIST ---------------------------------------------------------------------------------
st.header("2. Measured: real networks on MNIST digits")
st.markdown(
    "Networks [784, 30, 10] up to [784, 30, 30, 30, 30, 10], cross-entropy cost, biases N(0, 1), "
    "as in the book. The **speed of learning** of a hidden layer is the length of its gradient "
    "‖δˡ‖ = ‖∂C/∂bˡ‖, averaged over 1,000 training digits. Change the activation or the "
    f"initialization to preview the fixes on the {link('activations', 'activation')} and "
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
tabs = st.tabs(
    ["At initialization", "Speed of learning", "Accuracy against depth"],
    key="mnist_tab",
    bind="query-params",
)
with tabs[0]:
    if tabs[0].open is not False:
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
            (
                f"Compare the colours: on average the bars of hidden layer {hidden} are "
                f"{np.mean(np.abs(g.db[-1][:6])) / np.mean(np.abs(g.db[0][:6])):.1f}× as tall "
                "as those of hidden layer 1 (the first layer is nearest the input)."
                if hidden > 1
                else "With one hidden layer there is nothing to compare: choose 2 to 4."
            ),
        )
        seeds = 10
        rows = []
        for n_hidden in (2, 3, 4):
            norms = init_gradient_norms(n_hidden, act, init, seeds)
            ours = (
                norms[mseed]
                if mseed < seeds
                else init_bias_gradients(n_hidden, act, init, mseed).norms
            )
            for k in range(n_hidden):
                rows.append(
                    {
                        "network": f"{n_hidden} hidden layers",
                        "hidden layer": k + 1,
                        "this site": ours[k],
                        "lowest of 10 seeds": norms[:, k].min(),
                        "highest of 10 seeds": norms[:, k].max(),
                        "median": np.median(norms[:, k]),
                        "Nielsen's book": BOOK_INIT_NORMS[n_hidden][k]
                        if act == "sigmoid" and init == "scaled"
                        else np.nan,
                    }
                )
        norms_df = pd.DataFrame(rows)
        long = norms_df.melt(
            id_vars=["network", "hidden layer"],
            value_vars=["this site", "Nielsen's book"],
            var_name="source",
            value_name="‖δ‖",
        ).dropna()
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
                    x_integer=True,
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
            "Solid: this site, for the chosen seed; bars: the range over seeds 0–9; dashed: the "
            "book's values (shown for sigmoid with N(0, 1/n_in) weights, the book's setting).",
        )
        if act == "sigmoid" and init == "scaled":
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
with tabs[1]:
    if tabs[1].open:
        epochs = widgets.slider(
            "Epochs of full-batch gradient descent", "sol_epochs", 20, 500, 500, step=20
        )
        exps = speed_of_learning_experiments(act, init, epochs, mseed)
        results = mnist_runs(exps, "Training three networks, full batch")
        for res in results:
            if res.diverged_at:
                st.error(str(res.diverged_at))
            if len(res.history.epoch) == 0:
                continue
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
                        title=f"Speed of learning during training: {n_hidden} hidden layers",
                        x_title="epoch",
                        y_title="‖δˡ‖ (log scale)",
                    ),
                    "Each line is one hidden layer; the gap between lines is how many times "
                    "faster one layer learns than another.",
                )
            with text_col:
                gm = np.exp(np.mean(np.log(norms[:, -1] / norms[:, 0])))
                st.markdown(
                    f"After **{int(res.history.epoch[-1])}** epochs the last hidden layer learns "
                    f"**{norms[-1, -1] / norms[-1, 0]:,.1f}×** faster than the first; "
                    f"**{gm:,.1f}×** on average over the run."
                )
        st.caption(
            "The book's protocol: 1,000 training digits, full-batch gradient descent, η = 0.1, "
            "λ = 5. The same colour is the same hidden layer in every chart on the site."
        )
with tabs[2]:
    if tabs[2].open:
        a_epochs = widgets.slider("Epochs", "acc_epochs", 1, 30, 30)
        exps = depth_accuracy_experiments(act, init, a_epochs, mseed)
        results = mnist_runs(exps, "Training four networks, mini-batch 10")
        acc = pd.DataFrame(
            [
                {
                    "hidden layers": str(k),
                    "source": "this site",
                    "accuracy": 100 * r.history.eval_accuracy[-1],
                }
                for k, r in zip((1, 2, 3, 4), results)
                if len(r.history.epoch)
            ]
            + [
                {"hidden layers": str(k), "source": "Nielsen's book", "accuracy": v}
                for k, v in BOOK_ACCURACY.items()
            ]
        )
        show_chart(
            bar_chart(
                acc,
                x="hidden layers",
                y="accuracy",
                color="source",
                color_title="source",
                x_offset="source",
                title="Validation accuracy against depth",
                x_title="hidden layers of 30 neurons",
                y_title="accuracy (%)",
                y_domain=(0, 100),
            ),
            f"This site: {a_epochs} epochs on 8,000 training digits, accuracy on 1,000 validation "
            "digits. The book: 30 epochs on 50,000 digits. Adding layers does not help, and the "
            "deepest network starts slowest.",
        )
        st.dataframe(
            acc.pivot(index="hidden layers", columns="source", values="accuracy"),
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.2f")
                for c in ("this site", "Nielsen's book")
            },
        )

# --- 3. the general case ----------------------------------------------------------------------
st.header("3. The general case: a product of matrices")
st.latex(
    r"\delta^l = \Sigma'(z^l)\,(W^{l+1})^T\,\Sigma'(z^{l+1})\,(W^{l+2})^T \cdots "
    r"\Sigma'(z^L)\,\nabla_a C"
)
jn = jacobian_factor_norms(4, act, init, mseed)
jdf = pd.DataFrame({"hidden layer": [layer_name(k + 1) for k in range(len(jn))], "norm": jn})
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
        "Each bar is the most a layer's factor can stretch the error signal (its largest singular "
        "value). Below 1 on every layer, the signal can only shrink on its way to the first layer.",
    )
with right:
    st.markdown(
        f"For the 4-hidden-layer network ({act}, {WEIGHT_INIT_LABELS[init]}), the typical "
        f"factor sizes multiply to **{np.prod(jn):.3g}**: roughly the most of the output error "
        "that can reach the first hidden layer. For sigmoid, each diagonal Σ′(z) holds values "
        "of σ′ ≤ 1/4, so the shrinking that the chain showed is at work here, matrix by matrix."
    )
    st.markdown(
        "What helps: activations whose derivative is 1 over a wide range ("
        + link("activations", "ReLU and its relatives")
        + "), initial weights scaled so each factor stays near 1 ("
        + link("weight-initialization", "Xavier and He initialization")
        + "), normalization layers that keep every zˡ in the responsive range, and, against "
        "explosion, gradient clipping: rescaling a gradient whose norm exceeds a threshold."
    )
