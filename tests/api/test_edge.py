"""Input is never a 5xx: what LangServe (or a store) would fail on is refused at the edge (server/edge.py)
with the documented 422 body, the same on SQLite and PostgreSQL, and nothing is written."""

from __future__ import annotations

import json

import pytest
from langserve.lzstring import LZString

from .conftest import invalid, no_traceback
from .test_hardening import counts, say

JSON = {"content-type": "application/json"}
TURNS = ("invoke", "stream", "stream_events", "stream_log")
# /agent/c/{hash}/...: the playground's routes with the config in the path
HASH = LZString.compressToEncodedURIComponent(json.dumps({"configurable": {"thread_id": "edge"}}))
ALL_ROUTES = [f"/agent/{r}" for r in (*TURNS, "batch")] + [f"/agent/c/{HASH}/{r}" for r in (*TURNS, "batch")]


def body_for(route: str, input) -> str:
    key = '"inputs": [%s]' if route.endswith("/batch") else '"input": %s'
    return "{" + key % input + "}"


def refused(response, detail: str, loc: list) -> None:
    errors = invalid(response, detail)
    assert errors[0]["loc"] == loc, errors
    no_traceback(response)


@pytest.mark.parametrize("route", [f"/agent/{r}" for r in TURNS] + [f"/agent/c/{HASH}/invoke"])
def test_config_null_is_a_422(api, route):
    r = api.maya.post(route, json={"input": say("hi"), "config": None})
    refused(
        r,
        'Invalid request: config: must be an object, e.g. {"configurable": {"thread_id": "t1"}}.',
        ["body", "config"],
    )


@pytest.mark.parametrize("route", ["/agent/batch", f"/agent/c/{HASH}/batch"])
@pytest.mark.parametrize("inputs", ["null", "false", "0", '"hi"', "{}"])
def test_batch_inputs_that_are_not_a_list_are_a_422(api, route, inputs):
    r = api.maya.post(route, content='{"inputs": ' + inputs + "}", headers=JSON)
    refused(r, 'Invalid request: inputs: must be a list of inputs, e.g. [{"messages": [...]}].', ["body", "inputs"])


def test_batch_config_of_the_wrong_shape_is_a_422(api):
    r = api.maya.post("/agent/batch", json={"inputs": [say("hi")], "config": [None]})
    refused(r, "Invalid request: config: must be an object, or a list of objects (one per input).", ["body", "config"])


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_a_body_that_is_not_utf8_is_a_422(api, route):
    r = api.maya.post(route, content=body_for(route, '"\xff"').encode("latin-1"), headers=JSON)
    refused(r, "Invalid request: the body is not UTF-8 text (JSON must be UTF-8).", ["body"])


@pytest.mark.parametrize("route", ["/agent/invoke", "/agent/batch", "/agent/stream_log"])
def test_json_nested_1000_deep_is_a_422(api, route):
    r = api.maya.post(route, content=body_for(route, "[" * 1000 + "]" * 1000), headers=JSON)
    refused(r, "Invalid request: the JSON is nested too deeply; at most 32 levels.", ["body"])


def test_json_nested_past_the_limit_names_where(api):
    deep = {"messages": [{"type": "human", "content": "hi", "name": "x"}], "resume": None}
    value: dict = {}
    inner = value
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    deep["resume"] = value
    r = api.maya.post("/agent/invoke", json={"input": deep})
    errors = invalid(r, r.json()["detail"])
    assert "nested too deeply; JSON may be at most 32 levels deep" in r.json()["detail"]
    assert errors[0]["loc"][:3] == ["body", "input", "resume"]


@pytest.mark.parametrize("route", ["/agent/invoke", "/agent/stream", "/agent/batch"])
@pytest.mark.parametrize("where", ["resume", "inputs"])
def test_an_integer_of_5000_digits_is_a_422(api, route, where):
    big = "9" * 5000
    if where == "resume":
        content, loc = body_for(route, '{"resume": ' + big + "}"), ["input", "resume"]
    else:
        content, loc = body_for(route, big), ["inputs", 0] if route.endswith("batch") else ["input"]
    r = api.maya.post(route, content=content, headers=JSON)
    if route.endswith("batch") and where == "resume":
        loc = ["inputs", 0, "resume"]
    refused(
        r,
        f"Invalid request: {'.'.join(map(str, loc))}: is a number too large to keep (5000 digits; at most 64 bits).",
        ["body", *loc],
    )


@pytest.mark.parametrize("route", ["/agent/invoke", "/agent/stream", "/agent/batch", f"/agent/c/{HASH}/stream_log"])
@pytest.mark.parametrize("message", ['"hi"', '["human", "hi"]', "1", "null"])
def test_messages_that_are_not_message_objects_are_a_422(api, route, message):
    before = counts(api)
    r = api.maya.post(route, content=body_for(route, '{"messages": [' + message + "]}"), headers=JSON)
    where = ["inputs", 0] if route.endswith("batch") else ["input"]
    refused(
        r,
        f"Invalid request: {'.'.join(map(str, where))}.messages.0: "
        'must be a message object like {"type": "human", "content": "..."}.',
        ["body", *where, "messages", 0],
    )
    assert counts(api) == before


