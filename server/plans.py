"""Plans API: business templates run as checkpointed threads, with confirmation before writes.

    POST /plans/create            {template, goal?, params?}  -> {plan_id, status, template, steps}
    POST /plans/{plan_id}/execute {resume?: "yes"|"no"}       -> runs, or resumes after the question
    GET  /plans/{plan_id}/status                               -> status, steps, question or result

Statuses: created, running, awaiting_confirmation (with "question"), completed, failed,
cancelled. Viewers get 403; a plan is visible to its owner and to Admins only (others: 404).
The logic lives in graph/templates/plans.py; this module is the HTTP shape of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from graph.templates.plans import PlanError, create_plan, execute_plan, load_plan, plan_view

from .deps import GraphDep, IdentityDep, ServicesDep
from .responses import EXACT, PlanView, problems
from .schemas import ClientBody

router = APIRouter(prefix="/plans", tags=["plans"])


class CreatePlan(ClientBody):
    template: str = Field(..., description="invoice_investigation, vendor_analysis or monthly_review")
    goal: str | None = Field(None, max_length=2000, description="what the plan is for, in your words")
    params: dict[str, Any] | None = Field(None, description="vendor, period, status, format")


class ExecutePlan(ClientBody):
    resume: str | bool | None = Field(None, description="the answer to the pending question: yes or no")


def _http(e: PlanError) -> HTTPException:
    return HTTPException(e.status, e.message)


@router.post(
    "/create",
    response_model=PlanView,
    **EXACT,
    responses=problems(400, 403, _400="No such template, or bad template parameters", _403="A Viewer"),
)
async def create(body: CreatePlan, services: ServicesDep, graph: GraphDep, identity: IdentityDep):
    try:
        plan = await run_in_threadpool(create_plan, services.app, identity, body.template, body.goal, body.params)
        return await plan_view(plan, graph, identity)
    except PlanError as e:
        raise _http(e) from None


@router.post(
    "/{plan_id}/execute",
    response_model=PlanView,
    **EXACT,
    responses=problems(403, 409, _403="A Viewer", _409="The plan is running right now"),
)
async def execute(
    plan_id: str,
    services: ServicesDep,
    graph: GraphDep,
    identity: IdentityDep,
    body: Annotated[ExecutePlan | None, Body()] = None,
):
    try:
        return await execute_plan(services.app, graph, identity, plan_id, resume=body.resume if body else None)
    except PlanError as e:
        raise _http(e) from None


@router.get("/{plan_id}/status", response_model=PlanView, **EXACT)
async def status(plan_id: str, services: ServicesDep, graph: GraphDep, identity: IdentityDep):
    try:
        plan = await run_in_threadpool(load_plan, services.app, identity, plan_id)
        return await plan_view(plan, graph, identity)
    except PlanError as e:
        raise _http(e) from None
