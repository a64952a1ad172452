"""The OpenAPI document's last touches, and the docs pages served from installed files.

- `/docs` (Swagger UI) and `/redoc` load their scripts and styles from the `fastapi-offline`
  package (under /static-offline-docs), never from a CDN: they work with no internet.
- Every operation's answer has a schema: the JSON ones come from the routes' response models; the
  others (a file download, Prometheus text, Server-Sent Events, LangServe's JSON-Schema routes)
  are described here, so a generated client knows what each returns.
- The sign-in schemes (bearer token, session cookie) come from the auth dependency (server/auth.py).
- Every operation lists the errors it can really give, each with the body the server sends
  (document_errors): `Problem`, and `ValidationProblem` for a 422 (not FastAPI's default list).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from .auth import SAFE_METHODS
from .responses import WHEN, Problem, ValidationProblem

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
KWARGS = {
    "type": "object",
    "maxProperties": 0,
    "title": "Kwargs",
    "description": "Not supported (LangServe passes them to nothing): leave it out or send {}; else a 422",
}
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
        for name, model in schema.get("components", {}).get("schemas", {}).items():
            if name.startswith("agent") and "kwargs" in model.get("properties", {}):
                model["properties"]["kwargs"] = KWARGS  # as server/agent_routes.py check_body refuses them
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


def implied_errors(method: str, op: dict[str, Any]) -> list[int]:
    """The errors an operation can give by its shape (its own are declared with server/responses.py
    problems(), e.g. 403 on Admin-only routes): sign-in, rate limit and the session cookie's
    cross-site check (writes) when it takes a token, 404 for an id in the path, 413 for a method
    with a body, 422 for any parameter or body, 500 anywhere."""
    codes = [500]
    if op.get("security"):  # server/deps.py current_identity declares the bearer and cookie schemes
        codes += [401, 429] + ([403] if method.upper() not in SAFE_METHODS else [])
    params = op.get("parameters", [])
    if any(p.get("in") == "path" for p in params):
        codes.append(404)
    if method.upper() in ("POST", "PUT", "PATCH"):
        codes.append(413)  # server/errors.py BodySizeLimit, whatever the route reads
    if params or "requestBody" in op:
        codes.append(422)
    return codes


def _ref(code: int) -> dict[str, Any]:
    name = "ValidationProblem" if code == 422 else "Problem"
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def document_errors(app: FastAPI, extra: dict[str, dict[int, str | None]] | None = None) -> None:
    """Each operation lists the errors it can give (those its shape implies, those its decorator
    declares, and `extra`: path -> {code: description, or None for an implied one it cannot give}
    for routes made by a library, LangServe's), every one with the body the server really sends.
    FastAPI's default 422 (`HTTPValidationError`, `detail` a list) is replaced by `ValidationProblem`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (Problem, ValidationProblem):
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(found.pop("$defs", {}))
            schemas[model.__name__] = found
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                answers, own = op["responses"], (extra or {}).get(path, {})
                declared = {int(code) for code in answers if code.isdigit() and int(code) >= 400}
                for code in sorted(declared | set(implied_errors(method, op)) | set(own)):
                    if code in own and own[code] is None:
                        answers.pop(str(code), None)
                        continue
                    why = own.get(code) or WHEN[code]
                    answer = answers.setdefault(str(code), {"description": why})
                    if code == 422 and answer.get("description") == "Validation Error":  # FastAPI's own
                        answer["description"] = WHEN[422]
                    answer["content"] = _ref(code)
                schema["paths"][path][method]["responses"] = dict(sorted(answers.items()))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
