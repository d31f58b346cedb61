"""Generic figure builders: lines, bars, heatmaps, reference rules and labelled points."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from charts.palette import colours_for
from charts.recipe import recipe

HEIGHT = 320


def _power_labels() -> str:
    """A Vega label expression: a tick at an exact power of ten as "10" and a superscript
    exponent ("10⁻⁶"), any other tick unlabelled."""
    exponent = "toString(round(log(datum.value) / LN10))"
    for plain, sup in zip("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"):
        exponent = f"replace({exponent}, regexp('{plain}', 'g'), '{sup}')"
    power = "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6"
    return f"{power} ? '10' + {exponent} : ''"


POWER_LABELS = _power_labels()


def _powers_of_ten(values, most: int = 7) -> list[float]:
    """Powers of ten from below the smallest positive value to above the largest, every
    k-th decade so that there are at most ``most`` (the ticks of a ``y_powers`` axis)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return []
    lo, hi = int(np.floor(np.log10(v.min()))), int(np.ceil(np.log10(v.max())))
    step = max(1, -(-(hi - lo) // (most - 1)))
    return [10.0**k for k in range(lo, hi + 1, step)]


def _colour(df: pd.DataFrame, field: str | None, title: str | None, order=None, fixed=None):
    if field is None:
        return alt.value(fixed or colours_for(["σ(z)"])[0])
    names = list(order) if order is not None else list(dict.fromkeys(df[field]))
    return alt.Color(f"{field}:N").scale(domain=names, range=colours_for(names)).title(title)


def _axis(channel, field: str, title: str, log: bool, kind: str = "Q", domain=None):
    enc = channel(f"{field}:{kind}").title(title)
    scale = {}
    if log:
        scale["type"] = "log"
    if domain is not None:
        scale["domain"] = list(domain)
        if log:  # a log scale rounds its domain out to whole decades unless told not to
            scale["nice"] = False
    return enc.scale(**scale) if scale else enc


def _tooltip(df: pd.DataFrame, fields: list[str], fmt: str) -> list:
    tips = []
    for f in dict.fromkeys(fields):
        if f is None:
            continue
        numeric = pd.api.types.is_numeric_dtype(df[f])
        tips.append(alt.Tooltip(f, format=fmt) if numeric else alt.Tooltip(f))
    return tips


def _spans_decades(values: pd.Series) -> bool:
    """Whether a log axis needs labels at powers of ten only: the values span two decades or
    more, or leave 0.001 to 100,000 (where plain tick labels switch to "1e-7")."""
    if not len(values):
        return False
    lo, hi = float(values.min()), float(values.max())
    return bool(np.log10(hi / lo) >= 2 or lo < 1e-3 or hi >= 1e5)


@recipe
def line_chart(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    color_order=None,
    dash: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    y_domain=None,
    x_domain=None,
    points: bool = False,
    order: str | None = None,
    x_integer: bool = False,
    height: int = HEIGHT,
    tooltip_fmt: str = ".4g",
    y_powers: bool | str = False,
    x_values=None,
) -> alt.Chart:
    """Lines of y against x, one per value of ``color`` (and ``dash``), with tooltips.

    ``x_values`` puts the x ticks at exactly those values (e.g. the batch sizes measured).

    ``order`` draws each line through its points in that field's order (a path), instead
    of sorted by x. ``y_powers`` labels a log y axis at powers of ten only, as 10⁻⁶ ... 10³
    (one tick format however many decades it spans); ``y_powers="auto"`` does so when plain
    labels would not keep one format (see ``_spans_decades``). On a log axis, rows with y <= 0
    or not finite are left out: they have no place on it.
    """
    if log_y:
        df = df[np.isfinite(df[y]) & (df[y] > 0)]
    if y_powers == "auto":
        y_powers = log_y and _spans_decades(df[y])  # powers of ten belong on a log axis
    enc = {
        "x": _axis(alt.X, x, x_title, log_x, domain=x_domain),
        "y": _axis(alt.Y, y, y_title, log_y, domain=y_domain),
        "color": _colour(df, color, color_title, color_order),
        "tooltip": _tooltip(df, [color, dash, x, y], tooltip_fmt),
    }
    if dash is not None:
        # first value drawn solid, the next ones dashed, in order of appearance
        dash_domain = list(dict.fromkeys(df[dash]))
        enc["strokeDash"] = (
            alt.StrokeDash(f"{dash}:N")
            .title(dash)
            .scale(domain=dash_domain)
            .legend(
                symbolType="stroke", symbolStrokeWidth=2, symbolSize=300, symbolStrokeColor="#333"
            )
        )
    if x_integer:
        enc["x"] = enc["x"].axis(tickMinStep=1, format="d")
        if x_domain is None and not log_x:  # end at the last epoch, not a rounder number
            enc["x"] = enc["x"].scale(nice=False)
    if y_powers:
        enc["y"] = enc["y"].axis(values=_powers_of_ten(df[y]), labelExpr=POWER_LABELS)
    if x_values is not None:
        enc["x"] = enc["x"].axis(values=[float(v) for v in x_values], format="~g")
    if order is not None:
        enc["order"] = alt.Order(f"{order}:Q")
        enc["tooltip"] = _tooltip(df, [color, dash, order, x, y], tooltip_fmt)
    if dash is not None and points:
        # points on a dashed line would replace the dash samples in the legend: draw them as
        # their own layer under the lines, sharing (and so merging into) the colour legend
        line = alt.Chart(df).mark_line(clip=True).encode(**enc)
        dots = (
            alt.Chart(df)
            .mark_point(filled=True, clip=True)
            .encode(x=enc["x"], y=enc["y"], color=enc["color"], tooltip=enc["tooltip"])
        )
        return alt.layer(dots, line).properties(title=title, height=height)
    mark = alt.Chart(df).mark_line(point=points, clip=True)
    return mark.encode(**enc).properties(title=title, height=height)


@recipe
def bar_chart(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    color_order=None,
    x_offset: str | None = None,
    log_y: bool = False,
    y_domain=None,
    x_sort=None,
    height: int = HEIGHT,
    tooltip_fmt: str = ".4g",
    extra_tooltip: tuple[str, ...] = (),
    fixed_colour: str | None = None,
) -> alt.Chart:
    """Bars of y for each category x, optionally grouped side by side by ``x_offset``.

    With no ``color`` field every bar gets ``fixed_colour`` (the palette's entry for what the
    bars show) and there is no legend.
    """
    x_enc = alt.X(f"{x}:N").title(x_title).sort(x_sort).axis(labelAngle=0)
    enc = {
        "x": x_enc,
        "y": _axis(alt.Y, y, y_title, log_y, domain=y_domain),
        "color": _colour(df, color, color_title, color_order, fixed_colour),
        "tooltip": _tooltip(df, [color, x_offset, x, y, *extra_tooltip], tooltip_fmt),
    }
    if x_offset is not None:
        enc["xOffset"] = alt.XOffset(f"{x_offset}:N")
    return alt.Chart(df).mark_bar().encode(**enc).properties(title=title, height=height)


@recipe
def heatmap(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str,
    title: str,
    x_title: str,
    y_title: str,
    value_title: str,
    scheme: str = "viridis",
    colour_range: tuple[str, str] | None = None,
    log_value: bool = False,
    height: int = HEIGHT,
) -> alt.Chart:
    """Cells of an evenly spaced (x, y) grid coloured by ``value``, on quantitative axes
    (so that a path can be layered on top)."""
    half_x = np.diff(np.unique(df[x])).min() / 2
    half_y = np.diff(np.unique(df[y])).min() / 2
    cells = df.assign(
        _x0=df[x] - half_x, _x1=df[x] + half_x, _y0=df[y] - half_y, _y1=df[y] + half_y
    )
    scale = {"range": list(colour_range)} if colour_range else {"scheme": scheme}
    colour = (
        alt.Color(f"{value}:Q")
        .title(value_title)
        .scale(type="log" if log_value else "linear", **scale)
    )
    enc = {
        "x": alt.X("_x0:Q")
        .title(x_title)
        .scale(domain=[cells["_x0"].min(), cells["_x1"].max()], nice=False),
        "x2": "_x1:Q",
        "y": alt.Y("_y0:Q")
        .title(y_title)
        .scale(domain=[cells["_y0"].min(), cells["_y1"].max()], nice=False),
        "y2": "_y1:Q",
        "color": colour,
        "tooltip": _tooltip(df, [x, y, value], ".4g"),
    }
    return alt.Chart(cells).mark_rect().encode(**enc).properties(title=title, height=height)


@recipe
def range_rules(
    df: pd.DataFrame,
    *,
    x: str,
    lo: str,
    hi: str,
    color: str | None = None,
    color_order=None,
    log_y: bool = False,
) -> alt.Chart:
    """Vertical bars from ``lo`` to ``hi`` at each x: the spread over seeds or runs."""
    if log_y:  # a bar from or to y <= 0 has no place on a log axis
        df = df[(df[lo] > 0) & (df[hi] > 0)]
    enc = {
        "x": alt.X(f"{x}:Q"),
        "y": _axis(alt.Y, lo, "", log_y),
        "y2": f"{hi}:Q",
        "color": _colour(df, color, None, color_order),
        "tooltip": _tooltip(df, [color, x, lo, hi], ".3g"),
    }
    return alt.Chart(df).mark_rule(strokeWidth=2, opacity=0.6).encode(**enc)


@recipe
def shaded_spans(
    df: pd.DataFrame,
    *,
    x: str,
    x2: str,
    label: str,
    color: str = "#bbbbbb",
    x_title: str | None = None,
):
    """Grey vertical bands from x to x2 (e.g. where an activation saturates), with tooltips;
    ``x_title`` names the axis when the bands are the chart's first layer."""
    enc_x = alt.X(f"{x}:Q").title(x_title) if x_title else f"{x}:Q"
    return (
        alt.Chart(df)
        .mark_rect(opacity=0.25, color=color)
        .encode(x=enc_x, x2=f"{x2}:Q", tooltip=[alt.Tooltip(f"{label}:N", title="region")])
    )


@recipe
def histogram_grid(
    df: pd.DataFrame,
    *,
    x: str,
    x2: str,
    y: str,
    panel: str,
    title: str,
    x_title: str,
    y_title: str,
    columns: int = 5,
    panel_order=None,
    color: str | None = None,
    panel_width: int = 150,
    panel_height: int = 110,
) -> alt.FacetChart:
    """Small multiples of histograms (bins from x to x2, height y), one panel per ``panel``
    value, all on shared axes so that the panels can be compared by eye."""
    order = list(panel_order) if panel_order is not None else list(dict.fromkeys(df[panel]))
    colour = _colour(df, color, None, None).legend(None) if color else alt.value("#0072B2")
    base = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:Q").title(x_title),
            x2=f"{x2}:Q",
            y=alt.Y(f"{y}:Q").title(y_title),
            color=colour,
            tooltip=_tooltip(df, [panel, x, x2, y], ".3g"),
        )
        .properties(width=panel_width, height=panel_height)
    )
    return base.facet(
        facet=alt.Facet(f"{panel}:N").sort(order).title(None), columns=columns
    ).properties(title=title)


