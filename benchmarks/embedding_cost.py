"""CPU of embedding chat turns as semantic memory does, with texts it has not seen before.

    .venv/bin/python benchmarks/embedding_cost.py [--turns 64] [--repeat 3]
    .venv/bin/python benchmarks/embedding_cost.py --root /path/to/other/checkout   # that checkout's code

The load benchmarks repeat 16 messages, so after the warm-up nearly every text they embed is in the
embedder's cache: their memory on/off figures leave out what a new question and its answer cost. This
runs the offline graph over the mixed message set (benchmarks/messages.py) as maya, takes each turn's
two texts as memory embeds them (`embedding_text`: the question, and the answer with its preview
lines), and encodes them uncached (a marker makes every text new and unlike the others) the way the background worker
does: a turn's two texts together, and 8 turns' texts at once (a worker that fell behind). Prints the
CPU time per turn, both ways, the median of the repeats.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose code runs")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    sys.path.insert(1, str(HERE))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import sqlalchemy as sa
    from messages import MESSAGES

    from business_data.settings import Settings
    from graph.builder import compile_graph
    from graph.services import Services
    from memory import embedder
    from memory.semantic import embedding_text

    data = Path(tempfile.mkdtemp(prefix="fk-embed-cost-"))
    services = Services.from_settings(Settings(FINKRAFT_DATA_DIR=str(data), FINKRAFT_SEMANTIC_MEMORY="false")).prepare()
    graph = compile_graph(services)
    for i in range(args.turns):
        graph.invoke(
            {"messages": [("user", MESSAGES[i % len(MESSAGES)])]},
            {"configurable": {"user_id": "maya", "thread_id": f"t{i // 8}"}},
            durability="exit",
        )
    with services.app.connect() as conn:
        rows = conn.execute(sa.text("SELECT text, tool, params FROM memory_turns ORDER BY id")).all()
    texts = [embedding_text(t, tool, json.loads(p) if isinstance(p, str) else p) for t, tool, p in rows]
    embedder.encode(["warm up"], background=True)  # load the model (not timed)
    fresh = itertools.count()

    def per_turn(size: int) -> float:
        n = next(fresh)
        new = [f"{t} ~{n}.{k}" for k, t in enumerate(texts)]  # never seen, and no two alike: nothing is cached
        c0 = time.process_time()
        for i in range(0, len(new), size):
            embedder.encode(new[i : i + size], background=True)
        return (time.process_time() - c0) * 1000 / (len(new) / 2)

    results = {}
    for label, size in (("one turn at a time (2 texts)", 2), ("8 turns at once (16 texts)", 16)):
        runs = [per_turn(size) for _ in range(args.repeat)]
        results[label] = statistics.median(runs)
        print(f"  {label}: {', '.join(f'{r:.1f}' for r in runs)} ms CPU per turn", flush=True)
    chars = [len(t) for t in texts]
    print(
        f"{args.root}: embedding one chat turn's texts, uncached, {embedder.backend()} backend: "
        + "; ".join(f"{k} {v:.1f} ms CPU" for k, v in results.items())
        + f" (median of {args.repeat}); {len(texts)} texts, {statistics.median(chars):.0f} chars median; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
