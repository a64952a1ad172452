"""Honest writes. When a confirmed write succeeds but its trace or memory can't be saved (the table
refuses the insert), the answer says so, as on a full disk, and /metrics counts it. When the write
itself fails, nothing changes and the question stays open: "yes" again tries again.

The failures are real: a trigger on the table makes the database refuse the insert (SQLite, or
PostgreSQL with FINKRAFT_TEST_DB=postgres)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from business_data.appdb import Ticket, Trace
from server.conversation import NOT_SAVED_ERROR
from ..helpers import count_rows

NOT_SAVED = "I couldn't save this conversation's history"


@contextmanager
def failing(engine, table: str):
    """Every INSERT into `table` fails while the block runs."""
    trigger = f"finkraft_fail_{table}"
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(
                text(
                    "CREATE OR REPLACE FUNCTION finkraft_fail() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'table failing (test)'; END $$"
                )
            )
            c.execute(
                text(f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION finkraft_fail()")
            )
        else:
            c.execute(
                text(
                    f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'table failing (test)'); END"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as c:
            c.execute(text(f"DROP TRIGGER {trigger}" + (f" ON {table}" if engine.dialect.name == "postgresql" else "")))


def ask_for_ticket(api, thread: str) -> None:
    api.maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": thread})
    body = api.maya.post("/chat", json={"message": "create a ticket for these", "thread_id": thread}).json()
    assert body["status"] == "awaiting_confirmation" and body["agent_response"].endswith("yes/no"), body


def say(api, thread: str, message: str = "yes") -> dict:
    r = api.maya.post("/chat", json={"message": message, "thread_id": thread})
    assert r.status_code == 200, r.text
    assert "Traceback" not in r.text
    return r.json()


def unsaved_metric(api) -> float:
    body = api.admin.get("/metrics").text
    m = re.search(r'^finkraft_unsaved_total\{what="history",why="error"\} ([0-9.e+]+)$', body, re.M)
    return float(m.group(1)) if m else 0.0


@pytest.mark.parametrize("table", ["traces", "memory_turns"])
def test_a_write_whose_history_cannot_be_saved_says_so_and_is_counted(api, table):
    thread = f"hw-history-{table}"
    ask_for_ticket(api, thread)
    tickets, traces, counted = (
        count_rows(api.services.app, Ticket),
        count_rows(api.services.app, Trace, thread_id=thread),
        unsaved_metric(api),
    )
    with failing(api.services.app, table):
        body = say(api, thread)
    answer = body["agent_response"]
    assert answer.startswith("Created ticket T-"), answer  # the write happened, and the answer says so
    assert NOT_SAVED_ERROR in answer and "out of disk space" not in answer, answer
    assert count_rows(api.services.app, Ticket) == tickets + 1
    assert count_rows(api.services.app, Trace, thread_id=thread) == traces  # the trace is gone: and the user was told
    assert unsaved_metric(api) == counted + 1
    # the store is back: the next turn is saved and says nothing of it
    body = say(api, thread, "show my tickets")
    assert NOT_SAVED not in body["agent_response"]
    assert count_rows(api.services.app, Trace, thread_id=thread) == traces + 1


def test_a_failed_yes_keeps_the_question_open(api):
    thread = "hw-failed-yes"
    ask_for_ticket(api, thread)
    tickets = count_rows(api.services.app, Ticket)
    with failing(api.services.app, "tickets"):
        body = say(api, thread)
        answer = body["agent_response"]
        assert "Nothing was changed" in answer and "Try again?" in answer and answer.endswith("yes/no"), answer
        assert body["status"] == "awaiting_confirmation"
        assert count_rows(api.services.app, Ticket) == tickets
        # still failing: asked again, not "I'm not sure what you need"
        body = say(api, thread)
        assert body["status"] == "awaiting_confirmation" and "Try again?" in body["agent_response"]
        assert count_rows(api.services.app, Ticket) == tickets
    body = say(api, thread)  # the table works again: "yes" creates the ticket, once
    assert body["agent_response"].startswith("Created ticket T-"), body["agent_response"]
    assert body["status"] == "success"
    assert count_rows(api.services.app, Ticket) == tickets + 1
    body = say(api, thread)  # the question is answered: a later "yes" is just a message
    assert body["status"] != "awaiting_confirmation" and count_rows(api.services.app, Ticket) == tickets + 1


def test_a_no_after_a_failed_yes_writes_nothing(api):
    thread = "hw-failed-then-no"
    ask_for_ticket(api, thread)
    tickets = count_rows(api.services.app, Ticket)
    with failing(api.services.app, "tickets"):
        assert say(api, thread)["status"] == "awaiting_confirmation"
    body = say(api, thread, "no")
    assert "Nothing was written" in body["agent_response"] and count_rows(api.services.app, Ticket) == tickets
