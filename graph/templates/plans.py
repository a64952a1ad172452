"""Plans: a template run as its own checkpointed thread (thread_id "plan-<plan_id>"), recorded in
the `plans` table so it can be listed, executed, confirmed and checked later, from any process.

Used by server/plans.py (HTTP); execute_plan/plan_view are async (the server's graph has an async
checkpointer; from a notebook use asyncio.run with an async saver) and do their database work in
worker threads; create_plan and load_plan are plain functions. Raises PlanError(status, message)
with a message a person can read; the HTTP layer maps it to a 4xx. The table is `plans` in
business_data/appdb.py.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command
from pydantic import ValidationError
from sqlalchemy import CursorResult, update
from sqlalchemy.engine import Engine

from business_data import clock
from business_data.appdb import Plan, utcnow
from business_data.db import session_scope
from graph.runs import DURABILITY, aprune_thread, run_config, traced_run
from tools.periods import PeriodError, date_range
from tools.queries import FilterParams
from tools.rbac import Identity, may_read
from tools.registry import can_run, denial_message, describe_validation_error
from tools.results import TemplateRunData
from tools.toolnames import RUN_TEMPLATE

from . import TEMPLATES, outcome_status, template_plan

TERMINAL = ("completed", "failed", "cancelled")


class PlanError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def plan_thread(plan: dict[str, Any]) -> str:
    """A plan's own checkpoint thread (not per user: an Admin sees the same thread as its owner)."""
    return f"plan-{plan['plan_id']}"


def _run_options(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "checkpoint_thread_id": plan_thread(plan),
        "template_request": {"template": plan["template"], "params": plan["params"]},
    }


def thread_config(plan: dict[str, Any], identity: Identity) -> RunnableConfig:
    return run_config(identity, plan_thread(plan), **_run_options(plan))


def plan_row(p: Plan) -> dict[str, Any]:
    return {
        "plan_id": p.plan_id,
        "user_id": p.user_id,
        "workspace_id": p.workspace_id,
        "template": p.template,
        "goal": p.goal,
        "params": dict(p.params or {}),
        "status": p.status,
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "updated_at": p.updated_at.isoformat() if p.updated_at else None,
    }


