"""Accuracy and speed of the offline intent parser over tests/unit/parser_eval.yaml.

.venv/bin/python benchmarks/parser_eval.py [-v]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.parser import parse  # noqa: E402
from graph.understanding import decide, understand  # noqa: E402
from tests.unit.test_parser import load_eval, run_eval  # noqa: E402


def main() -> None:
    r = run_eval()
    print(f"accuracy: {r['correct']}/{r['cases']} = {r['accuracy']:.1%}")
    if "-v" in sys.argv:
        for f in r["failures"]:
            print(f"  FAIL [{f['ctx']}] {f['text']!r}: {'; '.join(f['problems'])}")
    contexts, cases = load_eval()
    per_case = []
    for case in cases:  # warm, then time 20 runs of each message
        ctx = contexts[case.get("ctx", "fresh")]
        parse(case["text"], ctx)
        t0 = time.perf_counter()
        for _ in range(20):
            parse(case["text"], ctx)
        per_case.append((time.perf_counter() - t0) / 20 * 1000)
    per_case.sort()
    print(
        f"parse time per message: median {statistics.median(per_case):.3f} ms, "
        f"p95 {per_case[int(len(per_case) * 0.95)]:.3f} ms, max {per_case[-1]:.3f} ms ({len(cases)} messages)"
    )
    time_understanding(contexts, cases)


def time_understanding(contexts, cases) -> None:
    """What `route` and `plan` do per message beyond the parse (graph/understanding/): a second, context-
    free parse when the thread has a result, the completions from declarations, the interpretation and the
    decision."""
    per_case = []
    for case in cases:
        ctx = contexts[case.get("ctx", "fresh")]
        record, interp = understand(case["text"], ctx)
        t0 = time.perf_counter()
        for _ in range(20):
            record, interp = understand(case["text"], ctx)
            decide(interp, record, case["text"], None)
        per_case.append((time.perf_counter() - t0) / 20 * 1000)
    per_case.sort()
    print(
        f"understanding per message (parse + interpretation + decision): median {statistics.median(per_case):.3f} ms, "
        f"p95 {per_case[int(len(per_case) * 0.95)]:.3f} ms, max {per_case[-1]:.3f} ms ({len(cases)} messages)"
    )


if __name__ == "__main__":
    main()
