"""A soak with writes (issue 24): `finkraft serve` (one worker, embedded SQLite, FINKRAFT_ENV=dev, rate limit
raised) on a fresh data dir and a free loopback port, driven for --minutes by --clients closed-loop clients
with a mixed workload, while the server's RSS (the serving process and its children, from psutil) is
sampled every --every seconds.

The workload, each client picking one action at a time (weights in ACTIONS):
  conversation  a /chat conversation in a new thread or an old one (of this run's last OLD_THREADS): a filter,
                "why did these fail?", an analytics question, and sometimes "create a ticket ..." then "yes"
                (a write) and an export (csv, xlsx or pdf) whose file is then downloaded; as dev-maya or dev-admin
  patch         an admin PATCHes a ticket this run created (a new status and a comment: a write, a notification)
  notifications dev-maya reads her notifications, then marks them read (POST /notifications/read: a write too)
  reads         GET /tickets, /exports, /threads and one of this run's traces
Requests count as errors when the server answers 5xx, times out or refuses the connection; 4xx answers
and chat turns that are not success are counted apart (by status), not as errors.

Each sample also reads the semantic memory index size (GET /health/detailed): the index keeps every
remembered turn in RAM (~1.65 KB a vector, INDEX_BYTES), so its growth is data, reported apart.
Prints: RSS after warm-up (the first sample at or after --warmup minutes), final, max, the least-squares
slope in MB/min over the post-warm-up samples, that slope net of the index, the verdict (every post-warm-up sample within +-10% of the
warm-up RSS), and request, error and status counts with median latencies. Writes the RSS series as CSV and
everything as JSON under --out (default /tmp/finkraft-soak-<time>.*; not in the repository). Bounded:
stops at --minutes or --max-requests, whichever comes first, and always stops the server.

    .venv/bin/python benchmarks/soak.py                       # 30 minutes, 4 clients, RSS every 15 s
    .venv/bin/python benchmarks/soak.py --minutes 6 --warmup 2 --every 10
    .venv/bin/python benchmarks/soak.py --env FINKRAFT_EMBEDDING_CACHE=0   # extra server environment
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
USERS = ("dev-maya", "dev-admin")
OLD_THREADS = 200  # old threads a conversation may return to (the most recent of this run)
ACTIONS = {"conversation": 6, "patch": 2, "notifications": 1, "reads": 1}
FILTERS = (
    "Filter invoices for last month, vendor=IndiSky, status=failed",
    "failed invoices this month",
    "show canceled invoices from vayu travels",
    "unsuccessful invoices from apex office supplies",
    "failed invoices from Metro Cabs this year",
    "pending invoices",
    "invoices over 50k",
    "overdue invoices",
    "failed SkyHigh invoices this quarter",
    "sales in the north",
)
ANALYTICS = (
    "total sales by region this year",
    "total sales by region last month",
    "which vendor has the most failed invoices this year",
    "outstanding amount by vendor",
    "monthly sales trend for the last 6 months",
    "average invoice amount by vendor this quarter",
)
TICKETS = (
    "create a ticket and notify me when fixed",
    "create a ticket for these",
    "create a ticket for these failed invoices, high priority",
)
EXPORTS = ("export these as csv", "export these to xlsx", "export these as pdf")
STATUSES = ("in_progress", "resolved", "open", "closed")
INDEX_BYTES = 1700  # RSS per vector of the semantic memory index: 384 float32 + id map + the id set (measured ~1.65 KB)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(proc: psutil.Process) -> dict:
    """RSS of the serving process and its children (MB; anonymous and file-backed apart, from /proc),
    with how many processes, threads and open files that is."""
    procs = [proc]
    try:
        procs += proc.children(recursive=True)
    except psutil.Error:
        pass
    out = {"rss_mb": 0.0, "anon_mb": 0.0, "file_mb": 0.0, "procs": 0, "threads": 0, "fds": 0}
    for p in procs:
        try:
            status = dict(
                line.split(":", 1) for line in Path(f"/proc/{p.pid}/status").read_text().splitlines() if ":" in line
            )
            kb = {k: int(status[k].split()[0]) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem") if k in status}
            out["rss_mb"] += kb.get("VmRSS", 0) / 1024
            out["anon_mb"] += kb.get("RssAnon", 0) / 1024
            out["file_mb"] += (kb.get("RssFile", 0) + kb.get("RssShmem", 0)) / 1024
            out["threads"] += int(status.get("Threads", "0"))
            out["fds"] += p.num_fds()
            out["procs"] += 1
        except (OSError, psutil.Error, ValueError):
            pass
    return {k: round(v, 1) for k, v in out.items()}


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: Counter = Counter()  # by kind
        self.errors: Counter = Counter()  # by kind: 5xx, timeouts, refused
        self.status: Counter = Counter()  # "kind code" or "chat <status>"
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.last_error = ""

    def total(self) -> int:
        return sum(self.count.values())

    def record(self, kind: str, ms: float, code: int | None, note: str = "") -> None:
        with self.lock:
            self.count[kind] += 1
            self.ms[kind].append(ms)
            if code is None or code >= 500:
                self.errors[kind] += 1
                self.last_error = f"{kind}: {code} {note[:300]}"
            if code is not None and code != 200:
                self.status[f"{kind} {code}"] += 1


class Client(threading.Thread):
    def __init__(self, n: int, url: str, stats: Stats, shared: dict, deadline: float, max_requests: int):
        super().__init__(name=f"soak-{n}", daemon=True)
        self.n, self.stats, self.shared, self.deadline, self.max_requests = n, stats, shared, deadline, max_requests
        self.rng = random.Random(n)
        self.http = httpx.Client(base_url=url, timeout=60)

    def done(self) -> bool:
        return time.time() >= self.deadline or self.stats.total() >= self.max_requests

    def call(self, kind: str, method: str, path: str, token: str, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)
        except httpx.HTTPError as e:
            self.stats.record(kind, (time.perf_counter() - t0) * 1000, None, repr(e))
            return None
        self.stats.record(kind, (time.perf_counter() - t0) * 1000, r.status_code, r.text)
        return r

    def chat(self, token: str, thread: str, message: str) -> dict:
        r = self.call("chat", "POST", "/chat", token, json={"message": message, "thread_id": thread})
        body = r.json() if r is not None and r.status_code == 200 else {}
        if body:
            with self.stats.lock:
                self.stats.status[f"chat {body.get('status')}"] += 1
                if body.get("trace_id"):
                    traces = self.shared["traces"]
                    traces.append((token, body["trace_id"]))
                    del traces[:-OLD_THREADS]
        return body

    def conversation(self) -> None:
        rng, shared = self.rng, self.shared
        with self.stats.lock:
            old = shared["threads"]
            if old and rng.random() < 0.4:
                token, thread = rng.choice(old)
            else:
                token, thread = rng.choice(USERS), f"soak-c{self.n}-{next(shared['seq'])}"
                old.append((token, thread))
                del old[:-OLD_THREADS]
        self.chat(token, thread, rng.choice(FILTERS))
        if self.done():
            return
        self.chat(token, thread, "why did these fail?")
        if rng.random() < 0.35 and not self.done():
            asked = self.chat(token, thread, rng.choice(TICKETS))
            if asked.get("status") == "awaiting_confirmation":
                made = self.chat(token, thread, "yes")
                ticket = (made.get("data") or {}).get("ticket_id")
                if ticket:
                    with self.stats.lock:
                        shared["tickets"].append(ticket)
        if rng.random() < 0.4 and not self.done():
            export = (self.chat(token, thread, rng.choice(EXPORTS)).get("data") or {}).get("url")
            if export:
                self.call("download", "GET", export, token)
        if not self.done():
            self.chat(token, thread, rng.choice(ANALYTICS))

    def patch(self) -> None:
        with self.stats.lock:
            tickets = list(self.shared["tickets"][-50:])
        if not tickets:
            return self.notifications()
        body = {"status": self.rng.choice(STATUSES), "comment": f"soak check {self.rng.randrange(10**6)}"}
        self.call("patch", "PATCH", f"/tickets/{self.rng.choice(tickets)}", "dev-admin", json=body)

    def notifications(self) -> None:
        self.call("notifications", "GET", "/notifications", "dev-maya")
        self.call("notifications", "POST", "/notifications/read", "dev-maya")

    def reads(self) -> None:
        token = self.rng.choice(USERS)
        self.call("reads", "GET", "/tickets", token)
        self.call("reads", "GET", "/exports", token)
        self.call("reads", "GET", "/threads", token)
        with self.stats.lock:
            traces = list(self.shared["traces"][-20:])
        if traces:
            token, trace = self.rng.choice(traces)
            self.call("reads", "GET", f"/traces/{trace}", token)

    def run(self) -> None:
        kinds, weights = zip(*ACTIONS.items())
        try:
            while not self.done():
                getattr(self, self.rng.choices(kinds, weights)[0])()
        finally:
            self.http.close()


def indexed(url: str) -> int | None:
    """Vectors in the server's semantic memory index (GET /health/detailed): data, 1.5 KiB each plus ids."""
    try:
        r = httpx.get(url + "/health/detailed", headers={"Authorization": "Bearer dev-admin"}, timeout=30)
        return int(r.json()["vector_index"]["indexed"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def sample(server: psutil.Process, start: float, stats: Stats, url: str) -> dict:
    return {
        "t": round(time.time() - start, 1),
        **rss_mb(server),
        "indexed": indexed(url),
        "requests": stats.total(),
        "errors": sum(stats.errors.values()),
        "load": round(os.getloadavg()[0], 2),
    }


def serve(root: Path, data: Path, port: int, extra: dict, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "FINKRAFT_DATA_DIR": str(data),
        "FINKRAFT_ENV": "dev",
        "FINKRAFT_RATE_LIMIT": "100000000/minute",
        "LANGSMITH_TRACING": "false",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **extra,
    }
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"server not ready:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def slope_mb_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return 0.0
    mt = statistics.fmean(t for t, _ in points)
    mm = statistics.fmean(m for _, m in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return 60 * sum((t - mt) * (m - mm) for t, m in points) / den if den else 0.0


def summarise(samples: list[dict], warmup_s: float, band: float) -> dict:
    after = [s for s in samples if s["t"] >= warmup_s] or samples[-1:]
    warm = after[0]["rss_mb"]
    lo, hi = min(s["rss_mb"] for s in after), max(s["rss_mb"] for s in after)
    within = warm * (1 - band) <= lo and hi <= warm * (1 + band)
    vec = [s for s in after if s.get("indexed") is not None]
    per_min = slope_mb_min([(s["t"], s["indexed"] / 2**20) for s in vec]) * 2**20 if len(vec) > 1 else 0.0
    return {
        "indexed_start": vec[0]["indexed"] if vec else None,
        "indexed_end": vec[-1]["indexed"] if vec else None,
        "indexed_per_min": per_min,
        # the index's own growth at INDEX_BYTES a vector, taken out of the RSS slope
        "slope_net_of_index_mb_per_min": slope_mb_min([(s["t"], s["rss_mb"]) for s in after])
        - per_min * INDEX_BYTES / 2**20,
        "warmup_rss_mb": warm,
        "warmup_at_s": after[0]["t"],
        "final_rss_mb": after[-1]["rss_mb"],
        "max_rss_mb": max(s["rss_mb"] for s in samples),
        "post_warmup_min_mb": lo,
        "post_warmup_max_mb": hi,
        "slope_mb_per_min": slope_mb_min([(s["t"], s["rss_mb"]) for s in after]),
        "within_band": within,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=3, help="minutes before the reference RSS sample")
    ap.add_argument("--every", type=float, default=15, help="seconds between RSS samples")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-requests", type=int, default=2_000_000)
    ap.add_argument("--band", type=float, default=0.10, help="allowed RSS change after warm-up, as a fraction")
    ap.add_argument("--seed-scale", type=int, default=0, help="finkraft seed --scale N first (0: the demo data)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is served")
    ap.add_argument("--out", type=Path, help="output prefix (default /tmp/finkraft-soak-<time>)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra server environment")
    args = ap.parse_args()
    root = args.root.resolve()
    out = args.out or Path(tempfile.gettempdir()) / time.strftime("finkraft-soak-%Y%m%d-%H%M%S", time.gmtime())
    extra = dict(e.split("=", 1) for e in args.env)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fk-soak-"))
    data = work / "data"
    models = os.environ.get("FINKRAFT_EMBEDDING_DIR", str(Path(tempfile.gettempdir()) / "finkraft-soak-models"))
    extra.setdefault("FINKRAFT_EMBEDDING_DIR", models)  # the ONNX export (a child process), made once, kept
    head = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    meta = {
        "machine": f"{platform.node()}: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
        "code": f"{root} ({head.stdout.strip()[:70]})",
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "args": {k: str(v) for k, v in vars(args).items()},
        "load_start": os.getloadavg()[0],
    }
    print(f"{meta['machine']}; code {meta['code']}", flush=True)
    print(
        f"{args.clients} clients, {args.minutes:g} min, warm-up {args.warmup:g} min, RSS every {args.every:g} s; "
        f"load average {meta['load_start']:.2f}; output {out}.csv/.json",
        flush=True,
    )
    if args.seed_scale:
        env = {**os.environ, "PYTHONPATH": str(root), "FINKRAFT_DATA_DIR": str(data), **extra}
        cmd = [sys.executable, "-m", "server.cli", "seed", "--scale", str(args.seed_scale)]
        subprocess.run(cmd, cwd=root, env=env, check=True, timeout=1800, stdout=subprocess.DEVNULL)
    port = free_port()
    stats, samples = Stats(), []
    shared: dict = {"threads": [], "tickets": [], "traces": [], "seq": itertools.count()}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))  # so the server is stopped too
    proc = serve(root, data, port, extra, work / "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        server = psutil.Process(proc.pid)
        start = time.time()
        deadline = start + args.minutes * 60
        clients = [Client(n, url, stats, shared, deadline, args.max_requests) for n in range(args.clients)]
        for c in clients:
            c.start()
        next_sample = start
        while any(c.is_alive() for c in clients):
            if time.time() >= next_sample:
                s = sample(server, start, stats, url)
                samples.append(s)
                print(
                    f"t={s['t']:6.0f}s rss={s['rss_mb']:6.1f} MB (anon {s['anon_mb']:.0f}, file {s['file_mb']:.0f}) "
                    f"threads={s['threads']} fds={s['fds']} indexed={s['indexed']} requests={s['requests']} errors={s['errors']} "
                    f"load={s['load']:.1f}",
                    flush=True,
                )
                next_sample += args.every
            if proc.poll() is not None:
                print("the server exited", flush=True)
                break
            time.sleep(0.2)
        for c in clients:
            c.join(timeout=90)
        samples.append(sample(server, start, stats, url))
        elapsed = time.time() - start
    finally:
        stop(proc)
        if (work / "server.log").exists():
            shutil.copy(work / "server.log", f"{out}.server.log")
        shutil.rmtree(work, ignore_errors=True)
    summary = summarise(samples, args.warmup * 60, args.band)
    medians = {k: round(statistics.median(v), 1) for k, v in stats.ms.items() if v}
    result = {
        **meta,
        "elapsed_s": round(elapsed, 1),
        "load_end": os.getloadavg()[0],
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in summary.items()},
        "requests": dict(stats.count),
        "requests_total": stats.total(),
        "errors": dict(stats.errors),
        "statuses": dict(sorted(stats.status.items())),
        "median_ms": medians,
        "tickets_created": len(shared["tickets"]),
        "threads_started": next(shared["seq"]),
        "last_error": stats.last_error,
        "samples": samples,
    }
    with open(f"{out}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(samples[0]))
        w.writeheader()
        w.writerows(samples)
    Path(f"{out}.json").write_text(json.dumps(result, indent=2))
    print(f"\n{stats.total()} requests in {elapsed / 60:.1f} min ({stats.total() / elapsed:.1f}/s), by kind:")
    for kind, n in sorted(stats.count.items()):
        print(f"  {kind:13} {n:7d}  errors {stats.errors[kind]:4d}  median {medians.get(kind, 0):7.1f} ms")
    print(f"  statuses: {result['statuses']}")
    print(f"  tickets created {result['tickets_created']}, threads started {result['threads_started']}")
    if stats.last_error:
        print(f"  last error: {stats.last_error}")
    print(
        f"RSS: warm-up {summary['warmup_rss_mb']:.0f} MB (at {summary['warmup_at_s']:.0f} s), final "
        f"{summary['final_rss_mb']:.0f} MB, max {summary['max_rss_mb']:.0f} MB; after warm-up "
        f"{summary['post_warmup_min_mb']:.0f}-{summary['post_warmup_max_mb']:.0f} MB, slope "
        f"{summary['slope_mb_per_min']:+.2f} MB/min"
    )
    if summary["indexed_end"] is not None:
        print(
            f"vector index: {summary['indexed_start']} -> {summary['indexed_end']} vectors after warm-up "
            f"({summary['indexed_per_min']:.0f}/min, ~{summary['indexed_per_min'] * INDEX_BYTES / 2**20:.1f} MB/min); "
            f"RSS slope net of it {summary['slope_net_of_index_mb_per_min']:+.2f} MB/min"
        )
    verdict = "within" if summary["within_band"] else "NOT within"
    print(f"verdict: RSS after warm-up {verdict} +-{args.band:.0%} of {summary['warmup_rss_mb']:.0f} MB")
    print(f"load average {meta['load_start']:.2f} -> {result['load_end']:.2f}; series {out}.csv, summary {out}.json")
    if sum(stats.errors.values()):
        print(f"server log: {out}.server.log")


if __name__ == "__main__":
    main()
