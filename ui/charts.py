"""Vega-Lite specs for the dashboard (the same format analytics answers carry in `data["chart"]`).
Each has a point selection named `pick`, so clicking a bar or point can ask the assistant about it."""

from __future__ import annotations

# rupee axes in lakh and crore
RUPEES = (
    "datum.value >= 10000000 ? '₹' + format(datum.value / 10000000, '.2~f') + ' Cr'"
    " : datum.value >= 100000 ? '₹' + format(datum.value / 100000, '.2~f') + ' L' : '₹' + format(datum.value, ',')"
)
PALETTE = {"domain": ["unpaid", "overdue"], "range": ["#f59e0b", "#dc2626"]}


def _pick(field: str) -> list[dict]:
    return [{"name": "pick", "select": {"type": "point", "fields": [field]}}]


def outstanding_by_vendor(rows: list[dict]) -> dict:
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
                "field": "payment_status",
                "type": "nominal",
                "title": None,
                "scale": PALETTE,
                "legend": {"orient": "bottom"},
            },
            "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.5},
            "tooltip": [
                {"field": "vendor"},
                {"field": "payment_status", "title": "status"},
                {"field": "amount", "type": "quantitative", "format": ",.0f", "title": "amount (₹)"},
            ],
        },
        "height": {"step": 26},
    }


def sales_by_region(rows: list[dict], month: str) -> dict:
    return {
        "data": {"values": [r for r in rows if r["month"] == month]},
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


def sales_trend(rows: list[dict]) -> dict:
    return {
        "data": {"values": rows},
        "params": _pick("month"),
        "mark": {"type": "line", "point": {"size": 70, "filled": True, "cursor": "pointer"}},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}},
            "y": {
                "field": "amount",
                "type": "quantitative",
                "title": "Sales",
                "axis": {"labelExpr": RUPEES, "tickCount": 4},
            },
            "color": {"field": "region", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
            "tooltip": [
                {"field": "month"},
                {"field": "region"},
                {"field": "amount", "type": "quantitative", "format": ",.0f", "title": "sales (₹)"},
            ],
        },
        "height": 240,
    }


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
