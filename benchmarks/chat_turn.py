"""One in-process chat turn (the IndiSky filter), no LLM, compiled graph with the SQLite checkpointer.

Usage: .venv/bin/python benchmarks/chat_turn.py [--turns 200] [--semantic]
Prints the median, p95 and mean of the turn latency, and where the time goes per node.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--semantic", action="store_true", help="semantic memory on (embeddings written in the background)")
    ap.add_argument("--durability", default="exit", choices=["exit", "async", "sync"])
    args = ap.parse_args()

    from business_data.settings import Settings
    from graph.builder import compile_graph
    from graph.services import Services

    data = Path(tempfile.mkdtemp(prefix="fk-bench-"))
    services = Services.from_settings(
        Settings(FINKRAFT_DATA_DIR=str(data), FINKRAFT_SEMANTIC_MEMORY=str(args.semantic).lower())
    ).prepare()
    graph = compile_graph(services)
    message = "Filter invoices for last month, vendor=IndiSky, status=failed"
    config = {"configurable": {"user_id": "maya", "thread_id": "bench"}}
    for _ in range(10):  # warm-up: imports, caches, first checkpoint
        graph.invoke({"messages": [("user", message)]}, config, durability=args.durability)
    if args.semantic:
        services.memory.flush()

    times = []
    for i in range(args.turns):  # the headline number: plain invoke, as the server calls it
        t0 = time.perf_counter()
        graph.invoke({"messages": [("user", message)]}, config, durability=args.durability)
        times.append((time.perf_counter() - t0) * 1000)
        if i % 50 == 49:
            config = {
                "configurable": {"user_id": "maya", "thread_id": f"bench-{i}"}
            }  # keep threads realistic in length
    times.sort()
    print(f"turns={args.turns} semantic={args.semantic} durability={args.durability}")
    print(
        f"median={statistics.median(times):.2f} ms  p95={times[int(len(times) * 0.95)]:.2f} ms  "
        f"p99={times[int(len(times) * 0.99)]:.2f} ms  max={times[-1]:.2f} ms  mean={statistics.mean(times):.2f} ms"
    )

    per_node: dict[str, list[float]] = defaultdict(list)  # where the time goes (streaming adds a little)
    for _ in range(min(args.turns, 100)):
        last = time.perf_counter()
        for chunk in graph.stream(
            {"messages": [("user", message)]}, config, stream_mode="updates", durability=args.durability
        ):
            now = time.perf_counter()
            for node in chunk:
                per_node[node].append((now - last) * 1000)
            last = now
    for node, vals in per_node.items():
        print(f"  {node:10s} median {statistics.median(vals):6.2f} ms")
    if args.semantic:
        services.memory.flush()


if __name__ == "__main__":
    main()