def create_plan(
    app: Engine, identity: Identity, template: str, goal: str | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    if not can_run(identity, RUN_TEMPLATE):
        raise PlanError(403, denial_message(identity, RUN_TEMPLATE))
    if template not in TEMPLATES:
        raise PlanError(400, f"There is no template called '{template}'. Choose one of: {', '.join(TEMPLATES)}.")
    planned = template_plan(template, params, {"reason": "Plans API"})
    if planned["plan"]["mode"] != "template":
        raise PlanError(400, planned["response"])
    _check_filters(planned["plan"]["params"])
    plan = Plan(
        plan_id=uuid.uuid4().hex[:16],
        user_id=identity.user_id,
        workspace_id=identity.workspace_id,
        template=template,
        goal=(goal or "").strip()[:2000],
        params=planned["plan"]["params"],
        status="created",
    )
    with session_scope(app) as s:
        s.add(plan)
        s.flush()
        row = plan_row(plan)
    return row


def _check_filters(params: dict[str, Any]) -> None:
    """Bad dates or values fail now, with the tools' own words, not later when the plan runs."""
    filters = {k: v for k, v in params.items() if k in FilterParams.model_fields and v is not None}
    try:
        p = FilterParams.model_validate(filters)
        date_range(p.period, p.date_from, p.date_to, clock.today())
    except ValidationError as e:
        raise PlanError(400, describe_validation_error(e)) from None
    except PeriodError as e:
        raise PlanError(400, str(e)) from None


def load_plan(app: Engine, identity: Identity, plan_id: str) -> dict[str, Any]:
    """The plan if this user may see it (owner in their current workspace, or an Admin); otherwise 404, whether it exists or not."""
    with session_scope(app) as s:
        p = s.get(Plan, plan_id)
        if p is None or not may_read(identity, p.user_id, p.workspace_id):
            raise PlanError(404, f"There is no plan '{plan_id}' that you can see.")
        return plan_row(p)


def _set_status(app: Engine, plan_id: str, status: str, expect: str | None = None) -> bool:
    """Compare-and-set: only one process moves a plan out of `expect`."""
    with session_scope(app) as s:
        q = update(Plan).where(Plan.plan_id == plan_id)
        if expect is not None:
            q = q.where(Plan.status == expect)
        return cast(CursorResult, s.execute(q.values(status=status, updated_at=utcnow()))).rowcount == 1


async def execute_plan(app: Engine, graph, identity: Identity, plan_id: str, resume: Any = None) -> dict[str, Any]:
    """Run a created plan, or resume one awaiting confirmation with the user's answer."""
    plan = await asyncio.to_thread(load_plan, app, identity, plan_id)
    if not can_run(identity, RUN_TEMPLATE):
        raise PlanError(403, denial_message(identity, RUN_TEMPLATE))
    status = plan["status"]
    if status in TERMINAL or (status == "awaiting_confirmation" and resume is None):
        return await plan_view(plan, graph, identity)
    if status == "running" or not await asyncio.to_thread(_set_status, app, plan_id, "running", status):
        raise PlanError(409, "This plan is running right now; check its status in a moment.")
    request = f"plan {plan['template']}: {plan['goal'] or ''}" if resume is None else f"(reply) {resume}"
    cfg, recorder = traced_run(app, identity, plan_thread(plan), request, **_run_options(plan))
    try:
        if status == "created":
            goal = plan["goal"] or f"Run the {TEMPLATES[plan['template']].title}"
            await graph.ainvoke({"messages": [HumanMessage(content=goal)]}, cfg, durability=DURABILITY)
        else:
            await graph.ainvoke(Command(resume=resume), cfg, durability=DURABILITY)
    except Exception:
        await asyncio.to_thread(_set_status, app, plan_id, status)  # back to where it was: it can be retried
        raise
    await aprune_thread(graph.checkpointer, cfg)
    view = await plan_view({**plan, "status": "running"}, graph, identity)
    await asyncio.to_thread(_set_status, app, plan_id, view["status"])
    await recorder.afinish("paused" if view["status"] == "awaiting_confirmation" else "ok", view.get("response"))
    return {**view, "trace_id": recorder.trace_id}


async def plan_view(plan: dict[str, Any], graph, identity: Identity) -> dict[str, Any]:
    """Status, steps (done and still to do), the pending question or the result, from the checkpoint."""
    planned = TEMPLATES[plan["template"]].plan_steps()
    view = {k: plan[k] for k in ("plan_id", "template", "goal", "params", "status", "created_at", "updated_at")}
    if plan["status"] == "created":
        return {**view, "steps": [{**_step(s), "status": "pending"} for s in planned]}
    values = (await graph.aget_state(thread_config(plan, identity))).values
    done = list(values.get("step_statuses") or [])
    names = {d["step"] for d in done}
    steps = done + [{**_step(s), "status": "pending"} for s in planned if s["step"] not in names]
    pending = values.get("pending_confirmation")
    result = values.get("result") or {}
    if pending:
        status = "awaiting_confirmation"
    elif not done and result.get("status") in ("denied", "error"):
        status = "failed"
    elif plan["status"] in ("running", "awaiting_confirmation"):
        status = outcome_status(done, None)
    else:
        status = plan["status"]
    view.update(status=status, steps=steps, response=values.get("response", ""))
    if pending:
        view["question"] = pending["question"]
    else:
        run = cast(TemplateRunData, result.get("data") or {})
        view["result"] = {
            "message": result.get("message") or values.get("response", ""),
            **({"figures": run["figures"]} if "figures" in run else {}),
            **({"written": run["written"]} if "written" in run else {}),
        }
    return view


def _step(s: dict[str, Any]) -> dict[str, Any]:
    return {"step": s["step"], "tool": s["tool"], "writes": s["writes"]}
