"""Overfitting and regularization: L2, L1, dropout and early stopping on the same run."""

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from charts import histogram_grid, image_grid, labelled_points, layered, line_chart, vline
from explain.nn.datasets import load_mnist
from explain.regularization_lesson import (
    DEFAULT,
    DEFAULT_UNITS,
    KEEP_CHOICES,
    KIND_LABELS,
    LAMBDA1_CHOICES,
    LAMBDA_CHOICES,
    N_TRAIN_CHOICES,
    PATIENCE_CHOICES,
    RegSetup,
    decay_demo,
    decay_sentence,
    dropout_check,
    dropout_mask,
    dropout_sentence,
    early_sentence,
    epoch_choices,
    overfit,
    overfit_sentence,
    remedy_sentence,
    ridge_demo,
    ridge_sentence,
    summary_rows,
    summary_sentence,
    weight_edges,
    weight_histogram,
    weight_images,
)
from ui import widgets
from ui.cache import remedy_runs
from ui.display import show_chart
from ui.format import num

st.title("Overfitting and regularization")
lead, seed_column = st.columns([3, 1], gap="large")
with seed_column:
    seed = widgets.seed()
with lead:
    st.markdown(
        "A network that learns the noise of its training digits does ever better on them and "
        "no better, or worse, on digits it has not seen: it overfits. Penalty terms (L2, as in "
        "ridge regression; L1, as in the lasso), dropout and early stopping fight it. Below, "
        "one small network overfits on purpose, then each remedy runs on exactly the same "
        "digits, from the same weights, in the same order."
    )


def controls() -> RegSetup:
    c1, c2, _ = st.columns([1, 1, 2])
    with c1:
        n_train = widgets.stepped(
            "Training digits", "n", N_TRAIN_CHOICES, DEFAULT.n_train, format_func="{:,}".format
        )
    offered = epoch_choices(int(n_train))
    if st.session_state.get("epochs") not in (None, *offered):
        st.session_state["epochs"] = max(offered)
    with c2:
        epochs = widgets.stepped(
            "Epochs", "epochs", offered, min(DEFAULT.epochs, max(offered)),
            help="Longer runs on more digits are not offered: one run stays under about 15 s.",
        )  # fmt: skip
    return RegSetup(n_train=int(n_train), epochs=int(epochs), seed=seed)


def curves_frame(runs: dict) -> pd.DataFrame:
    """Columns epoch, value, quantity, data, run: cost and accuracy on training and validation
    digits for each run."""
    frames = []
    for kind, r in runs.items():
        h = r.history
        for field, quantity, data, scale in (
            ("train_cost", "cost", "training", 1),
            ("eval_cost", "cost", "validation", 1),
            ("train_accuracy", "accuracy (%)", "training", 100),
            ("eval_accuracy", "accuracy (%)", "validation", 100),
        ):
            frames.append(
                pd.DataFrame(
                    {"epoch": h.epoch, "value": scale * getattr(h, field),
                     "quantity": quantity, "data": data, "run": KIND_LABELS[kind]}
                )
            )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def curves(runs: dict, peak: int | None, title_suffix: str = "", mark_name: str = "peak") -> None:
    """Training and validation cost (log) and accuracy against epoch, the runs dashed apart."""
    df = curves_frame(runs)
    many = len(runs) > 1
    left, right = st.columns(2, gap="medium")
    for col, quantity, log in ((left, "cost", True), (right, "accuracy (%)", False)):
        part = df[df["quantity"] == quantity]
        chart = line_chart(
            part, x="epoch", y="value", color="data", color_title="digits",
            dash="run" if many else None, log_y=log, y_powers="auto" if log else False,
            x_integer=True, title=f"{quantity.split(' ')[0].capitalize()}{title_suffix}",
            x_title="epoch", y_title=quantity + (" (log scale)" if log else ""), height=280,
            y_domain=None if log else (max(0.0, float(part["value"].min()) - 5), 100),
        )  # fmt: skip
        layers = [chart] + (
            [vline(peak, f"best validation accuracy: epoch {peak}")] if peak else []
        )
        with col:
            show_chart(
                layered(*layers, height=280),
                "Blue: the digits it trains on; orange: the 1,000 validation digits it never "
                "trains on. The space between them is the train/validation gap."
                + (f" The dashed line marks epoch {peak}." if peak else "")
                + (" Solid: no regularization; dashed: the remedy." if many else "")
                + (
                    " The training cost includes the penalty term (as Nielsen plots it), which "
                    "is why it can start above the validation cost."
                    if quantity == "cost" and any(k in ("l2", "l1") for k in runs)
                    else ""
                ),
            )


