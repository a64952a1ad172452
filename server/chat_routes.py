"""POST /chat and POST /execute_tool."""

from __future__ import annotations

import time

from fastapi import APIRouter

from tools.registry import run_tool

from .conversation import chat_turn
from .deps import GraphDep, IdentityDep, ServicesDep
from .errors import raise_for_tool_result
from .metrics import record_tool_calls
from .responses import EXACT, problems
from schema.chat import ChatResponse
from schema.tools import ExecuteToolResponse
from .schemas import ChatRequest, ExecuteToolRequest

router = APIRouter(tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatResponse,
    **EXACT,
    responses=problems(409, 507, _409="A `tool_call` while the conversation waits for a yes or no"),
)
async def chat(body: ChatRequest, graph: GraphDep, services: ServicesDep, identity: IdentityDep):
    """One turn of the conversation (async: the graph runs on the server's async checkpointer; its
    nodes and the trace write run in worker threads). With `tool_call`, that call is the request."""
    tool_call = body.tool_call.model_dump() if body.tool_call else None
    return await chat_turn(graph, services, identity, body.message, body.thread_id, tool_call=tool_call)


@router.post(
    "/execute_tool",
    response_model=ExecuteToolResponse,
    **EXACT,
    responses=problems(400, 403, 404, 409, 503, 507, _400="The tool refused its parameters or the data"),
)
def execute_tool(body: ExecuteToolRequest, services: ServicesDep, identity: IdentityDep):
    """Run one tool directly, with the same permission checks as chat (403 denied, 404 unknown, 400 bad params)."""
    t0 = time.perf_counter()
    result = run_tool(body.tool_name, body.params, services.tool_context(identity))
    record_tool_calls(
        [{"tool": body.tool_name, "status": result.status, "duration_ms": (time.perf_counter() - t0) * 1000}]
    )
    raise_for_tool_result(result)
    data = dict(result.data)
    data.pop("keys", None)
    return {
        "success": True,
        "tool_used": body.tool_name,
        "message": result.message,
        "data": data,
        "sources": [s.model_dump() for s in result.sources],
    }
