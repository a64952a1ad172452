"""Response bodies: what each route answers, for /openapi.json and for clients. The bodies the web app
reads live in schema/ (chat, tickets, threads, traces, accounts, health, memory, insights, tools); the ones
here are the server's own (errors, memory search, plans).

Routes use them with `response_model_exclude_unset=True` (EXACT below): a response carries exactly
the keys its handler put in it (a null stays null; an absent optional key stays absent), so the
JSON is what it was before these models existed. Records that lower layers build (tickets,
memory turns, plan steps, traces) are `Record`s: their known fields are documented here, and a
field added there later passes through rather than being dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from schema.chat import Record, Turn
from schema.tickets import Ticket

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


class UserTickets(BaseModel):
    """GET /tickets/{user_id}: the tickets that user sees (GET /tickets, as them)."""

    user_id: str
    tickets: list[Ticket]
    count: int


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
