"""What every tool receives (ToolContext) and returns (ToolResult)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from .rbac import Identity


class Source(BaseModel):
    """A data source a tool consulted: for 'show your work'."""
    table: str
    filters: dict[str, Any] = Field(default_factory=dict)
    rows: int = 0


class ToolResult(BaseModel):
    status: Literal["success", "error", "denied", "needs_clarification"]
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)


class ToolError(Exception):
    """A problem the user can fix (unknown vendor, bad date): becomes status='error'."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class ToolDenied(ToolError):
    """The caller's role or workspace doesn't allow this (another workspace, someone else's ticket):
    becomes status='denied' (403 over HTTP)."""


@dataclass
class ToolContext:
    identity: Identity
    business: Engine
    app: Engine
    exports_dir: Path
    today: date = field(default_factory=date.today)
