"""Accuracy of the offline parser on the analytics eval set (tests/unit/analytics_eval.yaml).

    .venv/bin/python benchmarks/analytics_eval.py [-v]

Prints the accuracy overall and by section (single questions, follow-ups, ambiguous ones);
-v lists every miss. The figures themselves are checked against SQL by tests/unit/test_analytics_eval.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.test_analytics_eval import run_eval  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    r = run_eval()
    ms = (time.perf_counter() - t0) * 1000 / max(r["cases"], 1)
    print(f"analytics eval: {r['correct']}/{r['cases']} = {r['accuracy']:.1%} ({ms:.2f} ms per message, first run)")
    for name, (c, n) in r["sections"].items():
        print(f"  {name:<10} {c}/{n} = {c / n:.1%}")
    if "-v" in sys.argv:
        for f in r["failures"]:
            print(f"  FAIL [{f['section']}] {f['text']!r}: {'; '.join(f['problems'])}")


if __name__ == "__main__":
    main()
