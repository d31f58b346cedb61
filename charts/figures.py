"""Figures that more than one page draws, built from the generic builders."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from charts.builders import heatmap, histogram_grid, hline, labelled_points, layered, line_chart
from charts.frames import curves_frame, histograms_frame, history_frame
from charts.recipe import recipe


@recipe
def sigmoid_marker(
    z: np.ndarray,
    sigma: np.ndarray,
    sigma_prime: np.ndarray,
    z0: float,
    a0: float,
    sp0: float,
    *,
    labels: tuple[str, str],
    title: str,
    x_title: str = "weighted input z",
    max_line: bool = False,
):
    """σ(z) and σ′(z) over z (n,), a neuron's z0 marked on both, labelled ``labels`` (the
    values as the page writes them). The labels face into the chart, away from the legend
    and the axis; when the two points nearly meet one label names both, so none overlap."""
    texts = list(labels)
    if abs(a0 - sp0) < 0.12:
        texts = [f"σ = {labels[0]}, σ′ = {labels[1]}", ""]
    points = pd.DataFrame(
        {
            "z": [z0, z0],
            "value": [a0, sp0],
            "curve": ["σ(z)", "σ′(z)"],
            "label": texts,
            "side": "left" if z0 > (z.min() + z.max()) / 2 else "right",
        }
    )
    layers = [
        line_chart(
            curves_frame(z, {"σ(z)": sigma, "σ′(z)": sigma_prime}),
            x="z",
            y="value",
            color="curve",
            color_title="function",
            title=title,
            x_title=x_title,
            y_title="value",
        ),
        labelled_points(
            points,
            x="z",
            y="value",
            label="label",
            color="curve",
            color_title="function",
            side="side",
        ),
    ]
    if max_line:
        layers.insert(1, hline(0.25, "max σ′ = 1/4 at z = 0"))
    return layered(*layers)


@recipe
def accuracy_curves(results: dict, *, legend: str, title: str):
    """Validation accuracy (%) against epoch, one line per named TrainResult."""
    acc = history_frame(results, "eval_accuracy").assign(value=lambda d: 100 * d["value"])
    return line_chart(
        acc.rename(columns={"run": legend}),
        x="epoch",
        y="value",
        color=legend,
        color_title=legend,
        points=True,
        x_integer=True,
        title=title,
        x_title="epoch",
        y_title="accuracy (%)",
    )


GRID_AXIS, GRID_GAP = 70, 20  # px: the y axis with its title, and the gap between panels


@recipe
def per_layer_histograms(
    edges: np.ndarray,
    shares: np.ndarray,
    *,
    title: str,
    x_title: str,
    columns: int = 5,
    fit_width: int | None = None,
    panel_height: int = 110,
):
    """One histogram per layer ("layer 1" ...), small multiples on shared axes.

    ``fit_width`` (px) narrows the panels so that ``columns`` of them, with the axis and
    the gaps, fit a column of that width; otherwise each panel is 150 px wide.
    """
    names = [f"layer {k + 1}" for k in range(len(shares))]
    columns = max(1, min(columns, len(names)))
    width = 150 if fit_width is None else (fit_width - GRID_AXIS) // columns - GRID_GAP
    return histogram_grid(
        histograms_frame(edges, shares, names),
        x="lo",
        x2="hi",
        y="share",
        panel="layer",
        panel_order=names,
        title=title,
        x_title=x_title,
        y_title="share of values",
        columns=columns,
        panel_width=max(width, 40),
        panel_height=panel_height,
    )


@recipe
def optimizer_paths(
    grid: pd.DataFrame,
    paths: pd.DataFrame,
    marks: pd.DataFrame,
    *,
    log_value: bool,
    value_title: str,
    title: str,
    x_domain: tuple[float, float],
    y_domain: tuple[float, float],
    height: int = 420,
):
    """Optimizers' paths (columns x, y, step, optimizer) over a surface's grid (x, y, f), with
    labelled marks (x, y, label, side: the start, the minima, each path's current position).

    The surface is grey (light low, dark high) so that the paths' colours stand out; the
    paths' colour legend is the optimizers', the grey one the surface's value.
    """
    ground = heatmap(
        grid,
        x="x",
        y="y",
        value="f",
        title=title,
        x_title="x",
        y_title="y",
        value_title=value_title,
        colour_range=("#fcfcfc", "#7a7a7a"),
        log_value=log_value,
        height=height,
    )
    # the grey scale's legend lies under the map, so the optimizers' legend has the height
    ground = ground.encode(
        color=ground.encoding.color.legend(orient="bottom", direction="horizontal")
    )
    lines = line_chart(
        paths,
        x="x",
        y="y",
        color="optimizer",
        color_title="optimizer",
        order="step",
        points=True,
        title="",
        x_title="x",
        y_title="y",
        x_domain=x_domain,
        y_domain=y_domain,
        height=height,
    )
    return layered(
        ground,
        lines,
        labelled_points(marks, x="x", y="y", label="label", side="side"),
        height=height,
    ).resolve_scale(color="independent")


@recipe
def per_optimizer_panels(df: pd.DataFrame, *, columns: int = 3, panel_height: int = 160):
    """Small multiples of each hidden layer's ||ΔW|| / ||W|| against epoch, one panel per
    optimizer (columns epoch, layer, value, optimizer), on shared log axes."""
    order = list(dict.fromkeys(df["optimizer"]))
    layers = list(dict.fromkeys(df["layer"]))
    base = line_chart(
        df,
        x="epoch",
        y="value",
        color="layer",
        color_title="hidden layer",
        color_order=layers,
        points=True,
        x_integer=True,
        log_y=True,
        y_powers="auto",
        title="",
        x_title="epoch",
        y_title="‖ΔW‖ / ‖W‖ (log)",
        height=panel_height,
    ).properties(width=200)
    return base.facet(
        facet=alt.Facet("optimizer:N").sort(order).title(None), columns=min(columns, len(order))
    ).properties(title="Each hidden layer's update size relative to its weights")
