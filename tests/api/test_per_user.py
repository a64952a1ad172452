"""The reference architecture's per-user paths: /memory/{user_id}/search, .../threads/{id}/activate,
/memory/{user_id}/insights and /tickets/{user_id} (next to /tickets/{ticket_id}), with their rule:
the caller's own user id, or anyone's for an Admin; anything else 403."""

from __future__ import annotations

import pytest

from .conftest import no_traceback

FAILED = "failed IndiSky invoices from last month"


def chat(who, message: str, thread: str) -> dict:
    r = who.post("/chat", json={"message": message, "thread_id": thread})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def history(api):
    """Maya asks for the failed IndiSky invoices in two threads, then asks for a ticket in the first
    (left waiting for yes or no)."""
    assert chat(api.maya, FAILED, "pu-a")["data"]["filtered_records"] == 7
    assert (
        chat(api.maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "pu-b")["data"][
            "filtered_records"
        ]
        == 7
    )
    paused = chat(api.maya, "create a ticket for these", "pu-a")
    assert paused["status"] == "awaiting_confirmation"
    return paused["agent_response"]


def test_search_reads_the_named_users_memory(api, history):
    r = api.maya.get("/memory/maya/search", params={"query": "IndiSky", "limit": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == "maya" and body["query"] == "IndiSky"
    assert 1 <= len(body["results"]) <= 3
    assert {h["thread_id"] for h in body["results"]} <= {"pu-a", "pu-b"}
    assert any("IndiSky" in h["text"] for h in body["results"])
    # an Admin reads Maya's, and finds the same turns
    admin = api.admin.get("/memory/maya/search", params={"query": "IndiSky", "limit": 3}).json()
    assert [h["turn_id"] for h in admin["results"]] == [h["turn_id"] for h in body["results"]]
    # the admin's own memory does not have them
    own = api.admin.get("/memory/admin/search", params={"query": "IndiSky"}).json()
    assert not {h["turn_id"] for h in own["results"]} & {h["turn_id"] for h in body["results"]}


def test_another_users_memory_is_403_for_everyone_but_an_admin(api, history):
    for who, path in (
        (api.victor, "/memory/maya/search?query=IndiSky"),
        (api.gita, "/memory/maya/insights"),
        (api.victor, "/memory/maya/threads/pu-a/activate"),
        (api.maya, "/memory/nobody/insights"),
    ):
        r = who.post(path) if path.endswith("activate") else who.get(path)
        assert r.status_code == 403, (path, r.text)
        assert "You can only see your own memory" in r.json()["detail"]
        assert "only an Admin may see another user's" in r.json()["detail"]
    r = api.admin.get("/memory/nobody/insights")
    assert (r.status_code, r.json()) == (404, {"detail": "No active user 'nobody'."})
    assert api.anon.get("/memory/maya/insights").status_code == 401


def test_search_parameters_are_checked(api):
    for params in ({}, {"query": ""}, {"query": "x", "limit": 0}, {"query": "x", "limit": 51}):
        r = api.maya.get("/memory/maya/search", params=params)
        assert r.status_code == 422, params
        assert r.json()["detail"].startswith("Invalid request:")
        no_traceback(r)


def test_activate_a_paused_thread_shows_its_question_and_what_these_are(api, history):
    r = api.maya.post("/memory/maya/threads/pu-a/activate")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == "maya" and body["thread_id"] == "pu-a"
    assert body["awaiting_confirmation"] is True and body["question"] == history
    assert body["question"].startswith("Create ticket")
    assert body["last_result"]["tool"] == "filter_data" and body["last_result"]["records"] == 7
    assert [t["speaker"] for t in body["turns"]] == ["user", "assistant"]
    assert body["turns"][0]["text"] == FAILED
    assert '"thread_id": "pu-a"' in body["continue_with"]
    # the other thread is not paused
    other = api.maya.post("/memory/maya/threads/pu-b/activate", params={"turns": 1}).json()
    assert other["awaiting_confirmation"] is False and other["question"] is None
    assert len(other["turns"]) == 1 and other["turns"][0]["speaker"] == "assistant"
    # an Admin sees the same thread of Maya's
    assert api.admin.post("/memory/maya/threads/pu-a/activate").json()["question"] == history


def test_activate_an_unknown_or_someone_elses_thread_is_404(api, history):
    r = api.victor.post("/memory/victor/threads/pu-a/activate")  # Maya's thread id, Victor's path
    assert (r.status_code, r.json()) == (404, {"detail": "No conversation 'pu-a' in victor's history."})
    assert api.maya.post("/memory/maya/threads/nope/activate").status_code == 404
    r = api.maya.post("/memory/maya/threads/bad id!/activate")
    assert r.status_code == 422 and "thread_id" in r.json()["detail"]


def test_insights_count_frequent_requests_and_list_open_items(api, history):
    r = api.maya.get("/memory/maya/insights")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == "maya" and body["workspace_id"] == "acme"
    top = body["frequent_requests"][0]
    # two wordings, one request: the same tool with the same parameters
    assert top["tool"] == "filter_data" and top["count"] == 2
    assert top["params"]["vendor"] == "IndiSky Airlines" and top["params"]["status"] == "failed"
    assert top["request"] == "Filter invoices for last month, vendor=IndiSky, status=failed"  # the latest wording
    usage = body["usage"]
    assert usage["tools"][0] == {"name": "filter_data", "count": 2, "label": "lists of records"}
    assert {"name": "IndiSky Airlines", "count": 2} in usage["vendors"]
    assert usage["threads"] >= 2 and usage["requests"] >= 2
    assert {"thread_id": "pu-a", "question": history} in body["open_items"]["awaiting_confirmation"]
    # yes: the ticket is written, and becomes an open item; the question is gone
    done = chat(api.maya, "yes", "pu-a")
    assert done["status"] == "success", done
    ticket_id = done["data"]["ticket_id"]
    after = api.maya.get("/memory/maya/insights").json()["open_items"]
    assert ticket_id in [t["ticket_id"] for t in after["open_tickets"]]
    assert "pu-a" not in [q["thread_id"] for q in after["awaiting_confirmation"]]
    # an Admin sees Maya's insights, not their own
    assert api.admin.get("/memory/maya/insights").json()["frequent_requests"][0]["count"] >= 2


def test_tickets_by_user_id_and_by_ticket_id_share_the_path(api):
    made = api.maya.post(
        "/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "per-user path"}}
    ).json()
    ticket_id = made["data"]["ticket_id"]
    mine = api.maya.get("/tickets/maya")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["user_id"] == "maya" and body["count"] == len(body["tickets"])
    assert ticket_id in [t["ticket_id"] for t in body["tickets"]]
    assert body["tickets"] == api.maya.get("/tickets").json()["tickets"]  # GET /tickets, as her
    # a ticket id still shows that ticket, in every spelling
    for ref in (ticket_id, ticket_id.lower(), str(int(ticket_id.removeprefix("T-")))):
        one = api.maya.get(f"/tickets/{ref}").json()
        assert one["ticket_id"] == ticket_id and "history" in one
    # an Admin sees Maya's tickets (hers, not all); everyone else gets 403
    as_admin = api.admin.get("/tickets/maya").json()
    assert as_admin["user_id"] == "maya" and ticket_id in [t["ticket_id"] for t in as_admin["tickets"]]
    assert all(t["workspace_id"] == "acme" for t in as_admin["tickets"])
    for who in (api.victor, api.gita):
        r = who.get("/tickets/maya")
        assert r.status_code == 403
        assert r.json()["detail"].startswith("You can only see your own tickets")
    assert api.victor.get("/tickets/victor").json()["tickets"] == []  # Victor follows none
    assert api.maya.get("/tickets/nobody").status_code == 403
    assert api.admin.get("/tickets/nobody").json() == {"detail": "No active user 'nobody'."}
    # the status filter, and a bad one
    open_only = api.maya.get("/tickets/maya", params={"status": "closed"}).json()
    assert ticket_id not in [t["ticket_id"] for t in open_only["tickets"]]
    assert api.maya.get("/tickets/maya", params={"status": "lost"}).status_code == 400


def test_openapi_documents_the_per_user_paths(api):
    paths = api.anon.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/memory/{user_id}/search", "get"),
        ("/memory/{user_id}/threads/{thread_id}/activate", "post"),
        ("/memory/{user_id}/insights", "get"),
        ("/tickets/{ticket_id}", "get"),
    ):
        op = paths[path][method]
        assert "403" in op["responses"] and "$ref" in str(op["responses"]["200"]), path
