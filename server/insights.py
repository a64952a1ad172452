"""GET /insights and its actions: what the detectors found (tools/detectors), scoped like every read.

Anyone signed in reads their workspace's findings (an Admin may name another, or `all`); Managers and
Admins dismiss (with a reason) or snooze (until a time, or for some days), and subscribe to or
unsubscribe from notifications of new findings (Managers are subscribed unless they opt out).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from business_data.appdb import Finding
from tools.base import ToolDenied, ToolError, ToolNotFound
from tools.detectors import BY_NAME
from tools.detectors.store import get_finding, list_findings, set_status, since_line, subscribe, summarise
from tools.money import money

from .deps import IdentityDep, ServicesDep
from .responses import problems
from schema.insights import DetectorName, InsightList, InsightView, Subscription

router = APIRouter()
log = logging.getLogger("finkraft.insights")


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000, description="why it is not a problem")


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: datetime | None = Field(None, description="hide it until this time (ISO 8601)")
    days: int | None = Field(None, ge=1, le=365, description="or: for this many days")
    reason: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _one(self) -> SnoozeBody:
        if (self.until is None) == (self.days is None):
            raise ValueError("give either 'until' or 'days'")
        return self


def view(f: Finding) -> InsightView:
    d = BY_NAME.get(f.detector)
    return InsightView(
        id=f.id,
        detector=f.detector,
        label=d.label if d else f.detector,
        severity=f.severity,
        workspace_id=f.workspace_id,
        subject=f.subject,
        amount=f.amount,
        amount_text=money(f.amount),
        record_keys=list(f.record_keys or []),
        query=dict(f.query or {}),
        explanation=f.explanation,
        status=f.status,
        status_reason=f.status_reason,
        status_by=f.status_by,
        snoozed_until=f.snoozed_until,
        first_seen=f.first_seen,
        last_seen=f.last_seen,
        resolved_at=f.resolved_at,
    )


def _http(e: ToolError) -> HTTPException:
    code = 403 if isinstance(e, ToolDenied) else 404 if isinstance(e, ToolNotFound) else 400
    return HTTPException(code, str(e))


@router.get("/insights", tags=["insights"], response_model=InsightList, responses=problems(400, 403))
def insights(
    services: ServicesDep,
    identity: IdentityDep,
    detector: Annotated[DetectorName | None, Query(description="only this detector")] = None,
    severity: Annotated[Literal["low", "medium", "high"] | None, Query(description="only this severity")] = None,
    status: Annotated[
        Literal["open", "dismissed", "snoozed", "any"], Query(description="open: not dismissed, any snooze over")
    ] = "open",
    since: Annotated[datetime | None, Query(description="first seen at or after this time (ISO 8601)")] = None,
    workspace: Annotated[str | None, Query(description="Admins: another workspace, or 'all'")] = None,
    include_resolved: Annotated[bool, Query(description="also those the detectors no longer see")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    try:
        rows = list_findings(
            services.app,
            identity,
            detector=detector,
            severity=severity,
            status=None if status == "any" else status,
            since=since,
            workspace=workspace,
            include_resolved=include_resolved,
            limit=limit,
        )
    except ToolError as e:
        raise _http(e) from None
    return InsightList(insights=[view(f) for f in rows], summary=summarise(rows))


@router.get("/insights/{finding_id}", tags=["insights"], response_model=InsightView, responses=problems(404))
def insight(services: ServicesDep, identity: IdentityDep, finding_id: int):
    try:
        return view(get_finding(services.app, identity, finding_id))
    except ToolError as e:
        raise _http(e) from None


@router.post(
    "/insights/{finding_id}/dismiss", tags=["insights"], response_model=InsightView, responses=problems(400, 403, 404)
)
def dismiss(services: ServicesDep, identity: IdentityDep, finding_id: int, body: DismissBody):
    try:
        return view(set_status(services.app, identity, finding_id, "dismissed", reason=body.reason))
    except ToolError as e:
        raise _http(e) from None


@router.post(
    "/insights/{finding_id}/snooze", tags=["insights"], response_model=InsightView, responses=problems(400, 403, 404)
)
def snooze(services: ServicesDep, identity: IdentityDep, finding_id: int, body: SnoozeBody):
    until = body.until or datetime.now(UTC) + timedelta(days=body.days or 0)
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    try:
        return view(set_status(services.app, identity, finding_id, "snoozed", reason=body.reason, until=until))
    except ToolError as e:
        raise _http(e) from None


@router.post("/insights/subscription", tags=["insights"], response_model=Subscription, responses=problems(403))
def subscription(services: ServicesDep, identity: IdentityDep, body: Subscription):
    try:
        return Subscription(subscribed=subscribe(services.app, identity, body.subscribed))
    except ToolError as e:
        raise _http(e) from None


def welcome_line(services, identity, since: datetime) -> str | None:
    return since_line(services.app, identity, since)


async def schedule(services, every_seconds: float) -> None:
    """The server's own watch schedule (FINKRAFT_WATCH_EVERY_MINUTES): every process runs this loop; the
    lock in graph.watch makes exactly one of them run the detectors each time."""
    from starlette.concurrency import run_in_threadpool

    from graph.watch import watch

    while True:
        await asyncio.sleep(every_seconds)
        try:
            result = await run_in_threadpool(watch, services)
            if result.ran:
                log.info("watch: %s", "; ".join(w.summary for w in result.workspaces))
        except Exception:  # noqa: BLE001 - a failed run must not stop the schedule
            log.exception("watch run failed")
