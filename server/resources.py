"""Tickets, notifications, exports, traces, memory and threads: the user's own things.

Handlers that read the database are plain `def` (FastAPI runs them in the thread pool)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from fastapi import APIRouter, HTTPException, Path as PathParam, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from business_data.appdb import Export, TicketComment, Trace, User
from business_data.db import session_scope
from graph.runs import checkpoint_thread
from graph.tracing import full_trace, plain_trace
from tools.base import ToolError
from tools.exports import get_export
from tools.rbac import may_read, mine, readable_by
from tools.registry import run_tool
from tools.notifications import list_notifications, mark_all_read
from tools.tickets import normalise_ticket_id, ticket_id_or_none
from tools.results import TicketRecord, TicketsData, TicketUpdateData
from tools.toolnames import UPDATE_TICKET, VIEW_TICKETS

from .deps import CheckpointerDep, IdentityDep, ServicesDep
from .errors import Invalid, raise_for_tool_result
from .per_user import is_user_id, tickets_of
from .trace_explorer import trace_item
from .responses import EXACT, Forgotten, MemorySearch, problems, UserTickets
from schema.chat import ThreadTurns
from schema.tickets import Assignees, ExportList, MarkedRead, NotificationList, TicketDetail, TicketList, TicketUpdated
from schema.traces import FullTraceView, TraceList, TraceView
from .schemas import TicketPatch
from .threads import forget_titles, with_trace_ids

router = APIRouter()
TICKET_OR_USER = PathParam(
    ..., description="a ticket id (T-00001; t-1 and 1 work too), or a user id (maya): that user's tickets"
)
MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _tool_or_http(name: str, params: dict, services, identity):
    result = run_tool(name, params, services.tool_context(identity))
    raise_for_tool_result(result)
    return result


@router.get(
    "/tickets",
    tags=["tickets"],
    response_model=TicketList,
    **EXACT,
    responses=problems(400, _400="Not a ticket status"),
)
def tickets(services: ServicesDep, identity: IdentityDep, status: str | None = None):
    params = {"status": status} if status else {}
    result = _tool_or_http(VIEW_TICKETS, params, services, identity)
    return {"tickets": cast(TicketsData, result.data)["tickets"]}


@router.get(
    "/tickets/{ticket_id}",
    tags=["tickets"],
    response_model=TicketDetail | UserTickets,
    **EXACT,
    responses=problems(400, 403, _400="Not a ticket status", _403="Another user's tickets"),
)
def ticket(
    services: ServicesDep,
    identity: IdentityDep,
    ticket_id: str = TICKET_OR_USER,
    status: str | None = Query(None, description="with a user id: only tickets with this status"),
):
    """One ticket (`T-00001`, `t-1`, `1`), with its history; or, given a user id (`maya`), the tickets
    that user sees (GET /tickets as them: the caller's own, or anyone's for an Admin; else 403)."""
    if ticket_id_or_none(ticket_id) is None and is_user_id(ticket_id):
        return tickets_of(services, identity, ticket_id, status)
    found = _one_ticket(ticket_id, services, identity)
    return {**found, "history": _ticket_history(services.app, found["ticket_id"])}


def _one_ticket(ticket_id: str, services, identity) -> TicketRecord:
    """The ticket if the caller may see it, else 404."""
    data = cast(TicketsData, _tool_or_http(VIEW_TICKETS, {"ticket_id": ticket_id}, services, identity).data)
    if not data["tickets"]:
        raise HTTPException(404, f"I can't find ticket {normalise_ticket_id(ticket_id)} among the tickets you can see.")
    return data["tickets"][0]


def _ticket_history(app_engine, ticket_id: str) -> list[dict]:
    """Comments, status changes and assignments of a ticket the caller may see, oldest first, with names."""
    with session_scope(app_engine) as s:
        q = select(TicketComment).where(TicketComment.ticket_id == ticket_id).order_by(TicketComment.id)
        rows = list(s.scalars(q))
        ids = {c.author for c in rows} | {u for c in rows for u in (c.assignee_from, c.assignee_to) if u}
        names = dict(s.execute(select(User.user_id, User.display_name).where(User.user_id.in_(ids))).all())
        return [
            {
                "author": c.author,
                "author_name": names.get(c.author, c.author),
                "comment": c.comment,
                "status_from": c.status_from,
                "status_to": c.status_to,
                "assignee_from": c.assignee_from,
                "assignee_to": c.assignee_to,
                "assignee_from_name": names.get(c.assignee_from) if c.assignee_from else None,
                "assignee_to_name": names.get(c.assignee_to) if c.assignee_to else None,
                "created_at": c.created_at.isoformat(),
            }
            for c in rows
        ]


@router.get(
    "/tickets/{ticket_id}/assignees",
    tags=["tickets"],
    response_model=Assignees,
    **EXACT,
    responses=problems(404, _404="No such ticket among yours"),
)
def ticket_assignees(ticket_id: str, services: ServicesDep, identity: IdentityDep):
    """Who a ticket you can see may be assigned to: the active users of its workspace."""
    found = _one_ticket(ticket_id, services, identity)
    with session_scope(services.app) as s:
        q = select(User.user_id, User.display_name, User.role).where(
            User.workspace_id == found["workspace_id"], User.active.is_(True)
        )
        users = [{"user_id": u, "display_name": n, "role": r} for u, n, r in s.execute(q.order_by(User.display_name))]
    return {"ticket_id": found["ticket_id"], "assignee": found["assignee"], "users": users}


@router.patch(
    "/tickets/{ticket_id}",
    tags=["tickets"],
    response_model=TicketUpdated,
    **EXACT,
    responses=problems(
        400,
        403,
        409,
        503,
        507,
        _403="A Viewer, or a ticket you may not change",
        _409="The change clashes with the ticket's state",
    ),
)
def patch_ticket(ticket_id: str, body: TicketPatch, services: ServicesDep, identity: IdentityDep):
    assigning = "assignee" in body.model_fields_set
    if body.status is None and not (body.comment or "").strip() and not assigning:
        raise Invalid(("body",), "send a new 'status', an 'assignee' or a 'comment'")
    params = {"ticket_id": ticket_id, **body.model_dump(exclude_none=True, exclude={"assignee"})}
    if assigning:
        if body.assignee is not None and not body.assignee.strip():
            raise Invalid(("body", "assignee"), "give a user id, or null to unassign")
        params["assignee"] = body.assignee or ""  # the tool's '' unassigns
    result = _tool_or_http(UPDATE_TICKET, params, services, identity)
    data = cast(TicketUpdateData, result.data)
    return {**data["ticket"], "notified": data["notified"], "message": result.message}


@router.get(
    "/notifications",
    tags=["tickets"],
    response_model=NotificationList,
    **EXACT,
    responses=problems(400, _400="`mark_read` was sent: marking read is POST /notifications/read"),
)
def notifications(
    request: Request,
    services: ServicesDep,
    identity: IdentityDep,
    unread_only: bool = False,
):
    """Your notifications, newest first (at most 200). Read-only: POST /notifications/read marks them read."""
    if "mark_read" in request.query_params:  # a GET never changes state (any site can make a browser send one)
        raise HTTPException(
            400,
            "GET /notifications no longer marks anything read; send POST /notifications/read instead "
            "(and leave 'mark_read' out).",
        )
    return {"notifications": list_notifications(services.tool_context(identity), unread_only)}


@router.post("/notifications/read", tags=["tickets"], response_model=MarkedRead, **EXACT)
def mark_notifications_read(services: ServicesDep, identity: IdentityDep):
    """Mark all your unread notifications read; answers how many were marked."""
    return {"marked_read": mark_all_read(services.tool_context(identity))}


@router.get("/exports", tags=["exports"], response_model=ExportList, **EXACT)
def exports(services: ServicesDep, identity: IdentityDep):
    with session_scope(services.app) as s:
        q = (
            select(Export)
            .where(mine(identity, Export.owner, Export.workspace_id))
            .order_by(Export.created_at.desc())
            .limit(100)
        )
        return {
            "exports": [
                {
                    "export_id": e.export_id,
                    "format": e.format,
                    "rows": e.rows,
                    "title": e.title,
                    "created_at": e.created_at.isoformat(),
                    "url": f"/exports/{e.export_id}/download",
                }
                for e in s.scalars(q)
            ]
        }


@router.get(
    "/exports/{export_id}/download",
    tags=["exports"],
    response_class=FileResponse,
    responses={
        200: {"content": {m: {} for m in MEDIA.values()}, "description": "The exported file"},
        **problems(410, _410="The file is no longer on the server"),
    },
)
def download(export_id: str, services: ServicesDep, identity: IdentityDep):
    try:
        export = get_export(services.tool_context(identity), export_id)
    except ToolError as e:
        raise HTTPException(404, e.message) from None
    path = Path(export.path)
    if not path.is_file():
        raise HTTPException(410, "That export's file is no longer on the server; export it again.")
    return FileResponse(
        path,
        media_type=MEDIA[export.format],
        filename=f"finkraft-{export.dataset}-{export.export_id[:8]}.{export.format}",
    )


@router.get("/traces", tags=["traces"], response_model=TraceList, **EXACT)
def traces(services: ServicesDep, identity: IdentityDep, limit: int = Query(20, ge=1, le=200)):
    with session_scope(services.app) as s:
        q = (
            select(Trace)
            .where(readable_by(identity, Trace.user_id, Trace.workspace_id))
            .order_by(Trace.created_at.desc())
            .limit(limit)
        )
        return {"traces": [trace_item(t) for t in s.scalars(q)]}


@router.get("/traces/{trace_id}", tags=["traces"], response_model=FullTraceView | TraceView, **EXACT)
def trace(trace_id: str, services: ServicesDep, identity: IdentityDep):
    """Your own trace in plain words; an Admin sees anyone's, with everything recorded."""
    trace_id = trace_id.replace("-", "").lower()  # a LangServe run_id (dashed UUID) names the same trace
    with session_scope(services.app) as s:
        t = s.get(Trace, trace_id)
        if t is None or not may_read(identity, t.user_id, t.workspace_id):
            raise HTTPException(404, "No such trace among yours.")
        return full_trace(t) if identity.is_admin else plain_trace(t)


