"""One watch run: every applicable detector on every workspace, findings stored, the run traced.

`finkraft watch` (cron) and the server's schedule (FINKRAFT_WATCH_EVERY_MINUTES) both call `watch`.
Only one process runs it at a time: `try_lock` (pg_try_advisory_lock on PostgreSQL, a file lock on
SQLite); a process that does not get the lock skips the run and says so. Each workspace's run is
written to `traces` (user `system:watch`) like a turn, with each detector's time and count.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
import secrets
import time
from dataclasses import dataclass, field
from datetime import date

from business_data.appdb import Finding, Trace, utcnow
from business_data.db import try_lock
from tools.detectors import detect, workspaces_of
from tools.detectors.store import Recorded, record, summarise

log = logging.getLogger(__name__)
WATCH_USER = "system:watch"
LOCK_NAME = "watch"


@dataclass
class WorkspaceWatch:
    workspace: str
    found: int
    recorded: Recorded
    not_applicable: dict[str, list[str]]
    timings_ms: dict[str, float]
    trace_id: str
    summary: str


@dataclass
class WatchResult:
    ran: bool
    workspaces: list[WorkspaceWatch] = field(default_factory=list)
    reason: str = ""


def watch(services, *, today: date | None = None, workspaces: list[str] | None = None) -> WatchResult:
    """Run the detectors once (unless another process is running them)."""
    today = today or services.today()
    with try_lock(services.app, LOCK_NAME) as got:
        if not got:
            return WatchResult(False, reason="another process is running the detectors")
        out = WatchResult(True)
        for ws in workspaces or workspaces_of(services.model, services.business):
            out.workspaces.append(_one(services, ws, today))
        return out


def _one(services, ws: str, today: date) -> WorkspaceWatch:
    t0 = time.perf_counter()
    run = detect(services.business, services.model, ws, today, settings=services.settings)
    rec = record(services.app, run)
    with services.app.connect() as conn:
        new_rows = list(conn.execute(sa.select(Finding.__table__).where(Finding.id.in_(rec.new)))) if rec.new else []
    summary = (
        f"{ws}: {len(run.found)} found ({len(rec.new)} new, {rec.updated} seen before, {rec.resolved} resolved)"
        + (f"; new: {summarise(new_rows)}" if new_rows else "")
    )
    trace_id = secrets.token_hex(8)
    steps = [
        {"node": f"detect:{name}", "ms": ms, "found": sum(1 for f in run.found if f.detector.name == name)}
        for name, ms in run.timings_ms.items()
    ] + [
        {"node": f"detect:{name}", "status": "not applicable", "missing": miss}
        for name, miss in run.not_applicable.items()
    ]
    with services.app.begin() as conn:
        conn.execute(
            sa.insert(Trace).values(
                trace_id=trace_id,
                user_id=WATCH_USER,
                workspace_id=ws,
                thread_id=None,
                request=f"watch {today.isoformat()}",
                response=summary,
                router="watch",
                plan={"intent": {"intent": "watch"}, "plan": {"detectors": list(run.timings_ms)}},
                steps=steps,
                status="ok",
                duration_ms=round((time.perf_counter() - t0) * 1000, 2),
                created_at=utcnow(),
            )
        )
    log.info("watch %s", summary)
    return WorkspaceWatch(ws, len(run.found), rec, run.not_applicable, run.timings_ms, trace_id, summary)
