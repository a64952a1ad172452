"""Traces as the API answers them: the list (GET /traces), one trace in plain words or in full
(GET /traces/{trace_id}), and the Admin's explorer page (GET /admin/traces)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .chat import Record


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


class TracePage(BaseModel):
    """One page of the explorer: the traces matching every filter, newest first."""

    traces: list[TraceItem]
    total: int = Field(description="how many traces match the filters in all")
    limit: int
    offset: int
    next_offset: int | None = Field(description="the offset of the next page; null on the last page")
