"""Request bodies and query parameters: what is wrong comes back as a 4xx a person can read (the
exact sentence is asserted), nothing is written, and no stack trace reaches the client."""

from __future__ import annotations

import pytest

from .conftest import invalid, no_traceback

EMPTY = (
    "Invalid request: message: the message is empty; type what you need, "
    "e.g. 'failed IndiSky invoices from last month'."
)
BAD_THREAD = "Invalid request: thread_id: String should match pattern '^[A-Za-z0-9_.:-]+$'."


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"message": ""}, EMPTY),
        ({"message": "   \n\t "}, EMPTY),
        ({"message": "x" * 4001}, "Invalid request: message: String should have at most 4000 characters."),
        ({"thread_id": "t1"}, "Invalid request: 'message' is required."),
        ({}, "Invalid request: 'message' is required."),
        ({"message": 5}, "Invalid request: message: Input should be a valid string."),
        ({"message": "hi", "thread_id": "../../etc/passwd"}, BAD_THREAD),
        ({"message": "hi", "thread_id": "a b"}, BAD_THREAD),
        (
            {"message": "hi", "thread_id": "t" * 101},
            "Invalid request: thread_id: String should have at most 100 characters.",
        ),
        ({"message": "", "thread_id": "a/b"}, f"{EMPTY[:-1]}; {BAD_THREAD.removeprefix('Invalid request: ')}"),
        (
            ["failed invoices"],
            "Invalid request: request body: Input should be a valid dictionary or object to extract fields from.",
        ),
    ],
)
def test_chat_body_errors_are_one_clear_sentence(api, body, detail):
    r = api.maya.post("/chat", json=body)
    invalid(r, detail)
    no_traceback(r)


def test_chat_accepts_the_longest_message_and_trims_it(api):
    r = api.maya.post("/chat", json={"message": "x" * 4000, "thread_id": "long-1"})
    assert r.status_code == 200 and r.json()["thread_id"] == "long-1"
    r = api.maya.post("/chat", json={"message": "  show my tickets \n", "thread_id": "trim-1"})
    assert r.status_code == 200
    turns = api.maya.get("/threads/trim-1").json()["turns"]
    assert turns[0]["text"] == "show my tickets"


def test_chat_length_limit_counts_after_trimming(api):
    r = api.maya.post("/chat", json={"message": "x" * 4000 + "\n", "thread_id": "long-2"})
    assert r.status_code == 200, r.text


def test_chat_without_thread_id_gets_a_new_one(api):
    first = api.maya.post("/chat", json={"message": "show my tickets"}).json()
    second = api.maya.post("/chat", json={"message": "show my tickets"}).json()
    assert len(first["thread_id"]) == 32 and first["thread_id"] != second["thread_id"]


@pytest.mark.parametrize(
    "content, ctype",
    [
        (b"{not json", "application/json"),
        (b'{"message": "hi",}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_chat_body_that_is_not_json(api, content, ctype):
    r = api.maya.post("/chat", content=content, headers={"content-type": ctype})
    [error] = invalid(r, "Invalid request: the body is not valid JSON.")
    assert error["type"] == "json_invalid" and error["loc"][0] == "body"  # (then the offset, when the parser knows it)


@pytest.mark.parametrize("path", ["/agent/invoke", "/agent/stream", "/agent/batch"])
def test_langserve_body_that_is_not_json(api, path):
    """LangServe says so with the plain string "Invalid JSON body": the cause (a JSONDecodeError) types it."""
    r = api.maya.post(path, content=b'{"input": {"messages": []},}', headers={"content-type": "application/json"})
    [error] = invalid(r, "Invalid request: the body is not valid JSON.")
    assert error == {"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}


def test_unknown_fields_are_ignored_by_chat_and_execute_tool(api):
    r = api.maya.post("/chat", json={"message": "show my tickets", "thread_id": "extra-1", "colour": "red"})
    assert r.status_code == 200 and r.json()["tool_used"] == "view_tickets"
    r = api.maya.post("/execute_tool", json={"tool_name": "view_tickets", "params": {}, "colour": "red"})
    assert r.status_code == 200 and r.json()["success"] is True


def test_unknown_fields_are_rejected_where_a_typo_would_do_nothing(api):
    tid = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "typo"}}).json()[
        "data"
    ]["ticket_id"]
    r = api.maya.patch(f"/tickets/{tid}", json={"stauts": "resolved"})
    assert (
        r.status_code == 422 and r.json()["detail"] == "Invalid request: 'stauts' is not a field this endpoint accepts."
    )
    assert api.maya.get(f"/tickets/{tid}").json()["status"] == "open"  # nothing half written
    r = api.maya.post("/plans/create", json={"template": "monthly_review", "parms": {}})
    assert (
        r.status_code == 422 and r.json()["detail"] == "Invalid request: 'parms' is not a field this endpoint accepts."
    )
    r = api.admin.post("/admin/users/victor/roles", json={"role": "Viewer", "team": "ops"})
    assert (
        r.status_code == 422 and r.json()["detail"] == "Invalid request: 'team' is not a field this endpoint accepts."
    )
    r = api.admin.post("/admin/tokens", json={"user_id": "victor", "lable": "x"})
    assert r.status_code == 422 and "'lable' is not a field" in r.json()["detail"]
    # a tool's own parameters reject unknown keys too (as the tool's 400)
    r = api.maya.post("/execute_tool", json={"tool_name": "filter_data", "params": {"colour": "red"}})
    assert (
        r.status_code == 400
        and r.json()["detail"] == "I can't do that as asked: 'colour' is not something I can filter on."
    )


@pytest.mark.parametrize(
    "body, detail",
    [
        ({}, "Invalid request: send a new 'status', an 'assignee' or a 'comment'."),
        ({"comment": "   "}, "Invalid request: send a new 'status', an 'assignee' or a 'comment'."),
        (
            {"status": "exploded"},
            "Invalid request: status: Input should be 'open', 'in_progress', 'resolved' or 'closed'.",
        ),
        ({"comment": "x" * 5001}, "Invalid request: comment: String should have at most 5000 characters."),
    ],
)
def test_ticket_patch_body_errors(api, body, detail):
    tid = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "patch"}}).json()[
        "data"
    ]["ticket_id"]
    r = api.maya.patch(f"/tickets/{tid}", json=body)
    invalid(r, detail)
    assert api.maya.get(f"/tickets/{tid}").json()["status"] == "open"


