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


# NeuronRun field -> column (the cost value is "C", so that "cost" can name the cost function)
NEURON_FIELDS = {
    "w": "w",
    "b": "b",
    "z": "z",
    "a": "a",
    "cost": "C",
    "sigma_prime": "sigma_prime",
    "dC_dw": "dC_dw",
    "dC_db": "dC_db",
}


def neuron_frame(run, labels: list[str], *, every: int = 1, **constants) -> pd.DataFrame:
    """Columns epoch, start, w, b, z, a, C, sigma_prime, dC_dw, dC_db (+ constants):
    one row per epoch (every ``every``-th, and the last) per neuron of a NeuronRun."""
    rows = np.unique(np.r_[np.arange(0, len(run.epoch), every), len(run.epoch) - 1])
    frames = []
    for k, label in enumerate(labels):
        data = {"epoch": run.epoch[rows], "start": label}
        data.update({col: getattr(run, f)[rows, k] for f, col in NEURON_FIELDS.items()})
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True).assign(**constants)


def grid_frame(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, names: tuple[str, str, str]):
    """A (len(ys), len(xs)) grid of values as long columns (x name, y name, value name)."""
    gx, gy = np.meshgrid(xs, ys)
    return pd.DataFrame({names[0]: gx.ravel(), names[1]: gy.ravel(), names[2]: values.ravel()})


def neuron_runs_frame(runs: dict[str, object], labels: list[str], **constants) -> pd.DataFrame:
    """neuron_frame for several runs at once, with a ``cost`` column naming each run."""
    return pd.concat(
        [neuron_frame(run, labels, cost=name, **constants) for name, run in runs.items()],
        ignore_index=True,
    )


def history_frame(results: dict[str, object], field: str) -> pd.DataFrame:
    """Columns (epoch, run, value) from one History field of several TrainResults."""
    return pd.concat(
        [
            pd.DataFrame(
                {"epoch": r.history.epoch, "run": name, "value": getattr(r.history, field)}
            )
            for name, r in results.items()
        ],
        ignore_index=True,
    )


def layers_frame(epochs: np.ndarray, values: np.ndarray, **constants) -> pd.DataFrame:
    """Columns (epoch, layer, value) from a (rows, n_hidden) array; layer named as in palette."""
    from charts.palette import layer_name

    n = values.shape[1]
    return pd.DataFrame(
        {
            "epoch": np.repeat(epochs, n),
            "layer": [layer_name(k + 1) for k in range(n)] * len(epochs),
            "value": values.ravel(),
        }
    ).assign(**constants)


def histograms_frame(edges: np.ndarray, fractions: np.ndarray, panel_names: list[str]):
    """Columns (lo, hi, share, layer): one row per bin per layer, for histogram_grid."""
    n_bins = len(edges) - 1
    return pd.DataFrame(
        {
            "lo": np.tile(edges[:-1], len(panel_names)),
            "hi": np.tile(edges[1:], len(panel_names)),
            "share": fractions.ravel(),
            "layer": np.repeat(panel_names, n_bins),
        }
    )
