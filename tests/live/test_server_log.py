"""The server's log, read as an operator would: `finkraft serve` with semantic memory on (so faiss
and the embedding model load), a few requests, then the log file. Every line is one JSON object;
each request has a line with its request id, user and trace id (the same ids the client got); no
progress bars and no faiss loader chatter."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from ..conftest import TOKENS, LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """The server's log lines (parsed) and what the client saw."""
    server = LiveServer(
        tmp_path_factory.mktemp("logged"), env={"FINKRAFT_SEMANTIC_MEMORY": "true"}, args=("--log-level", "info")
    ).start()
    seen = {}
    try:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            maya = {"Authorization": f"Bearer {TOKENS['maya']}"}
            deadline = time.time() + 240  # the embedding model loads in the background (exported once per session)
            while time.time() < deadline:
                state = c.get("/health/detailed", headers=maya).json()["vector_index"]
                if state["model_loaded"] or state["model_failed"]:
                    break
                time.sleep(1)
            assert state["model_loaded"], state
            r = c.post(
                "/chat",
                headers={**maya, "X-Request-ID": "req-log-1"},
                json={"message": "failed IndiSky invoices from last month", "thread_id": "log-1"},
            )
            seen["chat"] = r
            seen["search"] = c.get("/memory/search", headers=maya, params={"q": "IndiSky"})
            seen["anon"] = c.get("/tickets")
            seen["agent"] = c.post(
                "/agent/invoke",
                headers=maya,
                json={
                    "input": {"messages": [{"type": "human", "content": "show my tickets"}]},
                    "config": {"configurable": {"thread_id": "log-2"}},
                },
            )
    finally:
        server.stop()
    text = server.log.read_text()
    return text, seen


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def request_line(lines: list[dict], request_id: str) -> dict:
    found = [r for r in lines if r.get("logger") == "finkraft.request" and r.get("request_id") == request_id]
    assert len(found) == 1, (request_id, found)
    return found[0]


def test_every_line_is_json_with_the_request_fields(logged):
    text, _ = logged
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)  # fails on any line that is not one JSON object
            assert {"time", "level", "logger", "message", "request_id", "user_id", "trace_id"} <= set(record), record
    assert any(r["logger"] == "finkraft.server" and r["message"].startswith("FinkraftAI ready") for r in records(text))


def test_request_lines_carry_request_user_and_trace(logged):
    text, seen = logged
    lines = records(text)
    chat = seen["chat"]
    assert chat.status_code == 200 and chat.headers["x-request-id"] == "req-log-1"  # the client's id, kept
    line = request_line(lines, "req-log-1")
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("POST", "/chat", 200, "maya")
    assert line["trace_id"] == chat.json()["trace_id"] and line["duration_ms"] > 0

    search = seen["search"]
    generated = search.headers["x-request-id"]
    assert len(generated) == 16 and request_line(lines, generated)["user_id"] == "maya"

    anon = seen["anon"]
    line = request_line(lines, anon.headers["x-request-id"])
    assert (line["status"], line["user_id"], line["trace_id"]) == (401, None, None)

    agent = seen["agent"]
    line = request_line(lines, agent.headers["x-request-id"])
    assert line["user_id"] == "maya" and line["trace_id"] == agent.json()["metadata"]["run_id"].replace("-", "")


def test_no_progress_bars_or_loader_noise(logged):
    text, _ = logged
    assert "\r" not in text and "it/s]" not in text and "%|" not in text, "a progress bar in the server log"
    assert "faiss.loader" not in text and "swigfaiss" not in text
    assert "memory.embedder" in text  # the model did load in this server (and said so, once, in JSON)
