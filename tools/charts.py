"""Vega-Lite chart specs for analysis results: clients draw them (vega-embed, Altair, Streamlit's
st.vega_lite_chart). Bar charts for breakdowns, rankings and comparisons, line charts for trends."""

from __future__ import annotations

import json
from typing import Any

from schema.formats import axis_label_expr

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _axis(field: str, title: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "type": kind, "title": title, **extra}


def _value_axis(field: str, title: str, fmt: str | None) -> dict[str, Any]:
    """The measure's axis, its labels written in its declared format (₹ lakh/crore, %, counts)."""
    expr = axis_label_expr(fmt) if fmt else None  # type: ignore[arg-type]
    return _axis(field, title, "quantitative", **({"axis": {"labelExpr": expr}} if expr else {}))


def bar(
    rows: list[dict],
    category: str,
    category_title: str,
    measure: str,
    measure_title: str,
    *,
    title: str,
    sort_by_value: bool = True,
    value_format: str | None = None,
) -> dict[str, Any]:
    """One bar per category (sorted by value unless the order means something, e.g. periods)."""
    return {
        "$schema": SCHEMA,
        "title": title,
        "mark": {"type": "bar", "tooltip": True},
        "data": {"values": rows},
        "encoding": {
            "x": _axis(category, category_title, "nominal", sort="-y" if sort_by_value else None),
            "y": _value_axis(measure, measure_title, value_format),
        },
    }


def line(
    rows: list[dict],
    period: str,
    period_title: str,
    measure: str,
    measure_title: str,
    *,
    title: str,
    series: str | None = None,
    series_title: str | None = None,
    partial: dict[str, str] | None = None,
    value_format: str | None = None,
) -> dict[str, Any]:
    """A line over time (one line per series when the trend is also broken down). `partial` names the
    periods only partly counted ({"2026-12": "Dec 2026 (1–7 Dec so far)"}): their axis labels say so."""
    encoding: dict[str, Any] = {
        "x": _axis(period, period_title, "ordinal", sort=None, **({"axis": axis_names(partial)} if partial else {})),
        "y": _value_axis(measure, measure_title, value_format),
    }
    if series:
        encoding["color"] = _axis(series, series_title or series, "nominal")
    return {
        "$schema": SCHEMA,
        "title": title,
        "mark": {"type": "line", "point": True, "tooltip": True},
        "data": {"values": rows},
        "encoding": encoding,
    }


def axis_names(names: dict[str, str]) -> dict[str, Any]:
    """An axis whose labels for these values are replaced ({"2026-12": "2026-12 so far"})."""
    expr = "datum.value"
    for value, name in names.items():
        expr = f"datum.value === {json.dumps(value, ensure_ascii=False)} ? {json.dumps(name, ensure_ascii=False)} : ({expr})"
    return {"labelExpr": expr}
