"""Response bodies: what each route answers, for /openapi.json and for clients.

Routes use them with `response_model_exclude_unset=True` (EXACT below): a response carries exactly
the keys its handler put in it (a null stays null; an absent optional key stays absent), so the
JSON is what it was before these models existed. Records that lower layers build (tickets,
memory turns, plan steps, traces) are `Record`s: their known fields are documented here, and a
field added there later passes through rather than being dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from schema.chat import ChatResponse, ChatToolCall, Record, ThreadTurns, Turn
from schema.interpretation import Interpretation, InterpretationChoice, InterpretationPart
from tools.base import Source

from .responses_tickets import (
    Ticket,
    TicketEvent,
    TicketDetail,
    TicketList,
    Assignee,
    Assignees,
    TicketUpdated,
    Notification,
    NotificationList,
    MarkedRead,
    ExportItem,
    ExportList,
)

__all__ = [  # the models both the API and the web app read live in schema/
    "ChatResponse",
    "ChatToolCall",
    "Interpretation",
    "InterpretationChoice",
    "InterpretationPart",
    "Record",
    "ThreadTurns",
    "Turn",
]
__all__ += [  # tickets, notifications, exports: server/responses_tickets.py
    "Ticket",
    "TicketEvent",
    "TicketDetail",
    "TicketList",
    "Assignee",
    "Assignees",
    "TicketUpdated",
    "Notification",
    "NotificationList",
    "MarkedRead",
    "ExportItem",
    "ExportList",
]

EXACT: dict[str, Any] = {"response_model_exclude_unset": True}


class Problem(BaseModel):
    """Every 4xx and 5xx but the 422: a message a person can read (5xx also carry an error id)."""

    detail: str
    error_id: str | None = None


class FieldError(BaseModel):
    """One problem with the request: where it is and what is wrong."""

    loc: list[str | int] = Field(
        description='where: ["body", "thread_id"], ["query", "limit"], ["body"] for the whole body'
    )
    msg: str = Field(description="what is wrong, in words")
    type: str = Field(description="pydantic's error type (missing, extra_forbidden, json_invalid, string_too_long ...)")


class ValidationProblem(BaseModel):
    """A 422: `detail` names every problem in one sentence; `errors` lists them one by one."""

    detail: str = Field(examples=["Invalid request: 'message' is required."])
    errors: list[FieldError]


# when each error status happens; server/openapi.py document_errors adds the ones a route's
# dependencies imply (401, 403, 404, 413, 422, 429, 500), routes declare the rest with problems()
WHEN: dict[int, str] = {
    400: "Bad parameters or data (the message says which)",
    401: "No valid bearer token (or session cookie)",
    403: "Your role or workspace does not allow this",
    404: "Not found among the things you can see",
    409: "The request clashes with the current state",
    410: "Gone from the server",
    413: "The request body is too large",
    422: "Invalid request: `detail` says what to fix in one sentence, `errors` lists each problem",
    429: "Too many requests (see Retry-After)",
    500: "Something failed on our side; `error_id` names it in the server log",
    503: "The database stayed busy with another change (see Retry-After); nothing was changed",
    507: "The server is out of disk space; nothing was saved",
}


def problems(*codes: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the error answers a route can give besides the usual ones: each with its
    body model and a description (`why`: `_409="..."` overrides the general one)."""
    return {
        code: {"model": ValidationProblem if code == 422 else Problem, "description": why.get(f"_{code}", WHEN[code])}
        for code in codes
    }


# -- health ---------------------------------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class DatabaseHealth(Record):
    status: str = Field(description="ok | error")
    dialect: str
    latency_ms: float | None = None
    error: str | None = Field(None, description="the error's type, when status is error")


class StorageHealth(BaseModel):
    """Free space where the server writes files (the data dir: exports, and the embedded SQLite files)."""

    status: str = Field(
        description="ok | low (under 5% free) | full (under 10 MB, or 2% of a small disk: writes answer 507)"
    )
    path: str
    free_bytes: int
    total_bytes: int