@recipe
def hline(
    value: float, label: str, *, color: str = "#555555", show_label: bool = True
) -> alt.LayerChart:
    """A dashed horizontal reference line with its label above its left end.

    ``show_label=False`` keeps the label in the tooltip only (say in the caption what the
    line is), for a line that bars or points would cover at its left end.
    """
    df = pd.DataFrame({"y": [value], "label": [label]})
    base = alt.Chart(df)
    rule = base.mark_rule(strokeDash=[4, 4], color=color).encode(
        y="y:Q", tooltip=[alt.Tooltip("label:N", title="reference")]
    )
    if not show_label:
        return alt.layer(rule)
    text = base.mark_text(align="left", baseline="bottom", dx=4, dy=-2, color=color).encode(
        y="y:Q", x=alt.value(0), text="label:N"
    )
    return rule + text


@recipe
def vline(
    value: float, label: str, *, color: str = "#555555", label_at: str = "top"
) -> alt.LayerChart:
    """A dashed vertical reference line with its label at the top (or, ``label_at="bottom"``,
    at the bottom, so that two lines close together keep their labels apart)."""
    df = pd.DataFrame({"x": [value], "label": [label]})
    base = alt.Chart(df)
    rule = base.mark_rule(strokeDash=[4, 4], color=color).encode(
        x="x:Q", tooltip=[alt.Tooltip("label:N", title="reference")]
    )
    top = label_at == "top"
    text = base.mark_text(
        align="left", baseline="top" if top else "bottom", dx=4, dy=4 if top else -4, color=color
    ).encode(x="x:Q", y=alt.value(0) if top else alt.value({"expr": "height"}), text="label:N")
    return rule + text


