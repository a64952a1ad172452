"""Typed FastAPI dependencies: what a route needs, declared in its signature.

    @router.get("/things")
    def things(services: ServicesDep, identity: IdentityDep) -> ...

The lifespan (server/app.py) puts services, graph, checkpointer, rate limiter and model info on
`app.state`; only this module reads them from there. The dependencies are `async def`: FastAPI
would run a plain `def` in the thread pool, a hop per dependency per request. `current_identity`
answers a recently seen token from memory and goes to the thread pool only for the database (a
token not seen in the last TOKEN_TTL_S, a browser session: one short query each, server/sessions.py)
or a rate limiter on Redis.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel

from business_data.appdb import hash_token
from graph.services import Services
from tools.rbac import Identity, UnknownUser

from .auth import (
    BEARER_SCHEME,
    COOKIE_SCHEME,
    NOT_CACHED,
    UNAUTHORIZED,
    TokenExpired,
    bearer_token,
    cross_site_refusal,
    identity_for_token,
)
from .logs import log_context
from .sessions import ENDED as SESSION_ENDED, SESSION_COOKIE, session_identity
from .ratelimit import FailedSignIns, RateLimiter, enforce_rate_limit, too_many_failures


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_graph(request: Request) -> Pregel:
    """The graph compiled with the server's checkpointer."""
    return request.app.state.graph


async def get_checkpointer(request: Request) -> BaseCheckpointSaver:
    return request.app.state.checkpointer


async def get_rate_limiter(request: Request) -> RateLimiter | None:
    return getattr(request.app.state, "rate_limiter", None)


async def get_model_info(request: Request) -> dict[str, Any]:
    return getattr(request.app.state, "model_info", {"mode": "offline"})


ServicesDep = Annotated[Services, Depends(get_services)]
GraphDep = Annotated[Pregel, Depends(get_graph)]
CheckpointerDep = Annotated[BaseCheckpointSaver, Depends(get_checkpointer)]
RateLimiterDep = Annotated[RateLimiter | None, Depends(get_rate_limiter)]
ModelInfoDep = Annotated[dict, Depends(get_model_info)]


async def current_identity(
    request: Request,
    services: ServicesDep,
    limiter: RateLimiterDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)] = None,
    _cookie: Annotated[str | None, Depends(COOKIE_SCHEME)] = None,
) -> Identity:
    """The caller, from the bearer token (or the playground's session cookie) alone; then the rate limit.
    (`_bearer` and `_cookie` declare the two security schemes in /openapi.json; the token is read here.)"""
    token = bearer_token(request)
    session_id = None if token else request.cookies.get(SESSION_COOKIE)
    browser_page = (
        request.method == "GET"
        and request.url.path.startswith("/agent/playground")
        and "text/html" in request.headers.get("accept", "")
    )
    if not token and not session_id:
        if browser_page:  # a browser opening the playground
            raise _to_sign_in(request)
        raise HTTPException(401, "Sign in first: send 'Authorization: Bearer <token>'.", headers=UNAUTHORIZED)
    if token:
        try:
            identity = identity_for_token(services, token, cached_only=True)
            if identity is NOT_CACHED or identity is None:  # a token not used successfully just now: a guess, maybe
                failures = getattr(request.app.state, "failed_sign_ins", None)
                address = request.client.host if request.client else "unknown"
                identity = await run_in_threadpool(_checked_sign_in, services, token, failures, address)
        except TokenExpired as e:
            raise HTTPException(401, e.sentence, headers=UNAUTHORIZED) from None
        if identity is None:
            raise HTTPException(
                401,
                "That token is not valid (unknown, revoked, or a dev token outside dev mode).",
                headers=UNAUTHORIZED,
            )
        rate_key = hash_token(token)
    else:
        identity = await run_in_threadpool(session_identity, services, session_id or "")
        if identity is None:
            if browser_page:
                raise _to_sign_in(request)
            raise HTTPException(401, SESSION_ENDED, headers=UNAUTHORIZED)
        rate_key = "session:" + hash_token(session_id or "")
    if (refusal := cross_site_refusal(request)) is not None:
        raise HTTPException(403, refusal)
    if limiter is not None and limiter.in_process:
        enforce_rate_limit(limiter, rate_key)
    else:  # Redis: network I/O, off the loop
        await run_in_threadpool(enforce_rate_limit, limiter, rate_key)
    request.state.rate_key = rate_key  # /agent/batch counts its inputs against the same budget
    request.state.identity = identity  # LangServe's per-request config reads it (server/agent_routes.py)
    log_context()["user_id"] = identity.user_id  # every log line of this request names the caller
    return identity


def _to_sign_in(request: Request) -> HTTPException:
    return HTTPException(303, "Sign in first.", headers={"Location": "/auth/login?next=" + quote(request.url.path)})


def _checked_sign_in(services: Services, token: str, failures: FailedSignIns | None, address: str) -> Identity | None:
    """The token's user; an address past its failed sign-ins is refused (429) before the token is
    even looked up, and a wrong token counts against it."""
    if failures is None:
        return identity_for_token(services, token)  # (TokenExpired passes through)
    too_many_failures(failures.blocked(address))
    try:
        identity = identity_for_token(services, token)
    except TokenExpired:
        too_many_failures(failures.failed(address))
        raise
    if identity is None:
        too_many_failures(failures.failed(address))
    return identity


IdentityDep = Annotated[Identity, Depends(current_identity)]


async def admin_identity(identity: IdentityDep) -> Identity:
    if not identity.is_admin:
        raise HTTPException(403, f"Only an Admin can do this; you are signed in as a {identity.role}.")
    return identity


AdminDep = Annotated[Identity, Depends(admin_identity)]


def user_in_path(services: Services, identity: Identity, user_id: str, what: str) -> Identity:
    """The user a `/.../{user_id}/...` path names: the caller, or (for an Admin) anyone. Another user
    is 403 for everyone else, whether or not that user exists (`what`: "memory", "tickets" ...)."""
    if user_id == identity.user_id:
        return identity
    if not identity.is_admin:
        raise HTTPException(
            403,
            f"You can only see your own {what}: you are signed in as {identity.user_id}, "
            f"not {user_id} (only an Admin may see another user's).",
        )
    try:
        return services.identity(user_id)
    except UnknownUser:
        raise HTTPException(404, f"No active user '{user_id}'.") from None


def path_user(
    user_id: Annotated[str, Path(max_length=64, description="the caller's user id (an Admin: anyone's)")],
    services: ServicesDep,
    identity: IdentityDep,
) -> Identity:
    return user_in_path(services, identity, user_id, "memory")


PathUserDep = Annotated[Identity, Depends(path_user)]
