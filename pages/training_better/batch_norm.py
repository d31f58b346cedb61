"""Batch normalization, and layer and group norm: the transform, the experiment that
introduced it, and what normalizing buys a deep sigmoid network."""

import numpy as np
import pandas as pd
import streamlit as st

from charts import dot_strip, hline, layered, line_chart, matrix_panels
from charts.frames import layers_frame
from explain.bn_experiment import (
    PAPER_STEPS,
    DepthSetup,
    IoffeSetup,
    accuracy_sentence,
    depth_sentence,
    drift_sentence,
    speed_sentence,
)
from explain.normalization import (
    INIT_LABELS,
    METHOD_LABELS,
    BatchSizeSetup,
    EvalSetup,
    GridSetup,
    axes_sentence,
    batch_size_sentence,
    eval_batch_sentence,
    grid_sentence,
    inference_sentence,
    transform_sentence,
)
from ui import widgets
from ui.cache import (
    bn_axes,
    bn_batch_sizes,
    bn_depth,
    bn_eval_batches,
    bn_grid,
    bn_ioffe,
    bn_transform,
)
from ui.display import show_chart
from ui.format import nice, num, plural
from ui.site import link

BATCH_SIZES = (1, 2, 4, 8, 16, 32)
MAX_ROWS = 8  # digits a table lists; its mean and variance rows are over the whole batch
UNITS = 4


