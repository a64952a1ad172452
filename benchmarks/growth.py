"""Storage growth: bytes each chat turn adds to each store, and one long thread's checkpoints and latency.

Runs the real app in process (create_app + its lifespan: the async checkpointer, a checkpoint per
turn, the thread pruned to its latest checkpoint after each turn) and drives POST /chat through
Starlette's TestClient: no sockets, no LLM (the offline parser), semantic memory off.

    .venv/bin/python benchmarks/growth.py [--turns 500]                       # embedded SQLite
    APP_DATABASE_URL=postgresql+psycopg://... BUSINESS_DATABASE_URL=... .venv/bin/python benchmarks/growth.py

Prints bytes per turn per store (SQLite: dbstat page bytes per table; PostgreSQL: pg_total_relation_size),
the thread's checkpoint bytes at the end (checks <= 2 MB), and the latency of turns 6-15 against
turns N-9..N (medians; checks the last is within 1.5x the tenth).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MESSAGES = (
    "failed IndiSky invoices from last month",
    "show my tickets",
    "what about SkyHigh",
    "how many of these failed",
    "vendor profile for Metro Cabs",
)
APP_TABLES = ("traces", "memory_turns", "memory_embeddings")
CHECKPOINT_TABLES = ("checkpoints", "writes", "checkpoint_blobs", "checkpoint_writes")


def table_bytes(settings) -> dict[str, int]:
    """Bytes each table takes (with its indexes) in the app and checkpoint stores."""
    from business_data.db import is_postgres, make_engine
    from sqlalchemy import text

    if is_postgres(settings.app_url):
        with make_engine(settings.app_url).connect() as conn:
            return {
                t: conn.execute(text("SELECT COALESCE(pg_total_relation_size(to_regclass(:t)), 0)"), {"t": t}).scalar()
                for t in (*APP_TABLES, *CHECKPOINT_TABLES)
            }
    out = {}
    for path, tables in (
        (settings.resolved_data_dir / "app.sqlite", APP_TABLES),
        (settings.checkpoint_path, CHECKPOINT_TABLES),
    ):
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
            names = [r[0] for r in conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall()]
            index_of = {r[0]: r[1] for r in conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall()}
        for t in tables:
            out[t] = sum(sizes.get(n, 0) for n in names if index_of.get(n) == t)
    return out


def thread_checkpoint_bytes(settings, thread: str) -> int:
    """The bytes of one checkpoint thread's rows (payload lengths)."""
    from business_data.db import is_postgres, make_engine
    from sqlalchemy import text

    if is_postgres(settings.app_url):
        q = (
            "SELECT (SELECT COALESCE(SUM(pg_column_size(c.*)), 0) FROM checkpoints c WHERE thread_id = :t)"
            " + (SELECT COALESCE(SUM(pg_column_size(b.*)), 0) FROM checkpoint_blobs b WHERE thread_id = :t)"
            " + (SELECT COALESCE(SUM(pg_column_size(w.*)), 0) FROM checkpoint_writes w WHERE thread_id = :t)"
        )
        with make_engine(settings.app_url).connect() as conn:
            return conn.execute(text(q), {"t": thread}).scalar()
    with sqlite3.connect(settings.checkpoint_path) as conn:
        a = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints WHERE thread_id = ?",
            (thread,),
        ).fetchone()[0]
        b = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?", (thread,)
        ).fetchone()[0]
    return a + b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=500)
    ap.add_argument(
        "--threads", type=int, default=20, help="short threads (5 turns each) for the bytes-per-turn figures"
    )
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from business_data.settings import Settings
    from graph.runs import checkpoint_thread
    from graph.services import Services
    from server.app import create_app

    data = Path(tempfile.mkdtemp(prefix="fk-growth-"))
    settings = Settings(
        FINKRAFT_DATA_DIR=str(data), FINKRAFT_SEMANTIC_MEMORY="false", FINKRAFT_RATE_LIMIT="1000000/minute"
    )
    services = Services.from_settings(settings).prepare()
    headers = {"Authorization": "Bearer dev-maya"}
    with TestClient(create_app(settings, services)) as client:
        cpu: list[float] = []

        def chat(i: int, thread: str) -> float:
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.post(
                "/chat", json={"message": MESSAGES[i % len(MESSAGES)], "thread_id": thread}, headers=headers
            )
            assert r.status_code == 200, r.text
            cpu.append(
                (time.process_time() - c0) * 1000
            )  # this process's CPU (all its threads): steadier on a busy box
            return (time.perf_counter() - t0) * 1000

        for i in range(10):
            chat(i, "warm-up")
        start = table_bytes(settings)
        for t in range(args.threads):
            for i in range(5):
                chat(i, f"short-{t}")
        grown = table_bytes(settings)
        n = args.threads * 5
        print(f"{settings.app_url.split(':')[0]}: bytes per chat turn ({n} turns in {args.threads} threads of 5)")
        for table in start:
            if grown[table] or start[table]:
                print(f"  {table:20s} {(grown[table] - start[table]) / n:10.0f}")
        print(
            f"  {'total':20s} {sum(grown.values()) - sum(start.values()):10.0f} bytes for {n} turns"
            f" = {(sum(grown.values()) - sum(start.values())) / n:.0f} per turn"
        )

        thread = "long"
        cpu.clear()
        ms = [chat(i, thread) for i in range(args.turns)]
    cp_thread = checkpoint_thread(services.identity("maya"), thread)
    cp_bytes = thread_checkpoint_bytes(settings, cp_thread)
    tenth, last = statistics.median(ms[5:15]), statistics.median(ms[-10:])
    print(
        f"one thread of {args.turns} turns: checkpoint bytes {cp_bytes:,} ({'<=' if cp_bytes <= 2 * 2**20 else '>'} 2 MB)"
    )
    print(
        f"  latency: turns 6-15 median {tenth:.1f} ms, last 10 median {last:.1f} ms, ratio {last / tenth:.2f}"
        f" ({'within' if last <= 1.5 * tenth else 'NOT within'} 1.5x); overall median {statistics.median(ms):.1f} ms"
    )
    c10, clast = statistics.median(cpu[5:15]), statistics.median(cpu[-10:])
    print(
        f"  CPU per turn: turns 6-15 median {c10:.1f} ms, last 10 median {clast:.1f} ms, ratio {clast / c10:.2f}"
        f" ({'within' if clast <= 1.5 * c10 else 'NOT within'} 1.5x)"
    )
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