def test_execute_tool_body_errors(api):
    r = api.maya.post("/execute_tool", json={"params": {}})
    assert r.status_code == 422 and r.json()["detail"] == "Invalid request: 'tool_name' is required."
    r = api.maya.post("/execute_tool", json={"tool_name": "filter_data", "params": "vendor=IndiSky"})
    assert r.status_code == 422 and r.json()["detail"] == "Invalid request: params: Input should be a valid dictionary."
    r = api.maya.post("/execute_tool", json={"tool_name": "x" * 65})
    assert (
        r.status_code == 422
        and r.json()["detail"] == "Invalid request: tool_name: String should have at most 64 characters."
    )


def test_query_parameter_errors(api):
    r = api.maya.get("/memory/search")
    assert r.status_code == 422 and r.json()["detail"] == "Invalid request: 'q' is required."
    r = api.maya.get("/memory/search", params={"q": "x", "k": 0})
    assert (
        r.status_code == 422 and r.json()["detail"] == "Invalid request: k: Input should be greater than or equal to 1."
    )
    r = api.maya.get("/traces", params={"limit": 500})
    assert (
        r.status_code == 422
        and r.json()["detail"] == "Invalid request: limit: Input should be less than or equal to 200."
    )
    r = api.maya.get("/tickets", params={"status": "lost"})
    assert r.status_code == 400
    assert (
        r.json()["detail"]
        == "I can't do that as asked: status must be one of 'open', 'in_progress', 'resolved' or 'closed', not 'lost'."
    )
    r = api.admin.delete("/admin/tokens/abc")
    assert r.status_code == 422 and r.json()["detail"].startswith(
        "Invalid request: token_id: Input should be a valid integer"
    )


def test_body_too_large_is_413(api):
    r = api.maya.post("/chat", json={"message": "x" * 300_000})
    assert r.status_code == 413 and r.json() == {"detail": "The request body is too large (limit 262144 bytes)."}
    r = api.maya.post(
        "/execute_tool", json={"tool_name": "filter_data", "params": {"invoice_numbers": ["INV"] * 60_000}}
    )
    assert r.status_code == 413


def test_chunked_body_too_large_is_413(api):
    def chunks():  # no Content-Length: the limit must be counted as the body arrives
        for _ in range(40):
            yield b"x" * 8192

    r = api.maya.post("/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json() == {"detail": "The request body is too large (limit 262144 bytes)."}


def test_unknown_endpoint_and_wrong_method(api):
    r = api.maya.get("/no/such/endpoint")
    assert r.status_code == 404 and r.json() == {"detail": "There is no endpoint GET /no/such/endpoint."}
    r = api.maya.delete("/chat")
    assert r.status_code == 405 and r.json() == {"detail": "DELETE is not allowed on /chat."}


def test_langserve_thread_id_is_checked(api):
    r = api.maya.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": "hi"}]},
            "config": {"configurable": {"thread_id": "../other-user"}},
        },
    )
    assert invalid(r, "Invalid request: thread_id may use letters, digits and _ . : - (at most 100).") == [
        {
            "loc": ["body", "config", "configurable", "thread_id"],
            "msg": "thread_id may use letters, digits and _ . : - (at most 100)",
            "type": "value_error",
        }
    ]


def test_langserve_body_that_is_not_json_is_a_clear_422(api):
    r = api.maya.post("/agent/invoke", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "JSON" in r.json()["detail"]
