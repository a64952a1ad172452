"""What the three templates share: their state, step bookkeeping with retries, data access,
the shape of the subgraph and the outcome of a run.

A template whose write asks first (a ticket: `ToolSpec.confirm`) runs twice in a turn:
  1st run: START -> step -> step -> ... -> propose -> END   (pending_confirmation set)
           the parent's `confirm` node asks and pauses (interrupt)
  2nd run: START -> write -> finish -> END                  (approved)
           START -> finish -> END                           (declined: nothing written)
The work of the first run lives in `template_data` (checkpointed), so it is not repeated.
A write that does not ask (an export) runs straight after `propose`, and the report comes with its file.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, cast
from collections.abc import Callable, Mapping, Sequence

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy
from pydantic import ValidationError
from typing_extensions import TypedDict

from business_data.db import session_scope
from tools.base import Source, ToolContext, ToolError, ToolResult
from tools.money import money as format_money
from tools.queries import MAX_KEYS, FilterParams, select_rows
from tools.rbac import UnknownUser
from tools.registry import (
    TOOLS,
    asks_first,
    can_run,
    denial_message,
    describe_validation_error,
    run_tool,
    validate_params,
)
from tools.results import ExportData, StepOutcome, TemplateRunData, WrittenItem, shared
from tools.templates import TemplateParams
from tools.toolnames import CREATE_TICKET, FILTER_DATA, RUN_TEMPLATE

from ..confirmation import new_pending, yes_no
from ..context import RunSettings
from ..services import Services
from ..state import ToolCallRecord, tool_call

log = logging.getLogger("finkraft.templates")


class TemplateState(TypedDict, total=False):
    """The parent's keys a template reads and writes (a subgraph shares them with the parent)."""

    plan: dict[str, Any] | None
    template_data: dict[str, Any]
    step_statuses: list[StepOutcome]
    pending_confirmation: dict[str, Any] | None
    confirmation: dict[str, Any] | None
    response: str
    result: dict[str, Any] | None
    tool_calls: list[dict[str, Any]]
    last_result: dict[str, Any] | None
    last_ticket_id: str | None
    last_export_id: str | None


def template_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Validated, normalised template parameters (ToolError with a plain message if not)."""
    try:
        return TemplateParams.model_validate(params or {}).model_dump(exclude_none=True)
    except ValidationError as e:
        raise ToolError(describe_validation_error(e)) from None


class StepFailed(Exception):
    """A step failed for a reason the user can read; never retried."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_transient(exc: Exception) -> bool:
    return not isinstance(exc, (StepFailed, ToolError, UnknownUser, GraphBubbleUp))


# Read steps are retried (backoff 0.05 s, 0.1 s); write steps never are (not idempotent).
STEP_RETRY = RetryPolicy(
    max_attempts=3, initial_interval=0.05, backoff_factor=2.0, max_interval=1.0, jitter=False, retry_on=is_transient
)


