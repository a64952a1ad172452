"""GET /health and /health/detailed: whether the API, its databases and its disk are well."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .chat import Record


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
