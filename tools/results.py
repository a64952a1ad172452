"""What each tool puts in `ToolResult.data`, typed (TypedDicts: the data stays plain JSON for the
checkpoint and the API's `data`). Each tool declares its type (`ToolSpec.data_type`) and builds its
data as that type; readers that know the tool read it as that type (`cast(TicketData, result.data)`),
and readers of any tool's data read the keys the tools share through `shared()`, so mypy checks every
key where it is written and where it is read. A tool whose data no other module reads may keep its
type in its own module (tools/vendor_profile.py: the three-file recipe of docs/ARCHITECTURE.md).
tests/unit/test_tool_data.py runs every tool and checks its data against its type, no key more.
The typed table, chart and next steps a client reads are schema.answer's models, built from these
by graph/answer.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, cast

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


# -- exports -------------------------------------------------------------------------------------
class ExportData(TypedDict):
    """export_conversation (and the start of export_report's): the file written and where to download it."""

    export_id: str
    format: str  # csv | xlsx | pdf
    rows: int
    url: str  # /exports/{export_id}/download
    title: str
    filename: str
    dataset: str  # the dataset exported ("conversation": a conversation's PDF)


class ReportData(ExportData):
    """export_report: the file, the records it holds ("these" next) and the ticket it came from."""

    keys: list[Any]
    ticket_id: str | None  # "the fixed report": the ticket whose records it holds


# -- tickets and notifications ---------------------------------------------------------------
class TicketRecord(TypedDict):
    """A ticket as answers carry it (tools/tickets.py ticket_dict)."""

    ticket_id: str
    title: str
    description: str | None
    status: str  # open | in_progress | resolved | closed
    priority: str
    workspace_id: str
    created_by: str
    record_type: str | None
    record_ids: list[str]
    created_at: str | None  # ISO
    updated_at: str | None
    assignee: str | None
    subscribed: NotRequired[bool]  # create_ticket: the creator follows it ("notify me")


class TicketData(TypedDict):
    """create_ticket: the ticket made (or the one this confirmed request made already: `repeated`)."""

    ticket: TicketRecord
    ticket_id: str
    repeated: NotRequired[bool]


class TicketUpdateData(TypedDict):
    """update_ticket: the ticket after the change, who was told, and whether anything changed."""

    ticket: TicketRecord
    ticket_id: str
    notified: list[str]
    changed: bool


class TicketsData(TypedDict):
    """view_tickets: the tickets the caller may see, newest first."""

    tickets: list[TicketRecord]
    count: int
    table: TableJSON | None  # None: no tickets


class NotificationItem(TypedDict):
    id: int
    ticket_id: str | None
    message: str
    created_at: str  # ISO
    read: bool


class NotificationsData(TypedDict):
    """view_notifications: the caller's notifications, newest first."""

    notifications: list[NotificationItem]
    unread: int
    table: TableJSON | None  # None: no notifications


# -- insights --------------------------------------------------------------------
class FindingItem(TypedDict):
    id: int
    detector: str
    label: str
    severity: str  # low | medium | high
    subject: str
    amount: float | None
    explanation: str
    record_keys: list[Any]
    query: dict[str, Any]  # a semantic query that shows it


class InsightsData(TypedDict):
    """view_insights: the open findings; the top one's records and query are what "show me" reads."""

    kind: str  # "insights"
    dataset: str
    keys: list[Any]
    keys_complete: bool
    query: dict[str, Any]
    finding_id: int | None
    findings: list[FindingItem]


# -- templates (run by the graph: graph/templates/common.py) --------------------------------------
class StepOutcome(TypedDict):
    step: str
    status: str  # success | failed | cancelled
    attempts: int
    message: str


class WrittenItem(TypedDict):
    """A write a template made: the tool, its message and what it made."""

    tool: str
    message: str
    ticket_id: NotRequired[str]
    export_id: NotRequired[str]
    url: NotRequired[str]
    format: NotRequired[str]
    rows: NotRequired[int]


class TemplateRunData(TypedDict):
    """run_template: which template ran, how each step went, its figures and what it wrote."""

    template: str
    status: str  # completed | failed | cancelled | awaiting_confirmation
    steps: list[StepOutcome]
    figures: dict[str, Any] | None
    written: list[WrittenItem]


# -- what readers of any tool's data read ----------------------------------------------------------
class Shared(TypedDict):
    """The keys the graph reads from a result without knowing which tool made it (the thread's last
    result, memory's result reference, the answer's records, export and ticket); None where the tool's
    data has no such key. tests/unit/test_tool_data.py checks each is a key some tool's data declares."""

    dataset: str | None
    keys: list[Any] | None
    keys_complete: bool | None
    query: dict[str, Any] | None
    kind: str | None
    ticket_id: str | None
    export_id: str | None
    ticket: TicketRecord | None
    table: TableJSON | None
    tables: list[TableJSON] | None
    figure: ChartJSON | None


SHARED_KEYS: tuple[str, ...] = tuple(Shared.__annotations__)
# the keys that hold a tool's answer typed (graph/answer.py makes them answer.tables and answer.chart)
TYPED_KEYS = frozenset({"table", "tables", "figure"})


def shared(data: Mapping[str, Any] | None) -> Shared:
    """Any tool's data as the keys readers share (each None when absent)."""
    d = data or {}
    return cast(Shared, {k: d.get(k) for k in SHARED_KEYS})
