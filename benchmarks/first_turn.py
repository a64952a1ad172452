"""The first turn of a new thread, in process, with every working-context item there to find.

    .venv/bin/python benchmarks/first_turn.py [--turns 60] [--no-semantic] [--json]
    .venv/bin/python benchmarks/first_turn.py --root /path/to/other/checkout   # that checkout's code

Set-up (not timed): seeded databases in a temp dir, semantic memory on (as served), the compiled graph with
the SQLite checkpointer, offline router. maya (Manager, acme) filters the IndiSky failures, asks why,
opens a ticket with "notify me" and confirms; admin resolves it (maya gets a notification). Then one
first turn per message of benchmarks/messages.py (warm-up). Timed: `--turns` new threads, each
started with the next message of that set, as the server runs them (`invoke`, durability "exit").
Each timed turn's context must hold: a welcome-back line, open tickets, unread notifications, last
result sets, usage patterns and related memories ("complete" in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from messages import MESSAGES  # noqa: E402  (not locust_mixed: importing locust patches threading)

ITEMS = ("welcome", "open_tickets", "unread_notifications", "last_results", "usage", "related")


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=60)
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON line at the end")
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose code runs")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))

    from business_data.settings import Settings
    from graph.builder import compile_graph
    from graph.services import Services

    data = Path(tempfile.mkdtemp(prefix="fk-first-"))
    semantic = not args.no_semantic
    services = Services.from_settings(
        Settings(FINKRAFT_DATA_DIR=str(data), FINKRAFT_SEMANTIC_MEMORY=str(semantic).lower())
    ).prepare()
    graph = compile_graph(services)

    def turn(user: str, thread: str, text: str):
        return graph.invoke(
            {"messages": [("user", text)]}, {"configurable": {"user_id": user, "thread_id": thread}}, durability="exit"
        )

    def resume(user: str, thread: str, answer: str):
        from langgraph.types import Command

        return graph.invoke(
            Command(resume=answer), {"configurable": {"user_id": user, "thread_id": thread}}, durability="exit"
        )

    turn("maya", "history", "Filter invoices for last month, vendor=IndiSky, status=failed")
    turn("maya", "history", "why did these fail?")
    turn("maya", "history", "create a ticket and notify me when fixed")
    resume("maya", "history", "yes")
    turn("admin", "admin-1", "mark T-00001 resolved")
    resume("admin", "admin-1", "yes")
    if semantic:
        services.memory.flush(120)
    for i, m in enumerate(MESSAGES):  # warm-up: every message once, in its own new thread
        turn("maya", f"warm-{i}", m)
    if semantic:
        services.memory.flush(120)

    try:
        from business_data.appdb import Notification, utcnow
    except ImportError:  # before the app tables moved (issue 10)
        from business_data.appdb import Notification, utcnow
    from business_data.db import session_scope

    times, missing = [], {}
    for i in range(args.turns):
        with session_scope(services.app) as s:  # an update on her ticket since her last visit (the welcome reads it)
            s.add(
                Notification(
                    user_id="maya",
                    workspace_id="acme",
                    ticket_id="T-00001",
                    created_at=utcnow(),
                    message=f"T-00001 got comment {i} from admin",
                )
            )
        t0 = time.perf_counter()
        out = turn("maya", f"first-{i}", MESSAGES[i % len(MESSAGES)])
        times.append((time.perf_counter() - t0) * 1000)
        ctx = _get(out, "context") or {}
        for item in ITEMS:
            if not _get(ctx, item):
                missing[item] = missing.get(item, 0) + 1
    if semantic:
        services.memory.flush(120)
    times.sort()
    res = {
        "turns": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "max_ms": times[-1],
        "semantic": semantic,
        "complete": not missing,
        "missing": missing,
        "load": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(res))
    else:
        print(
            f"first turn of a new thread ({len(times)} threads, semantic memory {'on' if semantic else 'off'}): "
            f"median {res['median_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms, max {res['max_ms']:.1f} ms; "
            f"context complete: {res['complete']} {missing or ''}; load average {res['load']:.2f}"
        )


if __name__ == "__main__":
    main()
