"""A soak: `finkraft serve` in a subprocess on a fresh data dir, one client sending /chat turns back to
back (a few threads, read-only messages, the thread pruned after every turn) for --minutes, with the
server's RSS sampled every --every seconds. Prints the samples and whether RSS after warm-up (the first
2 minutes) stays within 10% of its first post-warm-up sample. CPU-heavy: run it on a quiet machine.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--every 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = (
    "failed IndiSky invoices from last month",
    "show my tickets",
    "what about SkyHigh",
    "how many of these failed",
    "vendor profile for Metro Cabs",
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--every", type=float, default=30)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="fk-soak-")
    env = {
        **os.environ,
        "FINKRAFT_DATA_DIR": data,
        "FINKRAFT_RATE_LIMIT": "1000000/minute",
        "LANGSMITH_TRACING": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(args.port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = httpx.Client(base_url=url, headers={"Authorization": "Bearer dev-maya"}, timeout=60)
        samples, ms, errors, i = [], [], 0, 0
        start = next_sample = time.time()
        while time.time() - start < args.minutes * 60:
            t0 = time.perf_counter()
            r = client.post("/chat", json={"message": MESSAGES[i % len(MESSAGES)], "thread_id": f"soak-{i % 7}"})
            ms.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code != 200
            i += 1
            if time.time() >= next_sample:
                samples.append((round(time.time() - start), rss_mb(proc.pid)))
                print(f"t={samples[-1][0]:4d}s rss={samples[-1][1]:.0f} MB turns={i} errors={errors}", flush=True)
                next_sample += args.every
        after = [mb for t, mb in samples if t >= 120] or [mb for _, mb in samples]
        spread = (max(after) - after[0]) / after[0]
        print(
            f"{i} turns, {errors} errors, median {statistics.median(ms):.0f} ms; RSS after warm-up {after[0]:.0f} -> "
            f"{after[-1]:.0f} MB (max +{spread:.0%}: {'flat within 10%' if spread <= 0.10 else 'NOT flat'})"
        )
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
