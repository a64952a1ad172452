"""Chat turns per second with 1, 2 and 4 uvicorn worker processes on PostgreSQL.

For each worker count: fresh PostgreSQL databases (app + business), `finkraft serve --workers N`
on a loopback port, a short warm-up, then a headless Locust run (benchmarks/locustfile.py, closed
loop, U users, bounded by --run-time), then the server is stopped and the databases dropped.
Reports median / p95 latency and turns/s from Locust's own statistics.

    .venv/bin/python benchmarks/scale_workers.py                      # 1, 2, 4 workers, 16 users, 30 s each
    .venv/bin/python benchmarks/scale_workers.py --workers 1 2 --users 8 --run-time 20

Loopback only. Needs a local PostgreSQL (FINKRAFT_BENCH_PG, default
postgresql://postgres@127.0.0.1:5432/postgres) where the user may CREATE DATABASE. Locust runs on
the same machine, so it takes some of the CPU the workers could use: figures are for the whole box.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("FINKRAFT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_url(name: str) -> str:
    from sqlalchemy import make_url

    return make_url(PG).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/tickets", headers={"Authorization": "Bearer dev-maya"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not ready:\n{log.read_text()[-3000:]}")


def run_one(workers: int, users: int, run_time: int, warmup: int, out: Path) -> dict:
    admin = psycopg.connect(PG, autocommit=True)
    tag = f"fk_bench_{secrets.token_hex(3)}_{workers}w"
    names = [f"{tag}_app", f"{tag}_biz"]
    for n in names:
        admin.execute(f'CREATE DATABASE "{n}"')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    log = out / f"server-{workers}w.log"
    env = {
        **os.environ,
        "APP_DATABASE_URL": db_url(names[0]),
        "BUSINESS_DATABASE_URL": db_url(names[1]),
        "FINKRAFT_DATA_DIR": str(data),
        "FINKRAFT_ENV": "dev",
        "FINKRAFT_SEMANTIC_MEMORY": "false",
        "FINKRAFT_RATE_LIMIT": "100000000/minute",
        "LANGSMITH_TRACING": "false",
        "HF_HUB_OFFLINE": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(data / "prom"),
    }
    env.pop("REDIS_URL", None)
    for k in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "FINKRAFT_MODEL"):
        env.pop(k, None)  # the offline router: measures the server, not a model API
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(url, server, log)
        prefix = out / f"locust-{workers}w"
        base = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            "--headless",
            "--host",
            url,
            "-u",
            str(users),
            "-r",
            str(users),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
        ]
        if warmup:
            subprocess.run([*base, "-t", f"{warmup}s"], cwd=ROOT, capture_output=True)
        run = subprocess.run(
            [*base, "-t", f"{run_time}s", "--csv", str(prefix)], cwd=ROOT, capture_output=True, text=True
        )
        (out / f"locust-{workers}w.txt").write_text(run.stdout + run.stderr)  # exit 1 = some requests failed
        with open(f"{prefix}_stats.csv") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        result = {
            "workers": workers,
            "users": users,
            "seconds": run_time,
            "turns": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "median_ms": float(row["Median Response Time"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "turns_per_s": float(row["Requests/s"]),
        }
        return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        for n in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
        admin.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--users", type=int, default=16, help="concurrent simulated users (closed loop)")
    ap.add_argument("--run-time", type=int, default=30, help="seconds measured per worker count")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load first")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale_workers")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.workers:
        r = run_one(n, args.users, args.run_time, args.warmup, args.out)
        print(json.dumps(r), flush=True)
        results.append(r)
    (args.out / "results.json").write_text(
        json.dumps(
            {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}", "results": results},
            indent=2,
        )
    )
    print(
        f"\nChat turns on PostgreSQL, {args.users} closed-loop Locust users, {args.run_time} s per row, "
        f"{os.cpu_count()} cores (server, PostgreSQL and Locust on the same machine)\n"
    )
    print("| workers | turns | failures | median ms | p95 ms | turns/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['workers']} | {r['turns']} | {r['failures']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | {r['turns_per_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
