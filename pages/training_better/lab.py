"""The training lab: configure a network, train it, and read what holds it back."""

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from charts import class_regions, line_chart
from charts.frames import layers_frame
from explain.diagnosis import diagnose
from explain.lab import (
    CHOICES,
    LIMITS,
    PRESET_LABELS,
    PRESETS,
    LabConfig,
    datasets,
    problems,
)
from ui import widgets
from ui.cache import lab_grid, lab_run
from ui.display import show_chart
from ui.site import link

DEFAULT = LabConfig()
LABELS = {
    "data": {"mnist": "MNIST digits", "moons": "moons", "circles": "circles", "xor": "XOR",
             "spiral": "spiral", "blobs": "blobs"},
    "norm": {"none": "none", "batch": "batch norm", "layer": "layer norm", "group": "group norm"},
}  # fmt: skip


def label_of(field: str):
    names = LABELS.get(field, {})
    return {v: names.get(v, v.replace("_", " ")) for v in CHOICES[field]}


def nearest(field: str, value):
    """A value on the widget's grid: a fix may suggest η = 0.033 where 0.03 is offered."""
    options = LIMITS.get(field)
    if options is None or isinstance(value, str) or value in options:
        return value
    return min(options, key=lambda o: abs(np.log(max(o, 1e-12)) - np.log(max(value, 1e-12))))


def apply(values: dict) -> None:
    """Write a preset or a fix into the bound widgets (the URL follows)."""
    for field, value in values.items():
        if field == "seed":
            continue
        st.session_state[f"lab_{field}"] = nearest(field, value)


st.title("The training lab")
st.markdown(
    "Build a network, train it, and let the page diagnose what holds it back, from the "
    "numbers it measured, with a link to the page that explains each symptom and the fix that "
    "page teaches, one click away. Every setting lives in the page's address: copy it to hand "
    "out the experiment."
)
st.markdown("**Start from a preset:**")
SHORT = {"chapter5": "Chapter 5", "fixed": "Chapter 5, fixed", "dead_relu": "Dead ReLUs",
         "exploding": "Exploding", "overfitting": "Overfitting"}  # fmt: skip
cols = st.columns(len(PRESETS))
for col, (name, values) in zip(cols, PRESETS.items()):
    col.button(SHORT.get(name, name), key=f"lab_preset_{name}", on_click=apply, args=(values,),
               width="stretch", help=PRESET_LABELS[name])  # fmt: skip


def stepped(field: str, label: str, **kw):
    return widgets.stepped(label, f"lab_{field}", LIMITS[field], getattr(DEFAULT, field), **kw)


def select(field: str, label: str):
    names = label_of(field)
    return widgets.select(label, f"lab_{field}", CHOICES[field], getattr(DEFAULT, field), names)


def controls() -> LabConfig:
    with st.form("lab"):
        c1, c2, c3 = st.columns(3, gap="medium")
        with c1:
            st.markdown("**Data**")
            data = select("data", "Data set")
            n_train = stepped("n_train", "Training samples", format_func="{:,}".format)
            noise = stepped("noise", "Noise (2-D sets only)")
            st.markdown("**Network**")
            depth = stepped("depth", "Hidden layers")
            width = stepped("width", "Units per hidden layer")
        with c2:
            activation = select("activation", "Activation")
            weight_init = select("weight_init", "Initial weights")
            cost = select("cost", "Cost")
            norm = select("norm", "Normalization")
            groups = stepped("groups", "Groups (group norm)")
            keep_prob = stepped("keep_prob", "Dropout: keep probability")
        with c3:
            st.markdown("**Training**")
            optimizer = select("optimizer", "Optimizer")
            eta = stepped("eta", "Learning rate η", format_func=lambda v: f"{v:g}")
            beta = stepped("beta", "Momentum β")
            schedule = select("schedule", "Schedule")
            batch_size = stepped("batch_size", "Mini-batch size")
            epochs = stepped("epochs", "Epochs")
            lmbda = stepped("lmbda", "L2 λ", format_func=lambda v: f"{v:g}")
            lmbda1 = stepped("lmbda1", "L1 λ₁", format_func=lambda v: f"{v:g}")
        seed = widgets.seed("lab_seed")
        st.form_submit_button("Train", type="primary", width="stretch")
        st.caption(
            "Changes take effect when you press Train. While it trains, a bar shows the "
            "epochs; Streamlit's Stop button (top right) stops it."
        )
    return LabConfig(
        data=data, n_train=int(n_train), noise=float(noise), depth=int(depth),
        width=int(width), activation=activation, weight_init=weight_init, cost=cost,
        norm=norm, groups=int(groups), keep_prob=float(keep_prob), lmbda=float(lmbda),
        lmbda1=float(lmbda1), optimizer=optimizer, eta=float(eta), beta=float(beta),
        schedule=schedule, batch_size=int(batch_size), epochs=int(epochs), seed=int(seed),
    )  # fmt: skip


