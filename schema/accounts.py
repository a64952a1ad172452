"""Who is signed in and what they may do, users, API tokens and browser sessions (GET /auth/session,
/user/{id}/permissions, /admin/users, /admin/tokens)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UserOut(BaseModel):
    user_id: str
    display_name: str
    role: str
    workspace_id: str
    active: bool
    tools: list[str] = Field(description="the tools this role may run")


class Permissions(UserOut):
    summary: str
    can_see_other_workspaces: bool
    can_see_all_tickets: bool


class UserList(BaseModel):
    users: list[UserOut]


class NewToken(BaseModel):
    token_id: int
    user_id: str
    token: str = Field(description="shown once; only its hash is kept")
    expires_at: str | None = Field(description="when it stops working (ISO 8601, UTC); null: never")
    note: str


class TokenItem(BaseModel):
    token_id: int
    user_id: str
    label: str
    is_dev: bool
    created_at: str
    revoked: bool
    expires_at: str | None = Field(description="when it stops working (ISO 8601, UTC); null: never")


class TokenList(BaseModel):
    tokens: list[TokenItem]


class TokenRevoked(BaseModel):
    token_id: int
    revoked: bool


class Session(BaseModel):
    user_id: str
    role: str
    workspace_id: str


class SignedOut(BaseModel):
    signed_out: bool
