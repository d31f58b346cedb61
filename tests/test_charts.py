"""Chart builders, checked through chart.to_dict(): titles, axis titles, tooltips, scales."""

import numpy as np
import pandas as pd

from charts import bar_chart, heatmap, hline, labelled_points, layered, line_chart
from charts.frames import curves_frame, points_frame
from charts.palette import LAYER_COLOURS, SERIES_COLOURS, colours_for, layer_name


def frame():
    return curves_frame(
        np.linspace(1, 10, 5), {"quadratic": np.arange(5.0) + 1, "cross-entropy": np.ones(5)}
    )


def test_line_chart_has_titles_tooltips_and_fixed_colours():
    spec = line_chart(
        frame(),
        x="z",
        y="value",
        color="curve",
        title="T",
        x_title="epoch",
        y_title="cost",
        log_y=True,
    ).to_dict()
    assert spec["title"] == "T"
    enc = spec["encoding"]
    assert enc["x"]["title"] == "epoch"
    assert enc["y"]["title"] == "cost"
    assert enc["y"]["scale"]["type"] == "log"
    assert {t["field"] for t in enc["tooltip"]} == {"curve", "z", "value"}
    domain, colours = enc["color"]["scale"]["domain"], enc["color"]["scale"]["range"]
    assert dict(zip(domain, colours)) == {
        "quadratic": SERIES_COLOURS["quadratic"],
        "cross-entropy": SERIES_COLOURS["cross-entropy"],
    }


def test_layer_colours_are_the_same_everywhere():
    names = [layer_name(3), layer_name(1)]
    assert colours_for(names) == [LAYER_COLOURS[2], LAYER_COLOURS[0]]


def test_bar_chart_groups_and_logs():
    df = pd.DataFrame(
        {"neuron": ["1", "2", "1", "2"], "g": [1, 2, 3, 4.0], "layer": ["a", "a", "b", "b"]}
    )
    spec = bar_chart(
        df,
        x="neuron",
        y="g",
        color="layer",
        x_offset="layer",
        title="B",
        x_title="n",
        y_title="|g|",
        log_y=True,
    ).to_dict()
    assert spec["encoding"]["xOffset"]["field"] == "layer"
    assert spec["encoding"]["y"]["scale"]["type"] == "log"
    assert spec["mark"]["type"] == "bar"


def test_heatmap_and_layers():
    grid = pd.DataFrame({"w": [0.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 1.0], "C": [1, 2, 3, 4.0]})
    spec = heatmap(
        grid, x="w", y="b", value="C", title="H", x_title="w", y_title="b", value_title="cost"
    ).to_dict()
    assert spec["encoding"]["color"]["title"] == "cost"
    pts = points_frame(0.5, {"σ(z)": 0.6})
    combined = layered(
        line_chart(frame(), x="z", y="value", color="curve", title="L", x_title="z", y_title="v"),
        hline(0.25, "max"),
        labelled_points(pts, x="z", y="value", label="label", color="curve"),
        title="combined",
    ).to_dict()
    assert combined["title"] == "combined"
    assert len(combined["layer"]) == 3


def test_a_log_axis_leaves_out_what_it_cannot_draw():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1e-3, 0.0, -1.0, 10.0], "s": ["a"] * 4})
    args = dict(x="x", y="y", color="s", title="T", x_title="x", y_title="y")
    (logged,) = line_chart(df, log_y=True, **args).to_dict()["datasets"].values()
    (linear,) = line_chart(df, **args).to_dict()["datasets"].values()
    assert [r["y"] for r in logged] == [1e-3, 10.0]
    assert len(linear) == 4


def test_auto_powers_of_ten_only_where_plain_labels_would_change_format():
    args = dict(x="x", y="y", color="s", title="T", x_title="x", y_title="y", log_y=True)

    def labels_at_powers(values):
        df = pd.DataFrame({"x": [1.0, 2.0], "y": values, "s": ["a", "a"]})
        axis = line_chart(df, y_powers="auto", **args).to_dict()["encoding"]["y"].get("axis", {})
        return "values" in axis

    assert labels_at_powers([1e-6, 1.0])  # six decades
    assert labels_at_powers([2e5, 3e5])  # plain labels would read 2e+5
    assert not labels_at_powers([0.5, 3.0])
    assert not labels_at_powers([0.0, -1.0])  # nothing a log axis can draw