def curves(run) -> None:
    h = run.history
    frames = []
    for field, quantity, data, scale in (
        ("train_cost", "cost", "training", 1),
        ("eval_cost", "cost", "validation", 1),
        ("train_accuracy", "accuracy", "training", 100),
        ("eval_accuracy", "accuracy", "validation", 100),
    ):
        frames.append(
            pd.DataFrame({"epoch": h.epoch, "value": scale * getattr(h, field),
                          "quantity": quantity, "data": data})
        )  # fmt: skip
    df = pd.concat(frames, ignore_index=True)
    left, right = st.columns(2, gap="medium")
    with left:
        show_chart(
            line_chart(
                df[df["quantity"] == "cost"], x="epoch", y="value", color="data",
                color_title="data", log_y=True, y_powers="auto", x_integer=True, points=True,
                title="Cost", x_title="epoch", y_title="cost (log scale)", height=260,
            ),
            "Training cost on the samples it trains on; validation cost on samples it never "
            "trains on.",
        )  # fmt: skip
    with right:
        show_chart(
            line_chart(
                df[df["quantity"] == "accuracy"], x="epoch", y="value", color="data",
                color_title="data", x_integer=True, points=True, title="Accuracy",
                x_title="epoch", y_title="accuracy (%)", height=260, y_domain=(0, 100),
            ),
            "The gap between the two lines is what the network learned about its training "
            "samples that does not hold for new ones.",
        )  # fmt: skip


LAYER_CHARTS = (
    ("grad_norm", "Speed of learning ‖∂C/∂bˡ‖", "‖∂C/∂bˡ‖ (log scale)", True, 1.0),
    ("update_ratio", "Update size relative to the weights", "‖ΔW‖ / ‖W‖ (log scale)", True, 1.0),
    ("act_mean", "Mean activation", "mean", False, 1.0),
    ("act_std", "Spread of the activations", "standard deviation", False, 1.0),
    ("saturated", "Saturated units", "share of units × samples (%)", False, 100.0),
    ("dead", "Dead units (never active)", "share of units (%)", False, 100.0),
)


def layer_charts(run, config_activation: str) -> None:
    """Per hidden layer against epoch; saturation for sigmoid-like units, dead units for
    ReLU-like ones (each is meaningless for the other kind)."""
    h = run.history
    n_hidden = h.grad_norm.shape[1] if h.grad_norm.ndim == 2 else 0
    if not n_hidden or len(h.epoch) < 1:
        return
    st.subheader("Hidden layer by hidden layer")
    relu_like = config_activation == "relu"  # leaky ReLU and ELU units cannot die
    shown = [c for c in LAYER_CHARTS if c[0] != ("saturated" if relu_like else "dead")]
    cols = st.columns(2, gap="medium")
    for k, (field, title, y_title, log, scale) in enumerate(shown):
        values = getattr(h, field)
        if field == "update_ratio":
            values = values[:, :n_hidden]  # the output layer is not a hidden layer
            epochs, values = h.epoch[1:], values[1:]  # row 0: nothing moved yet
        else:
            epochs = h.epoch
        with cols[k % 2]:
            show_chart(
                line_chart(
                    layers_frame(epochs, scale * values), x="epoch", y="value", color="layer",
                    color_title="layer", log_y=log, y_powers="auto" if log else False,
                    x_integer=True, points=True, title=title, x_title="epoch",
                    y_title=y_title, height=220,
                ),
                LAYER_NOTES[field],
            )  # fmt: skip


