"""The whole load table of issue 13 in one command: a real `finkraft serve` on loopback, driven by Locust.

    .venv/bin/python benchmarks/load.py                          # 3 rounds of 20 s per setting (~6 min)
    .venv/bin/python benchmarks/load.py --seconds 10 --rounds 1  # a quick look
    .venv/bin/python benchmarks/load.py --root /path/to/other/checkout   # the same table for other code
    .venv/bin/python benchmarks/load.py --uncached               # memory's real cost: no embedding cache

Settings, each round in this order (so the ratios compare runs taken minutes apart, not hours):
  on1   one worker, semantic memory on      off1  one worker, semantic memory off
  on2   two workers, semantic memory on
Every run: a fresh copy of one seeded data dir (embedded SQLite), `finkraft serve --workers N`, a Locust
warm-up, then the measured Locust run: CLIENTS closed-loop users with no think time sending the mixed
filter messages of benchmarks/locust_mixed.py (a new thread every 10 turns, on a new connection, so two
workers share the clients: 8 keep-alive connections accepted once often all went to one). Locust shares the 2 cores
with the server. Also measured: the worker processes' RSS after the warm-up and at the end, and the
server's CPU time per turn (less sensitive than turns/s to other work on a shared machine), and the
latency of GET /health from one more Locust user meanwhile (does a chat turn keep the event loop busy?). Then
benchmarks/first_turn.py measures the first turn of a new thread in process, with every context item.
Medians over rounds; the load average is printed with every run. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
TARGETS = {"turns_s": 100, "p95": 150, "turns_s_2w": 170, "ratio": 0.85, "first_ms": 30, "rss_mb": 450}
SETTINGS = {"on1": (1, True), "off1": (1, False), "on2": (2, True)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(root: Path, data: Path, semantic: bool, extra: dict | None = None) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "FINKRAFT_DATA_DIR": str(data),
        "FINKRAFT_ENV": "dev",
        "FINKRAFT_RATE_LIMIT": "100000000/minute",
        "FINKRAFT_SEMANTIC_MEMORY": str(semantic).lower(),
        "LANGSMITH_TRACING": "false",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **(extra or {}),
    }


def serve(root: Path, data: Path, port: int, workers: int, semantic: bool, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(BIN / "finkraft"), "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        cwd=root,
        env=env_for(root, data, semantic),
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            r = httpx.post(
                f"http://127.0.0.1:{port}/chat",
                headers={"Authorization": "Bearer dev-maya"},
                json={"message": "pending invoices", "thread_id": "ready"},
                timeout=30,
            )
            if r.status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server not ready:\n{log.read_text()[-3000:]}")


def wait_model(port: int, semantic: bool, timeout: float = 300) -> None:
    """With memory on, the embedding model loads in the background: measure only once it has."""
    if not semantic:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            d = httpx.get(
                f"http://127.0.0.1:{port}/health/detailed", headers={"Authorization": "Bearer dev-admin"}, timeout=10
            ).json()
            mem = json.dumps(d)
            if '"model_loaded": true' in mem or '"model_failed": true' in mem:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)


def workers_of(proc: subprocess.Popen, n: int) -> list[psutil.Process]:
    p = psutil.Process(proc.pid)
    if n == 1:
        return [p]
    deadline = time.time() + 30
    while time.time() < deadline:
        kids = [
            c for c in p.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())
        ]  # not the resource tracker
        if len(kids) >= n:
            return kids
        time.sleep(0.5)
    return [p]


def cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def rss_mb(procs: list[psutil.Process]) -> list[float]:
    out = []
    for p in procs:
        try:
            out.append(p.memory_info().rss / 2**20)
        except psutil.Error:
            pass
    return out


def locust(port: int, clients: int, seconds: int, prefix: Path) -> dict:
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(HERE / "locust_mixed.py"),
            "--headless",
            "-u",
            str(clients + 1),  # + the /health prober (locust_mixed.py HealthUser, fixed_count=1)
            "-r",
            str(clients + 1),
            "-t",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "ERROR",
        ],
        cwd=HERE,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=seconds + 120,
    )
    with open(f"{prefix}_stats.csv") as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}
    row, health = rows["POST /chat"], rows["GET /health"]
    return {
        "turns": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "turns_s": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
        "health_p50": float(health["50%"]),
        "health_p95": float(health["95%"]),
    }


def one_run(root: Path, template: Path, setting: str, clients: int, seconds: int, warmup: int, work: Path) -> dict:
    workers, semantic = SETTINGS[setting]
    data = work / f"data-{setting}-{time.time_ns()}"
    shutil.copytree(template, data)
    port = free_port()
    proc = serve(root, data, port, workers, semantic, work / "server.log")
    try:
        wait_model(port, semantic)
        locust(port, clients, warmup, work / "warm")
        procs = workers_of(proc, workers)
        rss_warm = rss_mb(procs)
        load0, c0 = os.getloadavg()[0], cpu_s(procs)
        r = locust(port, clients, seconds, work / f"{setting}")
        r["cpu_ms_per_turn"] = (cpu_s(procs) - c0) * 1000 / max(1, r["turns"])
        r.update(
            setting=setting,
            workers=workers,
            semantic=semantic,
            load_before=load0,
            load_after=os.getloadavg()[0],
            rss_warm_mb=max(rss_warm or [0]),
            rss_end_mb=max(rss_mb(procs) or [0]),
        )
        return r
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def seeded_template(root: Path, work: Path) -> Path:
    """One seeded data dir (demo data + migrations), copied for every run."""
    data = work / "template"
    subprocess.run(
        [str(BIN / "finkraft"), "seed"],
        cwd=root,
        env=env_for(root, data, False),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    return data


def first_turn(root: Path, turns: int) -> dict:
    proc = subprocess.run(
        [sys.executable, str(HERE / "first_turn.py"), "--turns", str(turns), "--json", "--root", str(root)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1", "LANGSMITH_TRACING": "false"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout)[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--settings", default="on1,off1,on2")
    ap.add_argument("--first-turns", type=int, default=60, help="new threads timed in process (0: skip)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is served")
    ap.add_argument("--json", type=Path, help="also write every run's numbers here")
    ap.add_argument(
        "--uncached",
        action="store_true",
        help="servers keep no embeddings (FINKRAFT_EMBEDDING_CACHE=0): every turn's texts are encoded, as when "
        "each message is new (the message set repeats 16 messages, which the cache otherwise answers)",
    )
    args = ap.parse_args()
    if args.uncached:
        os.environ["FINKRAFT_EMBEDDING_CACHE"] = "0"  # the servers inherit it (env_for)
    root = args.root.resolve()
    settings = [s for s in args.settings.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="fk-load-"))
    os.environ.setdefault("FINKRAFT_EMBEDDING_DIR", str(work / "models"))  # the ONNX export, made once for all runs
    head = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python "
        f"{platform.python_version()}; code {root} ({head[:70]})"
    )
    print(
        f"{args.clients} clients, {args.seconds} s per run after {args.warmup} s warm-up, {args.rounds} round(s)"
        f"{', embedding cache off' if args.uncached else ''}; "
        f"load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    runs: list[dict] = []
    try:
        template = seeded_template(root, work)
        for rnd in range(args.rounds):
            for s in settings:
                r = one_run(root, template, s, args.clients, args.seconds, args.warmup, work)
                r["round"] = rnd + 1
                runs.append(r)
                print(
                    f"  round {rnd + 1} {s:4}: {r['turns_s']:6.1f} turns/s  p50 {r['p50']:4.0f}  p95 {r['p95']:4.0f}  "
                    f"p99 {r['p99']:4.0f} ms  errors {r['errors']}/{r['turns']}  server CPU {r['cpu_ms_per_turn']:.1f} ms/turn  "
                    f"RSS {r['rss_warm_mb']:.0f}->{r['rss_end_mb']:.0f} MB  /health p50 {r['health_p50']:.0f} p95 "
                    f"{r['health_p95']:.0f} ms  load {r['load_before']:.1f}->{r['load_after']:.1f}",
                    flush=True,
                )
        ft = first_turn(root, args.first_turns) if args.first_turns else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by = {s: [r for r in runs if r["setting"] == s] for s in settings}
    print(f"\nload average at end {os.getloadavg()[0]:.2f}\n")
    print("| measure | target | result | met |")
    print("|---|---:|---:|:-:|")

    def line(name, target, value, ok):
        print(f"| {name} | {target} | {value} | {'yes' if ok else 'NO'} |")

    if by.get("on1"):
        on = by["on1"]
        line(
            "1 worker, memory on: turns/s (median)",
            f">= {TARGETS['turns_s']}",
            f"{med(on, 'turns_s'):.1f}",
            med(on, "turns_s") >= TARGETS["turns_s"],
        )
        line(
            "1 worker, memory on: p95 (median of runs)",
            f"<= {TARGETS['p95']} ms",
            f"{med(on, 'p95'):.0f} ms",
            med(on, "p95") <= TARGETS["p95"],
        )
        errs = sum(r["errors"] for r in on)
        line("1 worker, memory on: errors (all runs)", "0", f"{errs} of {sum(r['turns'] for r in on)}", errs == 0)
    if by.get("on1") and by.get("off1"):
        ratio = statistics.median(a["turns_s"] / b["turns_s"] for a, b in zip(by["on1"], by["off1"]))
        line(
            "memory on / off, turns/s (median of per-round ratios)",
            f">= {TARGETS['ratio']}",
            f"{ratio:.2f} ({med(by['on1'], 'turns_s'):.1f} / {med(by['off1'], 'turns_s'):.1f})",
            ratio >= TARGETS["ratio"],
        )
    if by.get("on2"):
        line(
            "2 workers, memory on: turns/s (median)",
            f">= {TARGETS['turns_s_2w']}",
            f"{med(by['on2'], 'turns_s'):.1f}",
            med(by["on2"], "turns_s") >= TARGETS["turns_s_2w"],
        )
    if ft.get("median_ms") is not None:
        line(
            f"first turn of a new thread, in process (median of {ft['turns']}; p95 {ft['p95_ms']:.1f} ms)",
            f"<= {TARGETS['first_ms']} ms",
            f"{ft['median_ms']:.1f} ms, context complete: {ft['complete']}",
            ft["median_ms"] <= TARGETS["first_ms"] and ft["complete"],
        )
    elif ft:
        print(
            f"| first turn of a new thread | <= {TARGETS['first_ms']} ms | failed: {ft.get('error', '')[-300:]!r} | NO |"
        )
    if runs:
        rss = max(r["rss_warm_mb"] for r in runs)
        line(
            "worker RSS after warm-up (largest worker, any run)",
            f"<= {TARGETS['rss_mb']} MB",
            f"{rss:.0f} MB (end of runs: {max(r['rss_end_mb'] for r in runs):.0f} MB)",
            rss <= TARGETS["rss_mb"],
        )
        for s, rows in by.items():
            print(
                f"\n{s}: server CPU per turn median {med(rows, 'cpu_ms_per_turn'):.1f} ms; p50 {med(rows, 'p50'):.0f} ms"
            )
    print("\nReference design: 100-200 requests/s per instance, excluding LLM calls.")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "first_turn": ft}, indent=2))


if __name__ == "__main__":
    main()