@router.get("/memory/search", tags=["memory"], response_model=MemorySearch, **EXACT)
def memory_search(
    services: ServicesDep,
    identity: IdentityDep,
    q: str = Query(..., min_length=1, max_length=500),
    k: int = Query(5, ge=1, le=50),
):
    return {"results": services.memory.search(identity, q, k)}


@router.get("/threads/{thread_id}", tags=["memory"], response_model=ThreadTurns, **EXACT)
def thread(thread_id: str, services: ServicesDep, identity: IdentityDep, limit: int = Query(50, ge=1, le=500)):
    turns = services.memory.thread_turns(identity, thread_id, limit)  # answers typed: drawn again on resume
    if not turns:
        raise HTTPException(404, f"No conversation '{thread_id}' in your history.")
    return {"thread_id": thread_id, "turns": with_trace_ids(services.app, identity, thread_id, turns)}


@router.delete("/memory", tags=["memory"], response_model=Forgotten, **EXACT)
async def forget_me(services: ServicesDep, saver: CheckpointerDep, identity: IdentityDep):
    """'Forget me': delete the caller's conversation history, memories and index entries, and their checkpoints."""
    counts = await run_in_threadpool(services.memory.forget, identity)
    for thread_id in counts.get("thread_ids", []):
        await saver.adelete_thread(checkpoint_thread(identity, thread_id))
    await run_in_threadpool(forget_titles, services.app, identity, counts.get("thread_ids", []))
    return {
        "deleted": {k: v for k, v in counts.items() if k != "thread_ids"},
        "threads": len(counts.get("thread_ids", [])),
    }