LAYER_NOTES = {
    "grad_norm": "Lines far apart on this log axis: the layers learn at very different speeds. "
    "A layer whose gradient is exactly 0 (all its units dead) has no place on a log axis.",
    "update_ratio": "How far one step moves each layer's weights, relative to their size "
    "(a layer that does not move at all has no place on this log axis).",
    "act_mean": "Where each layer's outputs sit on average.",
    "act_std": "The standard deviation over all the layer's units and samples.",
    "saturated": "Sigmoid and tanh units whose slope is under 5% of its maximum: little "
    "gradient gets through.",
    "dead": "ReLU units that output 0 for every probe sample: no gradient reaches them.",
}


def regions(config: LabConfig, run) -> None:
    if config.data == "mnist" or not run.snapshots:
        return
    st.subheader("Decision regions")
    epochs = list(run.snapshot_epochs)
    at = widgets.select("At epoch", "lab_at", epochs, epochs[-1])
    grid = lab_grid(config, at)
    train, _ = datasets(config)
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    cells = pd.DataFrame(
        {"x": gx.ravel(), "y": gy.ravel(), "class": grid.predicted.ravel().astype(str),
         "confidence": grid.confidence.ravel()}
    )  # fmt: skip
    points = pd.DataFrame(
        {"x": train.x[:, 0], "y": train.x[:, 1], "class": train.labels.astype(str)}
    )
    show_chart(
        class_regions(cells, points, title=f"What the network predicts, after epoch {at}"),
        "Background: the class the network predicts at each point (paler where it is less "
        "sure); dots: the training points, coloured by their true class.",
    )


def diagnosis(config: LabConfig, run) -> None:
    st.subheader("Diagnosis")
    findings = diagnose(
        run.history, diverged_at=run.diverged_at, activation=config.activation,
        cost=config.cost, eta=config.eta, optimizer=config.optimizer, norm=config.norm,
        depth=config.depth, n_train=config.n_train, schedule=config.schedule,
        weight_init=config.weight_init, lmbda=config.lmbda,
    )  # fmt: skip
    for k, f in enumerate(findings):
        with st.container(border=True):
            where = f" ({link(f.page, 'why')})" if f.page else ""
            st.markdown(f"**{f.title}**{where}. {f.evidence}")
            if f.fix:
                st.markdown(f.fix_text)
                changes = ", ".join(f"{name} = {nearest(name, v)}" for name, v in f.fix.items())
                st.button(
                    f"Apply and retrain: {changes}", key=f"lab_fix_{k}_{f.code}",
                    on_click=apply, args=(f.fix,),
                )  # fmt: skip
            elif f.fix_text:
                st.markdown(f.fix_text)


config = controls()
trouble = problems(config)
if trouble:
    st.error("This configuration cannot be trained:\n\n" + "\n".join(f"- {p}" for p in trouble))
else:
    run = lab_run(config)
    if run.diverged_at is not None:
        st.warning(f"Training {run.diverged_at}; the charts show the epochs before it.")
    diagnosis(config, run)
    curves(run)
    regions(config, run)
    layer_charts(run, config.activation)
    st.caption(
        "Training runs once per configuration and is cached: the same link shows the same "
        f"run. Configuration: {', '.join(f'{k} = {v}' for k, v in asdict(config).items())}."
    )
