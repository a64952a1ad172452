"""HTTP against a real uvicorn server on loopback: /chat, LangServe, auth, errors, traces, downloads."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from ..conftest import TOKENS, LiveServer
from ..helpers import chat, chat_and_answer

pytestmark = pytest.mark.slow


def test_health_is_open_everything_else_needs_a_token(live_server):
    with live_server.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        for method, path in [
            ("POST", "/chat"),
            ("GET", "/tickets"),
            ("GET", "/notifications"),
            ("POST", "/agent/invoke"),
            ("GET", "/health/detailed"),
            ("GET", "/metrics"),
            ("GET", "/traces/x"),
            ("POST", "/execute_tool"),
        ]:
            r = c.request(method, path, json={})
            assert r.status_code == 401, (path, r.text)
            assert "Bearer" in r.json()["detail"]
        r = c.post("/chat", json={"message": "hi"}, headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401 and "not valid" in r.json()["detail"]


def test_sample_scenario_over_chat(live_server):
    with live_server.client("maya") as maya, live_server.client("admin") as admin:
        body = chat(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "http-s1")
        assert body["success"] and body["tool_used"] == "filter_data"
        assert body["data"]["filtered_records"] == 7 and len(body["data"]["results"]) == 7
        numbers = sorted(r["invoice_number"] for r in body["data"]["results"])
        assert body["trace_id"] and body["thread_id"] == "http-s1"
        assert body["tool_calls"][0]["params"]["vendor"] == "IndiSky Airlines"

        body = chat(maya, "why did these fail?", "http-s1")
        assert body["tool_used"] == "explain_failures" and "7 of 7 failed: GSTIN missing" in body["agent_response"]

        chat(maya, "create a ticket and notify me when fixed", "http-s1", asks=True)
        body = chat(maya, "yes", "http-s1")
        assert body["tool_used"] == "create_ticket"
        ticket_id = body["data"]["ticket_id"]
        tickets = maya.get("/tickets").json()["tickets"]
        assert [t["ticket_id"] for t in tickets] == [ticket_id]
        assert {"ticket_id", "title", "description", "status"} <= tickets[0].keys()

        r = admin.patch(f"/tickets/{ticket_id}", json={"status": "resolved", "comment": "vendor reissued with GSTIN"})
        assert r.status_code == 200 and r.json()["status"] == "resolved"
        notes = maya.get("/notifications").json()["notifications"]
        assert len(notes) == 1 and ticket_id in notes[0]["message"]

        body = chat(maya, "download the fixed report", "http-s2", asks=False)  # a download: no question
        assert body["tool_used"] == "export_report"
        d = body["data"]
        assert {"export_id", "format", "rows", "url"} <= d.keys() and d["rows"] == 7
        r = maya.get(d["url"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        got = sorted(row["invoice_number"] for row in csv.DictReader(io.StringIO(r.text)))
        assert got == numbers

        trace = maya.get(f"/traces/{body['trace_id']}").json()
        assert trace["tool_calls"][0]["tool"] == "export_report"
        assert any(src["table"] == "invoices" and src["rows"] == 7 for src in trace["data_consulted"])
        assert trace["summary"] and "steps" not in trace  # plain form for the user
        full = admin.get(f"/traces/{body['trace_id']}").json()
        assert full["steps"] and full["user_id"] == "maya"  # Admin reads it in full
        with live_server.client("victor") as victor:
            assert victor.get(f"/traces/{body['trace_id']}").status_code == 404


def test_exports_in_every_format(live_server):
    with live_server.client("maya") as maya:
        chat(maya, "failed IndiSky invoices from last month", "http-fmt")
        for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
            body = chat(maya, f"export these as {fmt}", "http-fmt", asks=False)
            assert body["data"]["format"] == fmt and body["data"]["rows"] == 7, body
            r = maya.get(body["data"]["url"])
            assert r.status_code == 200 and r.content.startswith(magic)


def test_cross_workspace_download_refused(live_server):
    with live_server.client("maya") as maya, live_server.client("gita") as gita, live_server.client("victor") as victor:
        body = maya.post(
            "/execute_tool", json={"tool_name": "export_report", "params": {"vendor": "IndiSky", "format": "csv"}}
        ).json()
        url = body["data"]["url"]
        assert maya.get(url).status_code == 200
        r = gita.get(url)
        assert r.status_code == 404 and "isn't yours" in r.json()["detail"]
        assert victor.get(url).status_code == 404


def test_viewer_escalation_attempts_change_nothing(live_server):
    with live_server.client("victor") as victor:
        body = chat(victor, "export all invoices as csv", "esc1", user_id="admin", role="Admin", workspace_id="globex")
        assert body["success"] is False and "Viewer" in body["agent_response"]
        r = victor.post(
            "/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "x"}, "user_id": "admin"}
        )
        assert r.status_code == 403 and "Viewer" in r.json()["detail"]
        r = victor.post(
            "/agent/invoke",
            json={
                "input": {"messages": [{"type": "human", "content": "export all invoices as csv"}]},
                "config": {
                    "configurable": {"thread_id": "esc2", "user_id": "admin", "role": "Admin", "workspace_id": "globex"}
                },
            },
        )
        assert r.status_code == 200, r.text
        out = r.json()["output"]
        assert out["result"]["status"] == "denied" and out["context"]["user_id"] == "victor"
        with live_server.client("maya") as maya:  # identity claims in other bodies are ignored, not obeyed
            chat(maya, "failed IndiSky invoices last month", "esc3")
            tid = chat_and_answer(maya, "create a ticket for these", "esc3", "yes", asks=True)["data"]["ticket_id"]
        r = victor.patch(f"/tickets/{tid}", json={"status": "closed", "user_id": "admin", "role": "Admin"})
        assert r.status_code == 403 and "Viewer" in r.json()["detail"]  # the token's role decides, not the body
        r = victor.post("/execute_tool", json={"tool_name": "filter_data", "params": {"workspace": "globex"}})
        assert r.status_code == 403 and "own workspace" in r.json()["detail"]
        assert victor.get("/admin/users").status_code == 403
        assert victor.get("/user/admin/permissions").status_code == 403
        perms = victor.get("/user/victor/permissions").json()
        assert perms["role"] == "Viewer" and "export_report" not in perms["tools"]


def test_remote_runnable_threads_and_streaming(live_server):
    from langserve import RemoteRunnable

    agent = RemoteRunnable(live_server.url + "/agent/", headers={"Authorization": f"Bearer {TOKENS['maya']}"})
    conf = {"configurable": {"thread_id": "rr1"}}
    out = agent.invoke({"messages": [{"type": "human", "content": "failed IndiSky invoices from last month"}]}, conf)
    assert out["result"]["data"]["filtered_records"] == 7
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {TOKENS['maya']}"}) as maya:
        r = maya.post(
            "/agent/invoke",
            json={
                "input": {"messages": [{"type": "human", "content": "show my tickets"}]},
                "config": {"configurable": {"thread_id": "rr-trace"}},
            },
        )
        run_id = r.json()["metadata"]["run_id"]  # LangServe's run id is the trace id
        trace = maya.get(f"/traces/{run_id}").json()
        assert trace["request"] == "show my tickets" and trace["tool_calls"][0]["tool"] == "view_tickets"
    out = agent.invoke({"messages": [{"type": "human", "content": "why did these fail?"}]}, conf)
    assert out["result"]["data"]["failed"] == 7  # same thread, checkpointed across calls
    assert len([m for m in out["messages"] if m.type == "human"]) == 2

    nodes = [
        next(iter(chunk))
        for chunk in agent.stream({"messages": [{"type": "human", "content": "show my tickets"}]}, conf)
    ]
    assert nodes[:3] == ["context", "route", "plan"] and "respond" in nodes  # node updates as they happen

    outs = agent.batch(
        [
            {"messages": [{"type": "human", "content": "failed invoices last month"}]},
            {"messages": [{"type": "human", "content": "show SkyHigh invoices"}]},
        ],
        conf,
    )
    assert all(o["result"]["status"] == "success" for o in outs)


def test_stream_events_over_http(live_server):
    with live_server.client("maya") as maya:
        with maya.stream(
            "POST",
            "/agent/stream_events",
            json={
                "input": {"messages": [{"type": "human", "content": "failed IndiSky invoices from last month"}]},
                "config": {"configurable": {"thread_id": "se1"}},
            },
        ) as r:
            assert r.status_code == 200
            events = [
                json.loads(line[5:])
                for line in r.iter_lines()
                if line.startswith("data:") and line[5:].strip().startswith("{")
            ]
        names = {e.get("name") for e in events if e.get("event") == "on_chain_start"}
        assert {"context", "route", "act", "respond"} <= names


def test_bad_requests_are_clear(live_server):
    with live_server.client("maya") as maya:
        r = maya.post("/chat", json={"message": "   "})
        assert r.status_code == 422 and "empty" in r.json()["detail"]
        r = maya.post("/chat", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and "JSON" in r.json()["detail"]
        r = maya.post("/chat", json={"thread_id": "x"})
        assert r.status_code == 422 and "'message' is required" in r.json()["detail"]
        r = maya.post("/chat", json={"message": "hi", "thread_id": "../../etc"})
        assert r.status_code == 422
        r = maya.post("/chat", json={"message": "x" * 300_000})
        assert r.status_code == 413 and "too large" in r.json()["detail"]
        r = maya.post("/execute_tool", json={"tool_name": "filter_data", "params": {"dataset": "payroll"}})
        assert r.status_code == 400 and "payroll" in r.json()["detail"]
        r = maya.post("/execute_tool", json={"tool_name": "rm_rf", "params": {}})
        assert r.status_code == 404
        r = maya.post(
            "/execute_tool", json={"tool_name": "update_ticket", "params": {"ticket_id": "T-99999", "status": "closed"}}
        )
        assert (
            r.status_code == 404 and "can't find ticket T-99999" in r.json()["detail"]
        )  # same answer as PATCH /tickets
        r = maya.patch("/tickets/T-99999", json={"status": "closed"})
        assert r.status_code == 404
        r = maya.patch("/tickets/T-00001", json={"status": "exploded"})
        assert r.status_code == 422
        r = maya.get("/no/such/endpoint")
        assert r.status_code == 404 and "no endpoint" in r.json()["detail"]
        for r in (maya.post("/chat", json={"message": "   "}), maya.get("/no/such")):
            assert "Traceback" not in r.text


def test_health_detailed_and_metrics(live_server):
    with live_server.client("maya") as maya, live_server.client("admin") as admin:
        chat(maya, "failed IndiSky invoices from last month", "m1")
        d = maya.get("/health/detailed").json()
        assert d["status"] == "ok" and d["app_database"]["status"] == "ok" and d["model"]["mode"] == "offline"
        assert maya.get("/metrics").status_code == 403
        text = admin.get("/metrics").text
        assert 'finkraft_tool_calls_total{status="success",tool="filter_data"}' in text
        assert "finkraft_http_request_seconds_bucket" in text


def test_admin_tokens_issue_and_revoke(live_server):
    with live_server.client("admin") as admin:
        r = admin.post("/admin/tokens", json={"user_id": "victor", "label": "laptop"})
        assert r.status_code == 201
        token, token_id = r.json()["token"], r.json()["token_id"]
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as c:
            assert c.get("/tickets").status_code == 200
            assert admin.delete(f"/admin/tokens/{token_id}").status_code == 200
            assert c.get("/tickets").status_code == 401
        r = admin.post("/admin/users/victor/roles", json={"role": "Manager"})
        assert r.status_code == 200 and r.json()["role"] == "Manager"
        admin.post("/admin/users/victor/roles", json={"role": "Viewer"})
        assert admin.post("/admin/users/victor/roles", json={"role": "Overlord"}).status_code == 422


def test_rate_limit_and_dev_tokens_outside_dev(tmp_path):
    server = LiveServer(
        tmp_path / "rl", env={"FINKRAFT_RATE_LIMIT": "5/minute", "FINKRAFT_SEMANTIC_MEMORY": "false"}
    ).start()
    try:
        with server.client("maya") as maya:
            codes = [maya.get("/tickets").status_code for _ in range(7)]
            assert codes[:5] == [200] * 5 and codes[-1] == 429
            r = maya.get("/tickets")
            assert int(r.headers["Retry-After"]) >= 1 and "Too many requests" in r.json()["detail"]
        with server.client("victor") as victor:  # limits are per token
            assert victor.get("/tickets").status_code == 200
    finally:
        server.stop()
    prod = LiveServer(tmp_path / "rl", env={"FINKRAFT_ENV": "prod", "FINKRAFT_SEMANTIC_MEMORY": "false"}).start()
    try:
        with prod.client("admin") as admin:
            assert admin.get("/tickets").status_code == 401
    finally:
        prod.stop()


def test_browser_session_cookie_for_playground(live_server):
    with live_server.client() as anon:
        assert anon.get("/agent/playground/").status_code == 401
    with live_server.client("maya") as maya:
        r = maya.post("/auth/session")
        assert r.status_code == 200 and "httponly" in r.headers["set-cookie"].lower()
        cookie = r.cookies["finkraft_session"]
    with httpx.Client(base_url=live_server.url, cookies={"finkraft_session": cookie}) as browser:
        assert browser.get("/agent/playground/").status_code == 200
        assert browser.get("/tickets").status_code == 200


def test_paused_turn_trace_shows_the_question(live_server):
    with live_server.client("maya") as maya:
        before = maya.get("/tickets").json()["tickets"]
        maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "pause1"})
        body = maya.post("/chat", json={"message": "create a ticket for these", "thread_id": "pause1"}).json()
        assert body["status"] == "awaiting_confirmation" and "yes/no" in body["agent_response"]
        trace = maya.get(f"/traces/{body['trace_id']}").json()
        assert trace["status"] == "paused" and trace["response"] == body["agent_response"]
        assert maya.get("/tickets").json()["tickets"] == before
        body = maya.post("/chat", json={"message": "no", "thread_id": "pause1"}).json()
        assert body["status"] != "awaiting_confirmation" and maya.get("/tickets").json()["tickets"] == before


def test_threads_and_memory_search_endpoints(live_server):
    with live_server.client("maya") as maya, live_server.client("gita") as gita:
        chat(maya, "failed SkyHigh invoices this year", "mem-a")
        threads = maya.get("/threads").json()["threads"]
        mine = {t["thread_id"]: t for t in threads}
        assert mine["mem-a"]["turns"] == 2 and "SkyHigh" in mine["mem-a"]["first_message"]
        turns = maya.get("/threads/mem-a").json()["turns"]
        assert [t["speaker"] for t in turns] == ["user", "assistant"]
        assert gita.get("/threads/mem-a").status_code == 404  # another user's thread does not exist for her
        assert "mem-a" not in {t["thread_id"] for t in gita.get("/threads").json()["threads"]}
        hits = maya.get("/memory/search", params={"q": "SkyHigh invoices"}).json()["results"]
        assert any("SkyHigh" in h["text"] for h in hits)
        assert gita.get("/memory/search", params={"q": "SkyHigh invoices"}).json()["results"] == []
        assert maya.get("/memory/search").status_code == 422


def test_confirmation_resumes_over_langserve(live_server):
    from langserve import RemoteRunnable

    agent = RemoteRunnable(live_server.url + "/agent/", headers={"Authorization": f"Bearer {TOKENS['maya']}"})
    conf = {"configurable": {"thread_id": "ls-confirm"}}
    with live_server.client("maya") as maya:
        before = len(maya.get("/tickets").json()["tickets"])
        agent.invoke({"messages": [{"type": "human", "content": "failed IndiSky invoices from last month"}]}, conf)
        out = agent.invoke({"messages": [{"type": "human", "content": "create a ticket for these"}]}, conf)
        assert (
            out["pending_confirmation"]["question"].endswith("yes/no")
            and out["response"] == out["pending_confirmation"]["question"]
        )
        assert len(maya.get("/tickets").json()["tickets"]) == before
        out = agent.invoke({"resume": "yes"}, conf)
        assert out["result"]["data"]["ticket_id"] and "Created ticket" in out["response"]
        assert len(maya.get("/tickets").json()["tickets"]) == before + 1


def test_forget_me_asks_then_deletes_everything(tmp_path):
    server = LiveServer(tmp_path / "forget", env={"FINKRAFT_SEMANTIC_MEMORY": "false"}).start()
    try:
        with server.client("maya") as maya, server.client("victor") as victor:
            chat(maya, "failed IndiSky invoices from last month", "f1")
            chat(maya, "why did these fail?", "f1")
            chat(maya, "show SkyHigh invoices", "f2")
            chat(victor, "failed IndiSky invoices from last month", "v1")
            body = maya.post("/chat", json={"message": "forget me", "thread_id": "f3"}).json()
            assert body["status"] == "awaiting_confirmation" and "can't be undone" in body["agent_response"]
            body = maya.post("/chat", json={"message": "no", "thread_id": "f3"}).json()
            assert "Nothing was deleted" in body["agent_response"]
            assert {"f1", "f2"} <= {t["thread_id"] for t in maya.get("/threads").json()["threads"]}

            maya.post("/chat", json={"message": "forget me", "thread_id": "f3"})
            body = maya.post("/chat", json={"message": "yes", "thread_id": "f3"}).json()
            assert body["agent_response"].startswith("Done: I deleted")
            assert maya.get("/threads").json()["threads"] == []
            assert maya.get("/memory/search", params={"q": "IndiSky"}).json()["results"] == []
            # the checkpoints went too: "these" no longer refers to anything in the old thread
            body = maya.post("/chat", json={"message": "why did these fail?", "thread_id": "f1"}).json()
            assert body["tool_used"] is None
            # other users keep theirs
            assert [t["thread_id"] for t in victor.get("/threads").json()["threads"]] == ["v1"]
            # and the endpoint form does the same without asking (an explicit API call)
            chat(victor, "show SkyHigh invoices", "v2")
            r = victor.delete("/memory")
            assert r.status_code == 200 and r.json()["deleted"]["turns"] == 4 and r.json()["threads"] == 2
            assert victor.get("/threads").json()["threads"] == []
    finally:
        server.stop()
