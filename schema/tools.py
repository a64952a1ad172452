"""A tool's answer as POST /execute_tool gives it: the envelope is typed; `data` is the tool's own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Source(BaseModel):
    """A data source a tool consulted: for 'show your work'."""

    table: str
    filters: dict[str, Any] = Field(default_factory=dict)
    rows: int = 0


class ExecuteToolResponse(BaseModel):
    success: bool
    tool_used: str
    message: str
    data: dict[str, Any]
    sources: list[Source]
