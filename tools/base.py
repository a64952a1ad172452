"""What every tool declares (ToolSpec), receives (ToolContext) and returns (ToolResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal
from collections.abc import Callable

from typing_extensions import TypedDict

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.engine import Engine

from business_data import clock
from schema.tools import Source  # shared with the API's clients (POST /execute_tool's sources)

from .rbac import Identity


# What went wrong, for machines: server/errors.py maps it to an HTTP status (never the message's wording).
ResultCode = Literal["ok", "invalid", "not_found", "denied", "conflict", "no_space", "busy", "internal"]


class ToolResult(BaseModel):
    status: Literal["success", "error", "denied", "needs_clarification"]
    message: str
    code: ResultCode = "ok"
    data: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _code_matches_status(self) -> ToolResult:
        """A failure always carries a failure code: a bare status='error' is the caller's to fix."""
        if self.code == "ok" and self.status in ("error", "denied"):
            self.code = "denied" if self.status == "denied" else "invalid"
        return self


class ToolError(Exception):
    """A problem the user can fix (unknown vendor, bad date): becomes status='error', code 'invalid'."""

    code: ResultCode = "invalid"

    def __init__(self, message: str, *, suggestions: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class ToolNotFound(ToolError):
    """The thing asked for does not exist, or is not the caller's to see (a ticket, an export): code 'not_found'."""

    code: ResultCode = "not_found"


class ToolConflict(ToolError):
    """The request clashes with the current state of a record: code 'conflict'."""

    code: ResultCode = "conflict"


class ToolDenied(ToolError):
    """The caller's role or workspace doesn't allow this (another workspace, someone else's ticket):
    becomes status='denied', code 'denied' (403 over HTTP)."""

    code: ResultCode = "denied"


class NextStep(TypedDict):
    """A next step a tool offers after its own result: the button's words and the call it makes. The graph
    adds whether the caller's role may make it (graph/answer.py); the tool offers only steps that make
    sense for this result (no export of nothing, no ticket when nothing failed)."""

    label: str  # "Why did these fail?", "Export this breakdown"
    kind: str  # explain | drill_down | trend | export | ticket
    tool: str
    params: dict[str, Any]


@dataclass
class ToolContext:
    identity: Identity
    business: Engine
    app: Engine
    exports_dir: Path
    today: date = field(default_factory=clock.today)  # the business date (business_data/clock.py)
    model: Any = None  # the data model (business_data.datamodel.DataModel); None: the configured one

    @property
    def data_model(self):
        """The semantic data model queries compile against (FINKRAFT_DATA_MODEL unless given)."""
        if self.model is None:
            from business_data.datamodel import get_data_model

            self.model = get_data_model()
        return self.model


@dataclass(frozen=True)
class ToolSpec:
    """Everything about one tool, declared once in its own module (as `TOOLS = [ToolSpec(...)]`) and read
    by the registry, the permission gate, the graph, the LLM router and memory.

    A tool with `func=None` is run by the graph rather than the registry (run_template)."""

    name: str
    description: str  # what it does, for people and for the model's tool schema
    params: type[BaseModel]  # its parameters (unknown keys rejected)
    func: Callable[[ToolContext, Any], ToolResult] | None
    roles: tuple[str, ...]  # who may run it (Viewer, Manager, Admin)
    action: str  # "create tickets": in "as a Viewer you can't create tickets"
    topic: str = ""  # what people ask it for, in a few words ("lists of records"): "What I ask about" lists it
    progress: str = ""  # what POST /chat/stream says while it runs: "reading {dataset}…" ({dataset}: its parameter)
    writes: bool = False  # changes something others can see
    confirm: bool = False  # asks yes/no before it runs (it notifies or is seen by others)
    question: Callable[[ToolContext, Any], str] | None = None  # the yes/no question (ToolError if it can't run)
    cancelled: str = ""  # "create the ticket": in "OK, I didn't create the ticket"
    phrases: tuple[str, ...] = ()  # how people ask for it (help text, the model's tool description)
    record_set: bool = False  # its result is a set of records "these" can refer to later
    takes_records: bool = False  # can work on "these" records (invoice_numbers from an earlier result)
    records_by_default: bool = False  # given no records or filters, works on the last result ("why did they fail?")
    takes_ticket: bool = False  # works on the records of "that ticket" / "the fixed report" (ticket_id)
    explained: bool = False  # a model may put its result in its own words (numbers checked)
    # offline routing by declaration (graph/parser/declared.py): which parameter each slot of a message fills
    # ({"vendor": "vendor"}); a tool with slots is reached by its `phrases` with no parser rule of its own
    slots: tuple[tuple[str, str], ...] = ()
    reads_data: bool = False  # reads business data: a word of the message it did not use changes the answer
    # "show your work" in a finance user's words: a str.format template over {scope} (what was read:
    # "IndiSky Airlines invoices from November 2026 (status failed)"), {rows}, {ms}, {format},
    # {ticket_id}, {vendor} (graph/plain_steps.py); empty: "Ran <tool>, <ms>."
    step: str = ""
    takes_thread: bool = False  # works on the conversation itself: the chat fills its `thread_id`
    # the next steps its result allows, given the params it ran with and its data (graph/answer.py)
    next_steps: Callable[[dict[str, Any], dict[str, Any]], list[NextStep]] | None = None
    # the TypedDict of its successful result's `data` (tools/results.py); the registry refuses a tool without one
    data_type: type | None = None
