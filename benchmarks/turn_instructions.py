"""Instructions per served chat turn, counted by valgrind's callgrind: a figure that does not move with
the load other work puts on the machine (turn_cpu.py's CPU time moves by ±20 % on a shared 2-core box).

    .venv/bin/python benchmarks/turn_instructions.py [--root /path/to/checkout] [--turns 60]
    .venv/bin/python benchmarks/turn_instructions.py --payload off    # the typed answer's own work switched off

Runs the app in process twice under callgrind (as turn_cpu.py drives it: the mixed filter messages of
benchmarks/messages.py as maya, admin and victor, semantic memory off) with 10 and 10 + TURNS measured
turns after the same warm-up, and prints (instructions of the longer run - the shorter) / TURNS: start-up,
seeding and warm-up cancel out. OpenBLAS is held to one thread (its idle threads spin under valgrind).
Threads still interleave by wall time, so background loops add a little noise: about ±1.5 M per turn
between runs of the same code (SQLite's WAL checkpoints land on different turns). Each run takes a few
minutes (valgrind is ~50x slower than the CPU).

`--payload off` replaces the typed payload's own steps (a listing's typed table, `graph/answer.build`, the
answer memory stores) with stubs, to measure what they cost in this tree; only for measuring.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM = 30


def child(root: Path, turns: int, payload_off: bool) -> None:
    """The measured process: turn_cpu.py's app and turns (the body left unread: the client's JSON parsing
    is not the server's cost)."""
    from turn_cpu import send_turns, served_app

    with served_app(root) as (client, _services):
        if payload_off:
            import graph.answering as answering
            import tools.filtering_answer as filtering_answer

            filtering_answer.records_table = lambda ds, rows, matched: {"columns": [], "rows": []}
            answering.build_answer = lambda **kw: {
                "text": kw["text"],
                "status": kw["status"],
                "tool": kw["tool"],
                "tables": [],
                "next_actions": [],
            }
            answering.stored = lambda payload, keep=20: None
        send_turns(client, WARM, "warm", read_answer=False)
        send_turns(client, turns, "run", read_answer=False)


def counted(root: Path, turns: int, payload_off: bool, work: Path) -> int:
    out = work / f"callgrind.{turns}.out"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        "--root",
        str(root),
        "--turns",
        str(turns),
        *(["--payload", "off"] if payload_off else []),
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m = re.search(r"^totals:\s*(\d+)", out.read_text(), re.M)
    if m is None:
        raise SystemExit(f"no totals in {out}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose code runs")
    ap.add_argument("--turns", type=int, default=60, help="turns between the two runs")
    ap.add_argument("--payload", choices=("on", "off"), default="on")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.root, args.turns, args.payload == "off")
        return
    work = Path(tempfile.mkdtemp(prefix="fk-callgrind-"))
    short = counted(args.root, 10, args.payload == "off", work)
    long = counted(args.root, 10 + args.turns, args.payload == "off", work)
    print(
        f"{args.root} (payload {args.payload}): {(long - short) / args.turns / 1e6:.2f} M instructions per turn "
        f"({args.turns} turns; runs of {short:,} and {long:,})"
    )


if __name__ == "__main__":
    main()
