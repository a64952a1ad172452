"""Staying signed in across a reload: the browser keeps the API's session id (server/sessions.py: a
random id, never the token) in an HttpOnly cookie on the web app's own origin.

Signing in happens in the app's Python process (ui/state.py): it starts a session on the API
(POST /auth/session) and holds its id. The browser gets it without it ever passing through page
script or the address bar: the page posts a one-time hand-off code (random, 60 s, used once) to
POST /ui-session here, which answers with the cookie. A reload opens a new app session, which reads
the cookie (st.context.cookies) and signs in with it; if the API ended the session (signed out, idle,
expired, token revoked), the sign-in page shows instead. Sign-out ends the session on the API and
POST /ui-session/end clears the cookie.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

COOKIE = "finkraft_ui_session"
CODE_SECONDS = 60.0
DEFAULT_MAX_AGE = 7 * 86400

_codes: dict[str, tuple[float, str, int]] = {}  # code -> (expires, session id, cookie max-age)
_lock = threading.Lock()


def hand_off(session_id: str, max_age: int | None) -> str:
    """A one-time code the browser exchanges for the session cookie (POST /ui-session)."""
    code = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (until, _s, _m) in _codes.items() if until < now]:
            del _codes[old]
        _codes[code] = (now + CODE_SECONDS, session_id, int(max_age or DEFAULT_MAX_AGE))
    return code


def _take(code: str) -> tuple[str, int] | None:
    with _lock:
        found = _codes.pop(code, None)
    if found is None or found[0] < time.monotonic():
        return None
    return found[1], found[2]


def session_from_set_cookie(headers: list[str], name: str) -> tuple[str, int | None] | None:
    """The value and max-age of cookie `name` among Set-Cookie header values."""
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar and jar[name].value:
            age = jar[name]["max-age"]
            return jar[name].value, int(age) if str(age).isdigit() else None
    return None


def _same_origin(request: Request) -> bool:
    """A browser's own page: its Origin names this host (a form on another site cannot set or clear it)."""
    origin = request.headers.get("origin") or ""
    return bool(origin) and urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


async def claim(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "Cross-site request refused."}, status_code=403)
    try:
        body = await request.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    found = _take(code) if isinstance(code, str) else None
    if found is None:
        return JSONResponse({"detail": "Unknown or expired sign-in code."}, status_code=400)
    session_id, max_age = found
    response = JSONResponse({"ok": True})
    response.set_cookie(
        COOKIE, session_id, max_age=max_age, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
    return response


async def end(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "Cross-site request refused."}, status_code=403)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


ROUTES = [Route("/ui-session", claim, methods=["POST"]), Route("/ui-session/end", end, methods=["POST"])]


def claim_script(code: str) -> str:
    """The page's one request that turns the hand-off code into the cookie."""
    return (
        "<script>fetch('/ui-session', {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/json'}, body: JSON.stringify({code: "
        + json.dumps(code).replace("<", "\\u003c")
        + "})});</script>"
    )


END_SCRIPT = "<script>fetch('/ui-session/end', {method: 'POST', credentials: 'same-origin'});</script>"
