"""POST /auth/session turns a bearer token into an HttpOnly, SameSite=Strict cookie, so the browser
playground at /agent/playground/ works; DELETE /auth/session signs out."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .auth import SESSION_COOKIE, bearer_token
from .deps import IdentityDep
from .responses import ERRORS, Session, SignedOut

router = APIRouter(tags=["auth"])


@router.post("/auth/session", response_model=Session, responses=ERRORS)
async def start_session(request: Request, identity: IdentityDep):
    response = JSONResponse({"user_id": identity.user_id, "role": identity.role, "workspace_id": identity.workspace_id})
    response.set_cookie(SESSION_COOKIE, bearer_token(request) or "", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    return response


@router.delete("/auth/session", response_model=SignedOut)
async def end_session():
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE)
    return response
