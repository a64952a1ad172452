"""Another process holding the SQLite write lock (a real second connection in BEGIN IMMEDIATE): a "yes"
gives up within seconds with a plain sentence, writes nothing, and keeps the question open; once the
lock is gone "yes" again creates the ticket. /execute_tool answers 503 with the same sentence."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from business_data.appdb import Ticket
from business_data.db import sqlite_path

from ..conftest import using_postgres
from .test_honest_writes import ask_for_ticket, say
from ..helpers import count_rows

pytestmark = pytest.mark.skipif(using_postgres(), reason="SQLite's file lock (PostgreSQL locks rows)")

BUSY = "The database is busy with another change, so I could not create tickets just now. Nothing was changed"
HOLD = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
c.rollback()
"""


@contextmanager
def locked(api) -> Iterator[None]:
    """Another process holds the app database's write lock while the block runs."""
    path = sqlite_path(api.services.settings.app_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        if holder.stdin is not None:
            holder.stdin.write("\n")
            holder.stdin.flush()
        holder.wait(timeout=10)


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_a_yes_against_a_locked_database_gives_up_within_seconds_and_can_be_repeated(api):
    thread = "locked-yes"
    ask_for_ticket(api, thread)
    before = count_rows(api.services.app, Ticket)
    with locked(api):
        t0 = time.monotonic()
        body = say(api, thread)
        took = time.monotonic() - t0
        assert took < 10, f"a locked write kept the user waiting {took:.1f} s"
        answer = body["agent_response"]
        assert BUSY in answer and "Try again?" in answer, answer
        # its history waited for the same lock: the answer says it was not kept
        assert "I couldn't save this conversation's history: the database was busy" in answer, answer
        assert body["status"] == "awaiting_confirmation"
    assert count_rows(api.services.app, Ticket) == before  # nothing was written
    body = say(api, thread)  # the lock is gone: the same question, answered yes again
    assert body["agent_response"].startswith("Created ticket T-"), body["agent_response"]
    assert count_rows(api.services.app, Ticket) == before + 1


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_a_direct_write_against_a_locked_database_is_a_503_with_a_plain_sentence(api):
    before = count_rows(api.services.app, Ticket)
    with locked(api):
        t0 = time.monotonic()
        r = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "while locked"}})
        assert time.monotonic() - t0 < 10
    assert r.status_code == 503, r.text
    assert r.json()["detail"].startswith(BUSY) and r.headers["Retry-After"] == "5"
    assert "Traceback" not in r.text
    assert count_rows(api.services.app, Ticket) == before
