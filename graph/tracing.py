"""'Show your work': a LangChain callback handler that records each run into the traces table.

Attach `TraceRecorder(services.app, ...)` to a run's callbacks (graph/runs.py `traced_run` does, for
every request the server runs; notebooks may too). The trace id is the root run id. The row is written
when the root run ends; inside an event loop that write goes to a worker thread (the loop never
waits on the database: on SQLite a write may wait for another process's), and `await
recorder.afinish()` waits for it.

The recorder is also the run's unit of work: nodes `stage()` their application-database writes
(memory turns, notifications read) on it, and they commit in one transaction with the trace when the
run ends well (or pauses for a question). A run that fails writes none of them: a 500 never leaves
half a turn behind. (A tool's own write, e.g. a ticket, commits when the tool runs; `done_writes`
says which succeeded, so an error message never claims that nothing changed.) When the storage is
full or a store refuses the write, `unsaved` says what could not be kept (the answer is still
given, and says so).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, cast
from collections.abc import Callable, Iterable
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphBubbleUp
from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

from business_data.appdb import Trace, utcnow
from business_data.db import is_busy, is_disk_full
from tools.registry import tools_where

from .intent import routed_by
from .plain_steps import plain_steps

log = logging.getLogger("finkraft.trace")
INSERT_TRACE = insert(cast(Table, Trace.__table__))  # Core, not an ORM bulk insert
NODE_FIELDS = {
    "route": ("intent", "interpretation"),
    "plan": ("plan", "interpretation"),
    "gate": ("result",),
    "act": ("tool_calls",),
    "respond": ("response",),
    "confirm": ("pending_confirmation",),
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class TraceRecorder(BaseCallbackHandler):
    """Collects node outputs of one graph run and writes one Trace row when the run ends."""

    raise_error = False
    run_inline = True

    def __init__(self, app_engine, *, user_id: str, workspace_id: str, thread_id: str | None, request: str = ""):
        self.app_engine = app_engine
        self.user_id, self.workspace_id, self.thread_id, self.request = user_id, workspace_id, thread_id, request
        self.root: UUID | None = None
        self.trace_id: str | None = None
        self.steps: list[dict[str, Any]] = []
        self.starts: dict[UUID, tuple[str, float]] = {}
        self.intent: dict = {}
        self.interpretation: dict = {}
        self.plan: dict = {}
        self.tool_calls: list[dict] = []
        self.response = ""
        self.t0 = time.perf_counter()
        self.written = False
        self.paused_question: str | None = None  # set when a node paused the run with interrupt()
        self._lock = threading.Lock()
        self._writing: asyncio.Future | None = None  # the root's write, when it ended inside an event loop
        self.staged: list[Callable[[Connection], Iterable[Callable[[], None]] | None]] = []
        self.saved: bool | None = None  # None until the run ended; False when nothing could be written
        self.unsaved: list[str] = []  # what could not be saved ("history", "checkpoint")
        self.disk_full = False  # why: the storage was full
        self.busy = False  # why: another process kept the database locked (else a store refused the write)
        self.failed = False  # a node raised: the checkpointer drops this run's saves

    # -- the run's unit of work ------------------------------------------------------------------
    def stage(self, work: Callable[[Connection], Iterable[Callable[[], None]] | None]) -> None:
        """Run `work(connection)` in the transaction that writes the trace, when the run ends well.
        It may return callables to run once that transaction has committed."""
        self.staged.append(work)

    def storage_full(self, what: str) -> None:
        """A store refused a write for want of space (the checkpointer reports here)."""
        self.disk_full = True
        self.not_saved(what)

    def not_saved(self, what: str) -> None:
        """`what` ("history": the trace and the turn's memory) could not be saved; the host says so."""
        if what not in self.unsaved:
            self.unsaved.append(what)

    def done_writes(self) -> list[str]:
        """The messages of this run's tool calls that wrote something and succeeded."""
        writers = tools_where(writes=True)
        return [
            str(c.get("message") or c.get("tool"))
            for c in self.tool_calls
            if c.get("tool") in writers and c.get("status") == "success"
        ]

    # -- LangChain callback API ------------------------------------------------------------
    def on_chain_start(
        self, serialized, inputs, *, run_id: UUID, parent_run_id: UUID | None = None, metadata=None, **kw
    ):
        with self._lock:
            if self.root is None:  # the first run this handler sees is the graph run it was attached to
                self.root = run_id
                self.trace_id = run_id.hex
                self.t0 = time.perf_counter()
            node = (metadata or {}).get("langgraph_node")
            if node and (metadata or {}).get("langgraph_step") is not None and kw.get("name") == node:
                self.starts[run_id] = (node, time.perf_counter())

    def on_chain_end(self, outputs, *, run_id: UUID, parent_run_id: UUID | None = None, **kw):
        with self._lock:
            started = self.starts.pop(run_id, None)
            if started:
                node, t = started
                self._node_done(node, outputs, (time.perf_counter() - t) * 1000, "ok")
        if run_id == self.root:
            self._root_done("ok")

    def on_chain_error(self, error, *, run_id: UUID, parent_run_id: UUID | None = None, **kw):
        interrupted = type(error).__name__ in ("GraphInterrupt", "Interrupt", "NodeInterrupt")
        if interrupted and not self.paused_question:
            self.paused_question = _interrupt_question(error)
        with self._lock:
            started = self.starts.pop(run_id, None)
            if started and not isinstance(error, GraphBubbleUp):
                self.failed = True  # a node raised: the run fails, and saves nothing (graph/checkpointers.py)
            if started:
                node, t = started
                self._node_done(
                    node,
                    {},
                    (time.perf_counter() - t) * 1000,
                    "paused" if interrupted else "error",
                    error=None if interrupted else type(error).__name__,
                )
        if run_id == self.root:
            self._root_done("paused" if interrupted else "error")

    def _root_done(self, status: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a sync run (invoke, stream): write here
            self.write(status)
            return
        self._writing = loop.run_in_executor(None, self.write, status)

    # -- recording --------------------------------------------------------------------------
    def _node_done(self, node: str, outputs: Any, ms: float, status: str, error: str | None = None):
        step: dict[str, Any] = {"node": node, "status": status, "duration_ms": round(ms, 2)}
        if error:
            step["error"] = error
        if isinstance(outputs, dict):
            if node == "route" and outputs.get("intent"):
                self.intent = _jsonable(outputs["intent"])
            if node == "plan" and outputs.get("plan"):
                self.plan = _jsonable(outputs["plan"])
            if node in ("route", "plan") and outputs.get("interpretation"):
                self.interpretation = _jsonable(outputs["interpretation"])
            if outputs.get("tool_calls"):
                self.tool_calls = _jsonable(outputs["tool_calls"])
            if node == "respond" and outputs.get("response"):
                self.response = outputs["response"]
            for key in NODE_FIELDS.get(node, ()):
                if key in outputs and key not in ("tool_calls",):
                    step[key] = _jsonable(outputs[key])
        self.steps.append(step)

    def finish(self, status: str = "ok", response: str | None = None) -> None:
        """Write now (e.g. when a run was interrupted and no root end event arrived)."""
        if response:
            self.response = response
        self.write(status)

    async def afinish(self, status: str = "ok", response: str | None = None) -> None:
        """finish() for async callers: waits for the root's write, or writes in a worker thread."""
        if self._writing is not None:
            await self._writing
        if not self.written:
            await asyncio.to_thread(self.finish, status, response)

    def write(self, status: str) -> None:
        """The trace and the staged writes, in one transaction; nothing when the run failed."""
        with self._lock:
            if self.written or self.trace_id is None:
                return
            self.written = True
            if self.paused_question and status == "ok":  # the run ended at a confirmation question
                status = "paused"
                self.response = self.response or self.paused_question
        if status == "error" or self.failed:
            self.saved = False
            log.info("run %s failed: its trace and memory writes are dropped", self.trace_id)
            return
        try:
            after: list[Callable[[], None]] = []
            with self.app_engine.begin() as s:  # one transaction, on a connection (no ORM session: one per turn)
                s.execute(  # a plain INSERT
                    INSERT_TRACE,
                    {
                        "trace_id": self.trace_id,
                        "user_id": self.user_id,
                        "workspace_id": self.workspace_id,
                        "thread_id": self.thread_id,
                        "request": self.request[:4000],
                        "response": self.response[:8000],
                        "router": routed_by(self.intent)[:32],
                        "plan": {"intent": self.intent, "plan": self.plan, "interpretation": self.interpretation},
                        "steps": [*self.steps, {"node": "_tool_calls", "tool_calls": self.tool_calls}],
                        "status": status,
                        "outcome": outcome_of(self.tool_calls),
                        "tools": tools_text(self.tool_calls),
                        "duration_ms": round((time.perf_counter() - self.t0) * 1000, 2),
                        "created_at": utcnow(),
                    },
                )
                for work in self.staged:
                    after.extend(work(s) or ())
            self.saved = True
        except Exception as exc:  # a trace must never break an answer
            self.saved = False
            if is_disk_full(exc):
                self.storage_full("history")
                log.warning("out of disk space: trace %s and its memory turns were not saved", self.trace_id)
            else:  # e.g. the traces or memory table refused it: the answer says so (server/conversation.py)
                self.busy = self.busy or is_busy(exc)
                self.not_saved("history")
                log.exception("could not write trace %s and its memory turns", self.trace_id)
            return
        for callback in after:
            try:
                callback()
            except Exception:  # noqa: BLE001 - e.g. queueing an embedding; the rows are saved
                log.exception("after saving trace %s", self.trace_id)


def outcome_of(calls: list[dict]) -> str:
    """ok | refused (a role or workspace said no to a step) | failed (a step failed): the explorer's filter."""
    statuses = {c.get("status") for c in calls}
    if "denied" in statuses:
        return "refused"
    if statuses - {"success", None}:
        return "failed"
    return "ok"


def tools_text(calls: list[dict]) -> str:
    """' filter_data export_report ': the tools a run called, each between spaces (an exact LIKE match)."""
    names = list(dict.fromkeys(str(c.get("tool")) for c in calls if c.get("tool")))
    text = " " + " ".join(names) + " " if names else ""
    return text if len(text) <= 300 else text[:300].rsplit(" ", 1)[0] + " "


def _interrupt_question(error: BaseException) -> str | None:
    for arg in getattr(error, "args", ()):
        for item in arg if isinstance(arg, (list, tuple)) else [arg]:
            value = getattr(item, "value", None)
            if isinstance(value, dict):
                return str(value.get("question") or value)
            if value is not None:
                return str(value)
    return None


def plain_trace(trace: Trace) -> dict[str, Any]:
    """A user's own trace in plain words: what ran and what data was consulted."""
    plan = trace.plan or {}
    intent, steps_plan = plan.get("intent") or {}, plan.get("plan") or {}
    calls: list[dict[str, Any]] = (
        next((s.get("tool_calls") for s in trace.steps if s.get("node") == "_tool_calls"), []) or []
    )
    lines = []
    if intent:
        how = f"the language model ({intent.get('model')})" if intent.get("router") == "llm" else "the offline parser"
        lines.append(
            f"I read your request with {how}" + (f": {intent.get('reason')}" if intent.get("reason") else "") + "."
        )
    understood = plan.get("interpretation") or {}
    if understood.get("summary"):
        lines.append(f"I understood: {understood['summary']}.")
    if understood.get("unused"):
        lines.append("Words I could not use: " + ", ".join(understood["unused"]) + ".")
    if steps_plan.get("reason"):
        lines.append(f"Plan: {steps_plan['reason']}.")
    consulted = []
    for c in calls:
        params = ", ".join(
            f"{k}={v if not isinstance(v, list) else f'{len(v)} items'}" for k, v in (c.get("params") or {}).items()
        )
        lines.append(f"Ran {c.get('tool')}({params}) -> {c.get('status')} in {c.get('duration_ms', 0):.0f} ms.")
        for src in c.get("sources") or []:
            filt = ", ".join(f"{k}={v}" for k, v in (src.get("filters") or {}).items() if k != "workspace_id")
            consulted.append({"table": src.get("table"), "rows": src.get("rows"), "filters": filt})
    return {
        "trace_id": trace.trace_id,
        "thread_id": trace.thread_id,
        "created_at": trace.created_at.isoformat(),
        "request": trace.request,
        "response": trace.response,
        "status": trace.status,
        "duration_ms": trace.duration_ms,
        "summary": lines,
        "work": plain_steps(calls, trace.status, trace.response),
        "outcome": trace.outcome or "ok",
        "data_consulted": consulted,
        "tool_calls": [
            {
                "tool": c.get("tool"),
                "params": c.get("params"),
                "status": c.get("status"),
                "duration_ms": c.get("duration_ms"),
            }
            for c in calls
        ],
    }


def full_trace(trace: Trace) -> dict[str, Any]:
    out = plain_trace(trace)
    out.update(
        {
            "user_id": trace.user_id,
            "workspace_id": trace.workspace_id,
            "router": trace.router,
            "plan": trace.plan,
            "steps": trace.steps,
        }
    )
    return out
