"""POST /chat/stream on a real uvicorn server: steps live, then exactly the /chat answer; same auth,
rate limit, threads and traces as /chat; PATCH /threads/{id} renames a conversation."""

from __future__ import annotations

import json

import httpx
import pytest

from ..conftest import LiveServer

pytestmark = pytest.mark.slow


def stream(client: httpx.Client, message: str, thread: str | None = None) -> list[tuple[str, dict]]:
    """The SSE events of one turn, in order, as (event, data)."""
    events, kind = [], None
    with client.stream("POST", "/chat/stream", json={"message": message, "thread_id": thread}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind:
                events.append((kind, json.loads(line.split(":", 1)[1])))
                kind = None
    return events


def answer_of(events: list[tuple[str, dict]]) -> dict:
    kinds = [k for k, _ in events]
    assert kinds.count("answer") == 1 and kinds[-1] == "answer", kinds
    return events[-1][1]


def test_steps_arrive_live_then_the_chat_answer(live_server):
    with live_server.client("maya") as maya:
        events = stream(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "st-1")
        steps = [d for k, d in events if k == "step"]
        assert [s["node"] for s in steps] == ["context", "route", "plan", "gate", "act", "respond", "remember"]
        assert all(s["label"] and s["duration_ms"] >= 0 and s["status"] == "ok" for s in steps)
        by_node = {s["node"]: s for s in steps}
        assert by_node["gate"]["label"] == "checking permissions"
        assert by_node["act"]["label"] == "reading invoices…" and by_node["act"]["detail"] == "invoices: 7 rows"
        streamed = answer_of(events)
        assert streamed["tool_used"] == "filter_data" and streamed["data"]["filtered_records"] == 7
        assert streamed["thread_id"] == "st-1" and streamed["status"] == "success"

        # the same request over /chat in another thread gives the same shape and figures
        plain = maya.post(
            "/chat",
            json={"message": "Filter invoices for last month, vendor=IndiSky, status=failed", "thread_id": "st-1b"},
        ).json()
        assert set(plain) == set(streamed)
        assert plain["data"] == streamed["data"] and plain["tool_calls"] == streamed["tool_calls"]

        # the streamed turn is the thread's: "these" resolves to its 7 invoices, over /chat
        why = maya.post("/chat", json={"message": "why did these fail?", "thread_id": "st-1"}).json()
        assert "7 of 7 failed: GSTIN missing" in why["agent_response"]

        # and it left a trace like any /chat turn
        trace = maya.get(f"/traces/{streamed['trace_id']}").json()
        assert trace["thread_id"] == "st-1" and trace["tool_calls"][0]["tool"] == "filter_data"
        assert trace["tool_calls"][0]["duration_ms"] is not None
        assert any(d["table"] == "invoices" and d["rows"] == 7 for d in trace["data_consulted"])


def test_a_write_asks_first_and_the_answer_resumes_over_the_stream(live_server):
    with live_server.client("maya") as maya:
        stream(maya, "failed IndiSky invoices from last month", "st-2")
        asked = stream(maya, "create a ticket and notify me when fixed", "st-2")
        question = answer_of(asked)
        assert question["status"] == "awaiting_confirmation" and question["agent_response"].endswith("yes/no")
        assert [d for k, d in asked if k == "step"][-1]["status"] == "paused"
        before = {t["ticket_id"] for t in maya.get("/tickets").json()["tickets"]}

        done = stream(maya, "yes", "st-2")
        labels = [d["label"] for k, d in done if k == "step"]
        assert "creating the ticket" in labels
        created = answer_of(done)
        assert created["tool_used"] == "create_ticket" and created["status"] == "success"
        after = {t["ticket_id"] for t in maya.get("/tickets").json()["tickets"]}
        assert after - before == {created["data"]["ticket_id"]}


def test_identity_threads_and_denials_are_the_tokens(live_server):
    with live_server.client("victor") as victor, live_server.client("maya") as maya:
        # a Viewer's export is refused inside the answer, like /chat, whoever the body claims to be
        stream(victor, "failed IndiSky invoices from last month", "shared-name")
        r = victor.post(
            "/chat/stream",
            json={"message": "export these as csv", "thread_id": "shared-name", "user_id": "admin", "role": "Admin"},
        )
        assert r.status_code == 200
        denied = json.loads(r.text.split("event: answer", 1)[1].split("data:", 1)[1].strip().splitlines()[0])
        assert denied["status"] == "denied" and "Viewer" in denied["agent_response"]
        # thread ids are per user: maya's paused "shared-name" can't be answered from victor's
        stream(maya, "failed IndiSky invoices from last month", "shared-name")
        assert answer_of(stream(maya, "create a ticket", "shared-name"))["status"] == "awaiting_confirmation"
        before = maya.get("/tickets").json()["tickets"]
        reply = answer_of(stream(victor, "yes", "shared-name"))
        assert reply["tool_used"] is None and maya.get("/tickets").json()["tickets"] == before


def test_bad_requests_get_json_errors_before_any_stream(live_server):
    with live_server.client() as anon:
        r = anon.post("/chat/stream", json={"message": "hi"})
        assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    with live_server.client("maya") as maya:
        r = maya.post("/chat/stream", json={"message": "   "})
        assert r.status_code == 422 and "empty" in r.json()["detail"]
        r = maya.post("/chat/stream", json={"message": "hi", "thread_id": "no spaces"})
        assert r.status_code == 422 and "thread_id" in r.json()["detail"]


def test_rate_limit_applies_to_the_stream(tmp_path):
    server = LiveServer(
        tmp_path / "rl", env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "3/minute"}
    ).start()
    try:
        with server.client("maya") as maya:
            codes = [
                maya.post("/chat/stream", json={"message": "hello", "thread_id": "rl"}).status_code for _ in range(4)
            ]
            assert codes[:3] == [200, 200, 200] and codes[3] == 429
            r = maya.post("/chat/stream", json={"message": "hello", "thread_id": "rl"})
            assert (
                r.status_code == 429
                and int(r.headers["Retry-After"]) >= 1
                and "Too many requests" in r.json()["detail"]
            )
    finally:
        server.stop()


