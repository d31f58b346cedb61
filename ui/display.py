"""How a chart meets the reader: full width, with a sentence saying what to look at.

Charts arrive as recipes (``charts.recipe``): the finished Vega-Lite specification of each
is kept, keyed by the recipe's fingerprint, in one cache shared by all sessions of the
process and bounded in bytes. A rerun with unchanged inputs, or another student opening the
same page, sends the stored specification without building or validating anything.
Conversion skips Altair's JSON-schema validation (most of the cost): the builders are
validated by the tests instead, and with ``CHARTS_VALIDATE=1`` (set by the test suite)
every chart a page draws is validated too.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager, nullcontext

import altair as alt
import streamlit as st
from streamlit import dataframe_util

from charts.recipe import Recipe

SPEC_BUDGET = 256 * 2**20  # bytes of chart data kept across all sessions of a process
_lock = threading.Lock()  # Altair's theme and data transformer are global state


class SpecCache:
    """Least-recently-used specifications, evicted once their data exceed ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self._items: OrderedDict[str, tuple[dict, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, tuple[threading.Lock, int]] = {}
        self.hits = self.misses = 0

    def get(self, key: str) -> dict | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: str, spec: dict) -> None:
        size = sum(len(d) for d in spec.get("datasets", {}).values() if isinstance(d, bytes))
        size += 2048  # the specification itself, roughly
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (spec, size)
            self.used += size
            while self.used > self.budget and len(self._items) > 1:
                _, (_, freed) = self._items.popitem(last=False)
                self.used -= freed

    def __len__(self) -> int:
        return len(self._items)

    @contextmanager
    def building(self, key: str):
        """Hold the lock of ``key`` while its specification is built (one build per key)."""
        with self._lock:
            lock, users = self._building.get(key, (threading.Lock(), 0))
            self._building[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._building[key]
                if users == 1:
                    del self._building[key]
                else:
                    self._building[key] = (lock, users - 1)


SPECS = SpecCache(SPEC_BUDGET)


def _arrow_dataset(data, datasets: dict) -> dict:
    """Altair data transformer: store each data frame as Arrow bytes under a content name."""
    import hashlib

    raw = dataframe_util.convert_anything_to_arrow_bytes(data)
    name = hashlib.blake2b(raw, digest_size=16).hexdigest()
    datasets[name] = raw
    return {"name": name}


alt.data_transformers.register("explain_arrow", _arrow_dataset)


def to_spec(chart) -> dict:
    """A chart's Vega-Lite specification with its data as Arrow bytes (``datasets``)."""
    validate = os.environ.get("CHARTS_VALIDATE") == "1"
    datasets: dict = {}
    with _lock:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("explain_arrow", datasets=datasets):
            spec = chart.to_dict(validate=validate)
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def chart_spec(chart) -> dict:
    """The specification of a recipe from the cache (built once), or of a chart directly."""
    if not isinstance(chart, Recipe):
        return to_spec(chart)
    spec = SPECS.get(chart.key)
    if spec is not None:
        return spec
    with SPECS.building(chart.key):  # sessions asking for the same chart wait for one build
        spec = SPECS.get(chart.key)
        if spec is None:
            spec = to_spec(chart.build())
            SPECS.put(chart.key, spec)
    return spec


def show_chart(chart, look_at: str) -> None:
    """Draw ``chart`` (a recipe or an Altair chart) across the column, then one sentence
    telling the reader what to see."""
    spec = chart_spec(chart)
    # Streamlit moves "datasets" out of the dict it is given: hand it a shallow copy
    st.vega_lite_chart(spec={**spec}, width="stretch")
    st.caption(look_at)
