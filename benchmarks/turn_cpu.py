"""CPU time of one served chat turn, in process: the real app (create_app, its lifespan, the async
checkpointer) driven through Starlette's TestClient, no sockets and no load generator sharing the
cores, so the figure moves little when other work runs on the machine.

    .venv/bin/python benchmarks/turn_cpu.py [--turns 300] [--semantic] [--repeat 3]
    .venv/bin/python benchmarks/turn_cpu.py --root /path/to/other/checkout   # the same for other code

The mixed filter messages of benchmarks/messages.py as maya, admin and victor in turn, a new thread
every 10 turns (as benchmarks/load.py sends them). Prints this process's CPU time (all threads) per
turn for each repeat, and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
USERS = ("maya", "admin", "victor")


@contextmanager
def served_app(root: Path, *, semantic: bool = False) -> Iterator[tuple[Any, Any]]:
    """The real app of the checkout `root` in process (create_app, its lifespan, the async checkpointer)
    on a fresh seeded data dir, behind Starlette's TestClient: yields (client, services).
    benchmarks/turn_instructions.py drives the same app."""
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(HERE))
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from fastapi.testclient import TestClient

    from business_data.settings import Settings
    from graph.services import Services
    from server.app import create_app

    settings = Settings(
        FINKRAFT_DATA_DIR=tempfile.mkdtemp(prefix="fk-turn-"),
        FINKRAFT_SEMANTIC_MEMORY=str(semantic).lower(),
        FINKRAFT_RATE_LIMIT="100000000/minute",
        FINKRAFT_ENV="dev",
    )
    services = Services.from_settings(settings).prepare()
    with TestClient(create_app(settings, services)) as client:
        yield client, services


def send_turns(client: Any, n: int, tag: str, *, read_answer: bool = True) -> None:
    """`n` turns of the mixed messages as maya, admin and victor in turn, a new thread every 10 turns per
    user (as benchmarks/load.py sends them). read_answer=False leaves the body unread (the client's JSON
    parsing is then not part of what a caller counts)."""
    from messages import MESSAGES

    for i in range(n):
        user = USERS[i % len(USERS)]
        r = client.post(
            "/chat",
            json={"message": MESSAGES[i % len(MESSAGES)], "thread_id": f"{tag}-{user}-{i // 30}"},
            headers={"Authorization": f"Bearer dev-{user}"},
        )
        assert r.status_code == 200 and (not read_answer or r.json()["success"]), r.text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--semantic", action="store_true", help="semantic memory on (as served)")
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose code runs")
    args = ap.parse_args()
    with served_app(args.root, semantic=args.semantic) as (client, services):
        send_turns(client, 60, "warm")
        if args.semantic:
            services.memory.flush()
        per_turn = []
        for k in range(args.repeat):
            c0 = time.process_time()
            send_turns(client, args.turns, f"run{k}")
            if args.semantic:
                services.memory.flush()  # the embeddings of these turns are part of their cost
            per_turn.append((time.process_time() - c0) * 1000 / args.turns)
            print(f"  repeat {k + 1}: {per_turn[-1]:.2f} ms CPU per turn", flush=True)
    print(
        f"{args.root}: median {statistics.median(per_turn):.2f} ms CPU per turn over {args.repeat} x {args.turns} turns "
        f"(semantic memory {'on' if args.semantic else 'off'}); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
