"""User permissions and administration (Admin only, except reading your own permissions).

Every handler reads or writes the app database: plain `def`, run in the thread pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from sqlalchemy import select

from business_data.appdb import ApiToken, User, Workspace, utcnow
from business_data.db import session_scope
from tools.registry import role_summary, tools_for_role
from tools.tickets import end_subscriptions_elsewhere

from .auth import LastToken, forget_tokens, issue_token, parse_duration, revoke_token
from .deps import AdminDep, IdentityDep, ServicesDep
from .errors import Invalid
from .responses import EXACT, problems
from schema.accounts import NewToken, Permissions, TokenList, TokenRevoked, UserList, UserOut
from .schemas import NewUser, RoleChange, TokenRequest

router = APIRouter(tags=["admin"], responses=problems(403, _403="Only an Admin may do this"))


def _user_dict(u: User) -> dict:
    return {
        "user_id": u.user_id,
        "display_name": u.display_name,
        "role": u.role,
        "workspace_id": u.workspace_id,
        "active": u.active,
        "tools": tools_for_role(u.role),
    }


@router.get(
    "/user/{user_id}/permissions",
    response_model=Permissions,
    **EXACT,
    responses=problems(403, _403="Another user's permissions (only an Admin may see them)"),
)
def permissions(user_id: str, services: ServicesDep, identity: IdentityDep):
    if user_id != identity.user_id and not identity.is_admin:
        raise HTTPException(403, "You can only see your own permissions.")
    with session_scope(services.app) as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, f"No user '{user_id}'.")
        return {
            **_user_dict(u),
            "summary": role_summary(u.role),
            "can_see_other_workspaces": u.role == "Admin",
            "can_see_all_tickets": u.role == "Admin",
        }


@router.get("/admin/users", response_model=UserList, **EXACT)
def users(services: ServicesDep, _: AdminDep):
    with session_scope(services.app) as s:
        return {"users": [_user_dict(u) for u in s.scalars(select(User).order_by(User.user_id))]}


@router.post(
    "/admin/users",
    status_code=201,
    response_model=UserOut,
    **EXACT,
    responses=problems(409, _409="The user already exists"),
)
def create_user(body: NewUser, services: ServicesDep, _: AdminDep):
    with session_scope(services.app) as s:
        if s.get(Workspace, body.workspace_id) is None:
            raise Invalid(("body", "workspace_id"), f"there is no workspace '{body.workspace_id}'")
        if s.get(User, body.user_id) is not None:
            raise HTTPException(409, f"User '{body.user_id}' already exists.")
        u = User(**body.model_dump())
        s.add(u)
        s.flush()
        return _user_dict(u)


@router.post(
    "/admin/users/{user_id}/roles",
    response_model=UserOut,
    **EXACT,
    responses=problems(409, _409="You tried to remove your own Admin role"),
)
def change_role(user_id: str, body: RoleChange, services: ServicesDep, admin: AdminDep):
    with session_scope(services.app) as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, f"No user '{user_id}'.")
        if body.workspace_id and s.get(Workspace, body.workspace_id) is None:
            raise Invalid(("body", "workspace_id"), f"there is no workspace '{body.workspace_id}'")
        if u.user_id == admin.user_id and body.role != "Admin":
            raise HTTPException(409, "You can't remove your own Admin role; ask another Admin.")
        u.role = body.role
        if body.workspace_id and body.workspace_id != u.workspace_id:
            u.workspace_id = body.workspace_id
            end_subscriptions_elsewhere(s, user_id, body.workspace_id)  # the old workspace's tickets stop notifying
        out = _user_dict(u)
    services.forget_identity(user_id)  # this process applies the change at once
    forget_tokens()
    return out


@router.post(
    "/admin/tokens", status_code=201, response_model=NewToken, **EXACT, responses=problems(404, _404="No such user")
)
def new_token(body: TokenRequest, services: ServicesDep, _: AdminDep):
    try:
        expires_at = utcnow() + parse_duration(body.expires) if body.expires else None
        token_id, token = issue_token(services.app, body.user_id, body.label, expires_at=expires_at)
    except LookupError as e:
        raise HTTPException(404, str(e)) from None
    return {
        "token_id": token_id,
        "user_id": body.user_id,
        "token": token,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "note": "Store this token now; it is shown only once (only its hash is kept).",
    }


@router.get("/admin/tokens", response_model=TokenList, **EXACT)
def list_tokens(services: ServicesDep, _: AdminDep):
    with session_scope(services.app) as s:
        return {
            "tokens": [
                {
                    "token_id": t.id,
                    "user_id": t.user_id,
                    "label": t.label,
                    "is_dev": t.is_dev,
                    "created_at": t.created_at.isoformat(),
                    "revoked": t.revoked_at is not None,
                    "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                }
                for t in s.scalars(select(ApiToken).order_by(ApiToken.id))
            ]
        }


@router.delete(
    "/admin/tokens/{token_id}",
    response_model=TokenRevoked,
    **EXACT,
    responses=problems(409, _409="It is your own last active token"),
)
def delete_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], services: ServicesDep, admin: AdminDep):
    try:
        revoked = revoke_token(services.app, token_id, by=admin.user_id)
    except LastToken:
        raise HTTPException(
            409,
            f"Token {token_id} is your last active token; revoking it would lock you out. "
            "Issue yourself another one first.",
        ) from None
    if not revoked:
        raise HTTPException(404, f"No active token with id {token_id}.")
    return {"token_id": token_id, "revoked": True}
