"""The OpenAPI document's last touches, and the docs pages served from installed files.

- `/docs` (Swagger UI) and `/redoc` load their scripts and styles from the `fastapi-offline`
  package (under /static-offline-docs), never from a CDN: they work with no internet.
- Every operation's answer has a schema: the JSON ones come from the routes' response models; the
  others (a file download, Prometheus text, Server-Sent Events, LangServe's JSON-Schema routes)
  are described here, so a generated client knows what each returns.
- The sign-in schemes (bearer token, session cookie) come from the auth dependency (server/auth.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

# one event of a text/event-stream answer (as Schemathesis and OpenAPI 3.2's itemSchema read it)
SSE = {
    "type": "object",
    "description": "a Server-Sent Event: its name, and its data (JSON text)",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
NOT_JSON = {
    "text/event-stream": SSE,
    "text/plain": {"type": "string"},
    "text/html": {"type": "string", "description": "a web page"},
    "text/csv": {"type": "string", "format": "binary"},
    "application/pdf": {"type": "string", "format": "binary"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
}
JSON_SCHEMA = {"type": "object", "additionalProperties": True, "description": "a JSON Schema"}
STREAMS = ("/stream", "/stream_events", "/stream_log")  # LangServe's (under /agent) say JSON; they are SSE


def docs_app(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose /docs and /redoc use the installed Swagger UI and ReDoc assets."""
    return FastAPIOffline(swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None}, **kwargs)


def describe_answers(app: FastAPI) -> None:
    """Fill in the schema of every answer the routes could not type themselves."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                if not isinstance(op, dict):
                    continue
                for code, answer in op.get("responses", {}).items():
                    if not code.startswith("2"):
                        continue
                    content = answer.setdefault("content", {})
                    if path.startswith("/agent/") and path.endswith(STREAMS):
                        content.pop("application/json", None)
                        content["text/event-stream"] = {"schema": SSE}
                    for media, body in content.items():
                        if not body.get("schema"):
                            body["schema"] = NOT_JSON.get(media, JSON_SCHEMA)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
