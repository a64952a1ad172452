"""view_insights: what the anomaly detectors found, in words ("anything unusual this week?",
"why is this flagged?"). Reads the stored findings (tools/detectors/store.py); when the workspace's
findings are older than REFRESH (or there are none), the detectors run first, so an answer is never
stale by more than that. The result keeps the top finding's records and its proving query, so
"show me" and "export these" work next.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from business_data.appdb import Finding, utcnow

from .base import Source, ToolContext, ToolError, ToolResult, ToolSpec
from .detectors import BY_NAME, detect
from .detectors.store import list_findings, record, summarise
from .results import InsightsData

REFRESH = timedelta(hours=1)
SHOWN = 5


class InsightParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int | None = Field(None, ge=1, le=366, description="only findings first seen in the last N days")
    detector: str | None = Field(None, description=f"only one kind: {', '.join(BY_NAME)}")
    about: list[str] | None = Field(
        None, max_length=1000, description="explain the finding about these records (invoice numbers)"
    )
    finding_id: int | None = Field(None, ge=1, description="explain this finding")
    first: bool = Field(False, description="explain the first finding (the most money at stake)")


def _refresh(ctx: ToolContext) -> None:
    ws = ctx.identity.workspace_id
    with ctx.app.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(Finding.last_seen)).where(Finding.workspace_id == ws)).scalar()
    if last is not None and utcnow() - last < REFRESH:  # (stored and read back in UTC, aware)
        return
    record(ctx.app, detect(ctx.business, ctx.data_model, ws, ctx.today))


def _data(rows: list[Finding], top: Finding | None) -> dict:
    data: InsightsData = {
        "kind": "insights",
        "dataset": (top.query or {}).get("dataset", "invoices") if top else "invoices",
        "keys": list(top.record_keys or []) if top else [],
        "keys_complete": True,
        "query": dict(top.query or {}) if top else {},
        "finding_id": top.id if top else None,
        "findings": [
            {
                "id": f.id,
                "detector": f.detector,
                "label": BY_NAME[f.detector].label if f.detector in BY_NAME else f.detector,
                "severity": f.severity,
                "subject": f.subject,
                "amount": f.amount,
                "explanation": f.explanation,
                "record_keys": list(f.record_keys or []),
                "query": dict(f.query or {}),
            }
            for f in rows
        ],
    }
    return dict(data)


def view_insights(ctx: ToolContext, p: InsightParams) -> ToolResult:
    if p.detector and p.detector not in BY_NAME:
        raise ToolError(f"Unknown kind of finding '{p.detector}'. Known: {', '.join(BY_NAME)}.")
    _refresh(ctx)
    since = utcnow() - timedelta(days=p.days) if p.days else None
    rows = list_findings(ctx.app, ctx.identity, detector=p.detector, since=since)
    source = [Source(table="findings", filters={"status": "open"}, rows=len(rows))]
    if p.finding_id or p.about or p.first:
        pick = [f for f in rows if f.id == p.finding_id] or [
            f for f in rows if p.about and set(p.about) & set(f.record_keys or [])
        ]
        if not pick and p.first and not p.about:
            pick = rows[:1]
        if not pick:
            raise ToolError("I have no open finding about that. Ask 'anything unusual?' to see what is flagged.")
        f = pick[0]
        d = BY_NAME.get(f.detector)
        rule = f" The rule: {d.description}." if d else ""
        message = f"Flagged as a {d.label if d else f.detector} ({f.severity}): {f.explanation}{rule}"
        message += " Say 'show me' to see the records." if f.record_keys else " Say 'show me' for the figures."
        return ToolResult(status="success", message=message, data=_data([f], f), sources=source)
    when = f" in the last {p.days} days" if p.days else ""
    if not rows:
        return ToolResult(
            status="success",
            message=f"Nothing unusual{when}: no open findings in {ctx.identity.workspace_id}.",
            data=_data([], None),
            sources=source,
        )
    lines = [f"{i}. {f.explanation}" for i, f in enumerate(rows[:SHOWN], 1)]
    more = f"\n(and {len(rows) - SHOWN} more)" if len(rows) > SHOWN else ""
    message = (
        f"{len(rows)} thing{'s' if len(rows) != 1 else ''} look{'' if len(rows) != 1 else 's'} unusual{when}: "
        f"{summarise(rows)}.\n" + "\n".join(lines) + more + "\nAsk 'why is this flagged?' or 'show me' about the first."
    )
    return ToolResult(status="success", message=message, data=_data(rows, rows[0]), sources=source)


TOOLS = [
    ToolSpec(
        "view_insights",
        "What looks unusual in the books (anomalies the detectors found): possible duplicate payments, "
        "failure-rate spikes, GSTIN mismatches, overdue growth, unusual amounts, sales shortfalls; or why one is flagged.",
        InsightParams,
        view_insights,
        data_type=InsightsData,
        roles=("Viewer", "Manager", "Admin"),
        action="view insights",
        topic="unusual items",
        step="Read the unusual items found in your data, {ms}; {rows} in all.",
        phrases=("anything unusual this week?", "why is this flagged?", "what needs my attention?"),
    ),
]
