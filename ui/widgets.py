"""Widgets whose values live in the URL, so a shared link reproduces a figure.

Every widget is keyed, and the key is the query parameter (``?depth=6&seed=3``).
Streamlit validates bound values: one that is malformed or out of range is dropped
from the URL and the widget falls back to its default, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def slider(label: str, key: str, lo: float, hi: float, default: float, step=None, **kw):
    """A slider bound to the query parameter ``key``."""
    return st.slider(label, lo, hi, default, step=step, key=key, bind="query-params", **kw)


def _choice(widget, label, key, options, default, labels, **kw):
    fmt = (lambda o: labels[o]) if labels else str
    index = list(options).index(default)
    return widget(label, options, index=index, key=key, format_func=fmt, bind="query-params", **kw)


def select(label: str, key: str, options: Sequence[T], default: T, labels=None, **kw) -> T:
    """A select box over ``options`` (shown through ``labels`` if given), bound to the URL."""
    return _choice(st.selectbox, label, key, options, default, labels, **kw)


def radio(label: str, key: str, options: Sequence[T], default: T, labels=None, **kw) -> T:
    """Horizontal radio buttons over ``options``, bound to the URL."""
    return _choice(st.radio, label, key, options, default, labels, horizontal=True, **kw)


def seed(key: str = "seed", default: int = 0) -> int:
    """The page's random seed: same seed, same figure."""
    return int(
        st.number_input(
            "Random seed",
            0,
            10_000,
            default,
            step=1,
            key=key,
            bind="query-params",
            help="Every random draw on this page comes from this seed, so a link reproduces it.",
        )
    )


def stepped(label: str, key: str, options: Sequence[T], default: T, **kw) -> T:
    """A slider over a fixed list of values (e.g. learning rates 0.001 ... 10), bound to the URL."""
    return st.select_slider(
        label, options=list(options), value=default, key=key, bind="query-params", **kw
    )


def preset_buttons(presets: dict[str, dict], labels: dict[str, str], key: str) -> None:
    """One button per preset; clicking one writes its values into the bound widgets."""

    def apply(values: dict) -> None:
        for widget_key, value in values.items():
            st.session_state[widget_key] = value

    cols = st.columns(len(presets))
    for col, (name, values) in zip(cols, presets.items()):
        col.button(
            labels[name], key=f"{key}_{name}", on_click=apply, args=(values,), width="stretch"
        )
