"""Plans API: business templates run as checkpointed threads, with confirmation before writes.

    POST /plans/create            {template, goal?, params?}  -> {plan_id, status, template, steps}
    POST /plans/{plan_id}/execute {resume?: "yes"|"no"}       -> runs, or resumes after the question
    GET  /plans/{plan_id}/status                               -> status, steps, question or result

Statuses: created, running, awaiting_confirmation (with "question"), completed, failed,
cancelled. Viewers get 403; a plan is visible to its owner and to Admins only (others: 404).
The logic lives in graph/templates/plans.py; this module is the HTTP shape of it.
Include with `app.include_router(plans.router)`.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import Field

from graph.templates.plans import PlanError, create_plan, execute_plan, load_plan, plan_view
from server.auth import current_identity
from server.schemas import ClientBody
from tools.rbac import Identity

router = APIRouter(prefix="/plans", tags=["plans"])


class CreatePlan(ClientBody):
    template: str = Field(..., description="invoice_investigation, vendor_analysis or monthly_review")
    goal: str | None = Field(None, max_length=2000, description="what the plan is for, in your words")
    params: dict[str, Any] | None = Field(None, description="vendor, period, status, format")


class ExecutePlan(ClientBody):
    resume: str | bool | None = Field(None, description="the answer to the pending question: yes or no")


def _http(e: PlanError) -> HTTPException:
    return HTTPException(e.status, e.message)


@router.post("/create")
async def create(request: Request, body: CreatePlan, identity: Identity = Depends(current_identity)) -> dict[str, Any]:
    services = request.app.state.services
    try:
        plan = create_plan(services.app, identity, body.template, body.goal, body.params)
        return await plan_view(plan, request.app.state.graph, identity)
    except PlanError as e:
        raise _http(e) from None


@router.post("/{plan_id}/execute")
async def execute(request: Request, plan_id: str, body: ExecutePlan | None = Body(None),
            identity: Identity = Depends(current_identity)) -> dict[str, Any]:
    try:
        return await execute_plan(request.app.state.services.app, request.app.state.graph, identity, plan_id,
                            resume=body.resume if body else None)
    except PlanError as e:
        raise _http(e) from None


@router.get("/{plan_id}/status")
async def status(request: Request, plan_id: str, identity: Identity = Depends(current_identity)) -> dict[str, Any]:
    try:
        plan = load_plan(request.app.state.services.app, identity, plan_id)
        return await plan_view(plan, request.app.state.graph, identity)
    except PlanError as e:
        raise _http(e) from None
