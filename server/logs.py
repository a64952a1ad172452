"""Structured server logs: one JSON object per line, each carrying the request it belongs to.

    {"level": "INFO", "logger": "finkraft.request", "message": "POST /chat 200", "time": "2026-11-24T04:48:21.138+00:00",
     "request_id": "4be0c1a2f3d94e57", "user_id": "maya", "trace_id": "7d0b1ade...", "status": 200, ...}

`RequestLog` (ASGI middleware) gives every HTTP request an id (the client's `X-Request-ID` when it is
a plain token, else a new one; sent back in the response's `X-Request-ID`), writes one access line
when it ends, and keeps a small context that every log record made while serving it is stamped with
(`request_id`, `user_id`, `trace_id`), whichever thread writes it: the context is one dict shared
through a contextvar, and the identity dependency and the runs fill it in (`log_context()`).

`configure()` is called by `finkraft` before uvicorn starts (and handed to uvicorn as its log
config, so its own lines are JSON too). Library noise stays out: faiss's loader chatter, progress
bars (tqdm, Hugging Face) in the server and the children it starts.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import os
import re
import time
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELDS = ("request_id", "user_id", "trace_id")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("finkraft_log_context", default=None)
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
QUIET = {
    "faiss": "WARNING",
    "faiss.loader": "WARNING",
    "alembic": "WARNING",
    "httpx": "WARNING",
    "sentence_transformers": "WARNING",
    "transformers": "ERROR",
    "uvicorn.access": "WARNING",
}
NO_PROGRESS_BARS = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}


def log_context() -> dict[str, Any]:
    """The current request's log fields (a throwaway dict outside a request): set `user_id`, `trace_id`."""
    return _context.get() or {}


class ContextFilter(logging.Filter):
    """Stamps every record with the request it was made in (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get() or {}
        record.__dict__.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
        for field in FIELDS:
            if not hasattr(record, field):
                setattr(record, field, ctx.get(field))
        return True


def formatter(fmt: str = "json") -> logging.Formatter:
    if fmt == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user_id)s]: %(message)s")
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        timestamp="time",  # ISO 8601, UTC
        rename_fields={"levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def log_config(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """A logging dictConfig: the root and uvicorn's loggers write one formatted line to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": {"()": formatter, "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            **{name: {"level": quiet} for name, quiet in QUIET.items()},
            # uvicorn's own loggers: through the root handler (its access log is replaced by RequestLog's)
            "uvicorn": {"level": level.upper(), "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
        },
    }


def configure(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """Set up logging for this process (and keep progress bars out of it and its children); returns
    the config for uvicorn (`log_config=`), which applies it again in each worker."""
    for name, value in NO_PROGRESS_BARS.items():
        os.environ.setdefault(name, value)
    config = log_config(level, fmt)
    logging.config.dictConfig(config)
    return config


class RequestLog:
    """An id and an access line for every HTTP request; log records made meanwhile carry its context."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.log = logging.getLogger("finkraft.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex[:16]
        ctx: dict[str, Any] = {"request_id": request_id, "user_id": None, "trace_id": None}
        token = _context.set(ctx)
        status, t0 = 500, time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path != "/health":  # probes every few seconds: not worth a line each
                self.log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status,
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - t0) * 1000, 1),
                    },
                )
            _context.reset(token)
