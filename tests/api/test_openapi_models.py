"""/openapi.json describes what the routes answer, and the answers are what it says (in process)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from tests.conftest import TOKENS, make_services

CHAT_FIELDS = {
    "success",
    "agent_response",
    "tool_used",
    "tool_calls",
    "data",
    "trace_id",
    "thread_id",
    "status",
    "welcome",
    "interpretation",
    "answer",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    services = make_services(tmp_path_factory.mktemp("openapi"))
    with TestClient(create_app(services=services)) as c:
        yield c


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _answer_schema(spec: dict, path: str, method: str) -> dict:
    responses = spec["paths"][path][method]["responses"]
    ok = responses.get("200") or responses.get("201")
    return _resolve(spec, ok["content"]["application/json"]["schema"])


def test_chat_schema_names_the_contract_fields(client):
    spec = client.get("/openapi.json").json()
    chat = _answer_schema(spec, "/chat", "post")
    assert set(chat["properties"]) == CHAT_FIELDS
    assert set(chat["required"]) == CHAT_FIELDS  # every field is always there (tool_used, welcome may be null)
    call = _resolve(spec, chat["properties"]["tool_calls"]["items"])
    assert set(call["properties"]) == {"tool", "params"}
    assert chat["properties"]["success"]["type"] == "boolean"


def test_every_route_documents_its_answer_and_its_errors(client):
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and ok.get("content"), f"{method.upper()} {path}: no answer documented"
            for media, body in ok["content"].items():
                schema = _resolve(spec, body.get("schema") or {})
                assert schema, f"{method.upper()} {path}: {media} answer without a schema"
                if media == "application/json" and not path.startswith("/agent/") and not path.endswith("_schema"):
                    assert schema.get("properties") or schema.get("anyOf"), f"{method.upper()} {path}: untyped answer"
            if path in ("/agent/stream", "/agent/stream_events", "/chat/stream"):
                assert set(ok["content"]) == {"text/event-stream"}, path
            if "422" in op["responses"]:  # what our error handler sends, not FastAPI's default list
                problem = _resolve(spec, op["responses"]["422"]["content"]["application/json"]["schema"])
                assert problem["properties"]["detail"]["type"] == "string", f"{method.upper()} {path}"
            checked += 1
    assert checked >= 25


def _keys_fit(spec: dict, schema: dict, body: dict) -> None:
    schema = _resolve(spec, schema)
    props = schema["properties"]
    assert set(schema.get("required", [])) <= set(body), set(schema.get("required", [])) - set(body)
    if schema.get("additionalProperties") is not True:
        assert set(body) <= set(props), set(body) - set(props)


def test_real_answers_match_the_documented_models(client):
    spec = client.get("/openapi.json").json()
    maya = {"Authorization": f"Bearer {TOKENS['maya']}"}
    admin = {"Authorization": f"Bearer {TOKENS['admin']}"}

    r = client.post(
        "/chat", headers=maya, json={"message": "failed IndiSky invoices from last month", "thread_id": "oa1"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == CHAT_FIELDS
    assert body["data"]["filtered_records"] == 7 and body["tool_calls"][0]["tool"] == "filter_data"
    assert set(body["tool_calls"][0]) == {"tool", "params"}

    r = client.post("/chat", headers=maya, json={"message": "create a ticket for these", "thread_id": "oa1"})
    assert r.json()["status"] == "awaiting_confirmation" and r.json()["tool_used"] is None  # null stays null
    assert set(r.json()) == CHAT_FIELDS

    for path, method, headers, kwargs in [
        ("/execute_tool", "post", maya, {"json": {"tool_name": "filter_data", "params": {"vendor": "IndiSky"}}}),
        ("/tickets", "get", maya, {}),
        ("/notifications", "get", maya, {}),
        ("/traces", "get", maya, {}),
        ("/threads", "get", maya, {}),
        ("/admin/users", "get", admin, {}),
        ("/admin/tokens", "get", admin, {}),
        ("/user/{user_id}/permissions", "get", maya, {}),
        ("/health/detailed", "get", maya, {}),
        ("/plans/create", "post", maya, {"json": {"template": "vendor_analysis", "params": {"vendor": "IndiSky"}}}),
    ]:
        url = path.replace("{user_id}", "maya")
        r = client.request(method.upper(), url, headers=headers, **kwargs)
        assert r.status_code in (200, 201), (url, r.text)
        _keys_fit(
            spec,
            spec["paths"][path][method]["responses"][str(r.status_code)]["content"]["application/json"]["schema"],
            r.json(),
        )

    plan = client.post("/plans/create", headers=maya, json={"template": "monthly_review"}).json()
    assert "question" not in plan and "trace_id" not in plan  # absent optional keys stay absent

    trace_id = body["trace_id"]
    plain = client.get(f"/traces/{trace_id}", headers=maya).json()
    full = client.get(f"/traces/{trace_id}", headers=admin).json()
    assert "steps" not in plain and "user_id" not in plain  # the owner's plain view, unchanged
    assert {"steps", "user_id", "workspace_id", "router", "plan"} <= set(full)

    r = client.post("/chat", headers=maya, json={"message": "   "})
    assert r.status_code == 422 and set(r.json()) == {"detail", "errors"} and isinstance(r.json()["detail"], str)


def test_sign_in_schemes_are_declared_for_swagger_authorize(client):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"]["type"] == "http" and schemes["bearerToken"]["scheme"] == "bearer"
    assert schemes["sessionCookie"] == {
        **schemes["sessionCookie"],
        "type": "apiKey",
        "in": "cookie",
        "name": "finkraft_session",
    }
    open_ops = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "security" not in op:
                open_ops.add(f"{method.upper()} {path}")
            else:  # either one signs in
                assert op["security"] == [{"bearerToken": []}, {"sessionCookie": []}], (method, path)
    assert open_ops == {"GET /health", "DELETE /auth/session", "GET /auth/login"}


def test_schemes_do_not_change_the_401_answers(client):
    r = client.get("/tickets")
    assert (r.status_code, r.json()) == (401, {"detail": "Sign in first: send 'Authorization: Bearer <token>'."})
    assert r.headers["www-authenticate"] == "Bearer"
    for headers in ({"Authorization": "Bearer nope"}, {"Authorization": "Basic bWF5YTp4"}, {"Authorization": "Bearer"}):
        r = client.get("/tickets", headers=headers)
        assert r.status_code == 401, headers
    assert (
        client.get("/tickets", headers={"Authorization": "Bearer nope"})
        .json()["detail"]
        .startswith("That token is not valid")
    )
    # the cookie alone still signs in, and a bearer header wins over it
    session = client.post("/auth/session", headers={"Authorization": f"Bearer {TOKENS['victor']}"})
    client.cookies.clear()
    client.cookies.set("finkraft_session", session.cookies["finkraft_session"])
    try:
        assert client.get("/tickets").status_code == 200
        who = client.get("/user/maya/permissions", headers={"Authorization": f"Bearer {TOKENS['maya']}"})
        assert who.status_code == 200 and who.json()["user_id"] == "maya"
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_this_server(client, page):
    html = client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    assert assets and all(a.startswith("/") for a in assets), assets  # no CDN, no other host
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 1000, asset
    assert "fonts.googleapis" not in html.text and "cdn." not in html.text
