"""Vega-Lite specs for the dashboard (the same format analytics answers carry in `data["chart"]`).
Each has a point selection named `pick`, so clicking a bar or point can ask the assistant about it."""

from __future__ import annotations

import json
from datetime import datetime

# rupee axes in lakh and crore
RUPEES = (
    "datum.value >= 10000000 ? '₹' + format(datum.value / 10000000, '.2~f') + ' Cr'"
    " : datum.value >= 100000 ? '₹' + format(datum.value / 100000, '.2~f') + ' L' : '₹' + format(datum.value, ',')"
)
PARTS_COLOURS = ["#f59e0b", "#dc2626"]  # the parts of what is owed, in the data model's order (unpaid, overdue)


def _pick(*fields: str) -> list[dict]:
    return [{"name": "pick", "select": {"type": "point", "fields": list(fields)}}]


def outstanding_by_vendor(rows: list[dict]) -> dict:
    """Stacked bars: per vendor, each part of the outstanding measure ({vendor, part, amount})."""
    parts = list(dict.fromkeys(r["part"] for r in rows))
    return {
        "data": {"values": rows},
        "params": _pick("vendor"),
        "mark": {"type": "bar", "cursor": "pointer"},
        "encoding": {
            "y": {"field": "vendor", "type": "nominal", "sort": "-x", "title": None, "axis": {"labelLimit": 160}},
            "x": {
                "aggregate": "sum",
                "field": "amount",
                "type": "quantitative",
                "title": "Outstanding",
                "axis": {"labelExpr": RUPEES, "tickCount": 4},
            },
            "color": {
                "field": "part",
                "type": "nominal",
                "title": None,
                "scale": {"domain": parts, "range": PARTS_COLOURS[: len(parts)] or PARTS_COLOURS},
                "legend": {"orient": "bottom"},
            },
            "order": {"field": "part", "sort": "descending"},
            "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.5},
            "tooltip": [
                {"field": "vendor"},
                {"field": "part", "title": "of which"},
                {"field": "amount", "type": "quantitative", "format": ",.0f", "title": "amount (₹)"},
            ],
        },
        "height": {"step": 26},
    }


def sales_by_region(rows: list[dict]) -> dict:
    return {
        "data": {"values": rows},
        "params": _pick("region"),
        "mark": {"type": "bar", "cursor": "pointer", "cornerRadiusEnd": 3},
        "encoding": {
            "x": {"field": "region", "type": "nominal", "title": None, "sort": "-y", "axis": {"labelAngle": 0}},
            "y": {
                "field": "amount",
                "type": "quantitative",
                "title": "Sales",
                "axis": {"labelExpr": RUPEES, "tickCount": 4},
            },
            "color": {"value": "#0f766e"},
            "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.5},
            "tooltip": [
                {"field": "region"},
                {"field": "amount", "type": "quantitative", "format": ",.0f", "title": "sales (₹)"},
            ],
        },
        "height": 220,
    }


def month_labels(months: list[str], partial: dict[str, list[str]]) -> dict[str, str]:
    """'2026-11' -> 'Nov 2026'; a month only partly counted -> 'Dec 1–7 so far'."""
    out = {}
    for m in months:
        first = datetime.strptime(m, "%Y-%m")
        days = partial.get(m)
        if days:
            out[m] = f"{first:%b} {int(days[0][8:])}–{int(days[1][8:])} so far"
        else:
            out[m] = f"{first:%b %Y}"
    return out


def sales_trend(trend: dict) -> dict:
    """One line per region over the whole months; the month so far is a hollow point apart from the line
    and says so on the axis, so its low figure does not read as a fall. A click picks month and region."""
    rows, partial = trend["rows"], trend.get("partial") or {}
    labels = month_labels(sorted({r["month"] for r in rows}), partial)
    values = [{**r, "label": labels[r["month"]], "so_far": r["month"] in partial} for r in rows]
    x = {
        "field": "month",
        "type": "ordinal",
        "title": None,
        "axis": {"labelAngle": 0, "labelExpr": _lookup(labels)},
    }
    y = {"field": "amount", "type": "quantitative", "title": "Sales", "axis": {"labelExpr": RUPEES, "tickCount": 4}}
    colour = {
        "field": "region",
        "type": "nominal",
        "title": None,
        "scale": {"scheme": "tableau10"},
        "legend": {"orient": "bottom"},
    }
    tooltip = [
        {"field": "label", "title": "month"},
        {"field": "region"},
        {"field": "amount", "type": "quantitative", "format": ",.0f", "title": "sales (₹)"},
    ]
    return {
        "data": {"values": values},
        "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip},
        "layer": [
            # the line joins whole months only: the month so far stands apart, hollow, so it is not read as a fall
            {"transform": [{"filter": "!datum.so_far"}], "mark": {"type": "line"}},
            {
                "params": _pick("month", "region"),
                "mark": {"type": "point", "size": 70, "cursor": "pointer", "strokeWidth": 2},
                "encoding": {
                    "fill": {
                        "condition": {"test": "datum.so_far", "value": "white"},
                        "field": "region",
                        "type": "nominal",
                        "scale": {"scheme": "tableau10"},  # (the line's colours: the same sorted regions)
                        "legend": None,
                    },
                    "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.6},
                },
            },
        ],
        "height": 240,
    }


def _lookup(names: dict[str, str]) -> str:
    expr = "datum.value"
    for value, name in names.items():
        expr = f"datum.value === {json.dumps(value)} ? {json.dumps(name, ensure_ascii=False)} : ({expr})"
    return expr


def picked_point(event, *fields: str) -> dict[str, str] | None:
    """The values of `fields` at the point the user clicked (None: nothing, or not all of them)."""
    values = {f: picked(event, f) for f in fields}
    return values if all(values.values()) else None  # type: ignore[return-value]


def picked(event, field: str) -> str | None:
    """The value of `field` the user clicked in a chart drawn with on_select (None: nothing picked)."""
    try:
        points = event.selection.get("pick") or []
    except AttributeError:
        return None
    if isinstance(points, dict):  # {"field": [values]} in some Streamlit versions
        values = points.get(field) or []
        return str(values[0]) if values else None
    for p in points:
        if isinstance(p, dict) and p.get(field) is not None:
            return str(p[field])
    return None
