"""User permissions and administration (Admin only, except reading your own permissions)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select

from business_data.db import session_scope
from tools.appdb import ApiToken, User, Workspace
from tools.rbac import Identity
from tools.registry import role_summary, tools_for_role

from .auth import admin_identity, current_identity, issue_token, revoke_token
from .schemas import NewUser, RoleChange, TokenRequest

router = APIRouter(tags=["admin"])


def _user_dict(u: User) -> dict:
    return {"user_id": u.user_id, "display_name": u.display_name, "role": u.role, "workspace_id": u.workspace_id,
            "active": u.active, "tools": tools_for_role(u.role)}


@router.get("/user/{user_id}/permissions")
async def permissions(user_id: str, request: Request, identity: Identity = Depends(current_identity)):
    if user_id != identity.user_id and not identity.is_admin:
        raise HTTPException(403, "You can only see your own permissions.")
    with session_scope(request.app.state.services.app) as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, f"No user '{user_id}'.")
        return {**_user_dict(u), "summary": role_summary(u.role),
                "can_see_other_workspaces": u.role == "Admin", "can_see_all_tickets": u.role == "Admin"}


@router.get("/admin/users")
async def users(request: Request, _: Identity = Depends(admin_identity)):
    with session_scope(request.app.state.services.app) as s:
        return {"users": [_user_dict(u) for u in s.scalars(select(User).order_by(User.user_id))]}


@router.post("/admin/users", status_code=201)
async def create_user(body: NewUser, request: Request, _: Identity = Depends(admin_identity)):
    with session_scope(request.app.state.services.app) as s:
        if s.get(Workspace, body.workspace_id) is None:
            raise HTTPException(422, f"Invalid request: there is no workspace '{body.workspace_id}'.")
        if s.get(User, body.user_id) is not None:
            raise HTTPException(409, f"User '{body.user_id}' already exists.")
        u = User(**body.model_dump())
        s.add(u)
        s.flush()
        return _user_dict(u)


@router.post("/admin/users/{user_id}/roles")
async def change_role(user_id: str, body: RoleChange, request: Request, admin: Identity = Depends(admin_identity)):
    with session_scope(request.app.state.services.app) as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, f"No user '{user_id}'.")
        if body.workspace_id and s.get(Workspace, body.workspace_id) is None:
            raise HTTPException(422, f"Invalid request: there is no workspace '{body.workspace_id}'.")
        if u.user_id == admin.user_id and body.role != "Admin":
            raise HTTPException(409, "You can't remove your own Admin role; ask another Admin.")
        u.role = body.role
        if body.workspace_id:
            u.workspace_id = body.workspace_id
        out = _user_dict(u)
    request.app.state.services.forget_identity(user_id)  # this process applies the change at once
    return out


@router.post("/admin/tokens", status_code=201)
async def new_token(body: TokenRequest, request: Request, _: Identity = Depends(admin_identity)):
    try:
        token_id, token = issue_token(request.app.state.services.app, body.user_id, body.label)
    except LookupError as e:
        raise HTTPException(404, str(e)) from None
    return {"token_id": token_id, "user_id": body.user_id, "token": token,
            "note": "Store this token now; it is shown only once (only its hash is kept)."}


@router.get("/admin/tokens")
async def list_tokens(request: Request, _: Identity = Depends(admin_identity)):
    with session_scope(request.app.state.services.app) as s:
        return {"tokens": [{"token_id": t.id, "user_id": t.user_id, "label": t.label, "is_dev": t.is_dev,
                            "created_at": t.created_at.isoformat(), "revoked": t.revoked_at is not None}
                           for t in s.scalars(select(ApiToken).order_by(ApiToken.id))]}


@router.delete("/admin/tokens/{token_id}")
async def delete_token(token_id: int, request: Request, _: Identity = Depends(admin_identity)):
    if not revoke_token(request.app.state.services.app, token_id):
        raise HTTPException(404, f"No active token with id {token_id}.")
    return {"token_id": token_id, "revoked": True}
