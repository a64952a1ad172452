"""A chat turn and a conversation as the API answers them (POST /chat, /chat/stream, GET /threads/{id})."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .answer import AnswerPayload
from .interpretation import Interpretation


class Record(BaseModel):
    """A record lower layers build: its known fields are documented, one added later passes through."""

    model_config = ConfigDict(extra="allow")


class ChatToolCall(BaseModel):
    """One tool the turn ran, with the parameters it ran with."""

    tool: str
    params: dict[str, Any]


class ChatResponse(BaseModel):
    success: bool
    agent_response: str = Field(description="the answer in plain words, or the question to confirm a write")
    tool_used: str | None = Field(description="the last tool that ran in this turn")
    tool_calls: list[ChatToolCall]
    data: dict[str, Any] = Field(
        description="the last tool's result: for filter_data {filtered_records, "
        "total_records, results}; for export_report {export_id, format, rows, url}. Its typed tables, chart "
        "and record keys are in `answer` (tables, chart, records), not repeated here"
    )
    status: str = Field(description="success, error, denied, needs_clarification, awaiting_confirmation or answered")
    welcome: str | None = Field(
        description="on the first turn of a new thread after time away, a 'Welcome back' "
        "summary (told once); null otherwise"
    )
    trace_id: str = Field(description="GET /traces/{trace_id} shows the work")
    thread_id: str
    interpretation: Interpretation | None = Field(
        description="what was understood, where each part came from, and the decision (run, assume, ask or "
        "refuse); null when no message was read (an unknown user)"
    )
    answer: AnswerPayload | None = Field(
        description="the answer typed: words, tables and chart with their formats, next actions, record keys, "
        "the export's download; null when the turn paused on a question"
    )


class StreamStep(BaseModel):
    """POST /chat/stream's `step` event: one graph node finished."""

    node: str
    label: str
    detail: str = ""
    status: str = Field(description="ok, paused or error")
    duration_ms: float
    template: str | None = None


class StreamError(BaseModel):
    """POST /chat/stream's `error` event: the turn failed and nothing was written."""

    detail: str
    error_id: str | None = None
    status: int | None = None


class Turn(Record):
    turn_id: int
    thread_id: str
    speaker: str = Field(description="user | assistant")
    text: str
    tool: str | None
    params: dict[str, Any] | None
    result_ref: dict[str, Any] | None
    importance: float
    created_at: str | None
    trace_id: str | None = Field(None, description="an answer's trace (GET /traces/{trace_id}), in a thread's history")
    answer: AnswerPayload | None = Field(
        None, description="an assistant turn's answer as it was given (tables and chart), to draw it again"
    )


class ThreadTurns(BaseModel):
    thread_id: str
    turns: list[Turn]
