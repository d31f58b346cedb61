"""Tidy long DataFrames from explain results: the bridge between arrays and charts."""

from __future__ import annotations

import numpy as np
import pandas as pd


def curves_frame(
    x: np.ndarray, curves: dict[str, np.ndarray], *, x_name: str = "z"
) -> pd.DataFrame:
    """Columns (x_name, value, curve): one row per point per named curve."""
    return pd.concat(
        [pd.DataFrame({x_name: x, "value": y, "curve": name}) for name, y in curves.items()],
        ignore_index=True,
    )


def points_frame(x: float, values: dict[str, float], *, x_name: str = "z") -> pd.DataFrame:
    """Columns (x_name, value, curve, label): a marked point on each named curve."""
    return pd.DataFrame(
        {
            x_name: [x] * len(values),
            "value": list(values.values()),
            "curve": list(values),
            "label": [f"{v:.3g}" for v in values.values()],
        }
    )