@recipe
def labelled_points(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    label: str,
    color: str | None = None,
    color_title: str | None = None,
    color_order=None,
    size: int = 90,
    side: str | None = None,
) -> alt.LayerChart:
    """Filled points with a text label beside each (the 'you are here' marker).

    Give the same ``color_title`` as the lines they sit on, so the legends merge. ``side``
    names a column of "right" or "left": where each point's label goes (default: all right),
    so that a label near the right edge stays off the legend and two labels at one spot
    do not overlap.
    """
    base = alt.Chart(df).encode(x=f"{x}:Q", y=f"{y}:Q", tooltip=_tooltip(df, [label, x, y], ".4g"))
    dots = base.mark_point(filled=True, size=size, opacity=1).encode(
        color=_colour(df, color, color_title, color_order) if color else alt.value("#000")
    )
    if side is None:
        text = base.mark_text(align="left", dx=8, dy=-8, fontWeight="bold")
        return dots + text.encode(text=f"{label}:N")
    texts = [
        base.transform_filter(alt.datum[side] == where)
        .mark_text(align=align, dx=dx, dy=-8, fontWeight="bold")
        .encode(text=f"{label}:N")
        for where, align, dx in (("right", "left", 8), ("left", "right", -8))
    ]
    return alt.layer(dots, *texts)


