"""analyze_data's answer typed: its table with the data model's formats, its chart, and the next steps it
allows (drill down by vendor or by month, the trend, an export of this breakdown)."""

from __future__ import annotations

from typing import Any

from business_data.datamodel import Dataset
from schema.answer import Column

from . import tables
from .base import NextStep
from .semantic import SemanticQuery

DRILL_DIMENSIONS = ("vendor", "customer")  # "by vendor": the first of these the dataset has


def typed_columns(ds: Dataset, names: list[str], labels: dict[str, str], grain: str | None) -> list[Column]:
    """The table's columns, in the order analyze_data wrote them: groups (or the period), measures, then
    the share of the first measure and, when compared, previous value, change and change in %."""
    out: list[Column] = []
    for n in names:
        if n == "period":
            out.append(tables.period(grain, labels.get(n, grain or "period")))
        elif n in ds.measures or n in ds.dimensions:
            out.append(tables.column(ds, n, labels.get(n)))
        else:
            base, _, what = next(((m, "_", n[len(m) + 1 :]) for m in ds.measures if n.startswith(m + "_")), (n, "", ""))
            of = tables.column(ds, base)
            words = {
                "share": f"share of {of.label}",
                "previous": f"{of.label}, before",
                "change": "change",
                "change_pct": "change %",
            }.get(what, labels.get(n, n.replace("_", " ")))
            out.append(tables.derived(of, n, words, percent=what in ("share", "change_pct")))
    return out


def typed_chart(ds: Dataset, q: SemanticQuery, spec: dict | None, columns: list[Column]) -> dict | None:
    """The chart as schema.answer.Chart: its axes are the table's columns (so they carry its formats)."""
    if not spec:
        return None
    enc = spec.get("encoding") or {}
    by_name = {c.name: c for c in columns}
    x_name, y_name = enc["x"]["field"], enc["y"]["field"]
    x = by_name.get(x_name) or tables.text(x_name, enc["x"].get("title") or x_name)
    y = by_name.get(y_name) or tables.column(ds, y_name)
    series = by_name.get(enc["color"]["field"]) if "color" in enc else None
    kind = "line" if (spec.get("mark") or {}).get("type") == "line" else "bar"
    sort = enc["x"].get("sort") is not None
    return tables.chart(kind, spec.get("title") or "", x, y, spec["data"]["values"], series, sort_by_value=sort)


def next_steps(params: dict[str, Any], data: dict[str, Any]) -> list[NextStep]:
    """After an analysis with figures: drill down by vendor and by month, the trend, export the breakdown."""
    if not data.get("rows"):
        return []
    q = SemanticQuery.model_validate(data.get("query") or params.get("query") or params)
    steps: list[NextStep] = []
    groups = data.get("drill_dimensions") or []
    if q.kind in ("total", "breakdown"):
        by = next((d for d in groups if d not in q.group_by), None)
        if by:
            steps.append(_analyse(f"Drill down by {by}", "drill_down", q.but(group_by=[by], limit=None, order_by=[])))
        if data.get("has_time") and not q.time_grain:
            steps.append(_analyse("Drill down by month", "drill_down", q.but(time_grain="month", limit=None)))
            steps.append(
                _analyse("Show the trend", "trend", q.but(group_by=[], time_grain="month", limit=None, order_by=[]))
            )
    what = "breakdown" if q.group_by or q.time_grain else "figure"
    steps.append(
        {
            "label": f"Export this {what}",
            "kind": "export",
            "tool": "export_report",
            "params": {"dataset": q.dataset, "query": q.as_params(), "format": "xlsx"},
        }
    )
    return steps


def _analyse(label: str, kind: str, q: SemanticQuery) -> NextStep:
    return {"label": label, "kind": kind, "tool": "analyze_data", "params": q.as_params()}