def test_threads_can_be_renamed(live_server):
    with live_server.client("maya") as maya, live_server.client("gita") as gita:
        stream(maya, "failed IndiSky invoices from last month", "st-rename")
        r = maya.patch("/threads/st-rename", json={"title": "  IndiSky   follow-up "})
        assert r.status_code == 200 and r.json() == {"thread_id": "st-rename", "title": "IndiSky follow-up"}
        listed = {t["thread_id"]: t for t in maya.get("/threads").json()["threads"]}
        assert listed["st-rename"]["title"] == "IndiSky follow-up"
        assert listed["st-rename"]["first_message"] == "failed IndiSky invoices from last month"
        # someone else's (or no) conversation: 404, and nothing changes
        assert gita.patch("/threads/st-rename", json={"title": "mine now"}).status_code == 404
        assert maya.patch("/threads/nope", json={"title": "x"}).status_code == 404
        r = maya.patch("/threads/st-rename", json={"title": "x" * 201})
        assert r.status_code == 422
        assert {t["thread_id"]: t for t in maya.get("/threads").json()["threads"]}["st-rename"][
            "title"
        ] == "IndiSky follow-up"
        # an empty title clears it
        assert maya.patch("/threads/st-rename", json={"title": ""}).json()["title"] is None
        assert {t["thread_id"]: t for t in maya.get("/threads").json()["threads"]}["st-rename"]["title"] is None


def test_forget_me_deletes_thread_titles(live_server):
    with live_server.client("victor") as victor:
        stream(victor, "failed IndiSky invoices from last month", "st-forget")
        assert victor.patch("/threads/st-forget", json={"title": "secret name"}).status_code == 200
        assert victor.delete("/memory").status_code == 200
        stream(victor, "failed IndiSky invoices from last month", "st-forget")  # the same id, used again
        listed = {t["thread_id"]: t for t in victor.get("/threads").json()["threads"]}
        assert listed["st-forget"]["title"] is None


def test_ticket_history_comes_with_the_ticket(live_server):
    with live_server.client("maya") as maya, live_server.client("admin") as admin:
        stream(maya, "failed IndiSky invoices from last month", "st-hist")
        stream(maya, "create a ticket", "st-hist")
        ticket_id = answer_of(stream(maya, "yes", "st-hist"))["data"]["ticket_id"]
        first = maya.get(f"/tickets/{ticket_id}").json()["history"]
        assert [(h["author"], h["status_to"]) for h in first] == [("maya", "open")]  # created
        admin.patch(f"/tickets/{ticket_id}", json={"status": "in_progress", "comment": "asked the vendor"})
        history = maya.get(f"/tickets/{ticket_id}").json()["history"]
        assert [(h["author"], h["status_from"], h["status_to"], h["comment"]) for h in history[1:]] == [
            ("admin", "open", "in_progress", "asked the vendor")
        ]
        with live_server.client("victor") as victor:
            assert victor.get(f"/tickets/{ticket_id}").status_code == 404
