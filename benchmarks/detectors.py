"""Every anomaly detector on a large business database: seconds per workspace, median of several runs.

Usage:
  .venv/bin/python benchmarks/detectors.py [--url URL] [--invoices N] [--runs 3] [--score]

--url names the business database (default: the SQLite file in ./data-bench); missing invoices are
generated first with `finkraft seed --scale`'s code (business_data/scale.py). Nothing is stored (the
detectors' queries alone; `finkraft watch` adds one small write per workspace). --score also prints
precision and recall against the planted truth (business_data/anomalies.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=None)
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--score", action="store_true")
    args = ap.parse_args()
    from sqlalchemy import func, select

    from business_data.anomalies import planted, score
    from business_data.datamodel import get_data_model
    from business_data.db import make_engine
    from business_data.migrations import migrate
    from business_data.models import Invoice
    from business_data.scale import seed_scale
    from business_data import clock
    from business_data.seed import seeded_on
    from tools.detectors import detect, workspaces_of

    url = args.url or f"sqlite:///{Path('data-bench').resolve() / 'business.sqlite'}"
    Path("data-bench").mkdir(exist_ok=True)
    engine = make_engine(url)
    migrate(engine, "business")
    with engine.connect() as c:
        have = c.execute(select(func.count()).select_from(Invoice)).scalar_one()
    if have < args.invoices:
        seed_scale(engine, args.invoices)
    today = seeded_on(engine) or clock.today()
    model = get_data_model("demo")
    print(
        f"{engine.dialect.name}, {args.invoices:,} invoices, seeded {today}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    found = []
    for ws in workspaces_of(model, engine):
        totals: list[float] = []
        cpu: list[float] = []  # this process's CPU time: SQLite's work (in process) whatever the machine's load
        per: dict[str, list[float]] = {}
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            run = detect(engine, model, ws, today)
            totals.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            for k, v in run.timings_ms.items():
                per.setdefault(k, []).append(v)
        found += [(f.detector.name, ws, f.candidate.subject, f.candidate.keys) for f in run.found]
        detail = ", ".join(f"{k} {statistics.median(v) / 1000:.2f}" for k, v in per.items())
        print(
            f"{ws}: {statistics.median(totals):.2f} s median of {args.runs}, CPU {statistics.median(cpu):.2f} s "
            f"({len(run.found)} found; {detail})"
        )
    if args.score:
        s = score(found, planted(today, 20261124))
        print(
            f"precision {s.precision:.3f} recall {s.recall:.3f} ({s.found} found, {s.planted} planted); "
            f"false positives by kind: {dict(__import__('collections').Counter(d for d, *_ in s.false_positives))}; "
            f"missed: {[(p.detector, p.workspace, p.subject) for p in s.missed]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
