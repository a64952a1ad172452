"""Bearer-token auth: tokens are stored hashed; identity, role and workspace come from the token alone.

The dependency that turns a request into an Identity is `server/deps.py current_identity`; the
demo users' dev tokens are made at start-up (business_data/demo_users.py).
"""
from __future__ import annotations

import secrets

from fastapi import Request
from sqlalchemy import select, update

from business_data.appdb import ApiToken, User, hash_token, utcnow
from business_data.db import session_scope
from tools.rbac import Identity

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def issue_token(app_engine, user_id: str, label: str = "", *, token: str | None = None, is_dev: bool = False) -> tuple[int, str]:
    """Create a token for a user; the plaintext is returned once and never stored."""
    token = token or "fk_" + secrets.token_urlsafe(32)
    with session_scope(app_engine) as s:
        if s.get(User, user_id) is None:
            raise LookupError(f"No user '{user_id}'.")
        row = ApiToken(token_hash=hash_token(token), user_id=user_id, label=label, is_dev=is_dev)
        s.add(row)
        s.flush()
        return row.id, token


def revoke_token(app_engine, token_id: int) -> bool:
    with session_scope(app_engine) as s:
        res = s.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
        return res.rowcount > 0


def identity_for_token(services, token: str) -> Identity | None:
    """The active user behind a token (None: unknown, revoked, inactive, or a dev token outside dev)."""
    with services.app.connect() as conn:
        row = conn.execute(
            select(User.user_id, User.role, User.workspace_id, User.display_name, User.active, ApiToken.is_dev)
            .join(ApiToken, ApiToken.user_id == User.user_id)
            .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        ).first()
    if row is None or not row.active:
        return None
    if row.is_dev and services.settings.env != "dev":
        return None
    return Identity(row.user_id, row.role, row.workspace_id, row.display_name)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("finkraft_token")  # set by POST /auth/session, for the browser playground
