"""Chart builders (Altair + pandas), one function per kind of figure, shared by the pages.

Builders take tidy long DataFrames that the pages build from ``explain`` results and
return Altair charts; they compute no statistics. Colours come from ``palette`` so the
same colour means the same cost, curve or layer on every page.
"""

from charts.builders import (
    bar_chart,
    class_regions,
    dot_strip,
    heatmap,
    histogram_grid,
    hline,
    image_grid,
    labelled_points,
    layered,
    line_chart,
    matrix_panels,
    range_rules,
    region_axis,
    shaded_spans,
    vline,
)
from charts.palette import LAYER_COLOURS, SERIES_COLOURS, layer_name

__all__ = [
    "LAYER_COLOURS",
    "SERIES_COLOURS",
    "bar_chart",
    "class_regions",
    "dot_strip",
    "heatmap",
    "histogram_grid",
    "hline",
    "image_grid",
    "labelled_points",
    "layer_name",
    "layered",
    "line_chart",
    "matrix_panels",
    "range_rules",
    "region_axis",
    "shaded_spans",
    "vline",
]