@recipe
def layered(*charts, title: str | None = None, height: int = HEIGHT) -> alt.LayerChart:
    """Overlay charts on shared axes; the first chart's title is kept unless ``title`` is given."""
    out = alt.layer(*charts)
    if title is not None:
        out = out.properties(title=title)
    return out.properties(height=height)


@recipe
def matrix_panels(
    df: pd.DataFrame,
    *,
    row: str,
    col: str,
    group: str,
    text: str,
    panel: str,
    title: str,
    panel_order=None,
    cell: int = 34,
    columns: int = 3,
) -> alt.FacetChart:
    """Small matrices side by side, one panel per ``panel`` value: each cell (row, col) shows
    ``text`` and is coloured by ``group`` (cells of one colour are averaged together), so that
    several ways of grouping one matrix can be compared by eye. No legend: the caption says
    what a colour means."""
    order = list(panel_order) if panel_order is not None else list(dict.fromkeys(df[panel]))
    n_rows, n_cols = df[row].nunique(), df[col].nunique()
    base = alt.Chart(df).encode(
        x=alt.X(f"{col}:O").title(f"{col} (column)").axis(labelAngle=0),
        y=alt.Y(f"{row}:O").title(f"{row} (row)"),
        tooltip=_tooltip(df, [panel, row, col, text, group], ".3g"),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(f"{group}:N").scale(scheme="set3").legend(None)
    )
    labels = base.mark_text(fontSize=11).encode(text=f"{text}:N")
    return (
        alt.layer(cells, labels)
        .properties(width=cell * n_cols, height=cell * n_rows)
        .facet(facet=alt.Facet(f"{panel}:N").sort(order).title(None), columns=columns)
        .properties(title=title)
    )


@recipe
def dot_strip(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    color: str,
    title: str,
    x_title: str,
    y_title: str,
    color_title: str,
    y_order=None,
    height: int = HEIGHT,
) -> alt.Chart:
    """One row of dots per ``y`` category (e.g. a unit, before and after a transform), each dot
    one value, coloured by ``color``: where the values of each row lie and how far they spread."""
    return (
        alt.Chart(df)
        .mark_point(filled=True, size=70, opacity=0.8)
        .encode(
            x=alt.X(f"{x}:Q").title(x_title),
            y=alt.Y(f"{y}:N").title(y_title).sort(list(y_order) if y_order else None),
            color=_colour(df, color, color_title),
            tooltip=_tooltip(df, [y, color, x], ".3g"),
        )
        .properties(title=title, height=height)
    )


