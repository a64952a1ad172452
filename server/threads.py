"""Your conversations: GET /threads lists them (newest first, paged, searched by title and text, each
with its day group in the workspace's time zone), PATCH /threads/{thread_id} renames one, DELETE
/threads/{thread_id} deletes one and forgets it.

A thread is the memory turns and checkpoints sharing a client thread id; its title is a row in
`thread_titles` (business_data/appdb.py). "Forget me" deletes titles with the threads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field
from sqlalchemy import delete, func, select
from starlette.concurrency import run_in_threadpool

from business_data import clock
from business_data.appdb import ThreadTitle, Trace, utcnow
from business_data.db import session_scope
from graph.runs import checkpoint_thread
from tools.rbac import Identity

from .deps import CheckpointerDep, IdentityDep, ServicesDep
from schema.threads import ThreadDeleted, ThreadList, ThreadRenamed
from .schemas import ClientBody

router = APIRouter(tags=["memory"])


class ThreadRename(ClientBody):
    title: str = Field(
        ..., max_length=200, description="the new name; empty clears it (the first message is shown again)"
    )


THREAD_ID = Path(..., max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")


def day_group(last_at: str | None, today) -> str:
    """Today / Yesterday / Previous 7 days / Older: calendar days in the workspace's time zone."""
    if not last_at:
        return "Older"
    days = (today - datetime.fromisoformat(last_at).astimezone(clock.zone()).date()).days
    return GROUPS[0] if days <= 0 else GROUPS[1] if days == 1 else GROUPS[2] if days <= 7 else GROUPS[3]


def _mine(identity: Identity):
    return (ThreadTitle.workspace_id == identity.workspace_id) & (ThreadTitle.user_id == identity.user_id)


def titled(app_engine, identity: Identity, text: str) -> list[str]:
    """The caller's threads whose name contains `text` (any case)."""
    with session_scope(app_engine) as s:
        q = select(ThreadTitle.thread_id).where(
            _mine(identity), func.lower(ThreadTitle.title).contains(text.lower(), autoescape=True)
        )
        return list(s.scalars(q))


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


def list_threads(services, identity: Identity, q: str, limit: int, offset: int) -> dict:
    text = " ".join(q.split())
    also = titled(services.app, identity, text) if text else None
    rows = services.memory.list_threads(identity, limit, offset, text=text or None, also=also)
    total = services.memory.count_threads(identity, text=text or None, also=also)
    today = clock.today()
    threads = [{**t, "group": day_group(t.get("last_at"), today)} for t in with_titles(services.app, identity, rows)]
    more = offset + len(threads) < total
    return {"threads": threads, "total": total, "next_offset": offset + len(threads) if more else None}


@router.get("/threads", response_model=ThreadList)
def threads(
    services: ServicesDep,
    identity: IdentityDep,
    q: str = Query("", max_length=200, description="only conversations whose name or text contains this"),
    limit: int = Query(100, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Your conversations, newest first, `limit` at a time from `offset`, each with its `group` (Today,
    Yesterday, Previous 7 days, Older; in the workspace's time zone); `q` searches names and text."""
    return list_threads(services, identity, q, limit, offset)


@router.patch("/threads/{thread_id}", response_model=ThreadRenamed)
def rename_thread(body: ThreadRename, services: ServicesDep, identity: IdentityDep, thread_id: str = THREAD_ID):
    """Rename one of your conversations: `{"title": "IndiSky follow-up"}` (an empty title clears it)."""
    return _rename(services, identity, thread_id, " ".join(body.title.split()))


@router.delete("/threads/{thread_id}", response_model=ThreadDeleted)
async def delete_thread(
    services: ServicesDep, saver: CheckpointerDep, identity: IdentityDep, thread_id: str = THREAD_ID
):
    """Delete one of your conversations and forget it: its turns and what they found (so "these" no
    longer points at it), its search index entries, its saved graph state and its name. Only yours:
    another user's conversation is 404, as if it did not exist."""
    counts = await run_in_threadpool(services.memory.forget_thread, identity, thread_id)
    if not counts["turns"]:
        raise HTTPException(404, f"No conversation '{thread_id}' in your history.")
    await saver.adelete_thread(checkpoint_thread(identity, thread_id))
    await run_in_threadpool(forget_titles, services.app, identity, [thread_id])
    return {"thread_id": thread_id, "deleted": counts}
