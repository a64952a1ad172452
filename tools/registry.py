"""The tool registry: name -> parameter schema, allowed roles (tools.yaml) and function.

`run_tool` is the single entry point: it checks the role, validates the parameters and
turns every failure into a ToolResult a person can read. Nothing raises past it.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from .base import ToolContext, ToolDenied, ToolError, ToolResult
from .exports import ExportParams, export_report
from .filtering import explain_failures, filter_data
from .queries import FilterParams
from .rbac import can_run, denial_message, is_write_tool, policy
from .tickets import (CreateTicketParams, UpdateTicketParams, ViewNotificationsParams, ViewTicketsParams,
                      create_ticket, update_ticket, view_notifications, view_tickets)

log = logging.getLogger("finkraft.tools")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: type[BaseModel]
    func: Callable[[ToolContext, Any], ToolResult]

    @property
    def writes(self) -> bool:
        return is_write_tool(self.name)


def _spec(name: str, params: type[BaseModel], func) -> ToolSpec:
    return ToolSpec(name, policy()["tools"][name]["description"], params, func)


TOOLS: dict[str, ToolSpec] = {s.name: s for s in [
    _spec("filter_data", FilterParams, filter_data),
    _spec("explain_failures", FilterParams, explain_failures),
    _spec("export_report", ExportParams, export_report),
    _spec("create_ticket", CreateTicketParams, create_ticket),
    _spec("update_ticket", UpdateTicketParams, update_ticket),
    _spec("view_tickets", ViewTicketsParams, view_tickets),
    _spec("view_notifications", ViewNotificationsParams, view_notifications),
]}


def register(spec: ToolSpec) -> None:
    """Add a tool defined in a higher layer (e.g. run_template); its roles still come from tools.yaml."""
    TOOLS[spec.name] = spec


def describe_validation_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        field = ".".join(str(x) for x in err["loc"]) or "input"
        if err["type"] == "extra_forbidden":
            parts.append(f"'{field}' is not something I can filter on")
        elif err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            parts.append(f"{field} must be one of {expected}, not '{err.get('input')}'")
        elif err["type"] in ("date_from_datetime_parsing", "date_parsing", "date_from_datetime_inexact", "date_type"):
            parts.append(f"{field} '{err.get('input')}' is not a real date (use YYYY-MM-DD)")
        elif err["type"] == "missing":
            parts.append(f"{field} is required")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"{field}: {msg}" if field != "input" and err["loc"] else msg)
    return "I can't do that as asked: " + "; ".join(parts) + "."


def validate_params(name: str, params: dict[str, Any] | None) -> BaseModel:
    return TOOLS[name].params.model_validate(params or {})


def run_tool(name: str, params: dict[str, Any] | None, ctx: ToolContext) -> ToolResult:
    spec = TOOLS.get(name)
    if spec is None:
        return ToolResult(status="error", code="not_found",
                          message=f"There is no tool called '{name}'. Available: {', '.join(sorted(TOOLS))}.")
    if not can_run(ctx.identity, name):
        return ToolResult(status="denied", code="denied", message=denial_message(ctx.identity, name))
    try:
        parsed = spec.params.model_validate(params or {})
    except ValidationError as e:
        return ToolResult(status="error", code="invalid", message=describe_validation_error(e))
    try:
        return spec.func(ctx, parsed)
    except ToolDenied as e:
        return ToolResult(status="denied", code="denied", message=e.message)
    except ToolError as e:
        return ToolResult(status="error", code=e.code, message=e.message,
                          data={"suggestions": e.suggestions} if e.suggestions else {})
    except Exception:  # noqa: BLE001 - a user never sees a stack trace
        error_id = uuid.uuid4().hex[:12]
        log.exception("tool %s failed (error id %s)", name, error_id)
        return ToolResult(status="error", code="internal",
                          message=f"Something went wrong on our side while running {name} (error id {error_id}). Nothing was changed.")
