"""Load benchmark: a real `finkraft serve` on loopback, driven by locust (headless).

Usage: .venv/bin/python benchmarks/load_server.py [--clients 8 32] [--seconds 30] [--semantic]
For each client count: chat turns/s, p50/p95 of POST /chat, and GET /health latency measured
in the same run by one extra prober user. Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def start_server(
    data: Path, port: int, semantic: bool, workers: int = 1, extra_env: dict | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "FINKRAFT_DATA_DIR": str(data),
        "FINKRAFT_RATE_LIMIT": "1000000/minute",
        "FINKRAFT_SEMANTIC_MEMORY": str(semantic).lower(),
        "LANGSMITH_TRACING": "false",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [str(BIN / "finkraft"), "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    # warm up: the first chat turns load caches
    for i in range(5):
        httpx.post(
            f"http://127.0.0.1:{port}/chat",
            headers={"Authorization": "Bearer dev-maya"},
            json={"message": "failed IndiSky invoices last month", "thread_id": f"warm{i}"},
            timeout=60,
        )
    return proc


def run_locust(port: int, clients: int, seconds: int, out: Path) -> dict[str, dict]:
    prefix = out / f"c{clients}"
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "benchmarks" / "locust_chat.py"),
            "--headless",
            "-u",
            str(clients + 1),
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
        ],
        cwd=ROOT,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=seconds + 120,
    )
    rows = {}
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = row
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--semantic", action="store_true")
    ap.add_argument("--port", type=int, default=8931)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="fk-load-"))
    proc = start_server(data, args.port, args.semantic)
    try:
        print("| clients | chat turns/s | chat p50 ms | chat p95 ms | failures | /health p50 ms | /health p95 ms |")
        print("|---|---|---|---|---|---|---|")
        for clients in args.clients:
            rows = run_locust(args.port, clients, args.seconds, data)
            c, h = rows["POST /chat"], rows["GET /health"]
            print(
                f"| {clients} | {float(c['Requests/s']):.1f} | {c['50%']} | {c['95%']} | {c['Failure Count']} | {h['50%']} | {h['95%']} |"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
