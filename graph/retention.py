"""Bounded growth: what `finkraft prune` deletes, by the retention settings (business_data/settings.py).

- traces older than FINKRAFT_TRACE_RETENTION_DAYS (default 90; 0 keeps them all);
- memory turns older than FINKRAFT_MEMORY_RETENTION_DAYS (default 365), with their embeddings (the
  FAISS index is derived: a server rebuilds it from the rows left at its next start);
- every checkpoint but the latest of each thread (with its pending writes: an open question survives).
  Turns already do this for their own thread (graph/runs.py `aprune_thread`); prune catches up with
  threads saved before that, or by other hosts.

Tickets, notifications and exports are the users' records and are never pruned here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, UTC

from sqlalchemy import delete, func, select, text

from business_data.appdb import MemoryEmbedding, MemoryTurn, Trace
from business_data.db import is_postgres, make_engine, session_scope
from business_data.settings import Settings

from .checkpointers import default_checkpointer


@dataclass
class Pruned:
    traces: int = 0
    memory_turns: int = 0
    memory_embeddings: int = 0
    checkpoints: int = 0
    threads: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _cutoff(days: int, now: datetime) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def _checkpoint_counts(settings: Settings) -> tuple[list[str], int]:
    """(every thread id, how many checkpoints are not the latest of their thread and namespace)."""
    sql = "SELECT thread_id, COUNT(*) - COUNT(DISTINCT checkpoint_ns) FROM checkpoints GROUP BY thread_id"
    if is_postgres(settings.app_url):
        with make_engine(settings.app_url).connect() as conn:
            if not conn.execute(text("SELECT to_regclass('checkpoints')")).scalar():
                return [], 0
            rows = conn.execute(text(sql)).all()
    else:
        if not settings.checkpoint_path.exists():
            return [], 0
        with sqlite3.connect(settings.checkpoint_path) as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'checkpoints'").fetchone():
                return [], 0
            rows = conn.execute(sql).fetchall()
    return [r[0] for r in rows], sum(r[1] for r in rows)


def prune(settings: Settings, *, dry_run: bool = False, now: datetime | None = None) -> Pruned:
    """Apply the retention settings (or, with dry_run, count what would go and change nothing)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    out = Pruned()
    app = make_engine(settings.app_url)
    traces_before, turns_before = (
        _cutoff(settings.trace_retention_days, now),
        _cutoff(settings.memory_retention_days, now),
    )
    with session_scope(app) as s:
        if traces_before is not None:
            old = Trace.created_at < traces_before
            out.traces = s.scalar(select(func.count()).select_from(Trace).where(old)) or 0
            if not dry_run:
                s.execute(delete(Trace).where(old))
        if turns_before is not None:
            old_turns = select(MemoryTurn.id).where(MemoryTurn.created_at < turns_before)
            out.memory_turns = s.scalar(select(func.count()).select_from(old_turns.subquery())) or 0
            out.memory_embeddings = (
                s.scalar(
                    select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.turn_id.in_(old_turns))
                )
                or 0
            )
            if not dry_run:
                s.execute(delete(MemoryEmbedding).where(MemoryEmbedding.turn_id.in_(old_turns)))
                s.execute(delete(MemoryTurn).where(MemoryTurn.created_at < turns_before))
    threads, out.checkpoints = _checkpoint_counts(settings)
    out.threads = len(threads)
    if not dry_run and out.checkpoints:
        saver = default_checkpointer(settings)
        try:
            for i in range(0, len(threads), 100):
                saver.prune(threads[i : i + 100], strategy="keep_latest")
        finally:
            conn = getattr(saver, "conn", None)
            if conn is not None and hasattr(conn, "close"):
                conn.close()
        out.checkpoints -= _checkpoint_counts(settings)[1]
    return out
