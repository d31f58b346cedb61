"""Helpers for page tests: run a page under AppTest and read what its charts show."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def run_page(path: str, query: dict[str, str] | None = None, timeout: float = 120) -> AppTest:
    """Run the page script at ``path`` (relative to the repo root), optionally with URL values."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _title(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if title is None:
        for sub in spec.get("layer", []) + spec.get("hconcat", []) + spec.get("vconcat", []):
            title = _title(sub)
            if title:
                break
    if title is None and "spec" in spec:
        title = _title(spec["spec"])
    return title or ""


def chart_datasets(at: AppTest) -> dict[str, list[pd.DataFrame]]:
    """Chart title -> its data sets (Arrow streams in the element's proto), one per layer."""
    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        out[_title(spec)] = [
            pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets
        ]
    return out


def charts(at: AppTest) -> dict[str, pd.DataFrame]:
    """Chart title -> all its data sets concatenated (columns a layer lacks are NaN)."""
    return {
        title: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        for title, frames in chart_datasets(at).items()
    }


def text(at: AppTest) -> str:
    """All markdown, captions and LaTeX on the page, joined: what the reader can read."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [lt.value for lt in at.latex]
    parts += [m.value for m in at.get("alert")] if hasattr(at, "get") else []
    return "\n".join(str(p) for p in parts)


def assert_charts_finite(at: AppTest) -> None:
    """No NaN or infinity reaches any chart."""
    import numpy as np

    for title, frames in chart_datasets(at).items():
        for df in frames:
            numeric = df.select_dtypes("number").to_numpy(dtype=float)
            assert np.isfinite(numeric).all(), f"non-finite data in {title!r}"