# --- 1. overfitting, seen ---------------------------------------------------------------------
st.header("1. Overfitting, seen")
st.markdown(
    "Nielsen's chapter 3 set-up on our digits: a [784, 30, 10] sigmoid network with "
    "cross-entropy, N(0, 1) initial weights, η = 0.5, mini-batches of 10, trained on only the "
    "first training digits, for hundreds of epochs."
)
SETUP = controls()


@st.fragment
def overfitting() -> None:
    runs = remedy_runs(SETUP, ["none"])
    none = runs["none"]
    o = overfit(none)
    curves(runs, o.peak_epoch if o is not None else None)
    st.markdown(overfit_sentence(none))


overfitting()


# --- 2. the remedies --------------------------------------------------------------------------
st.header("2. The remedies, each on that same run")


def images_frame(runs: dict) -> pd.DataFrame:
    frames = []
    for kind, r in runs.items():
        imgs = weight_images(r.W1)
        for k, img in zip(DEFAULT_UNITS, imgs):
            top = float(np.abs(img).max())
            img = img / top if top > 0 else img  # each image on its own scale: the pattern
            rows, cols = np.indices(img.shape)
            frames.append(
                pd.DataFrame(
                    {"row": rows.ravel(), "col": cols.ravel(), "weight": img.ravel(),
                     "image": f"{KIND_LABELS[kind]}, unit {k + 1}"}
                )
            )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def histograms(runs: dict) -> None:
    Ws = [r.W1 for r in runs.values()]
    edges = weight_edges(*Ws)
    frames = [
        pd.DataFrame(
            {"lo": edges[:-1], "hi": edges[1:], "share": weight_histogram(r.W1, edges),
             "run": KIND_LABELS[kind]}
        )
        for kind, r in runs.items()
    ]  # fmt: skip
    show_chart(
        histogram_grid(
            pd.concat(frames, ignore_index=True), x="lo", x2="hi", y="share", panel="run",
            title="The first layer's weights after training", x_title="weight",
            y_title="number of weights", columns=len(runs), panel_width=220,
        ),
        "Both panels share their axes: the penalty pulls the weights towards 0.",
    )  # fmt: skip


def l2_tab(setup: RegSetup) -> None:
    lmbda = widgets.stepped("λ (L2)", "lmbda", LAMBDA_CHOICES, DEFAULT.lmbda)
    s = replace(setup, lmbda=float(lmbda))
    runs = remedy_runs(s, ["none", "l2"])
    curves(runs, None, ", without and with L2")
    st.markdown(remedy_sentence(runs["none"], runs["l2"]))
    histograms(runs)
    d = decay_demo(s.remedy("l2"))
    st.markdown("**The decay rule.** Each step, before the gradient, every weight shrinks:")
    st.latex(
        rf"w \leftarrow \Bigl(1 - \frac{{\eta\lambda}}{{n}}\Bigr) w - \eta\frac{{\partial C_0}}"
        rf"{{\partial w}},\quad 1 - \frac{{{num(d.eta)} \times {num(d.lmbda)}}}{{{d.n:,}}} = "
        rf"{num(d.factor)}"
    )
    st.markdown(decay_sentence(d))
    r = ridge_demo(float(lmbda), seed=seed)
    st.markdown(
        "**The same idea in ridge regression**, a polynomial fit to a few noisy points of a "
        "line, solved in one step:"
    )
    st.latex(r"w = (X^\top X + \lambda I)^{-1} X^\top y")
    ridge_chart(r)
    st.markdown(ridge_sentence(r))


def ridge_chart(r) -> None:
    fits = pd.concat(
        [
            pd.DataFrame({"x": r.grid, "y": r.fit0, "fit": "λ = 0 (least squares)"}),
            pd.DataFrame({"x": r.grid, "y": r.fit, "fit": f"λ = {r.lmbda:g} (ridge)"}),
        ],
        ignore_index=True,
    )
    points = pd.DataFrame({"x": r.x, "y": r.y, "label": "", "side": "right"})

    lo, hi = float(min(r.y.min(), fits["y"].min())), float(max(r.y.max(), fits["y"].max()))
    show_chart(
        layered(
            line_chart(
                fits, x="x", y="y", color="fit", color_title="fit", title="Degree-"
                f"{r.X.shape[1] - 1} polynomial through {len(r.x)} points",
                x_title="x", y_title="y", height=260,
                y_domain=(max(lo, -3.0), min(hi, 3.0)),
            ),
            labelled_points(points, x="x", y="y", label="label"),
            height=260,
        ),
        "Black dots: the noisy points. Without the penalty the polynomial bends to pass close "
        "to every one; with it the coefficients stay small and the curve stays calm. Parts "
        "outside ±3 are cut off.",
    )  # fmt: skip


