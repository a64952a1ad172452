"""Small helpers shared by tests that drive the graph in-process."""
from __future__ import annotations

from langgraph.types import Command


def cfg(user: str, thread: str) -> dict:
    return {"configurable": {"user_id": user, "thread_id": thread}}


def turn(graph, config: dict, text: str, *, confirm: str | None = "yes") -> dict:
    """One user turn. If the graph pauses for confirmation, answer `confirm` (None: leave it paused)."""
    out = graph.invoke({"messages": [("user", text)]}, config)
    if out.get("__interrupt__") and confirm is not None:
        out = graph.invoke(Command(resume=confirm), config)
    return out


def calls(out: dict) -> list[tuple[str, dict]]:
    return [(c["tool"], c["params"]) for c in out.get("tool_calls") or []]


def chat(client, message: str, thread: str, **extra) -> dict:
    """POST /chat on a live server; a confirmation question is answered "yes"."""
    r = client.post("/chat", json={"message": message, "thread_id": thread, **extra})
    assert r.status_code == 200, r.text
    body = r.json()
    if body.get("status") == "awaiting_confirmation":
        r = client.post("/chat", json={"message": "yes", "thread_id": thread})
        assert r.status_code == 200, r.text
        body = r.json()
    return body
