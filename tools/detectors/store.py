"""Findings in the app database (business_data/appdb.py `findings`): stored, deduplicated, scoped.

`record` stores one detector run: a fingerprint seen before updates its finding (last_seen, amount,
records, words), a new one is inserted and the workspace's subscribed Managers are notified; an open
finding its detector no longer sees is marked resolved. Reads and status changes are workspace-scoped
like every read: an Admin may name another workspace, anyone else sees their own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from business_data.appdb import Finding, InsightSubscription, Notification, User, utcnow
from tools.base import ToolDenied, ToolError, ToolNotFound
from tools.money import money
from tools.rbac import Identity

from . import BY_NAME, DetectorRun

STATUSES = ("open", "dismissed", "snoozed")
MAX_SNOOZE_DAYS = 365


@dataclass
class Recorded:
    workspace: str
    new: list[int] = field(default_factory=list)
    updated: int = 0
    resolved: int = 0
    notified: list[str] = field(default_factory=list)


def _plural(detector: str, n: int) -> str:
    d = BY_NAME.get(detector)
    if d is None:
        return detector
    return d.label if n == 1 else d.plural


def summarise(rows: list) -> str:
    """'2 possible duplicate payments, ₹3.4 lakh; 1 GSTIN mismatch, ₹52,418' (most money first)."""
    counts: Counter[str] = Counter(r.detector for r in rows)
    amounts: dict[str, float] = {}
    for r in rows:
        amounts[r.detector] = amounts.get(r.detector, 0.0) + (r.amount or 0.0)
    parts = [
        f"{n} {_plural(d, n)}, {money(amounts[d])}" for d, n in sorted(counts.items(), key=lambda kv: -amounts[kv[0]])
    ]
    return "; ".join(parts)


def record(app: Engine, run: DetectorRun, *, now: datetime | None = None, ran: list[str] | None = None) -> Recorded:
    """Store one workspace's run. `ran`: the detectors that ran (their unseen open findings resolve)."""
    now = now or utcnow()
    out = Recorded(run.workspace)
    ran = ran if ran is not None else sorted(run.timings_ms)
    seen: set[str] = set()
    with app.begin() as conn:
        existing = {
            r.fingerprint: r
            for r in conn.execute(sa.select(Finding.__table__).where(Finding.workspace_id == run.workspace)).all()
        }
        for f in run.found:
            if f.fingerprint in seen:
                continue
            seen.add(f.fingerprint)
            c = f.candidate
            values = {
                "severity": c.severity,
                "subject": c.subject[:200],
                "amount": round(float(c.amount), 2),
                "record_keys": c.keys,
                "query": c.query,
                "explanation": c.explanation,
                "details": c.details,
                "last_seen": now,
                "resolved_at": None,
            }
            old = existing.get(f.fingerprint)
            if old is None:
                ins = sa.insert(Finding).values(
                    workspace_id=run.workspace,
                    fingerprint=f.fingerprint,
                    detector=f.detector.name,
                    status="open",
                    first_seen=now,
                    **values,
                )
                pk = conn.execute(ins).inserted_primary_key
                assert pk is not None
                out.new.append(int(pk[0]))
                continue
            if old.status == "snoozed" and old.snoozed_until is not None and old.snoozed_until <= now:
                values.update(status="open", snoozed_until=None)
            conn.execute(sa.update(Finding).where(Finding.id == old.id).values(**values))
            out.updated += 1
        gone = [
            r.id
            for fp, r in existing.items()
            if fp not in seen and r.detector in ran and r.resolved_at is None and r.status == "open"
        ]
        if gone:
            conn.execute(sa.update(Finding).where(Finding.id.in_(gone)).values(resolved_at=now))
            out.resolved = len(gone)
        if out.new:
            rows = conn.execute(sa.select(Finding.__table__).where(Finding.id.in_(out.new))).all()
            text = f"New in the books: {summarise(list(rows))}. Ask 'anything unusual?' to see them."
            for user_id in _subscribers(conn, run.workspace):
                conn.execute(sa.insert(Notification).values(user_id=user_id, workspace_id=run.workspace, message=text))
                out.notified.append(user_id)
    return out


def _subscribers(conn, workspace: str) -> list[str]:
    """The workspace's active Managers (subscribed unless they turned it off) and Admins who turned it on."""
    choice = dict(
        conn.execute(
            sa.select(InsightSubscription.user_id, InsightSubscription.subscribed).where(
                InsightSubscription.workspace_id == workspace
            )
        ).all()
    )
    users = conn.execute(
        sa.select(User.user_id, User.role).where(User.workspace_id == workspace, User.active.is_(True))
    ).all()
    return sorted(
        u for u, role in users if (role == "Manager" and choice.get(u, True)) or (role == "Admin" and choice.get(u))
    )


