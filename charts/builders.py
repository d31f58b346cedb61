"""Generic figure builders: lines, bars, heatmaps, reference rules and labelled points."""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts.palette import colours_for

HEIGHT = 320


def _colour(df: pd.DataFrame, field: str | None, title: str | None, order=None):
    if field is None:
        return alt.value(colours_for(["σ(z)"])[0])
    names = list(order) if order is not None else list(dict.fromkeys(df[field]))
    return alt.Color(f"{field}:N").scale(domain=names, range=colours_for(names)).title(title)


def _axis(channel, field: str, title: str, log: bool, kind: str = "Q", domain=None):
    enc = channel(f"{field}:{kind}").title(title)
    scale = {}
    if log:
        scale["type"] = "log"
    if domain is not None:
        scale["domain"] = list(domain)
    return enc.scale(**scale) if scale else enc


def _tooltip(df: pd.DataFrame, fields: list[str], fmt: str) -> list:
    tips = []
    for f in dict.fromkeys(fields):
        if f is None:
            continue
        numeric = pd.api.types.is_numeric_dtype(df[f])
        tips.append(alt.Tooltip(f, format=fmt) if numeric else alt.Tooltip(f))
    return tips


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
    height: int = HEIGHT,
    tooltip_fmt: str = ".4g",
) -> alt.Chart:
    """Lines of y against x, one per value of ``color`` (and ``dash``), with tooltips."""
    enc = {
        "x": _axis(alt.X, x, x_title, log_x, domain=x_domain),
        "y": _axis(alt.Y, y, y_title, log_y, domain=y_domain),
        "color": _colour(df, color, color_title, color_order),
        "tooltip": _tooltip(df, [color, dash, x, y], tooltip_fmt),
    }
    if dash is not None:
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N").title(dash)
    mark = alt.Chart(df).mark_line(point=points, clip=True)
    return mark.encode(**enc).properties(title=title, height=height)


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
) -> alt.Chart:
    """Bars of y for each category x, optionally grouped side by side by ``x_offset``."""
    x_enc = alt.X(f"{x}:N").title(x_title).sort(x_sort).axis(labelAngle=0)
    enc = {
        "x": x_enc,
        "y": _axis(alt.Y, y, y_title, log_y, domain=y_domain),
        "color": _colour(df, color, color_title, color_order),
        "tooltip": _tooltip(df, [color, x_offset, x, y, *extra_tooltip], tooltip_fmt),
    }
    if x_offset is not None:
        enc["xOffset"] = alt.XOffset(f"{x_offset}:N")
    return alt.Chart(df).mark_bar().encode(**enc).properties(title=title, height=height)


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
    log_value: bool = False,
    height: int = HEIGHT,
) -> alt.Chart:
    """A rectangular grid (x, y) coloured by ``value``; x and y are evenly spaced numbers."""
    colour = (
        alt.Color(f"{value}:Q")
        .title(value_title)
        .scale(scheme=scheme, type="log" if log_value else "linear")
    )
    enc = {
        "x": alt.X(f"{x}:O").title(x_title).axis(format=".2~f", labelOverlap=True),
        "y": alt.Y(f"{y}:O")
        .title(y_title)
        .sort("descending")
        .axis(format=".2~f", labelOverlap=True),
        "color": colour,
        "tooltip": _tooltip(df, [x, y, value], ".4g"),
    }
    return alt.Chart(df).mark_rect().encode(**enc).properties(title=title, height=height)


def hline(value: float, label: str, *, color: str = "#555555") -> alt.LayerChart:
    """A dashed horizontal reference line with its label at the right end."""
    df = pd.DataFrame({"y": [value], "label": [label]})
    base = alt.Chart(df)
    rule = base.mark_rule(strokeDash=[4, 4], color=color).encode(
        y="y:Q", tooltip=[alt.Tooltip("label:N", title="reference")]
    )
    text = base.mark_text(align="right", baseline="bottom", dx=-4, dy=-2, color=color).encode(
        y="y:Q", x=alt.value("width"), text="label:N"
    )
    return rule + text


def vline(value: float, label: str, *, color: str = "#555555") -> alt.LayerChart:
    """A dashed vertical reference line with its label at the top."""
    df = pd.DataFrame({"x": [value], "label": [label]})
    base = alt.Chart(df)
    rule = base.mark_rule(strokeDash=[4, 4], color=color).encode(
        x="x:Q", tooltip=[alt.Tooltip("label:N", title="reference")]
    )
    text = base.mark_text(align="left", baseline="top", dx=4, dy=4, color=color).encode(
        x="x:Q", y=alt.value(0), text="label:N"
    )
    return rule + text


def labelled_points(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    label: str,
    color: str | None = None,
    color_order=None,
    size: int = 90,
) -> alt.LayerChart:
    """Filled points with a text label beside each (the 'you are here' marker)."""
    base = alt.Chart(df).encode(x=f"{x}:Q", y=f"{y}:Q", tooltip=_tooltip(df, [label, x, y], ".4g"))
    dots = base.mark_point(filled=True, size=size, opacity=1).encode(
        color=_colour(df, color, None, color_order) if color else alt.value("#000")
    )
    text = base.mark_text(align="left", dx=8, dy=-8, fontWeight="bold").encode(text=f"{label}:N")
    return dots + text


def layered(*charts, title: str | None = None, height: int = HEIGHT) -> alt.LayerChart:
    """Overlay charts on shared axes; the first chart's title is kept unless ``title`` is given."""
    out = alt.layer(*charts)
    if title is not None:
        out = out.properties(title=title)
    return out.properties(height=height)
