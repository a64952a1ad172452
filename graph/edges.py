"""The graph's conditional edges: which node runs next, from the state a node left."""

from __future__ import annotations

from tools.registry import asks_first

from .state import AgentState, PlanRecord


def after_route(state: AgentState) -> str:
    return "respond" if state.get("response") else "plan"


def after_plan(state: AgentState) -> str:
    return "respond" if state.get("response") or not (state.get("plan") or {}).get("steps") else "gate"


def after_gate(state: AgentState) -> str:
    if state.get("response"):
        return "respond"
    plan: PlanRecord = state.get("plan") or {}
    if plan.get("mode") == "template":
        return plan["template"]
    return "confirm" if any(asks_first(s["tool"]) for s in plan.get("steps", [])) else "act"


def after_confirm(state: AgentState) -> str:
    if state.get("pending_confirmation"):
        return "confirm"  # ask (again), then pause
    plan: PlanRecord = state.get("plan") or {}
    if plan.get("mode") == "template":
        return plan["template"]  # the template writes (approved) or reports (declined)
    confirmation = state.get("confirmation")
    return "act" if confirmation and confirmation.get("approved") else "respond"


def after_act(state: AgentState) -> str:
    return "confirm" if state.get("pending_confirmation") else "respond"  # a failed "yes": ask again


def after_template(state: AgentState) -> str:
    return "confirm" if state.get("pending_confirmation") else "respond"