@dataclass
class Step:
    """What a step function gets: the tool context, the template's params and data so far."""

    ctx: ToolContext
    params: dict[str, Any]
    data: dict[str, Any]
    calls: list[ToolCallRecord] = field(default_factory=list)
    update: dict[str, Any] = field(default_factory=dict)  # extra state keys (last_ticket_id, ...)

    def rows(self, limit: int = MAX_KEYS, **filters: Any) -> dict[str, Any]:
        """Rows through tools.queries.select_rows: workspace scoping and vendor matching in one place."""
        if not can_run(self.ctx.identity, FILTER_DATA):
            raise StepFailed(denial_message(self.ctx.identity, FILTER_DATA))
        try:
            p = FilterParams.model_validate({k: v for k, v in filters.items() if v is not None} | {"limit": 1})
        except ValidationError as e:
            raise StepFailed(describe_validation_error(e)) from None
        with session_scope(self.ctx.business) as s:
            r = select_rows(self.ctx, s, p, limit=limit)
        self.calls.append(
            tool_call(
                FILTER_DATA,
                p.model_dump(exclude_none=True, exclude={"limit"}),
                "success",
                f"{r['matched']} {p.dataset}",
                sources=[Source(table=p.dataset, filters=r["filters"], rows=r["matched"])],
            )
        )
        return r

    def tool(self, name: str, params: dict[str, Any]) -> ToolResult:
        """A read tool from the registry (same role check and validation as run_tool), but an
        unexpected exception propagates so that the step's RetryPolicy can retry it."""
        if not can_run(self.ctx.identity, name):
            raise StepFailed(denial_message(self.ctx.identity, name))
        func = TOOLS[name].func
        if func is None:  # (run_template: the graph's, not a step's)
            raise StepFailed(f"{name} can't run inside a template step.")
        res = func(self.ctx, validate_params(name, params))
        self.calls.append(tool_call(name, params, res.status, res.message, sources=res.sources))
        return res

    def write(self, name: str, params: dict[str, Any]) -> ToolResult:
        """A write, through run_tool (never raises; not retried)."""
        res = run_tool(name, params, self.ctx)
        self.calls.append(tool_call(name, params, res.status, res.message, sources=res.sources))
        if res.status != "success":
            raise StepFailed(res.message)
        return res


StepFn = Callable[[Step], str]  # returns the step's one-line message; puts results in step.data

_attempts: dict[tuple[str, str], int] = {}  # (thread, task namespace) -> failed attempts so far


def step_node(name: str, fn: StepFn, services: Services, *, retried: bool = True):
    """A graph node running `fn`, recording {step, status, attempts, message}. Under STEP_RETRY
    a transient failure is raised back to LangGraph, which runs the node again; the last
    attempt's failure is reported plainly instead, keeping the steps that succeeded."""
    max_attempts = STEP_RETRY.max_attempts if retried else 1

    def node(state: TemplateState, config: RunnableConfig) -> dict[str, Any]:
        conf = config.get("configurable") or {}
        key = (str(conf.get("thread_id")), str(conf.get("checkpoint_ns")))
        attempt = _attempts.get(key, 0) + 1
        data = dict(state.get("template_data") or {})
        statuses = list(state.get("step_statuses") or [])
        try:
            ident = services.identity(RunSettings.of(config).user_id or "")
            step = Step(services.tool_context(ident), dict((state.get("plan") or {}).get("params") or {}), data)
            message = fn(step)
        except Exception as e:
            if isinstance(e, GraphBubbleUp):
                raise
            if is_transient(e) and attempt < max_attempts:
                _attempts[key] = attempt
                log.warning("template step %s failed (attempt %d), retrying: %r", name, attempt, e)
                raise
            _attempts.pop(key, None)
            if isinstance(e, (StepFailed, ToolError)):
                message = e.message
            elif isinstance(e, UnknownUser):
                message = "I don't know who you are, so I can't run this."
            else:
                error_id = uuid.uuid4().hex[:12]
                log.exception("template step %s failed after %d attempts (error id %s)", name, attempt, error_id)
                message = (
                    f"Something went wrong on our side in step '{name}' ({attempt} attempt"
                    f"{'s' if attempt != 1 else ''}, error id {error_id}). Nothing was changed by it."
                )
            statuses.append({"step": name, "status": "failed", "attempts": attempt, "message": message})
            return {"step_statuses": statuses, "template_data": {**data, "failed_step": name}}
        _attempts.pop(key, None)
        statuses.append({"step": name, "status": "success", "attempts": attempt, "message": message})
        return {
            **step.update,
            "step_statuses": statuses,
            "template_data": step.data,
            "tool_calls": list(state.get("tool_calls") or []) + step.calls,
        }

    node.__name__ = name
    return node


