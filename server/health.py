"""/health (no auth), /health/detailed and /metrics."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Response
from sqlalchemy import text

from . import metrics
from .deps import AdminDep, CheckpointerDep, IdentityDep, ModelInfoDep, ServicesDep
from .responses import EXACT, problems
from schema.health import Health, HealthDetailed

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, **EXACT)
async def health():
    return {"status": "ok"}


def _db(engine) -> dict:
    t0 = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "dialect": engine.dialect.name,
            "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
        }
    except Exception as e:  # noqa: BLE001
        return {"status": "error", "dialect": engine.dialect.name, "error": type(e).__name__}


LOW_SHARE, FULL_SHARE, FULL_BYTES = 0.05, 0.02, 10 * 2**20


def _storage(path: Path) -> dict:
    """full: under 10 MB (or 2% of a small disk) free, writes will fail; low: under 5% free."""
    usage = shutil.disk_usage(path)
    status = (
        "full"
        if usage.free < min(FULL_BYTES, FULL_SHARE * usage.total)
        else "low"
        if usage.free < LOW_SHARE * usage.total
        else "ok"
    )
    return {"status": status, "path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}


@router.get("/health/detailed", response_model=HealthDetailed, **EXACT)
def health_detailed(services: ServicesDep, model: ModelInfoDep, saver: CheckpointerDep, _: IdentityDep):
    app_db, business_db = _db(services.app), _db(services.business)
    storage = _storage(services.settings.resolved_data_dir)
    memory = services.memory.stats() if hasattr(services.memory, "stats") else {}
    ok = app_db["status"] == business_db["status"] == storage["status"] == "ok"
    return {
        "status": "ok" if ok else "degraded",
        "app_database": app_db,
        "business_database": business_db,
        "storage": storage,
        "vector_index": memory,
        "model": model,
        "checkpointer": type(saver).__name__,
        "env": services.settings.env,
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **problems(403, _403="Only an Admin may read the metrics"),
        200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"},
    },
)
def prometheus(_: AdminDep):
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