class HealthDetailed(BaseModel):
    status: str = Field(description="ok | degraded (a database is unreachable or the disk is low or full)")
    app_database: DatabaseHealth
    business_database: DatabaseHealth
    storage: StorageHealth
    vector_index: dict[str, Any]
    model: dict[str, Any] = Field(description="which router reads messages: the offline parser or a model")
    checkpointer: str
    env: str


# -- chat and tools ---------------------------------------------------------------------------------


class ExecuteToolResponse(BaseModel):
    success: bool
    tool_used: str
    message: str
    data: dict[str, Any]
    sources: list[Source]


# -- traces -----------------------------------------------------------------------------------------


class TraceItem(BaseModel):
    trace_id: str
    request: str
    status: str
    thread_id: str | None
    created_at: str
    user_id: str
    outcome: str = Field("ok", description="ok | refused (a role or workspace said no) | failed (a step failed)")
    tools: list[str] = Field(default_factory=list, description="the tools the request called, in order")
    duration_ms: float = 0.0


class TraceList(BaseModel):
    traces: list[TraceItem]


class TracedCall(Record):
    tool: str | None
    params: dict[str, Any] | None
    status: str | None
    duration_ms: float | None = None


class DataConsulted(Record):
    table: str | None
    rows: int | None
    filters: str


class TraceView(Record):
    """A trace in plain words (the owner's view)."""

    trace_id: str
    thread_id: str | None
    created_at: str
    request: str
    response: str
    status: str
    duration_ms: float
    summary: list[str] = Field(description="the technical account: how it was read, the plan, each tool call")
    work: list[str] = Field(
        default_factory=list, description="each step in a finance user's words (from the tools' step labels)"
    )
    outcome: str = Field("ok", description="ok | refused | failed")
    data_consulted: list[DataConsulted]
    tool_calls: list[TracedCall]


class FullTraceView(TraceView):
    """An Admin's view: everything recorded."""

    user_id: str
    workspace_id: str
    router: str
    plan: dict[str, Any]
    steps: list[dict[str, Any]]


# -- memory -----------------------------------------------------------------------------------------


class MemoryHit(Turn):
    score: float | None = None
    match: str | None = Field(
        None,
        description='"exact": the turn names an identifier of the query (an invoice number); "keyword": the '
        "fallback when semantic memory is off or not loaded; absent: nearest in meaning",
    )


class MemorySearch(BaseModel):
    results: list[MemoryHit]


class ThreadSummary(Record):
    thread_id: str
    turns: int
    started_at: str | None
    last_at: str | None
    first_message: str | None
    title: str | None = Field(None, description="the name you gave it (PATCH /threads/{thread_id}); null: none")
    group: str | None = Field(None, description="Today | Yesterday | Previous 7 days | Older (workspace time zone)")


class ThreadList(BaseModel):
    threads: list[ThreadSummary]
    total: int | None = Field(None, description="conversations matching, over all pages")
    next_offset: int | None = Field(None, description="the offset of the next page; null: this is the last")


class Forgotten(BaseModel):
    deleted: dict[str, int] = Field(description="turns, embeddings and index entries deleted")
    threads: int = Field(description="conversation threads deleted with their checkpoints")


class UserMemorySearch(MemorySearch):
    """GET /memory/{user_id}/search."""

    user_id: str
    query: str


class ResultSummary(Record):
    """What a turn found, without its record keys."""

    tool: str | None
    dataset: str | None
    records: int = Field(description="how many records the result refers to")
    ticket_id: str | None
    export_id: str | None
    created_at: str | None