def pct(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"


st.title("Batch normalization, and layer and group norm")
lead, seed_column = st.columns([3, 1], gap="large")
with seed_column:
    seed = widgets.seed()
with lead:
    st.markdown(
        "A deep network's layers keep changing the distribution of what they pass on, and the "
        "sigmoid's slope shrinks wherever its input drifts into the flat tails (see the "
        + link("vanishing-gradients", "vanishing-gradient page")
        + "). Batch normalization (Ioffe and Szegedy, 2015) fixes each unit's input to mean 0 "
        "and variance 1 over the mini-batch, then lets the network rescale it with a learned "
        "γ and shift it with a learned β. Layer norm and group norm do the same over other axes."
    )
    st.latex(
        r"\mu_j = \tfrac1N \textstyle\sum_i v_{ij},\quad "
        r"\sigma_j^2 = \tfrac1N \textstyle\sum_i (v_{ij}-\mu_j)^2"
    )
    st.latex(
        r"\hat x_{ij} = \frac{v_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}"
        r"\qquad y_{ij} = \gamma_j \hat x_{ij} + \beta_j\,"
    )
    st.caption(
        "For a mini-batch of N digits and a layer of D units, v (N × D) is the layer's weighted "
        "input before normalization; batch norm computes D means and D variances, one per unit, "
        "each over the N digits. It sits after the weights and before the activation: the "
        "sigmoid receives y."
    )


# --- 1. the transform -------------------------------------------------------------------------
st.header("1. The transform, step by step")


def minus(text: str) -> str:
    """A leading hyphen as the minus sign the prose uses."""
    return "−" + text[1:] if text.startswith("-") else text


def show_table(df: pd.DataFrame) -> None:
    """A table tall enough for all its rows (the summary rows at the bottom must show)."""
    st.dataframe(df, width="stretch", height=36 * (len(df) + 1) + 3)


def table(values: np.ndarray, labels, extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Rows per digit (and summary rows), one column per unit, numbers written for reading."""
    cols = [f"unit {j + 1}" for j in range(values.shape[1])]
    shown = values[:MAX_ROWS]
    rows = [[minus(nice(float(v))) for v in row] for row in shown]
    index = [f"digit {k + 1} ({'an' if lab == 8 else 'a'} {lab})" for k, lab in enumerate(labels)]
    index = index[:MAX_ROWS]
    if len(values) > MAX_ROWS:
        rows.append(["…"] * values.shape[1])
        index.append(f"digits {MAX_ROWS + 1} to {len(values)}")
    for name, vals in (extra or {}).items():
        # below 10⁻¹² a summary is round-off (the mean of x̂ is 0 by construction)
        rows.append([minus(nice(float(v))) if abs(v) >= 1e-12 else "0" for v in vals])
        index.append(name)
    return pd.DataFrame(rows, index=index, columns=cols)


def strip_frame(demo) -> pd.DataFrame:
    frames = []
    for j in range(demo.v.shape[1]):
        for stage, values in (("v, before", demo.v[:, j]), ("y = γx̂ + β, after", demo.y[:, j])):
            row = f"unit {j + 1}, " + stage.split(",")[-1].strip().split(" ")[0]
            frames.append(pd.DataFrame({"value": values, "unit": row, "stage": stage}))
    return pd.concat(frames, ignore_index=True)


def cell_formula(demo, j: int) -> None:
    """The transform of the first digit's value in unit j, with its numbers."""
    v, mu, var = demo.v[0, j], demo.mean[j], demo.var[j]
    xhat, g, b, y = demo.xhat[0, j], demo.gamma[j], demo.beta[j], demo.y[0, j]
    st.latex(rf"\mu_{j + 1} = {num(mu)},\quad \sigma^2_{j + 1} = {num(var)}")
    st.latex(
        rf"\hat x = \frac{{v - \mu}}{{\sqrt{{\sigma^2 + \epsilon}}}} = "
        rf"\frac{{{num(v)} - {num(mu)}}}{{\sqrt{{{num(var)} + 10^{{-5}}}}}}"
    )
    st.latex(rf"\hat x = {num(xhat)}")
    st.latex(rf"y = {num(g)} \times {num(xhat)} + {num(b)} = {num(y)}")


@st.fragment
def transform_section() -> None:
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        n = widgets.stepped("Digits in the mini-batch N", "n", BATCH_SIZES, 8)
    with c2:
        gamma = widgets.slider("γ (scale)", "gamma", 0.5, 3.0, 2.0, step=0.5)
    with c3:
        beta = widgets.slider("β (shift)", "beta", -2.0, 2.0, 1.0, step=0.5)
    with c4:
        unit = widgets.slider("Unit in the formula", "unit", 1, UNITS, 1)
    demo, inference = bn_transform(int(n), float(gamma), float(beta), seed)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        st.markdown(
            f"**v**: the first hidden layer's weighted input for {plural(n, 'training digit')} "
            f"(N(0, 1/nᵢₙ) weights), {UNITS} of its 100 units"
        )
        show_table(
            table(demo.v, demo.labels, {"batch mean μ": demo.mean, "batch variance σ²": demo.var})
        )
        st.markdown("**x̂**, each unit normalized over the batch")
        show_table(
            table(demo.xhat, demo.labels, {"mean of x̂": demo.xhat.mean(axis=0),
                                           "variance of x̂": demo.xhat.var(axis=0)})
        )  # fmt: skip
        st.markdown(f"**y = γx̂ + β**, with γ = {gamma:g} and β = {beta:g}: what the sigmoid gets")
        show_table(
            table(demo.y, demo.labels, {"mean of y": demo.y.mean(axis=0),
                                        "standard deviation of y": demo.y.std(axis=0)})
        )  # fmt: skip
    with right:
        st.markdown(f"**Digit 1, unit {unit}**, with the numbers of this batch:")
        cell_formula(demo, int(unit) - 1)
        st.markdown(transform_sentence(demo))
    show_chart(
        dot_strip(
            strip_frame(demo),
            x="value",
            y="unit",
            color="stage",
            color_title="values",
            title=f"Each unit's {'value' if n == 1 else f'{n} values'} before and after batch norm "
            f"(γ = {gamma:g}, β = {beta:g})",
            x_title="value",
            y_title="",
            height=300,
        ),
        "With one digit, every unit's output is β whatever its input: the batch's mean is the "
        "value itself."
        if n == 1
        else "Before, each unit's values sit wherever its weights put them, with its own centre "
        "and spread; after, every unit's values are centred on β and spread by γ.",
    )
    inference_table(inference)


def inference_table(demo) -> None:
    """Digit 1's outputs in two batches, with batch statistics and with running averages."""
    st.subheader("Training mode and inference mode")
    st.markdown(
        "While training, each mini-batch uses its own μ and σ², so a digit's output depends on "
        "the other digits it was batched with. Every training step also updates running "
        "averages of μ and σ² (new = 0.9 old + 0.1 batch); at inference the network uses those "
        "instead, so each digit gets one answer, whatever else is in the batch."
    )
    rows = {
        "in this batch, its statistics": demo.y_train[0],
        "in another batch, its statistics": demo.y_train_other[0],
        "in this batch, running averages": demo.y_infer[0],
        "in another batch, running averages": demo.y_infer_other[0],
    }
    df = pd.DataFrame(
        [[nice(float(v)) for v in vals] for vals in rows.values()],
        index=list(rows),
        columns=[f"unit {j + 1}" for j in range(len(demo.y_train[0]))],
    )
    st.dataframe(df, width="stretch")
    st.caption("Digit 1's output y in each mode. " + inference_sentence(demo))


transform_section()


@st.fragment
def tiny_batches() -> None:
    st.subheader("What goes wrong with tiny batches at inference")
    effect = bn_eval_batches(EvalSetup(seed=seed))
    if effect.diverged_at is not None:
        st.warning(eval_batch_sentence(effect))
        return
    df = pd.concat(
        [
            pd.DataFrame(
                {"digits per batch": effect.sizes, "accuracy": 100 * effect.batch,
                 "statistics": "each batch's own"}
            ),
            pd.DataFrame(
                {"digits per batch": effect.sizes, "accuracy": 100 * effect.running,
                 "statistics": "running averages"}
            ),
        ],
        ignore_index=True,
    )  # fmt: skip
    setup = effect.setup
    left, right = st.columns([3, 2], gap="medium")
    with left:
        show_chart(
            layered(
                line_chart(
                    df,
                    x="digits per batch",
                    y="accuracy",
                    color="statistics",
                    color_title="normalized with",
                    log_x=True,
                    points=True,
                    title="One trained network, evaluated in batches",
                    x_values=effect.sizes,
                    x_title="digits per evaluation batch (log scale)",
                    y_title="accuracy (%)",
                    y_domain=(0, 100),
                ),
                hline(100 * effect.majority, "one answer for every digit", show_label=False),
            ),
            "The dashed line is the best a network can score by giving every digit the same "
            "answer (the commonest digit). With each batch's own statistics, a batch of one "
            "gives every digit the same answer, though not necessarily the commonest one.",
        )
    with right:
        st.markdown(
            f"A [784, {', '.join(map(str, setup.hidden))}, 10] sigmoid network with batch norm "
            f"on every hidden layer, trained for {setup.epochs} epochs on "
            f"{setup.n_train:,} digits in mini-batches of {setup.batch_size}."
        )
        st.markdown(eval_batch_sentence(effect))


tiny_batches()


# --- 2. the axes ------------------------------------------------------------------------------
st.header("2. Which numbers are averaged together")
st.markdown(
    "Batch, layer and group norm run the same formula; they differ only in which entries of "
    "the N × D matrix share one mean and one variance. Here is one small matrix of a layer's "
    "inputs (4 digits, 6 units), grouped three ways."
)


def axes_frame(demo, field: str) -> pd.DataFrame:
    frames = []
    for sets in demo.sets():
        values = demo.v if field == "v" else sets.xhat
        n, d = values.shape
        frames.append(
            pd.DataFrame(
                {
                    "digit": np.repeat(np.arange(1, n + 1), d),
                    "unit": np.tile(np.arange(1, d + 1), n),
                    "value": [f"{x:.2f}" for x in values.ravel()],
                    "set": sets.labels.ravel().astype(str),
                    "method": METHOD_LABELS[sets.method],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@st.fragment
def axes_section() -> None:
    groups = widgets.radio("Groups for group norm", "groups", (2, 3), 2)
    demo = bn_axes(int(groups), seed)
    order = [METHOD_LABELS[m] for m in ("batch", "layer", "group")]
    for field, title, caption in (
        (
            "v",
            "The layer's inputs v: cells of one colour share a mean and a variance",
            axes_sentence(demo),
        ),
        ("xhat", "After normalizing: x̂, each set now with mean 0 and variance about 1", AXES_AFTER),
    ):
        frame = axes_frame(demo, field)
        show_chart(
            matrix_panels(frame, row="digit", col="unit", group="set", text="value",
                          panel="method", panel_order=order, title=title),
            caption,
        )  # fmt: skip


AXES_AFTER = (
    "Batch norm makes each column (a unit over the batch) mean 0 and variance 1; layer "
    "norm each row (a digit over its units); group norm each row's group. Only batch norm "
    "needs the other digits of the batch, which is why it alone behaves differently in "
    "training and at inference. A set of two values becomes about ±1, whatever they were "
    "(less where they nearly coincide and ε weighs in); instance norm, for a fully "
    "connected layer group norm with one unit per group, turns every value into 0."
)


axes_section()


# --- 3. Ioffe and Szegedy's experiment -------------------------------------------------------
st.header("3. The experiment that introduced it")
IOFFE = IoffeSetup(seed=seed)
st.markdown(
    "Ioffe and Szegedy (2015, section 4.1) trained a network with three fully connected hidden "
    "layers of 100 sigmoid units on MNIST, from small Gaussian weights, with mini-batches of "
    "60, once without and once with batch norm on every hidden layer, and watched one unit of "
    f"the last hidden layer. Here the same network (weights N(0, {IOFFE.init_sigma:g}²), "
    f"softmax and cross-entropy, SGD with η = {IOFFE.eta:g} for both) runs "
    f"**{IOFFE.steps:,} steps** over our {IOFFE.n_train:,} training digits, measured every "
    f"{IOFFE.record_every} steps; the paper ran {PAPER_STEPS:,}. Both networks start from the "
    "same weights and see the same mini-batches."
)


def runs_frame(plain, bn, field: str, scale: float = 1.0) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"step": r.step, "value": scale * getattr(r, field), "network": name})
            for name, r in ((NETWORKS[0], plain), (NETWORKS[1], bn))
        ],
        ignore_index=True,
    )


NETWORKS = ("without batch norm", "with batch norm")


def percentile_frame(run, name: str) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"step": run.step, "z": run.percentiles[:, k], "percentile": label})
            for k, label in enumerate(("15th", "50th (median)", "85th"))
        ],
        ignore_index=True,
    ).assign(network=name)


