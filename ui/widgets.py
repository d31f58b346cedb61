"""Widgets whose values live in the URL, so a shared link reproduces a figure.

Every widget is keyed, and the key is the query parameter (``?depth=6&seed=3``).

Before a widget reads its value from the link, the link's value is put into the form
Streamlit expects, so that what a person would type is taken: ``?eta=1`` for the option
1.0, ``?seed=3.0``, an option's name as well as its label, any letter case. A value that
cannot be honoured (``?eta=abc``, ``?seed=inf``, a number outside the slider) is removed
from the link, the widget shows its default, and a short note under it says so; never a
traceback. A repeated key takes its last value, as Streamlit does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

T = TypeVar("T")


def _number(raw: str) -> float | None:
    """The finite number a person meant by ``raw`` (``"1"``, ``" 2.50 "``, ``"1e-3"``)."""
    try:
        value = float(raw.strip())
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _session_params():
    """The session's query-parameter record (Streamlit's, private; None if unavailable)."""
    ctx = get_script_run_ctx()
    state = getattr(getattr(ctx, "session_state", None), "_state", None)
    return getattr(state, "query_params", None)


def _from_link(key: str, canonical: Callable[[str], str | None]) -> str | None:
    """Put the link's value for ``key`` into the widget's form; if it cannot be honoured,
    drop it and return the note to show (None when all is well).

    Bound widgets read their first value from the link the page was opened with, which
    Streamlit keeps apart from ``st.query_params``; that record is what is corrected here.
    Once the widget is bound (after its first run on the page) it owns the value, and
    Streamlit forbids writing its parameter, so nothing is touched then.
    """
    params = _session_params()
    note_key = f"_link_note_{key}"
    if params is not None and params.is_bound(key):
        return st.session_state.get(note_key)
    st.session_state.pop(note_key, None)
    initial = getattr(params, "_initial_query_params", None)
    raw = initial.get(key) if initial is not None else st.query_params.get_all(key)
    if not raw:
        return None
    value = raw[-1]
    fixed = canonical(value)
    if fixed is None:
        if initial is not None:
            initial.pop(key, None)
        st.query_params.pop(key, None)
        shown = value if len(value) <= 24 else value[:24] + "…"
        note = f"The link's value “{shown}” cannot be used here; this shows the default."
        st.session_state[note_key] = note
        return note
    if fixed != value or len(raw) > 1:
        if initial is not None:
            initial[key] = [fixed]
        st.query_params[key] = fixed
    return None


def _note(message: str | None) -> None:
    if message:
        st.caption(f":orange[{message}]")


def _numeric_canonical(lo, hi, integer: bool) -> Callable[[str], str | None]:
    def canonical(raw: str) -> str | None:
        value = _number(raw)
        if value is None or not lo <= value <= hi:
            return None
        if integer:
            return str(int(value)) if value == int(value) else None
        return repr(float(value))

    return canonical


def slider(label: str, key: str, lo: float, hi: float, default: float, step=None, **kw):
    """A slider bound to the query parameter ``key``."""
    integer = all(isinstance(v, int) for v in (lo, hi, default))
    note = _from_link(key, _numeric_canonical(lo, hi, integer))
    value = st.slider(label, lo, hi, default, step=step, key=key, bind="query-params", **kw)
    _note(note)
    return value


def _option_canonical(options: Sequence, shown: Callable[[object], str]):
    """Match a typed value to an option: its label, its own name, or an equal number."""

    def canonical(raw: str) -> str | None:
        text = raw.strip().casefold()
        for option in options:
            if text in (shown(option).casefold(), str(option).casefold()):
                return shown(option)
        number = _number(raw)
        for option in options:
            if number is not None and isinstance(option, int | float) and option == number:
                return shown(option)
        return None

    return canonical


def _choice(widget, label, key, options, default, labels, **kw):
    fmt = (lambda o: labels[o]) if labels else str
    index = list(options).index(default)
    note = _from_link(key, _option_canonical(options, fmt))
    value = widget(label, options, index=index, key=key, format_func=fmt, bind="query-params", **kw)
    _note(note)
    return value


def select(label: str, key: str, options: Sequence[T], default: T, labels=None, **kw) -> T:
    """A select box over ``options`` (shown through ``labels`` if given), bound to the URL."""
    return _choice(st.selectbox, label, key, options, default, labels, **kw)


def radio(label: str, key: str, options: Sequence[T], default: T, labels=None, **kw) -> T:
    """Horizontal radio buttons over ``options``, bound to the URL."""
    return _choice(st.radio, label, key, options, default, labels, horizontal=True, **kw)


def seed(key: str = "seed", default: int = 0) -> int:
    """The page's random seed: same seed, same figure."""
    note = _from_link(key, _numeric_canonical(0, 10_000, integer=True))
    value = int(
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
    _note(note)
    return value


def stepped(label: str, key: str, options: Sequence[T], default: T, **kw) -> T:
    """A slider over a fixed list of values (e.g. learning rates 0.001 ... 10), bound to the URL."""
    note = _from_link(key, _option_canonical(options, kw.get("format_func", str)))
    value = st.select_slider(
        label, options=list(options), value=default, key=key, bind="query-params", **kw
    )
    _note(note)
    return value


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


def toggle(label: str, key: str, default: bool, **kw) -> bool:
    """An on/off switch bound to the URL (``?key=true``; also yes/no, on/off, 1/0)."""
    words = {"true": "true", "yes": "true", "on": "true", "1": "true", "1.0": "true"}
    words |= {"false": "false", "no": "false", "off": "false", "0": "false", "0.0": "false"}
    note = _from_link(key, lambda raw: words.get(raw.strip().casefold()))
    value = st.toggle(label, value=default, key=key, bind="query-params", **kw)
    _note(note)
    return value


def _link_values(key: str, canonical: Callable[[str], str | None]) -> str | None:
    """Like ``_from_link`` for a widget of several values (``?opt=sgd&opt=adam``): each value
    is put into the widget's form, unusable ones are dropped, and a note says which."""
    params = _session_params()
    note_key = f"_link_note_{key}"
    if params is not None and params.is_bound(key):
        return st.session_state.get(note_key)
    st.session_state.pop(note_key, None)
    initial = getattr(params, "_initial_query_params", None)
    raw = initial.get(key) if initial is not None else st.query_params.get_all(key)
    if not raw:
        return None
    fixed = [canonical(v) for v in raw]
    kept = list(dict.fromkeys(f for f in fixed if f is not None))
    bad = [v for v, f in zip(raw, fixed) if f is None and v != ""]
    if kept != raw:
        if initial is not None:
            initial[key] = kept if kept else [""]
        st.query_params[key] = kept
    if bad:
        shown = ", ".join(f"“{v if len(v) <= 24 else v[:24] + '…'}”" for v in bad)
        note = f"The link's value {shown} cannot be used here and was left out."
        st.session_state[note_key] = note
        return note
    return None


def pills(label: str, key: str, options: Sequence[T], default: Sequence[T], labels=None, **kw):
    """Toggle chips for choosing several of ``options`` (shown through ``labels``), bound to
    the URL; returns the chosen ones in the order of ``options``."""
    fmt = (lambda o: labels[o]) if labels else str
    note = _link_values(key, _option_canonical(options, fmt))
    chosen = st.pills(
        label,
        options,
        selection_mode="multi",
        default=list(default),
        key=key,
        format_func=fmt,
        bind="query-params",
        **kw,
    )
    _note(note)
    return [o for o in options if o in (chosen or [])]