class ThreadActivated(BaseModel):
    """POST /memory/{user_id}/threads/{thread_id}/activate: what a client needs to pick the conversation up."""

    user_id: str
    thread_id: str
    title: str | None = Field(description="the name given with PATCH /threads/{thread_id}; null: none")
    turns: list[Turn] = Field(description="the thread's last turns, oldest first")
    awaiting_confirmation: bool = Field(description="a question in this thread waits for yes or no")
    question: str | None = Field(description="that question, when awaiting_confirmation")
    last_result: ResultSummary | None = Field(description="what 'these' / 'that report' refer to in this thread")
    continue_with: str = Field(description="how to go on: the request that continues this thread")


class CountedName(BaseModel):
    name: str
    count: int


class UsagePatterns(BaseModel):
    tools: list[CountedName] = Field(description="most used tools over the last 200 answers")
    vendors: list[CountedName]
    datasets: list[CountedName]
    exchanges: int = Field(description="answers that ran a tool, of the last 200")
    threads: int
    requests: int = Field(description="all requests remembered")
    first_at: str | None
    last_at: str | None


class FrequentRequest(BaseModel):
    request: str = Field(description="the latest wording")
    tool: str
    params: dict[str, Any]
    count: int
    last_at: str | None


class UnreadNotification(BaseModel):
    id: int
    ticket_id: str | None
    message: str
    created_at: str | None


class PendingQuestion(BaseModel):
    thread_id: str
    question: str


class OpenItems(BaseModel):
    open_tickets: list[Ticket] = Field(description="tickets the user created or follows that are not closed")
    unread_notifications: list[UnreadNotification]
    awaiting_confirmation: list[PendingQuestion] = Field(
        description="questions waiting for yes or no in the user's recent threads"
    )


class MemoryInsights(BaseModel):
    """GET /memory/{user_id}/insights."""

    user_id: str
    workspace_id: str
    usage: UsagePatterns
    frequent_requests: list[FrequentRequest] = Field(
        description="the same tool with the same parameters, most often first"
    )
    open_items: OpenItems


class UserTickets(BaseModel):
    """GET /tickets/{user_id}: the tickets that user sees (GET /tickets, as them)."""

    user_id: str
    tickets: list[Ticket]
    count: int


# -- users, tokens, sessions ------------------------------------------------------------------------


class UserOut(BaseModel):
    user_id: str
    display_name: str
    role: str
    workspace_id: str
    active: bool
    tools: list[str] = Field(description="the tools this role may run")


class Permissions(UserOut):
    summary: str
    can_see_other_workspaces: bool
    can_see_all_tickets: bool


class UserList(BaseModel):
    users: list[UserOut]


class NewToken(BaseModel):
    token_id: int
    user_id: str
    token: str = Field(description="shown once; only its hash is kept")
    expires_at: str | None = Field(description="when it stops working (ISO 8601, UTC); null: never")
    note: str


class TokenItem(BaseModel):
    token_id: int
    user_id: str
    label: str
    is_dev: bool
    created_at: str
    revoked: bool
    expires_at: str | None = Field(description="when it stops working (ISO 8601, UTC); null: never")


class TokenList(BaseModel):
    tokens: list[TokenItem]


class TokenRevoked(BaseModel):
    token_id: int
    revoked: bool


class Session(BaseModel):
    user_id: str
    role: str
    workspace_id: str


class SignedOut(BaseModel):
    signed_out: bool


# -- plans ------------------------------------------------------------------------------------------


class PlanStep(Record):
    step: str
    status: str = Field(description="pending, success, error, denied, cancelled ...")
    tool: str | None = None
    writes: bool | None = None
    attempts: int | None = None
    message: str | None = None


class PlanView(Record):
    plan_id: str
    template: str
    goal: str
    params: dict[str, Any]
    status: str = Field(description="created, running, awaiting_confirmation, completed, failed or cancelled")
    created_at: str | None
    updated_at: str | None
    steps: list[PlanStep]
    response: str | None = None
    question: str | None = Field(None, description="when awaiting_confirmation: answer with {resume: yes|no}")
    result: dict[str, Any] | None = Field(None, description="when finished: message, figures, what was written")
    trace_id: str | None = Field(None, description="after an execute: GET /traces/{trace_id}")
