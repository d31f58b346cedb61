"""Every page opened with random and hostile query strings: huge numbers, negative, NaN,
infinity, unicode, very long values, repeated keys, unknown keys. No traceback, no NaN in a
chart, every widget inside its range, and values that cannot be honoured give the defaults."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pagetools import assert_charts_finite, run_page
from ui.site import PAGES

HOSTILE = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-320",
    "99999999999999999999999",
    "-1",
    "-0",
    "",
    " ",
    "abc",
    "１２",
    "٣",
    "😀",
    "<script>alert(1)</script>",
    "%00",
    "\x00",
    "None",
    "true",
    "x" * 5000,
    "9" * 400,
]
NEVER_VALID = {"nan", "NaN", "inf", "-inf", "1e308", "-1e308", "abc", "😀", "x" * 5000, "9" * 400}
KINDS = ("slider", "select_slider", "selectbox", "radio", "number_input")


def widgets(at) -> dict:
    """key -> widget for every keyed widget the page shows."""
    return {w.key: w for kind in KINDS for w in getattr(at, kind) if w.key}


def defaults_of(info) -> dict:
    return {k: w.value for k, w in widgets(run_page(info.path)).items()}


DEFAULTS = {}


def page_defaults(info) -> dict:
    if info.path not in DEFAULTS:
        DEFAULTS[info.path] = defaults_of(info)
    return DEFAULTS[info.path]


def in_range(w) -> bool:
    if type(w).__name__ not in ("Slider", "NumberInput"):
        return True  # a select slider or box can only hold one of its options
    values = w.value if isinstance(w.value, tuple | list) else [w.value]
    return all(w.min <= v <= w.max for v in values if isinstance(v, int | float))


def query_strategy(keys: list[str]):
    value = st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=30),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=3),  # a repeated key
    )
    key = st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=12))
    return st.dictionaries(key, value, min_size=1, max_size=6)


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_random_and_hostile_query_strings(info):
    defaults = page_defaults(info)
    keys = sorted(defaults) or ["seed"]

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(query_strategy(keys))
    def check(query):
        at = run_page(info.path, query)  # asserts that no exception is shown
        assert_charts_finite(at)
        shown = widgets(at)
        for key, w in shown.items():
            assert in_range(w), f"{key} = {w.value} is outside its range"
            given_value = query.get(key)
            if isinstance(given_value, str) and given_value in NEVER_VALID and key in defaults:
                assert w.value == defaults[key], f"{key}={given_value!r} did not fall back"
            if isinstance(w.value, float):
                assert math.isfinite(w.value)

    check()


def test_each_hostile_value_on_every_widget_of_one_page_at_once():
    """Every keyed widget of the slowdown page given the same hostile value together."""
    info = next(p for p in PAGES if p.url_path == "learning-slowdown")
    defaults = page_defaults(info)
    for bad in sorted(NEVER_VALID):
        at = run_page(info.path, dict.fromkeys(defaults, bad))
        assert {k: w.value for k, w in widgets(at).items()} == defaults, bad
