"""A 500 never writes: a turn's memory rows, trace and checkpoint are saved together when it ends well,
or not at all; the error message says what a tool had already done instead of claiming that nothing
changed. Forced failures on real SQLite files or PostgreSQL (FINKRAFT_TEST_DB=postgres)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from business_data.appdb import MemoryTurn, Ticket, Trace
from business_data.db import session_scope
from graph.checkpointers import default_checkpointer
from graph.nodes import Nodes
from graph.runs import checkpoint_thread

from .conftest import running_api
from ..helpers import count_rows


def saved(api, thread: str) -> dict[str, int]:
    """What the stores hold for maya's thread: memory rows, traces, checkpoints."""
    ident = api.services.identity("maya")
    with session_scope(api.services.app) as s:
        turns = s.scalar(select(func.count()).select_from(MemoryTurn).where(MemoryTurn.thread_id == thread))
        traces = s.scalar(select(func.count()).select_from(Trace).where(Trace.thread_id == thread))
    saver = default_checkpointer(api.services.settings)
    checkpoints = len(list(saver.list({"configurable": {"thread_id": checkpoint_thread(ident, thread)}})))
    return {"memory_turns": turns, "traces": traces, "checkpoints": checkpoints}


@pytest.fixture
def failing_after(tmp_path, monkeypatch):
    """`failing_after(node)`: an app whose `node` does its work (remember: stages the memory rows,
    marks notifications read) and then raises while `fail["on"]`."""
    fail = {"on": False}
    opened = []

    def make(node: str):
        original = getattr(Nodes, node)

        def then_fail(self, state, config):
            out = original(self, state, config)
            if fail["on"]:
                raise RuntimeError(f"forced failure after {node}")
            return out

        monkeypatch.setattr(Nodes, node, then_fail)
        cm = running_api(tmp_path / node)
        opened.append(cm)
        return cm.__enter__(), fail

    yield make
    for cm in opened:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("route", ["/chat", "/agent/invoke"])
def test_a_turn_failing_after_its_memory_writes_saves_nothing(failing_after, route):
    api, fail = failing_after("remember")

    def say(thread: str):
        if route == "/chat":
            return api.maya.post("/chat", json={"message": "show my tickets", "thread_id": thread})
        return api.maya.post(
            "/agent/invoke",
            json={
                "input": {"messages": [{"type": "human", "content": "show my tickets"}]},
                "config": {"configurable": {"thread_id": thread}},
            },
        )

    assert say("tw-ok").status_code == 200
    assert saved(api, "tw-ok") == {"memory_turns": 2, "traces": 1, "checkpoints": 1}
    fail["on"] = True
    r = say("tw-fail")
    assert r.status_code == 500, r.text
    body = r.json()
    assert body["detail"] == (
        f"Something went wrong on our side; nothing from this request was saved. Error id: {body['error_id']}."
    )
    assert saved(api, "tw-fail") == {"memory_turns": 0, "traces": 0, "checkpoints": 0}
    # in a thread with history, that history stays as it was
    assert say("tw-ok").status_code == 500
    assert saved(api, "tw-ok") == {"memory_turns": 2, "traces": 1, "checkpoints": 1}
    fail["on"] = False
    assert say("tw-ok").status_code == 200
    assert saved(api, "tw-ok") == {"memory_turns": 4, "traces": 2, "checkpoints": 1}  # older checkpoints pruned


def test_a_failure_after_a_ticket_was_made_says_so_and_a_retry_makes_no_second(failing_after):
    api, fail = failing_after("respond")
    thread = "tw-ticket"
    api.maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": thread})
    r = api.maya.post("/chat", json={"message": "create a ticket for these", "thread_id": thread})
    assert r.status_code == 200 and r.json()["agent_response"].endswith("yes/no"), r.text
    before, count = saved(api, thread), count_rows(api.services.app, Ticket)
    fail["on"] = True
    r = api.maya.post("/chat", json={"message": "yes", "thread_id": thread})
    assert r.status_code == 500, r.text
    with session_scope(api.services.app) as s:
        made = s.scalars(select(Ticket.ticket_id).order_by(Ticket.id.desc())).first()
    assert count_rows(api.services.app, Ticket) == count + 1
    detail = r.json()["detail"]
    assert detail.startswith(f"Something went wrong on our side after this was done: Created ticket {made}"), detail
    assert "Nothing else from this request was saved." in detail and "Nothing was changed" not in detail
    assert saved(api, thread) == before  # no memory rows, trace or checkpoint from the failed turn
    # the thread still waits on the question: answering again gives the same ticket, never a second
    fail["on"] = False
    r = api.maya.post("/chat", json={"message": "yes", "thread_id": thread})
    assert r.status_code == 200 and made in r.json()["agent_response"], r.text
    assert count_rows(api.services.app, Ticket) == count + 1