def subscribe(app: Engine, identity: Identity, on: bool) -> bool:
    if identity.role not in ("Manager", "Admin"):
        raise ToolDenied("Only Managers and Admins get notified of new findings.")
    with app.begin() as conn:
        conn.execute(
            sa.delete(InsightSubscription).where(
                InsightSubscription.workspace_id == identity.workspace_id,
                InsightSubscription.user_id == identity.user_id,
            )
        )
        conn.execute(
            sa.insert(InsightSubscription).values(
                workspace_id=identity.workspace_id, user_id=identity.user_id, subscribed=on, updated_at=utcnow()
            )
        )
    return on


def _workspace(identity: Identity, requested: str | None) -> str | None:
    if not requested or requested == identity.workspace_id:
        return identity.workspace_id
    if not identity.is_admin:
        raise ToolDenied(f"You can only see findings in your own workspace ({identity.workspace_id}).")
    return None if requested == "all" else requested


def list_findings(
    app: Engine,
    identity: Identity,
    *,
    detector: str | None = None,
    severity: str | None = None,
    status: str | None = "open",
    since: datetime | None = None,
    workspace: str | None = None,
    include_resolved: bool = False,
    limit: int = 100,
) -> list[Finding]:
    """Findings the caller may see, most money at stake first. `status` open (the default) leaves out
    snoozed findings until their date and resolved ones; None: every status."""
    if detector and detector not in BY_NAME:
        raise ToolError(f"Unknown detector '{detector}'. Known: {', '.join(BY_NAME)}.")
    if severity and severity not in ("low", "medium", "high"):
        raise ToolError("severity must be low, medium or high.")
    if status and status not in STATUSES:
        raise ToolError(f"status must be one of {', '.join(STATUSES)}.")
    ws = _workspace(identity, workspace)
    now = utcnow()
    q = sa.select(Finding)
    if ws is not None:
        q = q.where(Finding.workspace_id == ws)
    if detector:
        q = q.where(Finding.detector == detector)
    if severity:
        q = q.where(Finding.severity == severity)
    if status == "open":
        # a snooze that has run out counts as open again
        q = q.where(
            sa.or_(Finding.status == "open", sa.and_(Finding.status == "snoozed", Finding.snoozed_until <= now))
        )
    elif status:
        q = q.where(Finding.status == status)
    if not include_resolved:
        q = q.where(Finding.resolved_at.is_(None))
    if since:
        q = q.where(Finding.first_seen >= since)
    q = q.order_by(Finding.amount.desc(), Finding.id).limit(limit)
    with Session(app) as session:
        rows = list(session.scalars(q).all())
        session.expunge_all()
        return rows


def get_finding(app: Engine, identity: Identity, finding_id: int) -> Finding:
    with Session(app) as session:
        f = session.scalars(sa.select(Finding).where(Finding.id == finding_id)).one_or_none()
        session.expunge_all()
    if f is None or (f.workspace_id != identity.workspace_id and not identity.is_admin):
        raise ToolNotFound(f"No finding {finding_id} in your workspace.")
    return f


def set_status(
    app: Engine,
    identity: Identity,
    finding_id: int,
    status: str,
    *,
    reason: str | None = None,
    until: datetime | None = None,
) -> Finding:
    """Dismiss (with a reason), snooze (until a time) or reopen a finding. Managers and Admins only."""
    if identity.role not in ("Manager", "Admin"):
        raise ToolDenied("Only Managers and Admins can dismiss or snooze findings.")
    get_finding(app, identity, finding_id)
    now = utcnow()
    if status == "snoozed":
        if until is None or until <= now:
            raise ToolError("Snooze until a time in the future.")
        if until > now + timedelta(days=MAX_SNOOZE_DAYS):
            raise ToolError(f"Snooze for at most {MAX_SNOOZE_DAYS} days.")
    if status == "dismissed" and not (reason or "").strip():
        raise ToolError("Say why the finding is dismissed (a reason).")
    with app.begin() as conn:
        conn.execute(
            sa.update(Finding)
            .where(Finding.id == finding_id)
            .values(
                status=status,
                status_reason=(reason or "").strip() or None,
                status_by=identity.user_id,
                snoozed_until=until if status == "snoozed" else None,
            )
        )
    return get_finding(app, identity, finding_id)


def since_line(app: Engine, identity: Identity, since: datetime) -> str | None:
    """The welcome-back line: 'Since yesterday: 2 possible duplicate payments, ₹3.4 lakh.' (None: nothing new)."""
    rows = list_findings(app, identity, since=since)
    if not rows:
        return None
    hours = (utcnow() - since).total_seconds() / 3600
    when = "Since yesterday" if 20 <= hours <= 48 else f"Since {since:%d %b}" if hours > 48 else "In the last hours"
    return f"{when}: {summarise(rows)}."
