"""A tool's answer as a typed table (schema.answer.Table): each column with its label and the format the
data model declares (money, count, percent, days, number), dates as dates, the rest text. No format is
ever guessed from a column's name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from business_data.datamodel import Dataset
from schema.answer import Chart, Column
from schema.formats import Format


def column(ds: Dataset, name: str, label: str | None = None) -> Column:
    """The column of a measure or dimension of `ds`, as the data model declares it."""
    if name in ds.measures:
        m = ds.measures[name]
        return Column(name=name, label=label or m.label or _words(name), type="number", format=m.format)
    if name in ds.dimensions:
        d = ds.dimensions[name]
        words = label or d.label or _words(name)
        if d.type == "time":
            return Column(name=name, label=words, type="date", format="date")
        if d.type == "number":
            return Column(name=name, label=words, type="number", format=d.format or "number")
        if d.type == "boolean":
            return Column(name=name, label=words, type="boolean", format="text")
        return Column(name=name, label=words, type="string", format=d.format or "text")
    return Column(name=name, label=label or _words(name))


def param_format(ds: Dataset, key: str) -> Format | None:
    """The declared format of what a parameter or a query's filter holds (the interpretation's parts carry
    it, so a client writes 50000 as ₹50,000 because the field is money): the amount bounds (min_amount,
    max_amount) the dataset's amount, a dimension or measure its own, `limit` a count, date_from and
    date_to a date; None for what names rather than holds a value (dataset, measures, group_by, period)."""
    if key in ("min_amount", "max_amount"):
        return column(ds, ds.amount).format if ds.amount else None
    if key == "limit":
        return "count"
    if key in ("date_from", "date_to"):
        return "date"
    if key in ds.measures or key in ds.dimensions:
        return column(ds, key).format
    return None


def derived(base: Column, name: str, label: str, *, percent: bool = False) -> Column:
    """A column computed from a measure: its share (%), its previous value, its change."""
    fmt = "percent" if percent else base.format
    return Column(name=name, label=label, type="number", format=fmt)


def period(grain: str | None, label: str = "period") -> Column:
    return Column(name="period", label=label, type="date", format="date", grain=grain)


def count(name: str, label: str) -> Column:
    return Column(name=name, label=label, type="number", format="count")


def money(name: str, label: str) -> Column:
    return Column(name=name, label=label, type="number", format="money")


def text(name: str, label: str) -> Column:
    return Column(name=name, label=label)


def dumped(columns: list[Column]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude_none=True) for c in columns]


def of_records(
    columns: list[Column] | list[dict[str, Any]],
    records: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """Rows of dicts as a table (what ToolResult.data carries). Built as plain data, not through the
    model: a listing has up to 1,000 rows and this runs on every turn (the API validates it into
    schema.answer.Table on the way out)."""
    cols = _plain_columns(columns)
    names = [c["name"] for c in cols]
    return _table(cols, [[r.get(n) for n in names] for r in records], title, total)


def of_rows(columns: list[Column], rows: list[list[Any]], *, title: str | None = None) -> dict[str, Any]:
    return _table(dumped(columns), rows, title, None)


def _plain_columns(columns: list[Column] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c if isinstance(c, dict) else c.model_dump(exclude_none=True) for c in columns]


def _table(
    columns: list[dict[str, Any]], rows: list[list[Any]], title: str | None, total: int | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"columns": columns, "rows": rows}
    if title is not None:
        out["title"] = title
    if total is not None:
        out["total_rows"] = total
    return out


def chart(
    kind: str,
    title: str,
    x: Column,
    y: Column,
    values: list[dict[str, Any]],
    series: Column | None = None,
    sort_by_value: bool = True,
) -> dict[str, Any]:
    return Chart(
        kind=kind,
        title=title,
        x=x,
        y=y,
        series=series,
        values=values,
        sort_by_value=sort_by_value,
    ).model_dump(exclude_none=True)


def tickets_table(tickets: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """view_tickets' tickets as a table (None: no tickets)."""
    if not tickets:
        return None
    columns = [text("ticket_id", "ticket"), text("title", "title"), text("status", "status")]
    columns += [text("priority", "priority"), text("created_by", "created by")]
    columns.append(Column(name="updated_at", label="updated", type="date", format="date"))
    return of_records(columns, tickets)


def notifications_table(items: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not items:
        return None
    columns = [text("ticket_id", "ticket"), text("message", "message")]
    columns.append(Column(name="created_at", label="when", type="date", format="date"))
    return of_records(columns, items)


def _words(name: str) -> str:
    return name.replace("_", " ")
