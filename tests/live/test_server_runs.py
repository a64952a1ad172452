"""How the server runs things, on a real uvicorn server: one checkpoint per turn on every path
(durability "exit"), and a handler waiting on the database never stalls the event loop."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from business_data.db import libpq_url
from tests.conftest import TOKENS, using_postgres

pytestmark = pytest.mark.slow


def _app_db(server) -> str | None:
    """The live server's application database URL (None: the SQLite file in its data dir)."""
    return server.env.get("APP_DATABASE_URL") if using_postgres() else None


def _checkpoints(server, thread_id: str) -> int:
    url = _app_db(server)
    if url:
        with psycopg.connect(libpq_url(url)) as conn:
            return conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)).fetchone()[0]
    with sqlite3.connect(server.data_dir / "checkpoints.sqlite") as conn:
        return conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread_id,)).fetchone()[0]


def test_one_checkpoint_per_turn_on_chat_langserve_and_streams(live_server):
    """Every caller runs the graph with durability "exit": a turn writes its checkpoint once, at the end
    (per-step durability would write one per node: about nine a turn), and the thread keeps only its latest."""
    turn = {"messages": [{"type": "human", "content": "failed IndiSky invoices from last month"}]}
    with live_server.client("maya") as maya:
        assert (
            maya.post(
                "/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "dur-chat"}
            ).status_code
            == 200
        )
        assert (
            maya.post(
                "/agent/invoke", json={"input": turn, "config": {"configurable": {"thread_id": "dur-inv"}}}
            ).status_code
            == 200
        )
        for endpoint in ("stream", "stream_events"):
            with maya.stream(
                "POST",
                f"/agent/{endpoint}",
                json={"input": turn, "config": {"configurable": {"thread_id": f"dur-{endpoint}"}}},
            ) as r:
                assert r.status_code == 200 and "event: end" in "".join(r.iter_text())
        counts = {
            t: _checkpoints(live_server, f"acme/maya/{t}")
            for t in ("dur-chat", "dur-inv", "dur-stream", "dur-stream_events")
        }
        assert counts == {t: 1 for t in counts}, counts
        body = maya.post("/chat", json={"message": "why did these fail?", "thread_id": "dur-chat"}).json()
        assert body["data"]["failed"] == 7  # the thread goes on from that one checkpoint
        # and only the latest is kept (bounded growth): the turn wrote one and pruned the one before
        assert _checkpoints(live_server, "acme/maya/dur-chat") == 1


@contextmanager
def _users_table_locked(server):
    """Another client holds a write lock on the application database's users table."""
    url = _app_db(server)
    if url:
        conn = psycopg.connect(libpq_url(url))
        conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")  # reads go on, writes wait
    else:
        conn = sqlite3.connect(server.data_dir / "app.sqlite", isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")  # WAL: reads go on, writes wait (busy_timeout)
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_a_handler_waiting_on_the_database_does_not_stall_the_server(live_server):
    created: dict = {}
    with _users_table_locked(live_server):

        def create_user():
            with live_server.client("admin") as admin:
                created["response"] = admin.post(
                    "/admin/users",
                    json={
                        "user_id": "loop.check",
                        "display_name": "Loop Check",
                        "role": "Viewer",
                        "workspace_id": "acme",
                    },
                )

        writer = threading.Thread(target=create_user)
        writer.start()
        time.sleep(0.5)  # the write is waiting for the lock now
        with live_server.client("maya", timeout=5) as maya:
            t0 = time.perf_counter()
            try:
                assert maya.get("/health").json() == {"status": "ok"}
                assert maya.get("/tickets").status_code == 200
                assert maya.get("/traces").status_code == 200
            except httpx.TimeoutException:
                pytest.fail("the server stopped answering while one handler waited on the database")
            elapsed = time.perf_counter() - t0
        hold_until = time.perf_counter() + 1.0
        while time.perf_counter() < hold_until and writer.is_alive():
            time.sleep(0.05)
        assert writer.is_alive(), "the write should still be waiting for the lock"
    writer.join(timeout=30)
    assert elapsed < 1.0, f"other requests waited {elapsed:.2f}s behind a handler blocked on the database"
    assert created["response"].status_code == 201, created["response"].text
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {TOKENS['admin']}"}) as admin:
        assert "loop.check" in {u["user_id"] for u in admin.get("/admin/users").json()["users"]}
