"""POST /chat and POST /execute_tool."""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from tools.rbac import Identity
from tools.registry import run_tool

from .auth import current_identity
from .conversation import chat_turn
from .errors import raise_for_tool_result
from .metrics import record_tool_calls
from .schemas import ChatRequest, ExecuteToolRequest

router = APIRouter(tags=["chat"])


@router.post("/chat")
async def chat(body: ChatRequest, request: Request, identity: Identity = Depends(current_identity)):
    return await chat_turn(request.app.state.graph, request.app.state.services, identity, body.message, body.thread_id)


@router.post("/execute_tool")
async def execute_tool(body: ExecuteToolRequest, request: Request, identity: Identity = Depends(current_identity)):
    """Run one tool directly, with the same permission checks as chat (403 denied, 404 unknown, 400 bad params)."""
    services = request.app.state.services
    t0 = time.perf_counter()
    result = await run_in_threadpool(run_tool, body.tool_name, body.params, services.tool_context(identity))
    record_tool_calls([{"tool": body.tool_name, "status": result.status, "duration_ms": (time.perf_counter() - t0) * 1000}])
    raise_for_tool_result(result)
    data = dict(result.data)
    data.pop("keys", None)
    return {"success": True, "tool_used": body.tool_name, "message": result.message, "data": data,
            "sources": [s.model_dump() for s in result.sources]}
