"""Errors a person can read: 4xx with a specific message, 5xx with an error id (the trace is in the log only)."""
from __future__ import annotations

import logging
import uuid

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
        if not isinstance(e, dict):  # LangServe raises RequestValidationError(["Invalid JSON body"])
            parts.append("the body is not valid JSON" if "json" in str(e).lower() else str(e).rstrip("."))
            continue
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "query", "path")]
        field = ".".join(loc) or "request body"
        kind = e.get("type", "")
        if kind == "missing":
            parts.append(f"'{field}' is required")
        elif kind == "extra_forbidden":
            parts.append(f"'{field}' is not a field this endpoint accepts")
        elif kind == "json_invalid":
            parts.append("the body is not valid JSON")
        else:
            parts.append(f"{field}: {str(e.get('msg', 'is not valid')).removeprefix('Value error, ')}")
    return "Invalid request: " + "; ".join(parts) + "."


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
        return 507 if full else 500, (f"{why} after this was done: {' '.join(done)} "
                                      f"Nothing else from this request was saved. Error id: {error_id}.")
    if full:
        return 507, no_space_message("finish this request") + f" Error id: {error_id}."
    if isinstance(exc, TurnFailed):
        return 500, f"Something went wrong on our side; nothing from this request was saved. Error id: {error_id}."
    return 500, f"Something went wrong on our side. Error id: {error_id}."


# a tool result's machine-readable code -> the HTTP status a client gets (tools/base.py ResultCode)
HTTP_STATUS = {"invalid": 400, "denied": 403, "not_found": 404, "conflict": 409, "no_space": 507, "internal": 500}


def raise_for_tool_result(result) -> None:
    """A tool's refusal or error as the HTTP answer a client expects, from its code alone."""
    if result.code != "ok":
        raise HTTPException(HTTP_STATUS[result.code], result.message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _describe(exc.errors())}, status_code=422)

    @app.exception_handler(ValidationError)
    async def _agent_input(request: Request, exc: ValidationError):
        # LangServe's /agent/batch validates each input itself and lets pydantic's error out: that is
        # the client's input. Anywhere else a ValidationError is our own bug: the usual 500.
        if request.url.path.startswith("/agent/") and exc.title == "AgentInput":
            errors = [{**e, "loc": ("input", *e.get("loc", ()))} for e in exc.errors()]
            return JSONResponse({"detail": _describe(errors)}, status_code=422)
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI's body parsing: bytes that are not text (e.g. a UTF-16 BOM then garbage)
            return JSONResponse({"detail": "Invalid request: the body is not valid JSON."}, status_code=422)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no endpoint {request.method} {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))



# what every operation may answer besides its own responses (all as {"detail": "..."}; 5xx add error_id)
COMMON_ERRORS = {
    "401": "No valid bearer token", "413": "The request body is too large",
    "422": "Invalid request: `detail` says what to fix, in one sentence", "429": "Too many requests (see Retry-After)",
    "500": "Something failed on our side; `error_id` names it in the server log",
}
PROBLEM_SCHEMA = {"title": "Problem", "type": "object", "required": ["detail"],
                  "properties": {"detail": {"type": "string", "title": "Detail"},
                                 "error_id": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Error Id"}}}


def document_errors(app: FastAPI) -> None:
    """The OpenAPI schema says what the server really sends: a 422 `detail` is a string (one
    sentence), not FastAPI's default list, and every operation lists the common error answers."""
    build = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["HTTPValidationError"] = {**PROBLEM_SCHEMA, "title": "HTTPValidationError"}
        schemas.setdefault("Problem", PROBLEM_SCHEMA)
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                for code, text in COMMON_ERRORS.items():
                    if path == "/health" or (code in ("413",) and method in ("get", "delete")):
                        continue
                    op["responses"].setdefault(code, {"description": text, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


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
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