def accuracy_chart(plain, bn, title: str, paper: bool = True) -> None:
    show_chart(
        line_chart(
            runs_frame(plain, bn, "val_accuracy", 100),
            x="step",
            y="value",
            color="network",
            color_title="network",
            x_integer=True,
            title=title,
            x_title="training step (mini-batch)",
            y_title="validation accuracy (%)",
            y_domain=(0, 100),
        ),
        accuracy_sentence(plain, bn, PAPER_STEPS if paper else None),
    )


def ioffe_section() -> None:
    plain, bn = bn_ioffe(IOFFE)
    accuracy_chart(plain, bn, "Validation accuracy during training")
    lo = float(min(plain.percentiles.min(), bn.percentiles.min()))
    hi = float(max(plain.percentiles.max(), bn.percentiles.max()))
    cols = st.columns(2, gap="medium")
    for col, name, run in zip(cols, NETWORKS, (plain, bn)):
        with col:
            show_chart(
                line_chart(
                    percentile_frame(run, name),
                    x="step",
                    y="z",
                    color="percentile",
                    color_title="percentile",
                    x_integer=True,
                    y_domain=(lo, hi),
                    height=260,
                    title=f"Unit {plain.unit + 1} of the last hidden layer, {name}",
                    x_title="training step",
                    y_title="input to the sigmoid z",
                ),
                "The 15th, 50th and 85th percentiles of the unit's input over the first "
                "1,000 training digits. Both panels share one axis.",
            )
    st.markdown(drift_sentence(plain, bn))
    speed_charts(plain, bn)