def l1_tab(setup: RegSetup) -> None:
    lmbda1 = widgets.stepped("λ₁ (L1)", "lmbda1", LAMBDA1_CHOICES, DEFAULT.lmbda1)
    s = replace(setup, lmbda1=float(lmbda1))
    runs = remedy_runs(s, ["none", "l2", "l1"])
    curves({"none": runs["none"], "l1": runs["l1"]}, None, ", without and with L1")
    st.markdown(remedy_sentence(runs["none"], runs["l1"]))
    l1, l2 = runs["l1"], runs["l2"]
    st.markdown(
        f"Exactly zero after training: **{100 * l1.zero_fraction:.0f}%** of L1's weights "
        f"({100 * l1.zero_first:.0f}% of the first layer's), against "
        f"{100 * l2.zero_fraction:.0f}% with L2 and {100 * runs['none'].zero_fraction:.0f}% "
        "without regularization. L2 shrinks every weight in proportion to its size, so none "
        "reaches 0; L1 subtracts the same amount from every weight, so small ones hit 0 and "
        f"stay there. Of the first layer's weights from pixels that are lit in some training "
        f"digit, {100 * l1.zero_lit:.0f}% are zero under L1."
    )
    show_chart(
        image_grid(
            images_frame(runs), row="row", col="col", value="weight", panel="image",
            title="Six hidden units' incoming weights, as 28 × 28 images",
            value_title="weight ÷ largest", columns=len(DEFAULT_UNITS), size=70,
        ),
        "Row by row: no regularization, L2, L1; the same six hidden units, each image divided "
        "by its own largest weight so that the pattern shows whatever the scale. Blue is "
        "positive, red negative, white 0.",
    )  # fmt: skip


def dropout_tab(setup: RegSetup) -> None:
    keep = widgets.stepped("Keep probability", "keep", KEEP_CHOICES, DEFAULT.keep_prob)
    s = replace(setup, keep_prob=float(keep))
    runs = remedy_runs(s, ["none", "dropout"])
    curves(runs, None, ", without and with dropout")
    st.markdown(remedy_sentence(runs["none"], runs["dropout"]))
    mask = dropout_mask(float(keep), seed=seed)
    rows, cols = np.indices(mask.shape)
    show_chart(
        image_grid(
            pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(),
                          "kept": (mask.ravel() > 0).astype(float), "image": "one mini-batch"}),
            row="row", col="col", value="kept", panel="image", symmetric=False,
            scheme="greys", title="One mini-batch's dropout mask: 10 digits × 30 hidden units",
            value_title="kept (1) or dropped (0)", columns=1, size=300,
        ),
        f"Dark cells are kept units, each with probability {float(keep):g}; every mini-batch "
        "draws a new mask, so each digit trains a different thinned network.",
    )  # fmt: skip
    check = dropout_check(
        runs["dropout"].params, float(keep), load_mnist().validation.x[:200], seed=seed
    )
    st.latex(
        r"\text{training: } a = \frac{m \odot \sigma(z)}{p},\ m_j \sim \text{Bernoulli}(p)"
        r"\qquad \text{evaluation: } a = \sigma(z)"
    )
    st.markdown(dropout_sentence(check))


def early_tab(setup: RegSetup) -> None:
    patience = widgets.stepped("Patience (epochs)", "patience", PATIENCE_CHOICES, DEFAULT.patience)
    s = replace(setup, patience=int(patience))
    runs = remedy_runs(s, ["none", "early", "l2"])
    early = runs["early"]
    curves(
        {"none": runs["none"]},
        early.kept_epoch,
        f": where patience {int(patience)} stops the unregularized run",
        mark_name="kept",
    )
    st.markdown(early_sentence(runs["none"], early, runs["l2"]))


def summary_tab(setup: RegSetup) -> None:
    runs = remedy_runs(setup, ["none", "l2", "l1", "dropout", "early"])
    rows = summary_rows(runs)

    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    table = pd.DataFrame(
        {
            "remedy": [r.label for r in rows],
            "best validation": [pct(r.best_accuracy) for r in rows],
            "final validation": [pct(r.final_accuracy) for r in rows],
            "train − validation gap": [
                "–" if r.gap is None else f"{100 * r.gap:.1f} points" for r in rows
            ],
            "test accuracy": [pct(r.test_accuracy) for r in rows],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown(summary_sentence(rows))


TABS = ["L2", "L1", "Dropout", "Early stopping", "Summary"]
tabs = st.tabs(TABS, key="remedy_tab", bind="query-params")
for tab, body in zip(tabs, (l2_tab, l1_tab, dropout_tab, early_tab, summary_tab)):
    with tab:
        if tab.open or (tab is tabs[0] and tab.open is not False):
            st.fragment(body)(SETUP)
