"""The controls shared by the two one-neuron pages: presets, start, target and training."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from explain.neuron import ETA_CHOICES, PRESET_LABELS, PRESETS
from ui import widgets


class NeuronControls(NamedTuple):
    w0: float
    b0: float
    x: float
    y: float
    eta: float
    epochs: int


def neuron_controls(*, show_eta: bool = True) -> NeuronControls:
    """Preset buttons and URL-bound sliders for one sigmoid neuron (Nielsen's settings).

    The default start is the badly wrong one (w = 2, b = 2): the case the lesson is about.
    """
    base = {"x": 1.0, "y": 0.0, "epochs": 300} | ({"eta": 0.15} if show_eta else {})
    presets = {name: {"w0": w, "b0": b} | base for name, (w, b) in PRESETS.items()}
    labels = {n: f"{PRESET_LABELS[n]}: w = {w:g}, b = {b:g}" for n, (w, b) in PRESETS.items()}
    st.markdown(
        "**Presets** (x = 1, y = 0, "
        + ("η = 0.15, " if show_eta else "")
        + "300 epochs, as in Nielsen's chapter 3)"
    )
    widgets.preset_buttons(presets, labels, key="preset")
    c1, c2, c3 = st.columns(3)
    with c1:
        w0 = widgets.slider("Initial weight w₀", "w0", -10.0, 10.0, 2.0, step=0.1)
        b0 = widgets.slider("Initial bias b₀", "b0", -10.0, 10.0, 2.0, step=0.1)
    with c2:
        x = widgets.slider("Input x", "x", -3.0, 3.0, 1.0, step=0.1)
        y = widgets.slider("Target y", "y", 0.0, 1.0, 0.0, step=0.05)
    with c3:
        eta = 0.15
        if show_eta:
            eta = widgets.stepped("Learning rate η", "eta", ETA_CHOICES, 0.15)
        epochs = widgets.slider("Epochs", "epochs", 10, 1000, 300, step=10)
    return NeuronControls(w0, b0, x, y, float(eta), int(epochs))