def speed_charts(plain, bn) -> None:
    st.markdown(
        "**Speed of learning per layer.** ‖∂C/∂bˡ‖ of each hidden layer, as on the "
        + link("vanishing-gradients", "vanishing-gradient page")
        + ", measured on the same 1,000 digits. With batch norm the bias is β, the shift after "
        "normalizing, so there it is ‖∂C/∂βˡ‖."
    )
    both = np.concatenate([plain.grad_norm.ravel(), bn.grad_norm.ravel()])
    both = both[np.isfinite(both) & (both > 0)]
    domain = (float(both.min()), float(both.max())) if both.size else None
    cols = st.columns(2, gap="medium")
    for col, name, run in zip(cols, NETWORKS, (plain, bn)):
        with col:
            first = run.grad_norm[0]
            show_chart(
                line_chart(
                    layers_frame(run.step, run.grad_norm),
                    x="epoch",
                    y="value",
                    color="layer",
                    color_title="layer",
                    log_y=True,
                    y_powers="auto",
                    y_domain=domain,
                    x_integer=True,
                    height=240,
                    title=f"Speed of learning, {name}",
                    x_title="training step",
                    y_title="‖∂C/∂bˡ‖ (log scale)",
                ),
                f"At step 0 the last hidden layer's is {nice(first[-1] / first[0])}× the "
                "first's. Both panels share one axis."
                if first[0] > 0
                else "Both panels share one axis.",
            )
    st.markdown(speed_sentence(plain, bn))


ioffe_section()


# --- 4. what it buys --------------------------------------------------------------------------
st.header("4. What normalizing buys")


def grid_table(grid) -> pd.DataFrame:
    """One row per (normalization, initialization), one column per learning rate."""
    rows, index = [], []
    for norm in ("none", "batch"):
        for init in grid.setup.inits:
            cells = [grid.cell(norm, init, eta) for eta in grid.setup.etas]
            rows.append(
                [
                    f"diverged ({c.diverged_at})" if c.accuracy is None else pct(c.accuracy)
                    for c in cells
                ]
            )
            index.append(f"{METHOD_LABELS[norm]}, {INIT_LABELS[init]}")
    return pd.DataFrame(rows, index=index, columns=[f"η = {e:g}" for e in grid.setup.etas])


