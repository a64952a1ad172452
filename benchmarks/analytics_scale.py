"""Chat turns on a business database of a million invoices: selective and broad filters, breakdowns,
rankings, totals and a trend, through the compiled graph (SQLite checkpointer, offline router, maya).

Usage:
  .venv/bin/python benchmarks/analytics_scale.py [--invoices 1000000] [--data-dir DIR] [--pg URL] [--turns 40]

The data dir (default ./data-bench) keeps the business database between runs (SQLite), or --pg
names a PostgreSQL database for it (the application database stays SQLite in the data dir).
Missing invoices are generated first with `finkraft seed --scale`'s code (business_data/scale.py).

Analytics messages the offline parser does not map yet are given their intent here (the same
analyze_data call the parser or a model would produce); everything else in the turn is real:
context, plan, gate, the tool, the answer, memory and the checkpoint. Prints median and p95 per message.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MESSAGES = [
    ("selective filter", "Filter invoices for last month, vendor=IndiSky, status=failed", None),
    ("broad filter", "invoices from last month", None),
    ("broad filter, a year", "all invoices this year", None),
    # amount is in no index's lead: a full scan; 1,082 matches (just over the listing's 1,000 kept keys:
    # the key probe scans the whole table, then the count scans it again) and 700 matches (one scan)
    ("amount filter, over the key cap", "invoices over 6.4 lakh", None),
    ("amount filter, under the key cap", "invoices over 7 lakh", None),
    (
        "total",
        "total value of failed invoices last month",
        {"dataset": "invoices", "filters": {"status": "failed"}, "period": "last_month"},
    ),
    (
        "breakdown",
        "failed invoices by vendor this year",
        {"dataset": "invoices", "measures": ["failed_count"], "group_by": ["vendor"], "period": "this_year"},
    ),
    (
        "ranking",
        "top 5 vendors by invoice value last quarter",
        {
            "dataset": "invoices",
            "measures": ["total_value"],
            "group_by": ["vendor"],
            "period": "last_quarter",
            "order_by": ["-total_value"],
            "limit": 5,
        },
    ),
    (
        "comparison",
        "invoice value this month against last month",
        {"dataset": "invoices", "measures": ["total_value"], "period": "this_month", "compare_to": "last_month"},
    ),
    (
        "trend",
        "monthly invoice value this year",
        {"dataset": "invoices", "measures": ["total_value"], "time_grain": "month", "period": "this_year"},
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--data-dir", default="data-bench")
    ap.add_argument("--pg", help="PostgreSQL URL of the business database (default: SQLite in the data dir)")
    ap.add_argument("--turns", type=int, default=40)
    ap.add_argument("--only", help="run only the messages whose label contains this")
    args = ap.parse_args()

    import graph.nodes as nodes
    from business_data.db import make_engine
    from business_data.scale import seed_scale
    from business_data.settings import Settings
    from graph.builder import compile_graph
    from graph.intent import Intent
    from graph.services import Services

    env = {"FINKRAFT_DATA_DIR": args.data_dir, "FINKRAFT_SEMANTIC_MEMORY": "false"}
    if args.pg:
        env["BUSINESS_DATABASE_URL"] = args.pg
    settings = Settings(_env_file=None, **env)
    t0 = time.perf_counter()
    from business_data.migrations import migrate

    migrate(settings.business_url, "business")  # the schema at head (indexes included) before any rows
    counts = seed_scale(make_engine(settings.business_url), args.invoices, seed_value=settings.seed)
    print(
        f"business database: {counts['invoices']:,} invoices ({counts['added']:,} added, {time.perf_counter() - t0:.0f} s)"
    )
    services = Services.from_settings(settings).prepare()
    graph = compile_graph(services)

    given = {text: q for _, text, q in MESSAGES if q}
    real_parse = nodes.parse

    def parse(text, pctx):  # the real parser, unless it doesn't map an analytics message yet
        intent = real_parse(text, pctx)
        if text in given and intent.tool != "analyze_data":
            return Intent(kind="tool", tool="analyze_data", params=dict(given[text]), reason="benchmark: analyze_data")
        return intent

    nodes.parse = parse

    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.turns} turns per message")
    for label, text, _ in MESSAGES:
        if args.only and args.only not in label:
            continue
        config = {"configurable": {"user_id": "maya", "thread_id": f"bench-{label}"}}
        for _ in range(3):  # warm-up: caches, first checkpoint of the thread
            out = graph.invoke({"messages": [("user", text)]}, config, durability="exit")
        tools = [c["tool"] for c in out.get("tool_calls") or []]
        times = []
        for i in range(args.turns):
            if i % 10 == 9:  # keep threads realistic in length
                config = {"configurable": {"user_id": "maya", "thread_id": f"bench-{label}-{i}"}}
            t = time.perf_counter()
            graph.invoke({"messages": [("user", text)]}, config, durability="exit")
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"{label:22s} median {statistics.median(times):7.1f} ms  p95 {times[int(len(times) * 0.95)]:7.1f} ms  "
            f"[{', '.join(tools)}] {out['response'][:100]!r}"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
