"""filter_data's and explain_failures' answers typed: the records and the failure breakdowns as tables with
the data model's formats, and the next steps each allows (why did these fail, a ticket, an export)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from business_data.datamodel import Dataset

from . import tables
from .base import NextStep
from .queries import FilterParams

EXPORT_FORMAT = "xlsx"
FILTER_KEYS = tuple(k for k in FilterParams.model_fields if k != "limit")  # what defines the set, not its size


def records_table(ds: Dataset, rows: list[dict[str, Any]], matched: int) -> dict[str, Any]:
    """The listed records, each column as the data model declares it (amounts money, dates dates)."""
    names = tuple(rows[0]) if rows else tuple(ds.list)
    made = _columns.get((id(ds), names))
    if made is None or made[0] is not ds:  # the same few listings every turn: columns made once per model
        made = _columns[(id(ds), names)] = (ds, tables.dumped([tables.column(ds, n) for n in names]))
    return tables.of_records(made[1], rows, total=matched)


_columns: dict[tuple[int, tuple[str, ...]], tuple[Dataset, list[dict[str, Any]]]] = {}


def failure_tables(
    by_reason: Sequence[Mapping[str, Any]], by_vendor: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """explain_failures' counts and amounts by reason (and by vendor, when there are several)."""
    out = [
        tables.of_records(
            [tables.text("reason", "reason"), tables.count("count", "invoices"), tables.money("amount", "amount")],
            by_reason,
            title="by reason",
        )
    ]
    if len(by_vendor) > 1:
        out.append(
            tables.of_records(
                [tables.text("vendor", "vendor"), tables.count("count", "invoices"), tables.money("amount", "amount")],
                by_vendor,
                title="by vendor",
            )
        )
    return out


def _filters(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in FILTER_KEYS and v is not None}


def _export(label: str, params: dict[str, Any]) -> NextStep:
    return {"label": label, "kind": "export", "tool": "export_report", "params": {**params, "format": EXPORT_FORMAT}}


def _ticket(keys: list[Any]) -> NextStep:
    return {
        "label": "Create a ticket",
        "kind": "ticket",
        "tool": "create_ticket",
        "params": {"invoice_numbers": [str(k) for k in keys], "notify_me": True},
    }


def listing_next_steps(params: dict[str, Any], data: dict[str, Any]) -> list[NextStep]:
    """After a listing: why the failed ones failed, a ticket for them (only when every one listed failed),
    and an export (never of an empty result)."""
    if not data.get("filtered_records"):
        return []
    steps: list[NextStep] = []
    filters = _filters(params)
    failed = (data.get("status_counts") or {}).get("failed")
    if data.get("dataset") == "invoices" and failed:
        steps.append({"label": "Why did these fail?", "kind": "explain", "tool": "explain_failures", "params": filters})
        if filters.get("status") == "failed" and data.get("keys_complete") and data.get("keys"):
            steps.append(_ticket(data["keys"]))
    steps.append(_export("Export as Excel", filters))
    return steps


def failure_next_steps(params: dict[str, Any], data: dict[str, Any]) -> list[NextStep]:
    """After explaining failures: a ticket for the failed invoices and an export of them (nothing when
    none failed)."""
    if not data.get("failed"):
        return []
    steps: list[NextStep] = []
    if data.get("keys") and data.get("keys_complete"):
        steps.append(_ticket(data["keys"]))
    these = (
        {"invoice_numbers": [str(k) for k in data["keys"]]} if data.get("keys_complete") and data.get("keys") else {}
    )
    steps.append(_export("Export the failed invoices", {**_filters(params), **these, "status": "failed"}))
    return steps
