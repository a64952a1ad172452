"""The tool registry: every tool's declaration (ToolSpec), who may run it, and the one way to run it.

The tool modules listed in tools.yaml each declare `TOOLS = [ToolSpec(...)]`; nothing else keeps a
list of tool names. `run_tool` is the single entry point: it checks the role, validates the
parameters and turns every failure into a ToolResult a person can read. Nothing raises past it.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from business_data.db import busy_message, is_busy, is_disk_full, no_space_message

from .base import ToolContext, ToolDenied, ToolError, ToolResult, ToolSpec
from .rbac import ROLES, Identity

log = logging.getLogger("finkraft.tools")


@lru_cache(maxsize=1)
def policy() -> dict:
    """tools.yaml: the role summaries and the tool modules to load."""
    return yaml.safe_load(Path(__file__).with_name("tools.yaml").read_text())


def _load() -> dict[str, ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for module in policy()["modules"]:
        for spec in importlib.import_module(module).TOOLS:
            if spec.name in specs:
                raise ValueError(f"tool {spec.name} is declared twice ({module})")
            unknown = set(spec.roles) - set(ROLES)
            if unknown:
                raise ValueError(f"tool {spec.name} names unknown roles {sorted(unknown)}")
            if spec.data_type is None:
                raise ValueError(f"tool {spec.name} declares no data_type (its data's TypedDict, tools/results.py)")
            specs[spec.name] = spec
    return specs


TOOLS: dict[str, ToolSpec] = _load()


def spec(name: str) -> ToolSpec | None:
    return TOOLS.get(name)


def declared() -> list[ToolSpec]:
    """Every tool's declaration, in tools.yaml's order."""
    return list(TOOLS.values())


def tools_where(**flags: bool) -> set[str]:
    """Names of the tools whose declaration has these flags, e.g. tools_where(record_set=True)."""
    return {n for n, s in TOOLS.items() if all(getattr(s, k) == v for k, v in flags.items())}


# -- permissions ------------------------------------------------------------------------------
def role_summary(role: str) -> str:
    return policy()["roles"][role]["summary"]


def tools_for_role(role: str) -> list[str]:
    return [name for name, s in TOOLS.items() if role in s.roles]


def can_run(identity: Identity, tool: str) -> bool:
    s = TOOLS.get(tool)
    return s is not None and identity.role in s.roles


def asks_first(tool: str) -> bool:
    s = TOOLS.get(tool)
    return bool(s and s.confirm)


def denial_message(identity: Identity, tool: str) -> str:
    """A plain-language refusal that says what the role may do instead."""
    s = TOOLS.get(tool)
    action = s.action if s else f"use {tool.replace('_', ' ')}"
    needed = " or ".join(s.roles) if s and s.roles else "nobody"
    return (
        f"Sorry, as a {identity.role} you can't {action}; that needs the {needed} role. "
        f"You can {role_summary(identity.role)}. Ask a Manager or an Admin in your workspace if you need this done."
    )


# -- running -----------------------------------------------------------------------------------
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
    """The tool's parameters, validated (ToolError with a plain message if they don't fit)."""
    try:
        return TOOLS[name].params.model_validate(params or {})
    except ValidationError as e:
        raise ToolError(describe_validation_error(e)) from None


def confirmation_question(name: str, params: dict[str, Any] | None, ctx: ToolContext) -> str:
    """What a write will do, in one line, checked against the data (ToolError if it can't run)."""
    s = TOOLS[name]
    p = validate_params(name, params)
    if s.question is None:
        return f"{s.action[:1].upper()}{s.action[1:]} for {ctx.identity.user_id}?"
    return s.question(ctx, p)


def run_tool(name: str, params: dict[str, Any] | None, ctx: ToolContext) -> ToolResult:
    s = TOOLS.get(name)
    if s is None or s.func is None:
        runnable = sorted(n for n, t in TOOLS.items() if t.func is not None)
        return ToolResult(
            status="error",
            code="not_found",
            message=f"There is no tool called '{name}'. Available: {', '.join(runnable)}.",
        )
    if not can_run(ctx.identity, name):
        return ToolResult(status="denied", code="denied", message=denial_message(ctx.identity, name))
    try:
        parsed = validate_params(name, params)
        return s.func(ctx, parsed)
    except ToolDenied as e:
        return ToolResult(status="denied", code="denied", message=e.message)
    except ToolError as e:
        return ToolResult(
            status="error", code=e.code, message=e.message, data={"suggestions": e.suggestions} if e.suggestions else {}
        )
    except Exception as exc:  # noqa: BLE001 - a user never sees a stack trace
        if is_disk_full(exc):  # a write's transaction rolled back (an export's file is removed): say why
            log.warning("tool %s: out of disk space (%s)", name, exc)
            return ToolResult(status="error", code="no_space", message=no_space_message(s.action))
        if is_busy(exc):  # another process kept the database locked past the busy timeout: rolled back
            log.warning("tool %s: the database stayed locked (%s)", name, exc)
            return ToolResult(status="error", code="busy", message=busy_message(s.action))
        error_id = uuid.uuid4().hex[:12]
        log.exception("tool %s failed (error id %s)", name, error_id)
        return ToolResult(
            status="error",
            code="internal",
            message=f"Something went wrong on our side while running {name} (error id {error_id}). Nothing was changed.",
        )
