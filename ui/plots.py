"""An answer's chart (schema.answer.Chart) as a Vega-Lite spec: the value axis and the tooltips written in
the measure's declared format (₹ lakh/crore, %, counts: schema/formats.py, the rule the answer's words
and tables use), periods as "Oct 2026" / "03 Oct 2026"."""

from __future__ import annotations

from typing import Any

from schema.answer import Chart, Column
from schema.formats import cell, value_expr

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
LABEL = "_label"  # the x value as the table writes it (a period, a date)
VALUE_TEXT = "_value"  # the y value as the table writes it (for the tooltip)


def spec(chart: Chart) -> dict[str, Any]:
    x, y = chart.x, chart.y
    values = [{**v, LABEL: _x_label(v.get(x.name), x)} for v in chart.values]
    y_axis: dict[str, Any] = {"title": y.label, "tickCount": 5}
    expr = value_expr(y.format)
    if expr:
        y_axis["labelExpr"] = expr
    tooltip_expr = value_expr(y.format, f"datum[{y.name!r}]") or f"format(datum[{y.name!r}], ',.2~f')"
    ordered = chart.kind == "line" or not chart.sort_by_value
    encoding: dict[str, Any] = {
        "x": {
            "field": LABEL,
            "type": "ordinal" if chart.kind == "line" else "nominal",
            "title": x.label,
            "sort": None if ordered else "-y",
            "axis": {"labelAngle": 0, "labelLimit": 140},
        },
        "y": {"field": y.name, "type": "quantitative", "title": y.label, "axis": y_axis},
        "tooltip": [
            {"field": LABEL, "title": x.label},
            *([{"field": chart.series.name, "title": chart.series.label}] if chart.series else []),
            {"field": VALUE_TEXT, "title": y.label},
        ],
    }
    if chart.series:
        encoding["color"] = {"field": chart.series.name, "type": "nominal", "title": chart.series.label}
    mark: dict[str, Any] = {"type": "line", "point": True} if chart.kind == "line" else {"type": "bar"}
    return {
        "$schema": SCHEMA,
        "title": chart.title,
        "data": {"values": values},
        "transform": [{"calculate": tooltip_expr, "as": VALUE_TEXT}],
        "mark": mark,
        "encoding": encoding,
    }


def _x_label(value: Any, column: Column) -> str:
    return cell(value, column.format, column.grain) if column.format in ("date",) else str(value)
