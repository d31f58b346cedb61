"""What the one-neuron pages share: the controls (presets, start, target, training)."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from explain.neuron import ETA_CHOICES, PRESET_LABELS, PRESET_SETTING, PRESETS
from ui import widgets


class NeuronControls(NamedTuple):
    w0: float
    b0: float
    x: float
    y: float
    eta: float
    epochs: int


def neuron_controls(
    *,
    eta_label: str = "Learning rate η",
    eta_in_presets: bool = True,
    eta_help: str | None = None,
    eta_disabled: bool = False,
) -> NeuronControls:
    """Preset buttons and URL-bound sliders for one sigmoid neuron (Nielsen's settings), in
    two compact rows: the presets, then the six sliders side by side.

    The default start is the badly wrong one (w = 2, b = 2): the case the lesson is about.
    ``eta_in_presets`` makes a preset set η too; ``eta_help`` explains a slider that is not
    always used, and ``eta_disabled`` greys it out (the cross-entropy page's book rates).
    """
    setting = PRESET_SETTING if eta_in_presets else {**PRESET_SETTING, "eta": None}
    base = {key: value for key, value in setting.items() if value is not None}
    presets = {name: {"w0": w, "b0": b} | base for name, (w, b) in PRESETS.items()}
    labels = {n: f"{PRESET_LABELS[n]}: w = {w:g}, b = {b:g}" for n, (w, b) in PRESETS.items()}
    buttons, note = st.columns([3, 2], vertical_alignment="center")
    with buttons:
        widgets.preset_buttons(presets, labels, key="preset")
    with note:
        shown = {"x": "x", "y": "y", "eta": "η"}
        parts = [f"{shown[k]} = {v:g}" for k, v in base.items() if k in shown]
        st.caption(
            f"Nielsen's two starts (chapter 3), with {', '.join(parts)} and {base['epochs']} "
            "epochs."
        )
    d = {"w0": PRESETS["wrong"][0], "b0": PRESETS["wrong"][1], **PRESET_SETTING}
    cols = st.columns(6)
    with cols[0]:
        w0 = widgets.slider("Initial weight w₀", "w0", -10.0, 10.0, d["w0"], step=0.1)
    with cols[1]:
        b0 = widgets.slider("Initial bias b₀", "b0", -10.0, 10.0, d["b0"], step=0.1)
    with cols[2]:
        x = widgets.slider("Input x", "x", -3.0, 3.0, d["x"], step=0.1)
    with cols[3]:
        y = widgets.slider("Target y", "y", 0.0, 1.0, d["y"], step=0.05)
    with cols[4]:
        eta = widgets.stepped(
            eta_label, "eta", ETA_CHOICES, d["eta"], help=eta_help, disabled=eta_disabled
        )
    with cols[5]:
        epochs = widgets.slider("Epochs", "epochs", 10, 1000, d["epochs"], step=10)
    if (x, y) != (PRESET_SETTING["x"], PRESET_SETTING["y"]):
        st.caption(
            f"The presets' names describe them at x = {PRESET_SETTING['x']:g}, "
            f"y = {PRESET_SETTING['y']:g}; with your x and y the sentences below rank the "
            "starts by their actual error |a − y|."
        )
    return NeuronControls(w0, b0, x, y, float(eta), int(epochs))


def epoch_to_inspect(label: str, epochs: int, help: str) -> int:
    """The URL-bound "epoch to inspect" slider, bounded by the run's ``epochs``; after the
    run is shortened it moves back to the run's last epoch."""
    if st.session_state.get("epoch", 0) > epochs:
        st.session_state["epoch"] = epochs
    return widgets.slider(label, "epoch", 0, epochs, 0, step=1, help=help)
