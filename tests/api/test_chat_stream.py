"""POST /chat/stream in process (the app with injected services): the step events, and a turn that
fails half way gives one `error` event with a plain sentence, and leaves nothing written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from server.app import create_app

from ..conftest import TOKENS


def events_of(response) -> list[tuple[str, dict]]:
    out, kind = [], None
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind:
            out.append((kind, json.loads(line.split(":", 1)[1])))
            kind = None
    return out


@pytest.fixture
def client(services):
    with TestClient(create_app(services=services)) as c:
        yield c


def post_stream(client, user: str, message: str, thread: str):
    with client.stream(
        "POST",
        "/chat/stream",
        json={"message": message, "thread_id": thread},
        headers={"Authorization": f"Bearer {TOKENS[user]}"},
    ) as r:
        assert r.status_code == 200
        return events_of(r)


def test_one_step_per_node_then_the_answer(client):
    events = post_stream(client, "maya", "why did IndiSky invoices fail last month?", "in-1")
    kinds = [k for k, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1 and set(kinds[:-1]) == {"step"}
    answer = events[-1][1]
    assert answer["tool_used"] == "explain_failures" and answer["data"]["failed"] == 7
    acts = [d for k, d in events if k == "step" and d["node"] == "act"]
    assert acts[0]["label"] == "analysing failures"
    assert f"invoices: {answer['data']['total']} rows" in acts[0]["detail"]  # the rows the tool read


def test_template_steps_are_reported_once_each(client):
    events = post_stream(client, "maya", "investigate the IndiSky failures last month", "in-tpl")
    steps = [d for k, d in events if k == "step"]
    inner = [s for s in steps if s.get("template") == "invoice_investigation"]
    assert [s["label"] for s in inner][:2] == ["reading invoices…", "analysing failures"]
    assert sum(1 for s in steps if s["node"] == "invoice_investigation") == 1  # the subgraph node, once
    assert not any(s["node"].startswith("__") for s in steps)
    assert events[-1][1]["status"] == "awaiting_confirmation"


def test_a_failing_turn_ends_with_an_error_event_and_writes_nothing(client, services, monkeypatch):
    import graph.nodes

    def broken(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(graph.nodes, "run_tool", broken)
    events = post_stream(client, "maya", "failed IndiSky invoices from last month", "in-err")
    kinds = [k for k, _ in events]
    assert kinds[-1] == "error" and "answer" not in kinds
    error = events[-1][1]
    assert error["detail"].startswith("Something went wrong on our side; nothing from this request was saved.")
    assert (
        error["error_id"] in error["detail"]
        and "disk on fire" not in error["detail"]
        and "Traceback" not in error["detail"]
    )
    headers = {"Authorization": "Bearer dev-maya"}
    assert client.get("/threads/in-err", headers=headers).status_code == 404  # no turn remembered
    monkeypatch.undo()
    # the thread is not left half-way: the next turn there works from a clean state
    events = post_stream(client, "maya", "failed IndiSky invoices from last month", "in-err")
    assert events[-1][0] == "answer" and events[-1][1]["data"]["filtered_records"] == 7
