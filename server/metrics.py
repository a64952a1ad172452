"""Prometheus metrics (prometheus-client): request and tool counters and latency histograms.

Several worker processes (`finkraft serve --workers N`, or uvicorn/gunicorn workers): when
PROMETHEUS_MULTIPROC_DIR is set (before this module is imported; `finkraft serve --workers N` sets
it to a fresh directory if it is not), every process writes its samples to files there and
/metrics, whichever worker answers, sums them over all processes. Only counters and histograms
are used, which aggregate exactly; the directory must be emptied before each start (the CLI does).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # samples go to files there from the first metric on
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from tools.registry import TOOLS  # noqa: E402

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
REQUESTS = Counter("finkraft_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "finkraft_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TOOL_CALLS = Counter("finkraft_tool_calls_total", "Tool calls", ["tool", "status"], registry=REGISTRY)
TOOL_LATENCY = Histogram(
    "finkraft_tool_seconds",
    "Tool latency",
    ["tool"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
CHAT_TURNS = Counter("finkraft_chat_turns_total", "Chat turns", ["router", "outcome"], registry=REGISTRY)
UNSAVED = Counter(
    "finkraft_unsaved_total",
    "Turns that answered but could not save part of themselves (what: history = trace and memory, or "
    "checkpoint; why: disk_full, busy or error)",
    ["what", "why"],
    registry=REGISTRY,
)


STATUSES = {"success", "error", "denied", "cancelled", "needs_clarification"}


def record_tool_calls(calls: list[dict]) -> None:
    """Label values come from the declared tools and statuses only: a client's made-up tool name is
    counted as "unknown", so it can't grow the metrics without bound."""
    for c in calls or []:
        tool = c.get("tool") if c.get("tool") in TOOLS else "unknown"
        status = c.get("status") if c.get("status") in STATUSES else "other"
        TOOL_CALLS.labels(tool, status).inc()
        TOOL_LATENCY.labels(tool).observe((c.get("duration_ms") or 0) / 1000)


def record_unsaved(recorder) -> None:
    """Count what a turn's recorder (graph/tracing.py) could not save."""
    for what in recorder.unsaved:
        why = "disk_full" if recorder.disk_full else "busy" if recorder.busy else "error"
        UNSAVED.labels(what, why).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()  # a fresh one per scrape, as prometheus_client documents
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def reset_multiprocess_dir(path: str) -> None:
    """Create the directory and remove samples left by an earlier run (call before workers start)."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    for f in p.glob("*.db"):
        f.unlink(missing_ok=True)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or _bucket(scope.get("path", ""))
            try:
                REQUESTS.labels(scope.get("method", "?"), path, str(status["code"])).inc()
                LATENCY.labels(scope.get("method", "?"), path).observe(time.perf_counter() - start)
            except Exception:  # noqa: BLE001 - metrics must never fail a request
                log.exception("could not record request metrics")


def _bucket(path: str) -> str:
    """Keep label cardinality low for paths without a matched route."""
    return "/" + path.strip("/").split("/")[0] if path else "/"