@dataclass
class Template:
    """One business template: its read steps, what it proposes to write, the write, the report."""

    name: str
    title: str
    steps: list[tuple[str, str | None, StepFn]]  # (step name, tool it uses (None: none), function)
    propose: Callable[[Step], Any]  # -> writes [{"tool", "params", "summary"}] ([] = nothing to write)
    write_step: str  # "create_ticket" / "export"
    write_tool: str
    report: Callable[[dict[str, Any]], str]  # the answer from template_data
    # (regex, weight) cues in a request: weight 2 names the template, weight 1 hints at it (matching.py)
    cues: list[tuple[str, int]] = field(default_factory=list)
    requires: tuple[str, ...] = ()

    def plan_steps(self) -> list[dict[str, Any]]:
        """For state["plan"]["steps"] and the Plans API: what will run, which tool, whether it writes."""
        return [{"step": s, "tool": tool, "params": {}, "writes": False} for s, tool, _ in self.steps] + [
            {"step": "propose", "tool": None, "params": {}, "writes": False},
            {"step": self.write_step, "tool": self.write_tool, "params": {}, "writes": True},
        ]

    def build(self, services: Services):
        """The compiled subgraph (it shares the parent's checkpointer)."""
        g = StateGraph(TemplateState)
        names = [s for s, _, _ in self.steps]
        for step_name, _, fn in self.steps:
            g.add_node(step_name, step_node(step_name, fn, services), retry_policy=STEP_RETRY)
        g.add_node("propose", step_node("propose", self._propose, services), retry_policy=STEP_RETRY)
        g.add_node(self.write_step, step_node(self.write_step, self._write, services, retried=False))
        g.add_node("finish", self._finish)
        g.add_conditional_edges(START, self._entry, [names[0], self.write_step, "finish"])
        for a, b in zip(names, names[1:] + ["propose"]):
            g.add_conditional_edges(a, _next_or_finish(b), [b, "finish"])
        g.add_conditional_edges("propose", self._after_propose, [END, self.write_step, "finish"])
        g.add_edge(self.write_step, "finish")
        g.add_edge("finish", END)
        return g.compile(name=self.name)

    # -- nodes --------------------------------------------------------------------------
    def _entry(self, state: TemplateState) -> str:
        confirmation = state.get("confirmation") or {}
        pending_id = (state.get("template_data") or {}).get("pending_id")
        if pending_id and confirmation.get("id") == pending_id:
            return self.write_step if confirmation.get("approved") else "finish"
        return self.steps[0][0]

    def _after_propose(self, state: TemplateState) -> str:
        if state.get("pending_confirmation"):
            return END  # the parent's confirm node asks; the write runs on "yes"
        return self.write_step if (state.get("template_data") or {}).get("proposed") else "finish"

    def _propose(self, step: Step) -> str:
        proposal = self.propose(step)  # a list of writes, or {"question": ..., "writes": [...]}
        writes = proposal["writes"] if isinstance(proposal, dict) else proposal
        if not writes:
            step.data["proposed"] = []
            return "nothing to write"
        if not can_run(step.ctx.identity, self.write_tool):
            raise StepFailed(denial_message(step.ctx.identity, self.write_tool))
        lines = [w["summary"] for w in writes]
        if not asks_first(self.write_tool):  # e.g. an export: the report and its file come together
            step.data["proposed"] = writes
            return "; ".join(lines)
        question = proposal.get("question") if isinstance(proposal, dict) else None
        question = yes_no(question or (lines[0] if len(lines) == 1 else "Go ahead? " + " ".join(lines)))
        pending = new_pending(question, writes, template=self.name)
        pending["preface"] = self.report(step.data)  # the findings come first, then the question about them
        step.data.update(proposed=writes, pending_id=pending["id"])
        step.update["pending_confirmation"] = pending
        return "; ".join(lines)

    def _write(self, step: Step) -> str:
        done: list[WrittenItem] = []
        step.data["written"] = done  # kept even if a later write fails
        for i, w in enumerate(step.data.get("proposed") or []):
            params = w["params"]
            if w["tool"] == CREATE_TICKET and step.data.get("pending_id"):  # never two tickets for one confirmation
                params = {**params, "request_key": f"{step.data['pending_id']}:{i}"}
            res = step.write(w["tool"], params)
            done.append(written(w["tool"], res))
            made = shared(res.data)
            if made["ticket_id"]:
                step.update["last_ticket_id"] = made["ticket_id"]
            if made["export_id"]:
                step.update["last_export_id"] = made["export_id"]
        return " ".join(d["message"] for d in done)

    def _finish(self, state: TemplateState) -> dict[str, Any]:
        data = dict(state.get("template_data") or {})
        statuses = list(state.get("step_statuses") or [])
        confirmation = state.get("confirmation") or {}
        declined = (
            data.get("pending_id") and confirmation.get("id") == data["pending_id"] and not confirmation.get("approved")
        )
        if declined:
            statuses.append(
                {
                    "step": self.write_step,
                    "status": "cancelled",
                    "attempts": 0,
                    "message": "You said no, so nothing was written.",
                }
            )
        parts = []
        if not data.get("failed_step") or data.get("failed_step") == self.write_step:
            parts.append(self.report(data))
        else:
            parts.append(self.partial_report(data, statuses))
        for st in statuses:
            if st["status"] == "failed":
                parts.append(f"Step '{st['step']}' failed: {st['message']}")
        if declined:
            parts.append(f"As you asked, I didn't {TOOLS[self.write_tool].cancelled}. Nothing was written.")
        for w in data.get("written") or []:
            parts.append(w["message"])
        text = "\n".join(p for p in parts if p)
        status = outcome_status(statuses, None)
        run: TemplateRunData = {
            "template": self.name,
            "status": status,
            "steps": statuses,
            "figures": data.get("figures"),
            "written": data.get("written") or [],
        }
        result = {
            "tool": RUN_TEMPLATE,
            "status": "success" if status == "completed" else status,
            "message": text,
            "data": run,
        }
        return {"response": text, "result": result, "step_statuses": statuses}

    def partial_report(self, data: dict[str, Any], statuses: Sequence[Mapping[str, Any]]) -> str:
        done = [s for s in statuses if s["status"] == "success"]
        head = f"The {self.title} stopped at step '{data['failed_step']}'."
        if done:
            head += " These steps did complete: " + "; ".join(f"{s['step']} ({s['message']})" for s in done) + "."
        return head