def robustness() -> None:
    setup = GridSetup(seed=seed)
    st.markdown(
        f"The [784, {', '.join(map(str, setup.hidden))}, 10] sigmoid network, trained "
        f"{setup.epochs} epochs on {setup.n_train:,} digits (mini-batch {setup.batch_size}, "
        "SGD) from three initial weight scales at four learning rates, without and with batch "
        "norm on every hidden layer. Final validation accuracy:"
    )
    grid = bn_grid(setup)
    show_table(grid_table(grid))
    diverged = any(c.accuracy is None for c in grid.cells)
    st.markdown(
        grid_sentence(grid)
        + ("" if diverged else " No run diverged: a sigmoid unit saturates instead of overflowing.")
    )
    st.caption(
        "Why batch norm wants a larger η from large weights: it divides out the scale of each "
        "layer's weights, so a step of a given size changes the output less when the weights "
        "are large (the effective step is about η / ‖w‖²)."
    )


def batch_size_chart(result) -> None:
    rows = [
        {
            "batch size": c.batch_size,
            "accuracy": None if c.accuracy is None else 100 * c.accuracy,
            "method": METHOD_LABELS[c.method],
        }
        for c in result.cells
    ]
    df = pd.DataFrame(rows).dropna()
    show_chart(
        line_chart(
            df,
            x="batch size",
            y="accuracy",
            color="method",
            color_title="normalization",
            log_x=True,
            points=True,
            title="Validation accuracy after one pass over the same digits, by mini-batch size",
            x_values=sorted(result.setup.batch_sizes),
            x_title="digits per mini-batch (log scale)",
            y_title="accuracy (%)",
        ),
        batch_size_caption(result),
    )


def batch_size_caption(result) -> str:
    """How many steps each size took, and, if measured so, that the plain network falls
    behind at large batches (fewer steps), not because of any normalization."""
    setup = result.setup
    sizes = sorted(setup.batch_sizes)
    steps = [-(-setup.n_train // b) * setup.epochs for b in (sizes[0], sizes[-1])]
    text = (
        f"Every point saw the same training digits, so a batch of B takes {setup.n_train:,}/B "
        f"steps per pass ({steps[0]:,} at {sizes[0]}, {steps[1]:,} at {sizes[-1]}). "
    )
    if "none" in setup.methods:
        small, large = (result.accuracy("none", b) for b in (sizes[0], sizes[-1]))
        if small is not None and large is not None and large < small - 0.1:
            text += (
                f"Without normalization the network scores {pct(large)} at {sizes[-1]} against "
                f"{pct(small)} at {sizes[0]}: in {steps[1]} steps it has not got far. "
            )
    return text + (
        "Batch norm is evaluated with its running averages. One seed: differences of a few "
        "points between neighbouring sizes are run-to-run variation; only large gaps stand out."
    )


def batch_sizes() -> None:
    setup = BatchSizeSetup(seed=seed)
    st.markdown(
        f"The [784, {', '.join(map(str, setup.hidden))}, 10] sigmoid network with batch, layer "
        f"or group norm ({setup.groups} groups), and without, at mini-batches of "
        f"{', '.join(map(str, setup.batch_sizes))} digits, η = {setup.eta:g} at every size, "
        f"{'one pass' if setup.epochs == 1 else f'{setup.epochs} passes'} over "
        f"{setup.n_train:,} digits. With two digits in a batch, batch norm passes on one bit "
        "per unit (see section 1 with N = 2)."
    )
    result = bn_batch_sizes(setup)
    batch_size_chart(result)
    st.markdown(batch_size_sentence(result))


def depth() -> None:
    setup = DepthSetup(seed=seed)
    st.markdown(
        f"The same recipe with **{setup.hidden_layers} hidden layers** of {setup.width} "
        f"sigmoid units (weights N(0, {setup.init_sigma:g}²), SGD with η = {setup.eta:g}, "
        f"{setup.steps:,} steps of {setup.batch_size} digits)."
    )
    plain, bn = bn_depth(setup)
    accuracy_chart(
        plain, bn, f"{setup.hidden_layers} hidden layers: validation accuracy", paper=False
    )
    st.markdown(depth_sentence(plain, bn))


tabs = st.tabs(
    ["Initial weights and learning rate", "Depth", "Mini-batch size"],
    key="buys_tab",
    bind="query-params",
)
with tabs[0]:
    if tabs[0].open is not False:
        robustness()
with tabs[1]:
    if tabs[1].open:
        depth()
with tabs[2]:
    if tabs[2].open:
        batch_sizes()