def test_messages_that_are_not_a_list_are_a_422(api):
    r = api.maya.post("/agent/invoke", json={"input": {"messages": "hi"}})
    refused(
        r,
        'Invalid request: input.messages: must be a list of messages like {"type": "human", "content": "..."}.',
        ["body", "input", "messages"],
    )


@pytest.mark.parametrize("route", ["/agent/invoke", "/agent/batch"])
def test_a_body_that_is_not_an_object_is_a_422(api, route):
    r = api.maya.post(route, json=["hi"])
    refused(r, 'Invalid request: request body: the body must be a JSON object, e.g. {"input": {...}}.', ["body"])


SURROGATE = "is not valid Unicode text: it has a lone surrogate (\\ud800-\\udfff)"
NUL = "contains a NUL character (\\u0000), which text may not hold"


def test_a_lone_surrogate_in_a_tool_parameter_is_a_422_not_an_echo(api):
    content = '{"tool_name": "filter_data", "params": {"vendor": "Sky\\ud800"}}'
    r = api.maya.post("/execute_tool", content=content, headers=JSON)
    refused(r, f"Invalid request: params.vendor: {SURROGATE}.", ["body", "params", "vendor"])


def test_a_surrogate_pair_is_ordinary_text(api):
    content = '{"tool_name": "filter_data", "params": {"vendor": "Sky\\ud83d\\ude00"}}'
    r = api.maya.post("/execute_tool", content=content, headers=JSON)
    assert r.status_code == 400 and "Sky\U0001f600" in r.json()["detail"], r.text  # no such vendor, said plainly


@pytest.mark.parametrize(
    "method, url, content, detail, loc",
    [
        ("get", "/tickets/%00", None, f"Invalid request: the address {NUL}.", ["path"]),
        ("get", "/tickets/T-%0000001", None, f"Invalid request: the address {NUL}.", ["path"]),
        ("get", "/tickets?status=open%00", None, f"Invalid request: status: {NUL}.", ["query", "status"]),
        (
            "post",
            "/execute_tool",
            '{"tool_name": "filter_data", "params": {"data_type": "sales", "customer": "Acme\\u0000"}}',
            f"Invalid request: params.customer: {NUL}.",
            ["body", "params", "customer"],
        ),
        (
            "post",
            "/chat",
            '{"message": "failed IndiSky invoices\\u0000"}',
            f"Invalid request: message: {NUL}.",
            ["body", "message"],
        ),
        (
            "post",
            "/agent/invoke",
            '{"input": {"messages": [{"type": "human", "content": "hi\\u0000"}]}}',
            f"Invalid request: input.messages.0.content: {NUL}.",
            ["body", "input", "messages", 0, "content"],
        ),
        (
            "post",
            "/agent/invoke",
            '{"input": {"resume": "y\\u0000es"}}',
            f"Invalid request: input.resume: {NUL}.",
            ["body", "input", "resume"],
        ),
        (
            "post",
            "/admin/users",
            '{"user_id": "nul", "display_name": "N\\u0000L", "role": "Viewer", "workspace_id": "acme"}',
            f"Invalid request: display_name: {NUL}.",
            ["body", "display_name"],
        ),
    ],
)
def test_nul_is_a_422_on_every_database_and_nothing_is_written(api, method, url, content, detail, loc):
    before = counts(api)
    who = api.admin if url.startswith("/admin") else api.maya
    r = who.request(method.upper(), url, content=content, headers=JSON if content else {})
    refused(r, detail, loc)
    assert counts(api) == before


def test_a_nul_or_surrogate_key_is_a_422_naming_it_in_escapes(api):
    r = api.maya.post("/chat", content='{"message": "hi", "x\\u0000": 1}', headers=JSON)
    refused(r, f"Invalid request: x\\u0000: {NUL}.", ["body", "x\\u0000"])
    r = api.maya.post("/agent/invoke", content='{"input": {"messages": [], "x\\ud800": 1}}', headers=JSON)
    refused(r, f"Invalid request: input.x\\ud800: {SURROGATE}.", ["body", "input", "x\\ud800"])


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api):
    # "\\u0000" in JSON is a backslash and the letters u0000, no NUL: the chat turn answers
    r = api.maya.post("/chat", content='{"message": "show tickets \\\\u0000", "thread_id": "edge-bs"}', headers=JSON)
    assert r.status_code == 200, r.text


def test_ordinary_agent_turns_still_work(api):
    r = api.maya.post("/agent/invoke", json={"input": say("show my tickets"), "config": {"configurable": {}}})
    assert r.status_code == 200, r.text
    r = api.maya.post("/agent/batch", json={"inputs": [say("show my tickets")], "config": [{}]})
    assert r.status_code == 200, r.text
    with api.client.stream(
        "POST", "/agent/stream", json={"input": say("show my tickets")}, headers={"Authorization": "Bearer dev-maya"}
    ) as r:
        assert r.status_code == 200 and "event: end" in r.read().decode()
