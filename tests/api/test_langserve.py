"""LangServe at /agent, in process: invoke with a client thread id (checkpointed, private to the
user, shared with /chat), {"resume": ...} answering a pending confirmation, stream and batch."""

from __future__ import annotations

import json

from ..helpers import chat, expected_indisky_failed


def invoke(caller, thread: str | None, input: dict) -> dict:
    body: dict = {"input": input}
    if thread is not None:
        body["config"] = {"configurable": {"thread_id": thread}}
    r = caller.post("/agent/invoke", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def say(text: str) -> dict:
    return {"messages": [{"type": "human", "content": text}]}


def humans(out: dict) -> list[str]:
    return [m["content"] for m in out["messages"] if m["type"] == "human"]


def test_invoke_keeps_a_thread(api):
    expected = expected_indisky_failed(api.services.business)
    got = invoke(api.maya, "ls-thread", say("Filter invoices for last month, vendor=IndiSky, status=failed"))
    out = got["output"]
    assert out["result"]["status"] == "success" and out["result"]["data"]["filtered_records"] == 7
    assert {r["invoice_number"] for r in out["result"]["data"]["results"]} == expected
    assert out["response"].startswith("Found 7 invoices") or "Found 7 invoices" in out["response"]
    assert out["pending_confirmation"] is None
    # LangServe's run id names this turn's trace, which is maya's
    trace = api.maya.get(f"/traces/{got['metadata']['run_id']}").json()
    assert (
        trace["request"] == "Filter invoices for last month, vendor=IndiSky, status=failed"
        and trace["thread_id"] == "ls-thread"
    )
    assert api.admin.get(f"/traces/{got['metadata']['run_id']}").json()["user_id"] == "maya"

    out = invoke(api.maya, "ls-thread", say("why did these fail?"))["output"]
    assert out["result"]["data"]["failed"] == 7 and set(out["tool_calls"][0]["params"]["invoice_numbers"]) == expected
    assert humans(out) == ["Filter invoices for last month, vendor=IndiSky, status=failed", "why did these fail?"]

    # another thread starts empty (memory may still resolve "these" across threads; the checkpoint is new) ...
    assert humans(invoke(api.maya, "ls-other", say("why did these fail?"))["output"]) == ["why did these fail?"]
    # ... and so does another user's thread with the same id
    got = invoke(api.victor, "ls-thread", say("why did these fail?"))
    assert humans(got["output"]) == ["why did these fail?"]
    assert api.admin.get(f"/traces/{got['metadata']['run_id']}").json()["user_id"] == "victor"


def test_resume_answers_a_pending_confirmation(api):
    expected = expected_indisky_failed(api.services.business)
    before = {t["ticket_id"] for t in api.maya.get("/tickets").json()["tickets"]}
    invoke(api.maya, "ls-confirm", say("failed IndiSky invoices from last month"))
    out = invoke(api.maya, "ls-confirm", say("create a ticket for these"))["output"]
    question = out["pending_confirmation"]["question"]
    assert question == "Create ticket 'IndiSky Airlines: 7 invoices failed, GSTIN missing' for maya? yes/no"
    assert out["response"] == question and out["__interrupt__"][0]["value"]["question"] == question
    assert {t["ticket_id"] for t in api.maya.get("/tickets").json()["tickets"]} == before  # asked, not written

    out = invoke(api.maya, "ls-confirm", {"resume": "yes"})["output"]
    ticket_id = out["result"]["data"]["ticket_id"]
    assert out["pending_confirmation"] is None and "__interrupt__" not in out
    assert f"Created ticket {ticket_id}" in out["response"]
    assert {t["ticket_id"] for t in api.maya.get("/tickets").json()["tickets"]} == before | {ticket_id}
    assert set(api.maya.get(f"/tickets/{ticket_id}").json()["record_ids"]) == expected
    traces = [
        t for t in api.maya.get("/traces", params={"limit": 200}).json()["traces"] if t["thread_id"] == "ls-confirm"
    ]
    assert "(reply) yes" in {t["request"] for t in traces}


def test_resume_no_or_false_writes_nothing(api):
    before = len(api.maya.get("/tickets").json()["tickets"])
    for thread, answer in (("ls-no", "no"), ("ls-false", False)):
        invoke(api.maya, thread, say("failed IndiSky invoices from last month"))
        assert invoke(api.maya, thread, say("create a ticket for these"))["output"]["pending_confirmation"]
        out = invoke(api.maya, thread, {"resume": answer})["output"]
        assert out["pending_confirmation"] is None and "Nothing was written" in out["response"]
    assert len(api.maya.get("/tickets").json()["tickets"]) == before


def test_chat_and_langserve_share_a_thread(api):
    chat(api.maya, "failed IndiSky invoices from last month", "ls-shared")
    out = invoke(api.maya, "ls-shared", say("create a ticket for these"))["output"]
    assert out["pending_confirmation"]  # LangServe asks ...
    body = chat(api.maya, "yes", "ls-shared")  # ... and /chat answers in the same thread
    assert body["tool_used"] == "create_ticket" and body["data"]["ticket_id"]


def test_default_thread_and_batch(api):
    out = invoke(api.gita, None, say("show my tickets"))["output"]
    assert out["result"]["status"] == "success"
    r = api.maya.post(
        "/agent/batch",
        json={
            "inputs": [say("failed invoices last month"), say("show SkyHigh invoices")],
            "config": {"configurable": {"thread_id": "ls-batch"}},
        },
    )
    assert r.status_code == 200, r.text
    assert [o["result"]["status"] for o in r.json()["output"]] == ["success", "success"]


def test_stream_shows_the_nodes_and_the_pause(api):
    def stream(text: str) -> list[str]:
        """The node names of the stream's `data` events (Server-Sent Events), in order."""
        r = api.maya.post(
            "/agent/stream", json={"input": say(text), "config": {"configurable": {"thread_id": "ls-stream"}}}
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        nodes = []
        for block in r.text.replace("\r\n", "\n").split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if fields.get("event") == "data":
                nodes.extend(json.loads(fields["data"]))
        return nodes

    nodes = stream("failed IndiSky invoices from last month")
    assert nodes[:3] == ["context", "route", "plan"] and {"act", "respond"} <= set(nodes)
    nodes = stream("create a ticket for these")
    assert nodes[-1] == "__interrupt__" and "act" not in nodes
