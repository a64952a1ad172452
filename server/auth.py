"""Bearer-token auth: tokens are stored hashed; identity, role and workspace come from the token alone."""
from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select, update

from business_data.db import session_scope
from tools.appdb import DEMO_USERS, ApiToken, User, utcnow
from tools.rbac import Identity

from .ratelimit import enforce_rate_limit


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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


def ensure_dev_tokens(app_engine) -> None:
    """The demo users' development tokens (only ever accepted when FINKRAFT_ENV=dev)."""
    with session_scope(app_engine) as s:
        have = set(s.scalars(select(ApiToken.token_hash)))
        for user_id, _name, _role, _ws, token in DEMO_USERS:
            if hash_token(token) not in have:
                s.add(ApiToken(token_hash=hash_token(token), user_id=user_id, label="dev", is_dev=True))


def identity_for_token(request: Request, token: str) -> Identity | None:
    services = request.app.state.services
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


UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("finkraft_token")  # set by POST /auth/session, for the browser playground


async def current_identity(request: Request) -> Identity:
    token = bearer_token(request)
    if not token:
        raise HTTPException(401, "Sign in first: send 'Authorization: Bearer <token>'.", headers=UNAUTHORIZED)
    identity = identity_for_token(request, token)
    if identity is None:
        raise HTTPException(401, "That token is not valid (unknown, revoked, or a dev token outside dev mode).", headers=UNAUTHORIZED)
    enforce_rate_limit(request, hash_token(token))
    request.state.identity = identity
    return identity


async def admin_identity(identity: Identity = Depends(current_identity)) -> Identity:
    if not identity.is_admin:
        raise HTTPException(403, f"Only an Admin can do this; you are signed in as a {identity.role}.")
    return identity


def session_router():
    """POST /auth/session turns a bearer token into an HttpOnly, SameSite=Strict cookie, so the
    browser playground at /agent/playground/ works; DELETE /auth/session signs out."""
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse

    router = APIRouter(tags=["auth"])

    @router.post("/auth/session")
    async def start_session(request: Request, identity: Identity = Depends(current_identity)):
        response = JSONResponse({"user_id": identity.user_id, "role": identity.role, "workspace_id": identity.workspace_id})
        response.set_cookie("finkraft_token", bearer_token(request) or "", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", max_age=8 * 3600)
        return response

    @router.delete("/auth/session")
    async def end_session():
        response = JSONResponse({"signed_out": True})
        response.delete_cookie("finkraft_token")
        return response

    return router
