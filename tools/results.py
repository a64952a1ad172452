"""What each read tool puts in `ToolResult.data`, typed (TypedDicts: the data stays plain JSON for the
checkpoint and the API's `data`). The typed table, chart and next steps a client reads are
schema.answer's models, built from these by graph/answer.py."""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

TableJSON = dict[str, Any]  # schema.answer.Table as JSON
ChartJSON = dict[str, Any]  # schema.answer.Chart as JSON


class ListingData(TypedDict):
    """filter_data: the records that match, a preview of each, the keys "these" refers to."""

    dataset: str
    filtered_records: int
    total_records: int
    returned: int
    total_amount: float | None
    period: str | None
    filters: dict[str, Any]
    results: list[dict[str, Any]]  # the rows, keyed by the data model's dimension names
    keys: list[Any]
    keys_complete: bool
    query: dict[str, Any]
    preview: list[str]  # one line per record (tools/filtering.py preview_line), for text-only clients
    table: TableJSON  # the rows typed: each column with the data model's format
    status_counts: NotRequired[dict[str, int]]  # invoices: how many of each status were listed


class ReasonCount(TypedDict):
    reason: str
    count: int
    amount: float | None
    invoice_numbers: list[str]


class VendorCount(TypedDict):
    vendor: str | None
    count: int
    amount: float | None


class FailuresData(TypedDict, total=False):
    """explain_failures: counts and amounts by reason and vendor (only the counts when nothing failed)."""

    total: int
    failed: int
    amount_at_stake: float | None
    by_reason: list[ReasonCount]
    by_vendor: list[VendorCount]
    invoice_numbers: list[str]
    keys: list[str]
    keys_complete: bool
    query: dict[str, Any]
    dataset: str
    tables: list[TableJSON]  # by reason (and by vendor), typed


class AnalysisData(TypedDict, total=False):
    """analyze_data: a semantic query's figures as a table, a chart for breakdowns and trends."""

    kind: str  # total | breakdown | trend
    dataset: str
    query: dict[str, Any]
    period: str | None
    columns: list[str]
    rows: list[list[Any]]
    column_labels: dict[str, str]
    totals: dict[str, Any] | None
    workspace_id: str
    chart: dict[str, Any]  # a Vega-Lite spec (axes in the measure's format)
    table: TableJSON  # columns + rows typed with the data model's formats
    figure: ChartJSON | None  # the chart typed (schema.answer.Chart)
    drill_dimensions: list[str]  # the dimensions a drill-down may group by (vendor, customer)
    has_time: bool  # the dataset has a date: "by month" and "the trend" make sense
    previous: dict[str, Any]  # compare_to: the other period's rows
    dates: list[str | None]  # the first and last day read (ISO), null at an open end
    same_days: bool  # both periods cut to the days the unfinished one has had
    partial: dict[str, Any]  # trend buckets only partly counted (the month so far): {period: [first, last]}
    as_of: str  # the business day the figures were read on