def written(tool: str, res: ToolResult) -> WrittenItem:
    """What a template's write made (create_ticket: TicketData; export_report: ReportData), for its report."""
    item: WrittenItem = {"tool": tool, "message": res.message}
    made = shared(res.data)
    if made["ticket_id"]:
        item["ticket_id"] = made["ticket_id"]
    if made["export_id"]:
        export = cast(ExportData, res.data)
        item["export_id"] = export["export_id"]
        if export["url"]:
            item["url"] = export["url"]
        if export["format"]:
            item["format"] = export["format"]
        if export["rows"]:
            item["rows"] = export["rows"]
    return item


def _next_or_finish(nxt: str):
    def edge(state: TemplateState) -> str:
        return "finish" if (state.get("template_data") or {}).get("failed_step") else nxt

    return edge


def outcome_status(statuses: Sequence[Mapping[str, Any]], pending: dict[str, Any] | None) -> str:
    """awaiting_confirmation | failed | cancelled | completed."""
    if pending:
        return "awaiting_confirmation"
    if any(s["status"] == "failed" for s in statuses):
        return "failed"
    if any(s["status"] == "cancelled" for s in statuses):
        return "cancelled"
    return "completed"


def pct_change(new: float, old: float) -> float | None:
    return None if not old else round((new - old) / old * 100, 1)


def money(x: float) -> str:
    """₹ Indian style (₹4,90,901; lakh/crore from 10 lakh up): tools/money.py, through Babel."""
    return format_money(x)
