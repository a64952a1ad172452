"""/openapi.json lists the errors each route can really give, each with the body the server sends
(`Problem`; `ValidationProblem` for a 422: a sentence plus the list of problems), and real error
answers validate against what the route documents. `kwargs` on /agent is refused, not dropped."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from .conftest import invalid, running_api
from .test_hardening import counts, say

ERRORS = {"400", "401", "403", "404", "409", "410", "413", "422", "429", "500", "503", "507"}


@pytest.fixture(scope="module")
def spec(api) -> dict:
    return api.anon.get("/openapi.json").json()


def errors_of(spec: dict, path: str, method: str) -> dict[str, str]:
    """status -> the schema name of its body, for one operation's error answers."""
    answers = spec["paths"][path][method]["responses"]
    return {
        code: answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for code, answer in answers.items()
        if code in ERRORS
    }


def test_no_route_documents_fastapis_default_422(spec):
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "HTTPValidationError" not in str(spec["paths"])
    problem = spec["components"]["schemas"]["ValidationProblem"]
    assert problem["required"] == ["detail", "errors"] and problem["properties"]["detail"]["type"] == "string"
    assert problem["properties"]["errors"]["type"] == "array"
    for path, ops in spec["paths"].items():
        for method in ops:
            for code, name in errors_of(spec, path, method).items():
                assert name == ("ValidationProblem" if code == "422" else "Problem"), (method, path, code)


@pytest.mark.parametrize(
    "method, path, codes",
    [
        ("get", "/health", {"500"}),  # no sign-in, no parameters
        ("get", "/threads", {"401", "422", "429", "500"}),  # signed in; q, limit and offset validated; no id
        ("delete", "/auth/session", {"500"}),
        (
            "post",
            "/chat",
            {"401", "403", "409", "413", "422", "429", "500", "507"},
        ),  # 403: cookie write from another site; 409: a tool_call while a yes/no is open
        ("post", "/execute_tool", {"400", "401", "403", "404", "409", "413", "422", "429", "500", "503", "507"}),
        ("get", "/tickets/{ticket_id}", {"400", "401", "403", "404", "422", "429", "500"}),
        (
            "patch",
            "/tickets/{ticket_id}",
            {"400", "401", "403", "404", "409", "413", "422", "429", "500", "503", "507"},
        ),
        ("get", "/tickets/{ticket_id}/assignees", {"401", "404", "422", "429", "500"}),
        (
            "delete",
            "/threads/{thread_id}",
            {"401", "403", "404", "422", "429", "500"},
        ),  # 403: cookie write from another site
        ("get", "/exports/{export_id}/download", {"401", "404", "410", "422", "429", "500"}),
        ("get", "/admin/users", {"401", "403", "429", "500"}),
        ("post", "/admin/users", {"401", "403", "409", "413", "422", "429", "500"}),
        ("delete", "/admin/tokens/{token_id}", {"401", "403", "404", "409", "422", "429", "500"}),
        ("get", "/memory/{user_id}/insights", {"401", "403", "404", "422", "429", "500"}),
        ("post", "/plans/{plan_id}/execute", {"401", "403", "404", "409", "413", "422", "429", "500"}),
        ("post", "/agent/invoke", {"401", "403", "409", "413", "422", "429", "500", "507"}),
        ("post", "/agent/batch", {"401", "403", "409", "413", "422", "429", "500", "507"}),
        ("get", "/agent/input_schema", {"401", "429", "500"}),
        ("post", "/agent/c/{config_hash}/invoke", {"400", "401", "403", "409", "413", "422", "429", "500", "507"}),
        ("get", "/agent/c/{config_hash}/input_schema", {"400", "401", "422", "429", "500"}),
    ],
)
def test_each_route_lists_the_errors_it_can_give(spec, method, path, codes):
    assert set(errors_of(spec, path, method)) == codes


