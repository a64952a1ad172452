"""Profile a served worker under the load of benchmarks/load.py with py-spy (sampling, no code changes).

    .venv/bin/python benchmarks/profile_server.py [--seconds 20] [--semantic|--no-semantic] [--out prof]

Starts `finkraft serve` (one worker) on a fresh seeded data dir, warms it up with Locust, then records
py-spy for --seconds while Locust drives the mixed filter set with 8 clients. Writes OUT.svg (flame
graph), OUT.txt (collapsed stacks) and prints the functions with the largest inclusive share of samples,
grouped by this project's modules. Needs py-spy (`pip install py-spy`) and ptrace rights (root here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402

OURS = ("graph/", "memory/", "tools/", "server/", "business_data/")


def summarise(collapsed: Path, top: int = 120) -> None:
    incl, selfc, total = Counter(), Counter(), 0
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        n = int(n)
        total += n
        frames = stack.split(";")
        seen = set()
        for f in frames:
            name = (
                f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("site-packages/")[-1] + ")"
                if " (" in f
                else f
            )
            if name not in seen:
                incl[name] += n
                seen.add(name)
        selfc[
            frames[-1].split(" (")[0]
            + " ("
            + frames[-1].split(" (")[-1].split(":")[0].split("site-packages/")[-1]
            + ")"
        ] += n
    print(f"{total} samples\n\ninclusive (share of all samples):")
    for name, n in incl.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nself (where the CPU is spent):")
    for name, n in selfc.most_common(25):
        print(f"  {100 * n / total:5.1f}%  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--semantic", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--root", type=Path, default=load.ROOT)
    ap.add_argument("--out", type=Path, default=Path("profile"))
    ap.add_argument("--summary-only", type=Path, help="summarise an existing collapsed-stack file and exit")
    args = ap.parse_args()
    if args.summary_only:
        summarise(args.summary_only)
        return
    root = args.root.resolve()
    work = Path(tempfile.mkdtemp(prefix="fk-prof-"))
    os.environ.setdefault("FINKRAFT_EMBEDDING_DIR", str(work / "models"))
    spy = shutil.which("py-spy") or str(load.BIN / "py-spy")
    try:
        data = load.seeded_template(root, work)
        port = load.free_port()
        proc = load.serve(root, data, port, 1, args.semantic, work / "server.log")
        try:
            load.wait_model(port, args.semantic)
            load.locust(port, args.clients, 5, work / "warm")
            driver = threading.Thread(target=load.locust, args=(port, args.clients, args.seconds + 6, work / "run"))
            driver.start()
            out = args.out.resolve()
            subprocess.run(
                [
                    spy,
                    "record",
                    "-p",
                    str(proc.pid),
                    "-d",
                    str(args.seconds),
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "--gil",
                    "-o",
                    f"{out}.txt",
                    "--nonblocking",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(
                [
                    spy,
                    "record",
                    "-p",
                    str(proc.pid),
                    "-d",
                    "3",
                    "-r",
                    "200",
                    "--gil",
                    "-o",
                    f"{out}.svg",
                    "--nonblocking",
                ],
                check=False,
                stdout=subprocess.DEVNULL,
            )
            driver.join()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        summarise(Path(f"{out}.txt"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
