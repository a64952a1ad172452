"""The Admin trace explorer: GET /admin/traces, every request's trace filtered by user, tool, outcome,
date range (the workspace's calendar, FINKRAFT_TIMEZONE) and duration, a page at a time.

Each trace row keeps its outcome and the tools it called (graph/tracing.py), so every filter is a
plain indexed-or-cheap SQL condition on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from business_data import clock
from business_data.appdb import Trace
from business_data.db import session_scope

from .deps import AdminDep, ServicesDep
from .errors import Invalid
from .responses import EXACT, problems
from schema.traces import TracePage

router = APIRouter(tags=["admin"])
Outcome = Literal["ok", "refused", "failed"]


def trace_item(t: Trace) -> dict:
    return {
        "trace_id": t.trace_id,
        "request": t.request,
        "status": t.status,
        "thread_id": t.thread_id,
        "created_at": t.created_at.isoformat(),
        "user_id": t.user_id,
        "outcome": t.outcome or "ok",
        "tools": (t.tools or "").split(),
        "duration_ms": t.duration_ms or 0.0,
    }


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the workspace's time zone."""
    return datetime.combine(day, time.min, tzinfo=clock.zone())


@router.get(
    "/admin/traces",
    response_model=TracePage,
    responses=problems(403, 422, _403="Only an Admin may explore every user's traces"),
    **EXACT,
)
def explore_traces(
    services: ServicesDep,
    _admin: AdminDep,
    user: str | None = Query(None, max_length=64, description="only this user's requests"),
    tool: str | None = Query(None, max_length=64, pattern=r"^[a-z_]+$", description="only requests that called it"),
    outcome: Annotated[Outcome | None, Query(description="ok, refused (a role said no) or failed")] = None,
    date_from: Annotated[date | None, Query(description="from this day (the workspace's calendar), inclusive")] = None,
    date_to: Annotated[date | None, Query(description="to this day, inclusive")] = None,
    min_ms: float | None = Query(None, ge=0, le=86_400_000, description="only requests that took longer (ms)"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Every user's traces, newest first, filtered; `next_offset` pages on."""
    if date_from and date_to and date_from > date_to:
        raise Invalid(("query", "date_to"), f"date_to ({date_to}) is before date_from ({date_from})")
    where = []
    if user:
        where.append(Trace.user_id == user)
    if tool:
        where.append(Trace.tools.contains(f" {tool} ", autoescape=True))
    if outcome:
        where.append(Trace.outcome == outcome)
    if date_from:
        where.append(Trace.created_at >= _start_of(date_from))
    if date_to:
        where.append(Trace.created_at < _start_of(date_to + timedelta(days=1)))
    if min_ms is not None:
        where.append(Trace.duration_ms > min_ms)
    with session_scope(services.app) as s:
        total = s.scalar(select(func.count()).select_from(Trace).where(*where)) or 0
        rows = s.scalars(
            select(Trace).where(*where).order_by(Trace.created_at.desc(), Trace.trace_id).limit(limit).offset(offset)
        ).all()
        items = [trace_item(t) for t in rows]
    return {
        "traces": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
    }