# (the request, the path it is documented under): each gives the error named in its id
REAL_ERRORS = {
    "400 bad ticket status": ("maya", "get", "/tickets?status=exploded", None, "/tickets"),
    "401 no token": ("anon", "get", "/threads", None, "/threads"),
    "403 viewer at admin": ("victor", "get", "/admin/users", None, "/admin/users"),
    "403 another user's memory": ("maya", "get", "/memory/gita/insights", None, "/memory/{user_id}/insights"),
    "404 no such ticket": ("maya", "get", "/tickets/T-99999", None, "/tickets/{ticket_id}"),
    "404 no such trace": ("maya", "get", "/traces/nope", None, "/traces/{trace_id}"),
    "409 user exists": (
        "admin",
        "post",
        "/admin/users",
        {"user_id": "maya", "display_name": "M", "role": "Viewer", "workspace_id": "acme"},
        "/admin/users",
    ),
    "409 nothing to resume": (
        "maya",
        "post",
        "/agent/invoke",
        {"input": {"resume": "yes"}, "config": {"configurable": {"thread_id": "contract-idle"}}},
        "/agent/invoke",
    ),
    "413 body too large": ("maya", "post", "/chat", {"message": "x" * 300_000}, "/chat"),
    "400 bad config hash": ("maya", "post", "/agent/c/0/invoke", {"input": say("hi")}, "/agent/c/{config_hash}/invoke"),
    "422 missing field": ("maya", "post", "/chat", {}, "/chat"),
    "422 query out of range": ("maya", "get", "/traces?limit=0", None, "/traces"),
    "422 route's own check": (
        "admin",
        "post",
        "/admin/users",
        {"user_id": "newbie", "display_name": "N", "role": "Viewer", "workspace_id": "nowhere"},
        "/admin/users",
    ),
    "422 agent input": ("maya", "post", "/agent/invoke", {"input": {"messages": [{"type": "human"}]}}, "/agent/invoke"),
    "422 agent batch input": ("maya", "post", "/agent/batch", {"inputs": [{"messages": 5}]}, "/agent/batch"),
    "422 agent body not JSON": ("maya", "post", "/agent/invoke", b"\x00", "/agent/invoke"),
    "422 agent kwargs": ("maya", "post", "/agent/invoke", {"input": say("hi"), "kwargs": {"a": 1}}, "/agent/invoke"),
}


def _send(api, who: str, method: str, url: str, body):
    caller = getattr(api, who)
    if isinstance(body, bytes):
        return caller.request(method.upper(), url, content=body, headers={"content-type": "application/json"})
    return caller.request(method.upper(), url, json=body) if body is not None else caller.request(method.upper(), url)


def _validates(spec: dict, path: str, method: str, code: int, body: dict) -> None:
    answers = spec["paths"][path][method]["responses"]
    assert str(code) in answers, f"{method.upper()} {path} does not document the {code} it gave"
    schema = answers[str(code)]["content"]["application/json"]["schema"]
    errors = list(Draft202012Validator({**schema, "components": spec["components"]}).iter_errors(body))
    assert not errors, (code, body, [e.message for e in errors])


@pytest.mark.parametrize("case", REAL_ERRORS)
def test_real_errors_validate_against_what_the_route_documents(api, spec, case):
    who, method, url, body, path = REAL_ERRORS[case]
    r = _send(api, who, method, url, body)
    assert r.status_code == int(case[:3]), r.text
    _validates(spec, path, method, r.status_code, r.json())
    if r.status_code == 422:
        assert r.json()["errors"], r.json()  # never an empty list: each problem, with where it is


def test_a_real_429_validates_against_the_documented_schema(api, spec):
    with running_api(api.data_dir, FINKRAFT_RATE_LIMIT="1/minute") as limited:
        assert limited.maya.get("/threads").status_code == 200
        r = limited.maya.get("/threads")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        _validates(spec, "/threads", "get", 429, r.json())


def test_a_422_names_each_problem_and_where_it_is(api):
    r = api.maya.post("/chat", json={"message": "", "thread_id": "a/b", "extra": 1})
    errors = invalid(r, r.json()["detail"])
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["body", "message"], "value_error"),
        (["body", "thread_id"], "string_pattern_mismatch"),
    ]
    r = api.maya.get("/traces?limit=0")
    assert invalid(r, "Invalid request: limit: Input should be greater than or equal to 1.") == [
        {"loc": ["query", "limit"], "msg": "Input should be greater than or equal to 1", "type": "greater_than_equal"}
    ]


@pytest.mark.parametrize("route", ["/agent/invoke", "/agent/batch", "/agent/stream", "/agent/stream_events"])
def test_agent_kwargs_are_refused_and_nothing_runs(api, spec, route):
    config = {"configurable": {"thread_id": "contract-kwargs"}}
    body = {"inputs": [say("show my tickets")]} if route.endswith("batch") else {"input": say("show my tickets")}
    before = counts(api)
    r = api.maya.post(route, json={**body, "config": config, "kwargs": {"stream_mode": "values"}})
    errors = invalid(
        r,
        "Invalid request: 'kwargs' is not supported on /agent; leave it out or send {} "
        "(the thread goes in config.configurable.thread_id).",
    )
    assert errors[0]["loc"] == ["body", "kwargs"]
    assert counts(api) == before  # no trace, memory turn or ticket
    # an empty kwargs (what LangServe's own client sends) is fine
    r = api.maya.post(route, json={**body, "config": config, "kwargs": {}})
    assert r.status_code == 200, r.text
    request_model = spec["paths"][route]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    kwargs = spec["components"]["schemas"][request_model.rsplit("/", 1)[-1]]["properties"]["kwargs"]
    assert kwargs["maxProperties"] == 0  # the schema says so too
