"""Browser sign-in: POST /auth/session turns a bearer token into a browser session (server/sessions.py:
its own random id in an HttpOnly, SameSite=Strict cookie, never the token), so the browser playground at
/agent/playground/ works; GET /auth/login is a page that does that from a browser (an unsigned visit to
the playground lands there); DELETE /auth/session signs out, on the server too."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from .auth import UNAUTHORIZED, bearer_token
from .deps import IdentityDep, ServicesDep
from schema.accounts import Session, SignedOut
from .sessions import SESSION_COOKIE, end_session as revoke_session, start_session as new_session

router = APIRouter(tags=["auth"])
PLAYGROUND = "/agent/playground/"


def over_tls(request: Request) -> bool:
    """The browser reached us over https: directly, or through a proxy that says so."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


@router.get("/auth/session", response_model=Session)
async def who_am_i(identity: IdentityDep):
    """Who the token (or session) signs in as; changes nothing (POST starts a browser session)."""
    return {"user_id": identity.user_id, "role": identity.role, "workspace_id": identity.workspace_id}


@router.post("/auth/session", response_model=Session)
async def start_session(request: Request, identity: IdentityDep, services: ServicesDep):
    token = bearer_token(request)
    if token is None:  # signed in by the cookie alone: a session does not make another
        raise HTTPException(
            401, "Start a session with a token: send 'Authorization: Bearer <token>'.", headers=UNAUTHORIZED
        )
    if old := request.cookies.get(SESSION_COOKIE):  # signing in again replaces this browser's session
        await run_in_threadpool(revoke_session, services, old)
    session_id, _ = await run_in_threadpool(new_session, services, token)
    response = JSONResponse({"user_id": identity.user_id, "role": identity.role, "workspace_id": identity.workspace_id})
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=over_tls(request),
        max_age=int(services.settings.session_max_days * 86400),
        path="/",
    )
    return response


@router.delete("/auth/session", response_model=SignedOut)
async def end_session(request: Request, services: ServicesDep):
    if session_id := request.cookies.get(SESSION_COOKIE):  # revoked here: a copy of the cookie stops working too
        await run_in_threadpool(revoke_session, services, session_id)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=over_tls(request))
    return response


C0_AND_SPACE = "".join(map(chr, range(0x21)))


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site (else the playground).

    Read as a browser reads a URL: it trims C0 controls and spaces at the ends, drops ASCII tab, CR
    and LF anywhere and takes a backslash for a slash, so `/<tab>/evil.example` is `//evil.example`,
    another site, to it. Only what is then a path (one leading slash, no scheme, no host, no control
    character) is kept. (Not "/" as the fallback: this server has no page there.)"""
    cleaned = (target or "").strip(C0_AND_SPACE)
    cleaned = "".join(c for c in cleaned if c not in "\t\r\n").replace("\\", "/")
    parts = urlsplit(cleaned)
    if (
        not cleaned.startswith("/")
        or cleaned.startswith("//")
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned)
    ):
        return PLAYGROUND
    return cleaned


@router.get(
    "/auth/login",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "The sign-in page"}},
)
async def login_page(next: str | None = Query(None, max_length=500, description="where to go once signed in")):
    """A page to sign in from a browser with a token: it calls POST /auth/session (which sets the
    session cookie) and goes on to `next` (the playground by default)."""
    target = local_path(next)
    script_target = json.dumps(target).replace("<", "\\u003c")
    return HTMLResponse(LOGIN_PAGE.replace("{{target}}", escape(target)).replace("{{script_target}}", script_target))


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - FinkraftAI</title><link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; background: #f5f7fb; color: #1b2430; display: flex; justify-content: center; }
main { margin-top: 12vh; background: #fff; padding: 2rem 2.5rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; width: 22rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } p { color: #4a5566; font-size: .95rem; }
label { display: block; font-weight: 600; margin: 1.2rem 0 .4rem; }
input { width: 100%; box-sizing: border-box; padding: .55rem .7rem; font-size: 1rem; border: 1px solid #c5ccd8; border-radius: 6px; }
button { margin-top: 1rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0; border-radius: 6px; background: #2f6fec; color: #fff; cursor: pointer; }
[role=alert] { color: #b3261e; min-height: 1.2em; }
</style></head>
<body><main>
<h1>FinkraftAI</h1>
<p>Sign in with your API token to open <code>{{target}}</code>. Your browser keeps a session (not the token) in an HttpOnly cookie until you sign out or stop using it.</p>
<form id="signin">
<input type="text" name="username" autocomplete="username" value="finkraft" hidden>
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required placeholder="dev-maya or fk_…">
<button type="submit">Sign in</button>
<p role="alert" id="problem"></p>
</form>
</main>
<script>
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = document.getElementById("problem");
  problem.textContent = "";
  const token = document.getElementById("token").value.trim();
  try {
    const r = await fetch("/auth/session", {method: "POST", credentials: "same-origin",
                                            headers: {"Authorization": "Bearer " + token}});
    if (r.ok) { window.location.replace({{script_target}}); return; }
    const body = await r.json().catch(() => ({}));
    problem.textContent = body.detail || ("Sign-in failed (" + r.status + ").");
  } catch (e) {
    problem.textContent = "The server did not answer: " + e;
  }
});
</script>
</body></html>
"""
