"""Altair chart builders shared by the pages. Every chart carries a `description` (its id):
screen readers read it and the tests find a chart's data by it."""

from __future__ import annotations

import altair as alt
import pandas as pd

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONEY = "money"  # axis format: 800M, 2.4B (d3's SI prefix with G read as billions)
ROW_STEP = 26  # pixels per row of a horizontal bar chart or heatmap


def _axis(fmt: str, **kwargs) -> alt.Axis:
    if fmt == MONEY:
        return alt.Axis(labelExpr="replace(format(datum.value, '~s'), 'G', 'B')", **kwargs)
    return alt.Axis(format=fmt, **kwargs)


def _color(field: str, scale: dict | None = None) -> alt.Color:
    """A colour encoding; `scale` maps values to colours ({value: css colour})."""
    kwargs = {"scale": alt.Scale(domain=list(scale), range=list(scale.values()))} if scale else {}
    return alt.Color(field, title=field.split(":")[0].replace("_", " "), **kwargs)


def bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    chart_id: str,
    color: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    sort=None,
    horizontal: bool = False,
    y_format: str = ",.0f",
    stack: bool = True,
    tooltip: list | None = None,
    height: int = 280,
    label_angle: int | None = None,
    color_scale: dict | None = None,
) -> alt.Chart:
    """Bars of y per category x, stacked or side by side by `color`; horizontal bars get a
    fixed height per category so every label shows."""
    label_axis = alt.Axis(labelLimit=260) if label_angle is None else alt.Axis(labelLimit=260, labelAngle=label_angle)
    category = {"title": x_title, "sort": sort, "axis": label_axis}
    value = {"title": y_title, "axis": _axis(y_format), "stack": True if stack else None}
    if horizontal:
        enc = {"y": alt.Y(x, **category), "x": alt.X(y, **value)}
    else:
        enc = {"x": alt.X(x, **category), "y": alt.Y(y, **value)}
    if color:
        enc["color"] = _color(color, color_scale)
        if not stack:
            enc["yOffset" if horizontal else "xOffset"] = alt.YOffset(color) if horizontal else alt.XOffset(color)
    enc["tooltip"] = tooltip or [c for c in (x, y, color) if c]
    size = alt.Step(ROW_STEP) if horizontal else height
    return alt.Chart(frame).mark_bar().encode(**enc).properties(description=chart_id, height=size)


def lines(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    chart_id: str,
    color: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    y_format: str = ",.0f",
    points: bool = False,
    tooltip: list | None = None,
    height: int = 280,
) -> alt.Chart:
    """A line over x (time or a number), one line per `color`."""
    enc = {
        "x": alt.X(x, title=x_title),
        "y": alt.Y(y, title=y_title, axis=_axis(y_format)),
        "tooltip": tooltip or [c for c in (x, y, color) if c],
    }
    if color:
        enc["color"] = _color(color)
    return alt.Chart(frame).mark_line(point=points).encode(**enc).properties(description=chart_id, height=height)


def points_over_time(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    chart_id: str,
    color: str | None = None,
    y_title: str | None = None,
    y_format: str = ",.0f",
    tooltip: list | None = None,
    height: int = 260,
) -> alt.Chart:
    """One point per event (a session, a purchase) over time."""
    enc = {"x": alt.X(x, title=None), "y": alt.Y(y, title=y_title, axis=_axis(y_format)), "tooltip": tooltip or [x, y]}
    if color:
        enc["color"] = _color(color)
    return (
        alt.Chart(frame).mark_circle(size=60, opacity=0.8).encode(**enc).properties(description=chart_id, height=height)
    )


def heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    *,
    chart_id: str,
    x_title: str | None = None,
    y_title: str | None = None,
    value_title: str | None = None,
    value_format: str = ",.2f",
    scheme: str = "blues",
    y_sort=None,
    x_sort=None,
    label_angle: int | None = None,
) -> alt.Chart:
    """Cells coloured by `value` (one row per y, ROW_STEP pixels high), with the value written in
    each cell when the grid is small (white on the darkest third)."""
    x_axis = alt.Axis(labelAngle=label_angle, labelLimit=200) if label_angle is not None else alt.Axis(labelLimit=200)
    base = alt.Chart(frame).encode(
        x=alt.X(x, title=x_title, sort=x_sort, axis=x_axis),
        y=alt.Y(y, title=y_title, sort=y_sort, axis=alt.Axis(labelLimit=260)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(value, title=value_title, scale=alt.Scale(scheme=scheme)),
        tooltip=[x, y, alt.Tooltip(value, format=value_format, title=value_title)],
    )
    layers = [cells]
    if len(frame) <= 400:
        field = value.split(":")[0]
        dark = float(frame[field].max()) * 2 / 3 if len(frame) else 0.0
        layers.append(
            base.mark_text(fontSize=10).encode(
                text=alt.Text(value, format=value_format),
                color=alt.condition(f"datum['{field}'] > {dark}", alt.value("white"), alt.value("black")),
            )
        )
    return alt.layer(*layers).properties(description=chart_id, height=alt.Step(ROW_STEP))
