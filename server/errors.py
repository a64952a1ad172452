"""Errors a person can read: 4xx with a specific message, 5xx with an error id (the trace is in the log only)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from business_data.db import is_disk_full, no_space_message

log = logging.getLogger("finkraft.server")


def _describe(errors) -> str:
    parts = []
    for e in errors:
        if not isinstance(e, dict):  # a plain sentence about the whole body (typed by `typed_errors`)
            parts.append(str(e).rstrip("."))
            continue
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "query", "path")]
        field = ".".join(loc) or "request body"
        kind = e.get("type", "")
        if kind == "missing":
            parts.append(f"'{field}' is required")
        elif kind == "extra_forbidden":
            parts.append(f"'{field}' is not a field this endpoint accepts")
        elif kind == "json_invalid":  # the edge's own sentence (server/edge.py: not UTF-8, too deep), else the usual
            msg = _message(e)
            parts.append(msg if msg.startswith("the ") else "the body is not valid JSON")
        elif not loc and kind == "value_error" and _message(e).startswith("the "):  # a sentence about the whole request
            parts.append(_message(e))
        else:
            parts.append(f"{field}: {_message(e)}")
    return "Invalid request: " + "; ".join(parts) + "."


def _message(e: dict) -> str:
    return str(e.get("msg", "is not valid")).removeprefix("Value error, ")


def field_errors(errors) -> list[dict]:
    """Each problem as {loc, msg, type} (server/responses.py FieldError): pydantic's errors without the
    offending input or its context (they may be large, or not JSON), LangServe's plain strings as
    problems with the whole body."""
    out: list[dict[str, Any]] = []
    for e in errors:
        if not isinstance(e, dict):
            out.append({"loc": ["body"], "msg": str(e).rstrip("."), "type": "value_error"})
            continue
        loc = [x if isinstance(x, int | str) else str(x) for x in e.get("loc", ())]
        out.append({"loc": loc, "msg": _message(e), "type": str(e.get("type", "value_error"))})
    return out


NOT_JSON = {"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}


def typed_errors(exc: RequestValidationError) -> list:
    """The request's problems, each a dict. LangServe raises `RequestValidationError(["Invalid JSON body"])`
    from inside `except json.JSONDecodeError`: the cause, not the words, says the body was not JSON."""
    errors = list(exc.errors())
    if any(not isinstance(e, dict) for e in errors) and isinstance(exc.__context__, ValueError):
        return [NOT_JSON if not isinstance(e, dict) else e for e in errors]  # JSONDecodeError, UnicodeDecodeError
    return errors


def invalid_request(errors) -> JSONResponse:
    """The 422 every route sends (server/responses.py ValidationProblem): one sentence, and the list."""
    return JSONResponse({"detail": _describe(errors), "errors": field_errors(errors)}, status_code=422)


class Invalid(HTTPException):
    """A 422 for a check the request schema cannot make (a workspace that does not exist ...):
    `raise Invalid(("body", "workspace_id"), "there is no workspace 'x'")`."""

    def __init__(self, loc: tuple[str | int, ...], msg: str):
        super().__init__(422, f"Invalid request: {msg}.")
        self.errors = [{"loc": list(loc), "msg": msg, "type": "value_error"}]


class TurnFailed(Exception):
    """A turn failed. Its memory, trace and checkpoint were not saved (graph/tracing.py), but a tool's
    own write may have committed before the failure (`done`: those tools' messages): the answer says
    so rather than claim that nothing changed. `disk_full`: the storage is full (a 507)."""

    def __init__(self, done: list[str], disk_full: bool = False):
        super().__init__("; ".join(done) or "turn failed")
        self.done, self.disk_full = done, disk_full


def error_detail(exc: BaseException | None, error_id: str) -> tuple[int, str]:
    """The status and sentence for an unexpected error: true about what was saved."""
    done = exc.done if isinstance(exc, TurnFailed) else []
    full = (isinstance(exc, TurnFailed) and exc.disk_full) or is_disk_full(exc)
    if done:
        why = "The server ran out of disk space" if full else "Something went wrong on our side"
        return 507 if full else 500, (
            f"{why} after this was done: {' '.join(done)} "
            f"Nothing else from this request was saved. Error id: {error_id}."
        )
    if full:
        return 507, no_space_message("finish this request") + f" Error id: {error_id}."
    if isinstance(exc, TurnFailed):
        return 500, f"Something went wrong on our side; nothing from this request was saved. Error id: {error_id}."
    return 500, f"Something went wrong on our side. Error id: {error_id}."


# a tool result's machine-readable code -> the HTTP status a client gets (tools/base.py ResultCode)
HTTP_STATUS = {
    "invalid": 400,
    "denied": 403,
    "not_found": 404,
    "conflict": 409,
    "no_space": 507,
    "busy": 503,
    "internal": 500,
}
BUSY_RETRY_AFTER_S = 5  # a 503 "busy": when to try again


def raise_for_tool_result(result) -> None:
    """A tool's refusal or error as the HTTP answer a client expects, from its code alone."""
    if result.code != "ok":
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)} if result.code == "busy" else None
        raise HTTPException(HTTP_STATUS[result.code], result.message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return invalid_request(typed_errors(exc))

    @app.exception_handler(ValidationError)
    async def _agent_input(request: Request, exc: ValidationError):
        # LangServe's /agent/batch validates each input itself and lets pydantic's error out: that is
        # the client's input. Anywhere else a ValidationError is our own bug: the usual 500.
        if request.url.path.startswith("/agent/") and exc.title == "AgentInput":
            return invalid_request([{**e, "loc": ("body", "input", *e.get("loc", ()))} for e in exc.errors()])
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI's body parsing: bytes that are not text (e.g. a UTF-16 BOM then garbage)
            return invalid_request([NOT_JSON])
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 422:  # a route's own check (Invalid names the field; else the request as a whole)
            errors = getattr(exc, "errors", None) or [
                {"loc": [], "msg": detail.removeprefix("Invalid request: ").rstrip("."), "type": "value_error"}
            ]
            return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
        if exc.status_code == 404 and "route" not in request.scope:  # the router matched no path (it sets "route")
            detail = f"There is no endpoint {request.method} {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


class UnexpectedErrors:
    """An unhandled error becomes a 500 with an error id (the trace goes to the log only), answered
    here instead of by Starlette's ServerErrorMiddleware: that one re-raises after answering, and the
    server then closes the keep-alive connection under the client's next request. Here the error
    ends with the answer and the connection stays usable. (An error after the response has started,
    mid-stream, still closes the connection: the client must not take a cut-off body as whole.)"""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            error_id = uuid.uuid4().hex[:12]
            log.error("unhandled error %s on %s %s", error_id, scope.get("method"), scope.get("path"), exc_info=exc)
            status, detail = error_detail(exc, error_id)
            response = JSONResponse({"detail": detail, "error_id": error_id}, status_code=status)
            await response(scope, receive, send)


class BodySizeLimit:
    """Reject bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._reject(send)
        seen, too_large, started = 0, False, False

        async def limited_receive():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            # once the body is over the limit, whatever the app answers (FastAPI turns the error
            # into a 400 "error parsing the body") is replaced by the 413
            nonlocal started
            if too_large and not started:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if too_large and not started:
            await self._reject(send)

    async def _reject(self, send: Send):
        body = f'{{"detail": "The request body is too large (limit {self.max_bytes} bytes)."}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
