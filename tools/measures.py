"""Measures and conditions in SQL (for tools/compiler.py): filter values in a dimension's type, the
conditions of filters, each measure as an aggregate (a CASE for its own filters, derived measures from
their parts), and the roll-up of daily pre-aggregates into trends."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

from business_data.datamodel import Dataset, Dimension

from .base import ToolError
from .money import parse_amount


_TRUE = {"true", "yes", "y", "1", "verified", "t"}
_FALSE = {"false", "no", "n", "0", "unverified", "not verified", "f"}


def coerce(ds: Dataset, name: str, dim: Dimension, value: Any) -> Any:
    """A filter value in the dimension's type; categorical values matched to the model's spelling."""
    if isinstance(value, (list, tuple)):
        return [coerce(ds, name, dim, v) for v in value]
    label = dim.label or name.replace("_", " ")
    if dim.type == "number":
        v = parse_amount(value)
        if v is None:
            raise ToolError(
                f"{label.capitalize()} must be a number or an amount such as 50,000 or 4.9 lakh, not '{value}'."
            )
        return v
    if dim.type == "time":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ToolError(f"'{value}' is not a real date for {label} (use YYYY-MM-DD).") from None
    if dim.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ToolError(f"{label.capitalize()} is yes or no, not '{value}'.")
    text = str(value).strip()
    if dim.values:
        by_lower = {v.lower().replace(" ", "_"): v for v in dim.values}
        key = text.lower().replace(" ", "_")
        if key not in by_lower:
            raise ToolError(f"{label.capitalize()} is one of {', '.join(dim.values)}, not '{value}'.")
        return by_lower[key]
    return text


def condition(col: ColumnElement, op: str, value: Any) -> ColumnElement:
    if op == "eq":
        return col == value
    if op == "ne":
        return sa.or_(col != value, col.is_(None))
    if op == "in":
        return col.in_(list(value))
    if op == "not_in":
        return sa.or_(col.not_in(list(value)), col.is_(None))
    if op == "gt":
        return col > value
    if op == "gte":
        return col >= value
    if op == "lt":
        return col < value
    if op == "lte":
        return col <= value
    if op == "between":
        return col.between(value[0], value[1])
    if op == "contains":  # literally: a name's % and _ are characters, not LIKE wildcards
        return col.icontains(str(value), autoescape=True)
    if op == "is_null":
        return col.is_(None)
    return col.is_not(None)


def shared_filters(ds: Dataset, measures: list[str]) -> list:
    """The filters every requested measure has (e.g. failed_count + failed_value: status = failed).
    They can go into WHERE, so indexes narrow the rows instead of a CASE over all of them; groups
    where no row passes then drop out (a breakdown of failures lists the vendors that have some)."""
    specs = [ds.measures[m] for m in measures]
    if not specs or any(m.derived for m in specs) or not specs[0].filters:
        return []
    return list(specs[0].filters) if all(m.filters == specs[0].filters for m in specs) else []


def combine(op: str, a: ColumnElement, b: ColumnElement) -> ColumnElement:
    """A derived measure from its two parts."""
    if op == "sum":
        return a + b
    if op == "difference":
        return a - b
    ratio = sa.cast(a, sa.Float) / sa.func.nullif(b, 0)
    return ratio * 100.0 if op == "percent" else ratio


def measure_expr(ds: Dataset, t, name: str, pushed: tuple = ()) -> ColumnElement:
    """The aggregate for a measure over the rows of `t` (tools.compiler.Tables); `pushed` filters are in WHERE already."""
    m = ds.measures[name]
    if m.derived:
        return combine(m.derived.op, *(measure_expr(ds, t, x) for x in m.derived.of))
    conds = [
        condition(t.col(ds.dimensions[f.field].column), f.op, coerce(ds, f.field, ds.dimensions[f.field], f.value))
        for f in m.filters
        if f not in pushed
    ]
    value: ColumnElement = t.col(m.column) if m.column else sa.literal(1)
    if conds:
        value = sa.case((sa.and_(*conds), value))
    if m.agg == "count":
        return sa.func.count(value) if (conds or m.column) else sa.func.count()
    if m.agg == "count_distinct":
        return sa.func.count(sa.distinct(value))
    if m.agg == "sum":
        return sa.func.coalesce(sa.func.sum(value), 0)
    return getattr(sa.func, str(m.agg))(value)


def measure_refs(ds: Dataset, name: str) -> set[str]:
    m = ds.measures[name]
    if m.derived:
        return set().union(*(measure_refs(ds, x) for x in m.derived.of))
    return {ds.dimensions[f.field].column for f in m.filters} | ({m.column} if m.column else set())


def leaves(ds: Dataset, names: list[str]) -> list[str]:
    """The aggregated (non-derived) measures behind `names`, in order, each once."""
    out: list[str] = []
    for n in names:
        m = ds.measures[n]
        for leaf in leaves(ds, list(m.derived.of)) if m.derived else [n]:
            if leaf not in out:
                out.append(leaf)
    return out


REAGGREGATE: dict[str, Any] = {"count": sa.func.sum, "sum": sa.func.sum, "min": sa.func.min, "max": sa.func.max}


def decomposable(ds: Dataset, names: list[str]) -> bool:
    """Can these measures be computed per day first and rolled up (counts, sums, minima, maxima)?"""
    return all(ds.measures[leaf].agg in REAGGREGATE for leaf in leaves(ds, names))


def rollup(ds: Dataset, name: str, daily) -> ColumnElement:
    """A measure over the rows of a per-day pre-aggregate (`daily`, a subquery with one column per leaf)."""
    m = ds.measures[name]
    if m.derived:
        return combine(m.derived.op, *(rollup(ds, x, daily) for x in m.derived.of))
    value = REAGGREGATE[str(m.agg)](daily.c[name])
    return sa.func.coalesce(value, 0) if m.agg in ("count", "sum") else value