@recipe
def region_axis(
    regions: pd.DataFrame,
    marks: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    colours: tuple[str, ...],
    height: int = 90,
) -> alt.LayerChart:
    """A number line split into coloured regions (columns from, to, region) with labelled
    marks on it (columns x, label, at: "top" or "bottom"): where one value sits among
    thresholds. The regions fill the full height; the legend names them."""
    names = list(regions["region"])
    bands = (
        alt.Chart(regions)
        .mark_rect(opacity=0.35)
        .encode(
            x=alt.X("from:Q").title(x_title).scale(nice=False),
            x2="to:Q",
            y=alt.value(0),
            y2=alt.value(height),
            color=alt.Color("region:N")
            .scale(domain=names, range=list(colours))
            .title(None)
            .legend(orient="bottom", direction="vertical"),
            tooltip=[alt.Tooltip("region:N"), alt.Tooltip("from:Q", format=".3g"),
                     alt.Tooltip("to:Q", format=".3g")],
        )
    )  # fmt: skip
    rules = (
        alt.Chart(marks)
        .mark_rule(strokeDash=[4, 4], color="#333")
        .encode(x="x:Q", y=alt.value(0), y2=alt.value(height), tooltip=["label:N"])
    )
    layers = [bands, rules]
    for at, baseline, y in (("top", "top", 4), ("bottom", "bottom", height - 4)):
        layers.append(
            alt.Chart(marks)
            .transform_filter(alt.datum.at == at)
            .mark_text(align="left", dx=4, baseline=baseline, color="#333", fontWeight="bold")
            .encode(x="x:Q", y=alt.value(y), text="label:N")
        )
    return alt.layer(*layers).properties(title=title, height=height)


@recipe
def image_grid(
    df: pd.DataFrame,
    *,
    row: str,
    col: str,
    value: str,
    panel: str,
    title: str,
    value_title: str,
    panel_order=None,
    columns: int = 6,
    size: int = 84,
    symmetric: bool = True,
    scheme: str = "redblue",
) -> alt.FacetChart:
    """Small images side by side (e.g. a hidden unit's 28 x 28 incoming weights), one panel per
    ``panel`` value: cells (row, col) coloured by ``value``, on one colour scale for all
    panels, centred on 0 when ``symmetric`` (so 0 is the neutral colour and the sign shows)."""
    order = list(panel_order) if panel_order is not None else list(dict.fromkeys(df[panel]))
    top = float(np.nanmax(np.abs(df[value]))) or 1.0
    scale = {"scheme": scheme, "domain": [-top, top]} if symmetric else {"scheme": scheme}
    base = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X(f"{col}:O").axis(None),
            y=alt.Y(f"{row}:O").axis(None),
            color=alt.Color(f"{value}:Q").scale(**scale).title(value_title),
            tooltip=_tooltip(df, [panel, row, col, value], ".3g"),
        )
        .properties(width=size, height=size)
    )
    return base.facet(
        facet=alt.Facet(f"{panel}:N").sort(order).title(None), columns=columns
    ).properties(title=title)


@recipe
def class_regions(cells: pd.DataFrame, points: pd.DataFrame, *, title: str, height: int = 380):
    """A classifier's regions on a grid (columns x, y, class, confidence: cells coloured by the
    predicted class, paler where less sure) with the data on top (x, y, class)."""
    classes = sorted(set(cells["class"]) | set(points["class"]), key=str)
    colours = colours_for([f"class {c}" for c in classes])
    colour = alt.Color("class:N").scale(domain=classes, range=colours).title("class")
    half_x = float(np.diff(np.unique(cells["x"])).min() / 2)
    half_y = float(np.diff(np.unique(cells["y"])).min() / 2)
    grid = cells.assign(x0=cells["x"] - half_x, x1=cells["x"] + half_x,
                        y0=cells["y"] - half_y, y1=cells["y"] + half_y)  # fmt: skip
    ground = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X("x0:Q").title("x₁").scale(nice=False),
            x2="x1:Q",
            y=alt.Y("y0:Q").title("x₂").scale(nice=False),
            y2="y1:Q",
            color=colour,
            opacity=alt.Opacity("confidence:Q").scale(range=[0.1, 0.45]).legend(None),
            tooltip=_tooltip(cells, ["x", "y", "class", "confidence"], ".3g"),
        )
    )
    dots = (
        alt.Chart(points)
        .mark_point(filled=True, size=28, stroke="white", strokeWidth=0.6, opacity=0.9)
        .encode(
            x="x:Q", y="y:Q", color=colour, tooltip=_tooltip(points, ["x", "y", "class"], ".3g")
        )
    )
    return alt.layer(ground, dots).properties(title=title, height=height)
