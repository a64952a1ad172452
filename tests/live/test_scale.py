"""Scale-out: several server processes on loopback sharing one database.

- a thread started on server A continues on server B (checkpoints in the shared database);
- a memory written through A is found by B's semantic search (FAISS catch-up from DB rows);
- 200 concurrent ticket creations through both servers give exactly 200 distinct tickets,
  concurrent updates / exports / chats lose and duplicate nothing (checked via the API and SQL);
- rate limits hold across processes with REDIS_URL; /metrics adds up over uvicorn workers.

Runs on PostgreSQL (always, when a server answers) and, in the SQLite suite, also on one shared
set of SQLite files (WAL + busy_timeout + retries across processes).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ..conftest import TOKENS, LiveServer, pg_databases, using_postgres
from ..helpers import chat

pytestmark = pytest.mark.slow

BACKENDS = ["postgres"] if using_postgres() else ["sqlite", "postgres"]
REDIS_URL = os.environ.get("FINKRAFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
N_TICKETS = 200


class Pair:
    def __init__(self, backend: str, base: Path, env: dict, args: tuple[str, ...] = ()):
        self.backend = backend
        self.base = base
        env = {**env}
        if backend == "postgres":
            env.update(pg_databases().env_for(base))  # both servers: the same PostgreSQL databases
            self.app_url = env["APP_DATABASE_URL"]
        else:
            self.app_url = f"sqlite:///{base / 'app.sqlite'}"  # both servers: the same data dir
        self.servers = [LiveServer(base, env=env, args=args), LiveServer(base, env=env, args=args)]

    def start(self) -> Pair:
        """Both at once: migrations, demo users and seeding race, and must not trip over each other."""
        errors: list[BaseException] = []

        def go(s):
            try:
                s.start(timeout=180)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=go, args=(s,)) for s in self.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.stop()
            raise errors[0]
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.stop()

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def sql(self, query: str, **params):
        engine = create_engine(self.app_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(query), params).all()
        finally:
            engine.dispose()


def client(url: str, user: str, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token or TOKENS[user]}"}, timeout=120)


@pytest.fixture(scope="module", params=BACKENDS)
def pair(request, tmp_path_factory):
    if request.param == "postgres":
        pg_databases()  # skips when PostgreSQL is not reachable
    env = {"FINKRAFT_SEMANTIC_MEMORY": "true", "FINKRAFT_RATE_LIMIT": "1000000/minute"}
    p = Pair(request.param, tmp_path_factory.mktemp(f"scale-{request.param}"), env).start()
    yield p
    p.stop()


def test_thread_continues_on_another_server(pair):
    a, b = pair.urls
    thread = f"scale-{uuid.uuid4().hex[:8]}"
    with client(a, "maya") as on_a, client(b, "maya") as on_b:
        body = chat(on_a, "Filter invoices for last month, vendor=IndiSky, status=failed", thread)
        assert body["tool_used"] == "filter_data" and body["data"]["filtered_records"] == 7
        body = chat(on_b, "why did these fail?", thread)  # "these" = A's result, resolved on B
        assert body["tool_used"] == "explain_failures", body
        assert "7 of 7 failed: GSTIN missing" in body["agent_response"]
        # the checkpoint itself is shared: B's LangServe endpoint sees both turns of the thread
        r = on_b.post(
            "/agent/invoke",
            json={
                "input": {"messages": [{"type": "human", "content": "show my tickets"}]},
                "config": {"configurable": {"thread_id": thread}},
            },
        )
        assert r.status_code == 200, r.text
        humans = [m["content"] for m in r.json()["output"]["messages"] if m["type"] == "human"]
        assert humans == [
            "Filter invoices for last month, vendor=IndiSky, status=failed",
            "why did these fail?",
            "show my tickets",
        ]


def test_memory_written_on_one_server_is_found_on_the_other(pair):
    a, b = pair.urls
    marker = f"Konark Caterers pantry audit {uuid.uuid4().hex[:6]}"
    with client(a, "gita") as on_a, client(b, "gita") as on_b:
        chat(on_a, f"remember the {marker} for the quarterly review", f"mem-{uuid.uuid4().hex[:8]}")
        found = None
        for _ in range(180):  # A embeds in the background (model loads lazily); B catches up from the rows
            r = on_b.get("/memory/search", params={"q": f"{marker} quarterly review", "k": 5})
            assert r.status_code == 200, r.text
            hits = [h for h in r.json()["results"] if marker in h["text"] and h.get("match") != "keyword"]
            if hits:
                found = hits[0]
                break
            threading.Event().wait(0.5)
        assert found is not None, "B's semantic search never found the memory written through A"
        assert found["score"] > 0.5 and found["speaker"] == "user"


def test_concurrent_ticket_creation_through_both_servers(pair):
    run = uuid.uuid4().hex[:6]
    clients = [client(u, "gita") for u in pair.urls]
    try:

        def create(i: int) -> tuple[int, dict]:
            r = clients[i % 2].post(
                "/execute_tool",
                json={"tool_name": "create_ticket", "params": {"title": f"scale {run} #{i:03d}", "priority": "low"}},
            )
            return r.status_code, (
                r.json() if r.headers.get("content-type", "").startswith("application/json") else {"text": r.text}
            )

        with ThreadPoolExecutor(max_workers=24) as pool:
            results = list(pool.map(create, range(N_TICKETS)))
        failures = [body for code, body in results if code != 200]
        assert not failures, failures[:3]
        ids = [body["data"]["ticket_id"] for _, body in results]
        assert len(set(ids)) == N_TICKETS and all(re.fullmatch(r"T-\d{5,}", t) for t in ids)

        listed = [t for t in clients[1].get("/tickets").json()["tickets"] if t["title"].startswith(f"scale {run} ")]
        assert sorted(t["ticket_id"] for t in listed) == sorted(ids)
        assert sorted(t["title"] for t in listed) == [f"scale {run} #{i:03d}" for i in range(N_TICKETS)]
    finally:
        for c in clients:
            c.close()
    rows = pair.sql(
        "SELECT count(*), count(DISTINCT ticket_id), count(DISTINCT id) FROM tickets WHERE title LIKE :p",
        p=f"scale {run} #%",
    )
    assert tuple(rows[0]) == (N_TICKETS, N_TICKETS, N_TICKETS)
    ((comments,),) = pair.sql(
        "SELECT count(*) FROM ticket_comments c JOIN tickets t ON t.ticket_id = c.ticket_id WHERE t.title LIKE :p",
        p=f"scale {run} #%",
    )
    ((subs,),) = pair.sql(
        "SELECT count(*) FROM ticket_subscriptions s JOIN tickets t ON t.ticket_id = s.ticket_id WHERE t.title LIKE :p",
        p=f"scale {run} #%",
    )
    assert comments == N_TICKETS and subs == N_TICKETS


def test_concurrent_updates_exports_and_chats_lose_nothing(pair):
    """Mixed writes from several users through both servers: every one lands exactly once."""
    run = uuid.uuid4().hex[:6]
    a, b = pair.urls
    with client(a, "maya") as maya:
        tickets = [
            maya.post(
                "/execute_tool", json={"tool_name": "create_ticket", "params": {"title": f"mixed {run} {i}"}}
            ).json()["data"]["ticket_id"]
            for i in range(10)
        ]
    jobs = []
    for i in range(80):  # 8 comments on each of 10 tickets, by the owner and by an Admin, via both servers
        jobs.append(("update", (a, b)[i % 2], ("maya", "admin")[i % 3 == 0], tickets[i % 10], f"note {run} {i}"))
    for i in range(24):
        jobs.append(("export", (a, b)[i % 2], ("maya", "admin")[i % 2], None, ("csv", "xlsx", "pdf")[i % 3]))
    for i in range(30):
        jobs.append(("chat", (a, b)[i % 2], ("maya", "victor", "gita")[i % 3], None, f"chat-{run}-{i}"))

    def run_job(job):
        kind, url, user, ticket, arg = job
        with client(url, user) as c:
            if kind == "update":
                r = c.patch(f"/tickets/{ticket}", json={"comment": arg, "status": "in_progress"})
                return kind, r.status_code, r.text
            if kind == "export":
                r = c.post(
                    "/execute_tool",
                    json={
                        "tool_name": "export_report",
                        "params": {"vendor": "IndiSky", "status": "failed", "format": arg},
                    },
                )
                if r.status_code == 200:
                    d = r.json()["data"]
                    assert c.get(d["url"]).status_code == 200  # the file is there for whichever server answers
                return kind, r.status_code, r.text
            body = chat(c, "failed invoices from last month", arg)
            return kind, 200 if body["success"] else 500, body.get("trace_id")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(run_job, jobs))
    bad = [r for r in results if r[1] != 200]
    assert not bad, bad[:3]

    ((notes,),) = pair.sql("SELECT count(*) FROM ticket_comments WHERE comment LIKE :p", p=f"note {run} %")
    ((distinct_notes,),) = pair.sql(
        "SELECT count(DISTINCT comment) FROM ticket_comments WHERE comment LIKE :p", p=f"note {run} %"
    )
    assert notes == distinct_notes == 80
    # maya is subscribed to her tickets: the Admin's updates notified her, once each
    admin_updates = sum(1 for i in range(80) if i % 3 == 0)
    ((notified,),) = pair.sql(
        "SELECT count(*) FROM notifications WHERE user_id = 'maya' AND message LIKE :p", p=f"%note {run} %"
    )
    assert notified == admin_updates
    traces = [r[2] for r in results if r[0] == "chat"]
    assert len(set(traces)) == 30
    ((stored,),) = pair.sql("SELECT count(DISTINCT thread_id) FROM traces WHERE thread_id LIKE :p", p=f"chat-{run}-%")
    ((turns,),) = pair.sql("SELECT count(*) FROM memory_turns WHERE thread_id LIKE :p", p=f"chat-{run}-%")
    assert stored == 30 and turns == 60  # a user turn and an assistant turn per chat, once each


@pytest.mark.parametrize("backend", BACKENDS)
def test_rate_limit_holds_across_processes_with_redis(backend, tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {e}")
    if backend == "postgres":
        pg_databases()
    p = Pair(
        backend,
        tmp_path / "rl",
        {"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "5/minute", "REDIS_URL": REDIS_URL},
    ).start()
    try:
        a, b = p.urls
        from server.auth import issue_token

        engine = create_engine(p.app_url)
        try:  # a fresh token, so a fresh key in Redis whatever ran before
            _, token = issue_token(engine, "maya", "rate-limit test")
        finally:
            engine.dispose()
        with client(a, "maya", token) as on_a, client(b, "maya", token) as on_b:
            codes = [c.get("/tickets").status_code for c in (on_a, on_b, on_a, on_b, on_a)]
            assert codes == [200] * 5
            assert on_b.get("/tickets").status_code == 429  # B knows about A's three requests
            assert on_a.get("/tickets").status_code == 429
    finally:
        p.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_add_up_over_workers(tmp_path, workers):
    """`finkraft serve --workers N` with PROMETHEUS_MULTIPROC_DIR (not created yet): /metrics counts every
    worker's requests, whichever one answers."""
    server = LiveServer(
        tmp_path / "w",
        env={
            "FINKRAFT_SEMANTIC_MEMORY": "false",
            "FINKRAFT_RATE_LIMIT": "100000/minute",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom" / "new"),
        },
        args=("--workers", str(workers)),
    ).start(timeout=180)
    try:
        n = 40
        with server.client("maya") as maya:  # new connections: requests spread over both workers
            for _ in range(n):
                with httpx.Client(base_url=server.url, headers=maya.headers) as c:
                    assert c.get("/tickets").status_code == 200
        with server.client("admin") as admin:
            body = admin.get("/metrics").text
        m = re.search(r'finkraft_http_requests_total\{method="GET",route="/tickets",status="200"\} (\S+)', body)
        assert m and float(m.group(1)) == n, body[:2000]  # the same total whichever worker answered /metrics
    finally:
        server.stop()
