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


def charts(at: AppTest) -> dict[str, pd.DataFrame]:
    """Chart title -> all its data sets concatenated (Arrow streams in the element's proto)."""
    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets]
        out[_title(spec)] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def text(at: AppTest) -> str:
    """All markdown, captions and LaTeX on the page, joined: what the reader can read."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [lt.value for lt in at.latex]
    parts += [m.value for m in at.get("alert")] if hasattr(at, "get") else []
    return "\n".join(str(p) for p in parts)
