"""Thread titles: PATCH /threads/{thread_id} renames one of your conversations.

A thread is the memory turns and checkpoints sharing a client thread id; its title is a row in
`thread_titles` (business_data/appdb.py). GET /threads (server/resources.py) shows it as `title`; "forget
me" deletes titles with the threads.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from datetime import UTC, datetime, timedelta

from business_data.appdb import ThreadTitle, Trace, utcnow
from business_data.db import session_scope
from tools.rbac import Identity

from .deps import IdentityDep, ServicesDep
from .schemas import ClientBody

router = APIRouter(tags=["memory"])


class ThreadRename(ClientBody):
    title: str = Field(
        ..., max_length=200, description="the new name; empty clears it (the first message is shown again)"
    )


class ThreadRenamed(BaseModel):
    thread_id: str
    title: str | None = Field(description="the name now shown; null: none (the first message is shown)")


def _mine(identity: Identity):
    return (ThreadTitle.workspace_id == identity.workspace_id) & (ThreadTitle.user_id == identity.user_id)


def with_titles(app_engine, identity: Identity, threads: list[dict]) -> list[dict]:
    """GET /threads rows with each thread's `title` (None when it was never renamed)."""
    with session_scope(app_engine) as s:
        titles = dict(s.execute(select(ThreadTitle.thread_id, ThreadTitle.title).where(_mine(identity))).all())
    return [{**t, "title": titles.get(t["thread_id"])} for t in threads]


def with_trace_ids(app_engine, identity: Identity, thread_id: str, turns: list[dict]) -> list[dict]:
    """GET /threads/{id} turns with each answer's `trace_id` ("show your work" on a resumed conversation):
    a turn's memory rows are written in the transaction that wrote its trace, just after it, so an
    answer's trace is the thread's latest one at or before the answer (within a minute)."""
    if not turns:
        return turns
    first = min((t["created_at"] for t in turns if t.get("created_at")), default=None)
    with session_scope(app_engine) as s:
        q = select(Trace.trace_id, Trace.created_at).where(
            Trace.user_id == identity.user_id, Trace.workspace_id == identity.workspace_id, Trace.thread_id == thread_id
        )
        if first:
            q = q.where(Trace.created_at >= datetime.fromisoformat(first) - timedelta(minutes=1))
        traces = sorted(s.execute(q).all(), key=lambda r: r.created_at)
    out = []
    for t in turns:
        found = None
        if t.get("speaker") == "assistant" and t.get("created_at"):
            at = datetime.fromisoformat(t["created_at"])
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            before = [r for r in traces if at - timedelta(minutes=1) <= r.created_at <= at]
            found = before[-1].trace_id if before else None
        out.append({**t, "trace_id": found})
    return out


def forget_titles(app_engine, identity: Identity, thread_ids: list[str]) -> None:
    if thread_ids:
        with session_scope(app_engine) as s:
            s.execute(delete(ThreadTitle).where(_mine(identity), ThreadTitle.thread_id.in_(list(thread_ids))))


def _rename(services, identity: Identity, thread_id: str, title: str) -> dict:
    if not services.memory.recent_turns(identity, thread_id, 1):
        raise HTTPException(404, f"No conversation '{thread_id}' in your history.")
    with session_scope(services.app) as s:
        row = s.get(ThreadTitle, (identity.workspace_id, identity.user_id, thread_id))
        if not title:
            if row is not None:
                s.delete(row)
            return {"thread_id": thread_id, "title": None}
        if row is None:
            s.add(
                ThreadTitle(
                    workspace_id=identity.workspace_id, user_id=identity.user_id, thread_id=thread_id, title=title
                )
            )
        else:
            row.title, row.updated_at = title, utcnow()
    return {"thread_id": thread_id, "title": title}


@router.patch("/threads/{thread_id}", response_model=ThreadRenamed)
def rename_thread(
    body: ThreadRename,
    services: ServicesDep,
    identity: IdentityDep,
    thread_id: str = Path(..., max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$"),
):
    """Rename one of your conversations: `{"title": "IndiSky follow-up"}` (an empty title clears it)."""
    return _rename(services, identity, thread_id, " ".join(body.title.split()))
