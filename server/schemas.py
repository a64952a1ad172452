"""Request bodies (response bodies are in server/responses.py).

Identity never comes from a body: fields a client might add about who it is (user_id, role,
workspace ...) are not part of any of them. Two kinds:
- ChatRequest and ExecuteToolRequest ignore every field they don't know (extra="ignore"), so
  clients of the public /chat and /execute_tool contract may send more than these fields;
- the other bodies reject unknown fields with a 422 naming them (a typo never silently does
  nothing); ClientBody bodies drop identity claims first, so those are ignored, not an error."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# What a client might claim about who it is. Identity comes from the token alone, so these are
# dropped from request bodies (not an error, never used).
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


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # unknown fields are ignored (user_id, role, workspace ... never trusted)
    message: str = Field(..., max_length=4000)
    thread_id: str | None = Field(None, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the message is empty; type what you need, e.g. 'failed IndiSky invoices from last month'")
        return v.strip()


class ExecuteToolRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tool_name: str = Field(..., max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class TicketPatch(ClientBody):
    status: Literal["open", "in_progress", "resolved", "closed"] | None = None
    comment: str | None = Field(None, max_length=5000)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., max_length=64)
    label: str = Field("", max_length=100)


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
