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
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--semantic", action="store_true", help="semantic memory on (as served)")
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose code runs")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root))
    sys.path.insert(1, str(HERE))
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from fastapi.testclient import TestClient
    from messages import MESSAGES

    from business_data.settings import Settings
    from graph.services import Services
    from server.app import create_app

    data = Path(tempfile.mkdtemp(prefix="fk-turn-cpu-"))
    settings = Settings(
        FINKRAFT_DATA_DIR=str(data),
        FINKRAFT_SEMANTIC_MEMORY=str(args.semantic).lower(),
        FINKRAFT_RATE_LIMIT="100000000/minute",
        FINKRAFT_ENV="dev",
    )
    services = Services.from_settings(settings).prepare()
    users = ("maya", "admin", "victor")
    with TestClient(create_app(settings, services)) as client:

        def turns(n: int, tag: str) -> None:
            for i in range(n):
                user = users[i % len(users)]
                r = client.post(
                    "/chat",
                    json={"message": MESSAGES[i % len(MESSAGES)], "thread_id": f"{tag}-{user}-{i // 30}"},
                    headers={"Authorization": f"Bearer dev-{user}"},
                )
                assert r.status_code == 200 and r.json()["success"], r.text

        turns(60, "warm")
        if args.semantic:
            services.memory.flush()
        per_turn = []
        for k in range(args.repeat):
            c0 = time.process_time()
            turns(args.turns, f"run{k}")
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
