"""Errors a person can read: 4xx with a specific message, 5xx with an error id (the trace is in the log only)."""
from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("finkraft.server")


def _describe(errors) -> str:
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "query", "path")]
        field = ".".join(loc) or "request body"
        if e["type"] == "missing":
            parts.append(f"'{field}' is required")
        elif e["type"] == "extra_forbidden":
            parts.append(f"'{field}' is not a field this endpoint accepts")
        elif e["type"] == "json_invalid":
            parts.append("the body is not valid JSON")
        else:
            parts.append(f"{field}: {e['msg'].removeprefix('Value error, ')}")
    return "Invalid request: " + "; ".join(parts) + "."


# a tool result's machine-readable code -> the HTTP status a client gets (tools/base.py ResultCode)
HTTP_STATUS = {"invalid": 400, "denied": 403, "not_found": 404, "conflict": 409, "internal": 500}


def raise_for_tool_result(result) -> None:
    """A tool's refusal or error as the HTTP answer a client expects, from its code alone."""
    if result.code != "ok":
        raise HTTPException(HTTP_STATUS[result.code], result.message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _describe(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no endpoint {request.method} {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        error_id = uuid.uuid4().hex[:12]
        log.error("unhandled error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": f"Something went wrong on our side. Nothing was changed. Error id: {error_id}.",
                             "error_id": error_id}, status_code=500)


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
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send):
        body = f'{{"detail": "The request body is too large (limit {self.max_bytes} bytes)."}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
