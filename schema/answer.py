"""One typed answer: the words, its tables and chart with declared formats, the interpretation, the next
steps the caller may take, the record keys of a listing and an export's download.

The graph builds it (graph/answer.py) from the tools' typed results; /chat, /chat/stream, LangServe and
GET /threads/{thread_id} carry it; the web app draws from it alone and memory embeds from it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .formats import Format, Grain
from .interpretation import Interpretation

ColumnType = Literal["string", "number", "date", "boolean"]


class Column(BaseModel):
    """A column of a table: its key in the rows, its label, and how its values are written."""

    name: str = Field(description="the key of the value (a dimension, measure or derived column)")
    label: str = Field(description="its heading in words")
    type: ColumnType = "string"
    format: Format = Field(
        "text",
        description="money (₹, lakh/crore), count, percent, number, days, date (DD MMM YYYY) or text; "
        "from the data model's declaration",
    )
    grain: Grain | None = Field(None, description="a date column of periods: month, week, ...")


class Table(BaseModel):
    """Rows as lists in the order of `columns`."""

    title: str | None = None
    columns: list[Column]
    rows: list[list[Any]]
    total_rows: int | None = Field(None, description="how many matched, when `rows` shows the first of them")

    def records(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, r)) for r in self.rows]


class Chart(BaseModel):
    """A chart of a table's figures: a bar per category or a line over periods."""

    kind: Literal["bar", "line"]
    title: str
    x: Column
    y: Column
    series: Column | None = Field(None, description="one line per value of this column")
    values: list[dict[str, Any]] = Field(description="the points, keyed by the columns' names")
    sort_by_value: bool = Field(True, description="bar: the longest first (False: in the given order)")


class ActionCall(BaseModel):
    """A tool and the parameters it runs with (send it as POST /chat's `tool_call`)."""

    tool: str
    params: dict[str, Any] = {}


class NextAction(BaseModel):
    """A next step this answer allows, declared by the tool that answered."""

    label: str = Field(description='the button\'s words: "Why did these fail?", "Export this breakdown"')
    kind: str = Field(description="explain, drill_down, trend, export or ticket")
    tool_call: ActionCall
    allowed: bool = Field(description="the caller's role may run it (clients hide the others)")
    why_not: str | None = Field(None, description="when not allowed: what the role may not do")


class RecordKeys(BaseModel):
    """A listing's records: what "these" refers to in the next question."""

    dataset: str
    key: str | None = Field(None, description="the column holding each record's key (invoice_number)")
    keys: list[Any]
    complete: bool = Field(description="False: more records matched than keys are kept")


class ExportFile(BaseModel):
    """A file the answer wrote: download it from `url` with the same bearer token."""

    export_id: str
    format: str
    title: str
    rows: int | None = None
    url: str


class TicketRef(BaseModel):
    """A ticket the answer made, changed or showed."""

    ticket_id: str
    title: str
    status: str


class AnswerPayload(BaseModel):
    """One answer, typed."""

    text: str = Field(description="the words to say (without a listing's record lines: those are `tables`)")
    status: str = Field(description="success, error, denied, needs_clarification, awaiting_confirmation or answered")
    tool: str | None = Field(None, description="the tool that answered")
    tables: list[Table] = []
    chart: Chart | None = None
    interpretation: Interpretation | None = None
    next_actions: list[NextAction] = []
    records: RecordKeys | None = None
    export: ExportFile | None = None
    ticket: TicketRef | None = None
