"""Request bodies (response bodies are in schema/ and server/responses.py).

Identity never comes from a body: fields a client might add about who it is (user_id, role,
workspace ...) are not part of any of them. Two kinds:
- ChatRequest and ExecuteToolRequest ignore every field they don't know (extra="ignore"), so
  clients of the public /chat and /execute_tool contract may send more than these fields;
- the other bodies reject unknown fields with a 422 naming them (a typo never silently does
  nothing); ClientBody bodies drop identity claims first, so those are ignored, not an error."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.registry import TOOLS
from .auth import parse_duration

# What a client might claim about who it is. Identity comes from the token alone, so these are
# dropped from request bodies (not an error, never used).
MAX_MESSAGE_CHARS = 4000  # one limit for a message, on /chat and /agent, counted after trimming
IDENTITY_CLAIMS = frozenset({"user_id", "role", "workspace", "workspace_id", "identity", "is_admin"})


class ClientBody(BaseModel):
    """A request body: unknown fields are rejected (a typo never silently does nothing), except
    identity claims, which are ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_identity_claims(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in IDENTITY_CLAIMS}
        return data


class ChatToolCallRequest(BaseModel):
    """A tool call to run as this turn's request, instead of reading the message (the web app's chips:
    the previous answer's call with one part removed). The role check and confirmation apply as ever."""

    model_config = ConfigDict(extra="forbid")
    tool: str = Field(..., max_length=64, description="a tool the assistant runs: filter_data, analyze_data ...")
    params: dict[str, Any] = Field(default_factory=dict, description="the tool's parameters, as in `tool_calls`")

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        runnable = sorted(n for n, t in TOOLS.items() if t.func is not None)
        if v not in runnable:
            raise ValueError(f"there is no tool called '{v}'; the tools are {', '.join(runnable)}")
        return v

    @field_validator("params")
    @classmethod
    def _keepable(cls, v: dict[str, Any]) -> dict[str, Any]:
        plain_json(v, "params")
        return v


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # unknown fields are ignored (user_id, role, workspace ... never trusted)
    message: str = Field(..., max_length=MAX_MESSAGE_CHARS)
    thread_id: str | None = Field(None, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    tool_call: ChatToolCallRequest | None = Field(
        None,
        description="run this tool call instead of reading the message (which is recorded as the turn's words, "
        "e.g. 'without vendor IndiSky Airlines'); permissions and confirmation apply as for any turn",
    )

    @field_validator("message", mode="before")
    @classmethod
    def _trimmed(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v  # the length limit counts the trimmed message

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v:
            raise ValueError("the message is empty; type what you need, e.g. 'failed IndiSky invoices from last month'")
        return v


class ExecuteToolRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tool_name: str = Field(..., max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class TicketPatch(ClientBody):
    status: Literal["open", "in_progress", "resolved", "closed"] | None = None
    comment: str | None = Field(None, max_length=5000)
    assignee: str | None = Field(
        None, max_length=64, description="a user id of the ticket's workspace; null unassigns; left out: no change"
    )


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., max_length=64)
    label: str = Field("", max_length=100)
    expires: str | None = Field(
        None, max_length=16, description="valid for this many days (`30d`) or hours (`12h`); left out: no expiry"
    )

    @field_validator("expires")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)  # (the one reading of a duration: the CLI's too)
        return v


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["Admin", "Manager", "Viewer"]
    workspace_id: str | None = Field(None, max_length=64)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., min_length=2, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    display_name: str = Field(..., max_length=200)
    role: Literal["Admin", "Manager", "Viewer"]
    workspace_id: str = Field(..., max_length=64)


def plain_json(value: Any, where: str = "input") -> None:
    """Refuse what JSON allows but the stores cannot keep: lone surrogates (not UTF-8) and integers
    beyond 64 bits (msgpack, PostgreSQL bigint). Raises ValueError naming where it is."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where} is not valid Unicode text (it has a lone surrogate)") from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"{where} is a number too large to keep (at most 64 bits)")
    elif isinstance(value, dict):
        for k, v in value.items():
            plain_json(k, where)
            plain_json(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            plain_json(v, f"{where}.{i}")
