"""Tickets, notifications, exports, traces, memory and threads: the user's own things."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from business_data.db import session_scope
from graph.tracing import full_trace, plain_trace
from tools.appdb import Export, Trace
from tools.base import ToolError
from tools.exports import get_export
from tools.rbac import Identity
from tools.registry import run_tool
from tools.tickets import list_notifications

from .auth import current_identity
from .conversation import checkpoint_thread
from .errors import raise_for_tool_result
from .schemas import TicketPatch

router = APIRouter()
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def _tool_or_http(name: str, params: dict, request: Request, identity: Identity):
    result = run_tool(name, params, request.app.state.services.tool_context(identity))
    raise_for_tool_result(result)
    return result


@router.get("/tickets", tags=["tickets"])
async def tickets(request: Request, status: str | None = None, identity: Identity = Depends(current_identity)):
    params = {"status": status} if status else {}
    result = await run_in_threadpool(_tool_or_http, "view_tickets", params, request, identity)
    return {"tickets": result.data["tickets"]}


@router.get("/tickets/{ticket_id}", tags=["tickets"])
async def ticket(ticket_id: str, request: Request, identity: Identity = Depends(current_identity)):
    result = await run_in_threadpool(_tool_or_http, "view_tickets", {"ticket_id": ticket_id}, request, identity)
    if not result.data["tickets"]:
        raise HTTPException(404, f"I can't find ticket {ticket_id} among the tickets you can see.")
    return result.data["tickets"][0]


@router.patch("/tickets/{ticket_id}", tags=["tickets"])
async def patch_ticket(ticket_id: str, body: TicketPatch, request: Request, identity: Identity = Depends(current_identity)):
    if body.status is None and not (body.comment or "").strip():
        raise HTTPException(422, "Invalid request: send a new 'status' or a 'comment'.")
    params = {"ticket_id": ticket_id, **body.model_dump(exclude_none=True)}
    result = await run_in_threadpool(_tool_or_http, "update_ticket", params, request, identity)
    return {**result.data["ticket"], "notified": result.data.get("notified", []), "message": result.message}


@router.get("/notifications", tags=["tickets"])
async def notifications(request: Request, unread_only: bool = False, mark_read: bool = False,
                        identity: Identity = Depends(current_identity)):
    ctx = request.app.state.services.tool_context(identity)
    return {"notifications": await run_in_threadpool(list_notifications, ctx, unread_only, mark_read)}


@router.get("/exports", tags=["exports"])
async def exports(request: Request, identity: Identity = Depends(current_identity)):
    with session_scope(request.app.state.services.app) as s:
        q = select(Export).where(Export.owner == identity.user_id).order_by(Export.created_at.desc()).limit(100)
        return {"exports": [{"export_id": e.export_id, "format": e.format, "rows": e.rows, "title": e.title,
                             "created_at": e.created_at.isoformat(), "url": f"/exports/{e.export_id}/download"} for e in s.scalars(q)]}


@router.get("/exports/{export_id}/download", tags=["exports"])
async def download(export_id: str, request: Request, identity: Identity = Depends(current_identity)):
    ctx = request.app.state.services.tool_context(identity)
    try:
        export = get_export(ctx, export_id)
    except ToolError as e:
        raise HTTPException(404, e.message) from None
    path = Path(export.path)
    if not path.is_file():
        raise HTTPException(410, "That export's file is no longer on the server; export it again.")
    return FileResponse(path, media_type=MEDIA[export.format], filename=f"finkraft-{export.dataset}-{export.export_id[:8]}.{export.format}")


@router.get("/traces", tags=["traces"])
async def traces(request: Request, limit: int = Query(20, ge=1, le=200), identity: Identity = Depends(current_identity)):
    with session_scope(request.app.state.services.app) as s:
        q = select(Trace).order_by(Trace.created_at.desc()).limit(limit)
        if not identity.is_admin:
            q = q.where(Trace.user_id == identity.user_id)
        return {"traces": [{"trace_id": t.trace_id, "request": t.request, "status": t.status, "thread_id": t.thread_id,
                            "created_at": t.created_at.isoformat(), "user_id": t.user_id} for t in s.scalars(q)]}


@router.get("/traces/{trace_id}", tags=["traces"])
async def trace(trace_id: str, request: Request, identity: Identity = Depends(current_identity)):
    trace_id = trace_id.replace("-", "").lower()  # a LangServe run_id (dashed UUID) names the same trace
    with session_scope(request.app.state.services.app) as s:
        t = s.get(Trace, trace_id)
        if t is None or not (identity.is_admin or t.user_id == identity.user_id):
            raise HTTPException(404, "No such trace among yours.")
        return full_trace(t) if identity.is_admin else plain_trace(t)


@router.get("/memory/search", tags=["memory"])
async def memory_search(request: Request, q: str = Query(..., min_length=1, max_length=500), k: int = Query(5, ge=1, le=50),
                        identity: Identity = Depends(current_identity)):
    memory = request.app.state.services.memory
    return {"results": await run_in_threadpool(memory.search, identity, q, k)}


@router.get("/threads", tags=["memory"])
async def threads(request: Request, identity: Identity = Depends(current_identity)):
    memory = request.app.state.services.memory
    return {"threads": await run_in_threadpool(memory.list_threads, identity)}


@router.get("/threads/{thread_id}", tags=["memory"])
async def thread(thread_id: str, request: Request, limit: int = Query(50, ge=1, le=500), identity: Identity = Depends(current_identity)):
    memory = request.app.state.services.memory
    turns = await run_in_threadpool(memory.recent_turns, identity, thread_id, limit)
    if not turns:
        raise HTTPException(404, f"No conversation '{thread_id}' in your history.")
    return {"thread_id": thread_id, "turns": turns}


@router.delete("/memory", tags=["memory"])
async def forget_me(request: Request, identity: Identity = Depends(current_identity)):
    """'Forget me': delete the caller's conversation history, memories and index entries, and their checkpoints."""
    services = request.app.state.services
    counts = await run_in_threadpool(services.memory.forget, identity)
    saver = request.app.state.checkpointer
    for thread_id in counts.get("thread_ids", []):
        await saver.adelete_thread(checkpoint_thread(identity, thread_id))
    return {"deleted": {k: v for k, v in counts.items() if k != "thread_ids"}, "threads": len(counts.get("thread_ids", []))}
