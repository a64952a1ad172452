"""The understanding evaluation (issue 23): every question of tests/eval/understanding.yaml (demo
database) and tests/eval/understanding_reference.yaml (reference database) through the graph, graded
against SQL run now (tests/eval/understanding.py).

    .venv/bin/python benchmarks/understanding_eval.py [--db demo|reference|all] [--json FILE] [-q]

Prints the accuracy, the confident-wrong rate, the unrequested exports and writes, the figures per
database and per category, and every failure with the question, what was expected and what happened
(-q: the figures only). Runs offline, on fresh databases in a temporary directory, seeded for today.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.conftest  # noqa: E402,F401  (the suite's offline environment: no model keys, no telemetry)
from tests.eval.understanding import report, run_eval  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["demo", "reference", "all"], default="all")
    ap.add_argument("--json", help="write every turn's record to this file")
    ap.add_argument("-q", "--quiet", action="store_true", help="the figures only, not the failures")
    args = ap.parse_args()
    t0 = time.perf_counter()
    s = run_eval(("demo", "reference") if args.db == "all" else (args.db,))
    print(report(s, failures=not args.quiet))
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in s.items() if k != "failures"}, indent=1, default=str))


if __name__ == "__main__":
    main()
