"""/health (no auth), /health/detailed and /metrics."""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import text

from tools.rbac import Identity

from . import metrics
from .auth import admin_identity, current_identity

router = APIRouter(tags=["health"])


@router.get("/health")
async def health():
    return {"status": "ok"}


def _db(engine) -> dict:
    t0 = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "dialect": engine.dialect.name, "latency_ms": round((time.perf_counter() - t0) * 1000, 2)}
    except Exception as e:  # noqa: BLE001
        return {"status": "error", "dialect": engine.dialect.name, "error": type(e).__name__}


@router.get("/health/detailed")
async def health_detailed(request: Request, _: Identity = Depends(current_identity)):
    services = request.app.state.services
    app_db, business_db = _db(services.app), _db(services.business)
    memory = services.memory.stats() if hasattr(services.memory, "stats") else {}
    model = getattr(request.app.state, "model_info", {"mode": "offline"})
    ok = app_db["status"] == business_db["status"] == "ok"
    return {"status": "ok" if ok else "degraded", "app_database": app_db, "business_database": business_db,
            "vector_index": memory, "model": model, "checkpointer": type(request.app.state.checkpointer).__name__,
            "env": services.settings.env}


@router.get("/metrics")
async def prometheus(_: Identity = Depends(admin_identity)):
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
