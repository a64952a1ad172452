"""POST /chat/stream: one chat turn as Server-Sent Events, for clients that show the work live.

Same body, auth, rate limit, thread namespacing and tracing as POST /chat (it runs the same
`chat_turn`). Events:

- `step`, once per graph node as it finishes: `{"node", "label", "detail", "duration_ms", "status"}`
  with a plain label ("understanding your request", "checking permissions", "reading invoices…");
  nodes of a template subgraph carry `"template"` too.
- `answer`, once, at the end: exactly the `/chat` response body.
- `error`, instead of `answer`, if the turn failed: `{"detail", "error_id"}` with a plain sentence.
  Nothing was written in that case (the checkpoint is only saved when a run ends).

Errors before the stream starts (401, 413, 422, 429) are ordinary JSON error responses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any
from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, HTTPException
from langchain_core.callbacks import BaseCallbackHandler
from sse_starlette import EventSourceResponse

from tools.registry import spec
from tools.toolnames import CREATE_TICKET

from .conversation import chat_turn
from .deps import GraphDep, IdentityDep, ServicesDep
from .errors import error_detail
from .schemas import ChatRequest

log = logging.getLogger("finkraft.server")
router = APIRouter(tags=["chat"])

NODE_LABELS = {
    "context": "remembering where we left off",
    "route": "understanding your request",
    "plan": "planning the steps",
    "gate": "checking permissions",
    "confirm": "checking what needs your confirmation",
    "act": "running the tools",
    "respond": "writing the answer",
    "remember": "saving this conversation",
    "invoice_investigation": "investigating the invoices",
    "vendor_analysis": "analysing the vendor",
    "monthly_review": "reviewing the month",
}
TEMPLATE_STEP_LABELS = {
    "filter": "reading invoices…",
    "gather": "reading invoices…",
    "collect": "reading invoices…",
    "analyse": "analysing failures",
    "performance": "measuring vendor performance",
    "summarise": "summarising the month",
    "report": "writing the report",
    "propose": "preparing a proposal",
    CREATE_TICKET: "creating the ticket",
    "export": "writing the export file",
    "finish": "wrapping up",
}
_tasks: set[asyncio.Task] = set()  # turns still running after their client went away (they finish anyway)


def _tool_label(call: dict) -> str:
    """What the tool declares it is doing (ToolSpec.progress), with its dataset."""
    tool = str(call.get("tool") or "")
    declared = spec(tool)
    if declared is None or not declared.progress:
        return f"running {tool.replace('_', ' ')}"
    return declared.progress.format(dataset=(call.get("params") or {}).get("dataset") or "invoices")


def _act_step(outputs: Any) -> tuple[str, str]:
    """The act node's label from the tools it ran, and a detail such as 'invoices: 7 rows'."""
    calls = (outputs or {}).get("tool_calls") or [] if isinstance(outputs, dict) else []
    if not calls:
        return NODE_LABELS["act"], ""
    label = ", ".join(dict.fromkeys(_tool_label(c) for c in calls))
    sources = [
        f"{s.get('table')}: {s.get('rows')} rows" for c in calls for s in c.get("sources") or [] if s.get("table")
    ]
    return label, "; ".join(sources)


class StepReporter(BaseCallbackHandler):
    """Hands each finished graph node to `emit` as a `step` payload (called from any thread)."""

    raise_error = False
    run_inline = True

    def __init__(self, emit: Callable[[dict], None]):
        self.emit = emit
        self.started: dict[UUID, tuple[str, str | None, float]] = {}

    def on_chain_start(
        self, serialized, inputs, *, run_id: UUID, parent_run_id: UUID | None = None, metadata=None, **kw
    ):
        meta = metadata or {}
        node = meta.get("langgraph_node")
        if not node or node.startswith("__") or meta.get("langgraph_step") is None or kw.get("name") != node:
            return
        if parent_run_id in self.started and self.started[parent_run_id][0] == node:
            return  # a compiled subgraph runs inside its own node of the same name: report it once
        ns = str(meta.get("langgraph_checkpoint_ns") or "")
        parent = ns.split("|")[0].split(":")[0] if "|" in ns else None  # a template subgraph's own node
        self.started[run_id] = (node, parent, time.perf_counter())

    def on_chain_end(self, outputs, *, run_id: UUID, **kw):
        self._done(run_id, outputs, "ok")

    def on_chain_error(self, error, *, run_id: UUID, **kw):
        paused = type(error).__name__ in ("GraphInterrupt", "Interrupt", "NodeInterrupt")
        self._done(run_id, {}, "paused" if paused else "error")

    def _done(self, run_id: UUID, outputs: Any, status: str) -> None:
        started = self.started.pop(run_id, None)
        if started is None:
            return
        node, template, t0 = started
        detail = ""
        if template:
            label = TEMPLATE_STEP_LABELS.get(node, node.replace("_", " "))
        elif node == "act":
            label, detail = _act_step(outputs)
        else:
            label = NODE_LABELS.get(node, node.replace("_", " "))
        if node == "confirm" and status == "paused":
            label = "waiting for your yes or no"
        step = {
            "node": node,
            "label": label,
            "detail": detail,
            "status": status,
            "duration_ms": round((time.perf_counter() - t0) * 1000, 2),
        }
        if template:
            step["template"] = template
        try:
            self.emit(step)
        except Exception:  # a progress report must never break the turn
            log.exception("could not report step %s", node)


def _sse(event: str, data: dict) -> dict:
    return {"event": event, "data": json.dumps(data, default=str, ensure_ascii=False)}


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`step` events, then one `answer` (the /chat body) or `error`",
        }
    },
)
async def chat_stream(body: ChatRequest, graph: GraphDep, services: ServicesDep, identity: IdentityDep):
    """One chat turn as Server-Sent Events: `step` per graph node, then `answer` (the /chat body) or `error`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()

    def emit(step: dict) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("step", step))

    async def run() -> None:
        try:
            answer = await chat_turn(
                graph,
                services,
                identity,
                body.message,
                body.thread_id,
                callbacks=[StepReporter(emit)],
                tool_call=body.tool_call.model_dump() if body.tool_call else None,
            )
        except Exception as exc:  # the client gets a sentence and an id; the stack trace goes to the log only
            error_id = uuid.uuid4().hex[:12]
            log.error("chat stream failed %s", error_id, exc_info=exc)
            status, detail = error_detail(exc, error_id)
            if isinstance(exc, HTTPException):  # e.g. a 507: the turn's own plain answer
                status, detail = exc.status_code, str(exc.detail)
            await queue.put(("error", {"detail": detail, "error_id": error_id, "status": status}))
        else:  # the /chat body (schema.chat.ChatResponse)
            await queue.put(("answer", answer))

    task = asyncio.create_task(run())  # not tied to the connection: a turn the client left still completes
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)

    async def events():
        while True:
            kind, data = await queue.get()  # steps are queued in order, before the answer
            yield _sse(kind, data)
            if kind in ("answer", "error"):
                return

    return EventSourceResponse(events(), ping=15)
