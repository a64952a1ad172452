"""The FastAPI app: lifespan (start-up, checkpointer, graph), auth, routes, errors, metrics."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from business_data.settings import Settings, get_settings
from graph.builder import build_graph
from graph.checkpointers import open_async_checkpointer
from graph.services import Services

from . import (
    __version__,
    admin,
    chat_routes,
    chat_stream,
    health,
    insights,
    per_user,
    plans,
    resources,
    session,
    threads,
    trace_explorer,
)
from .agent_routes import OPENAPI_ERRORS, mount_agent
from .edge import BodyTimeout, InputCheck
from .errors import BodySizeLimit, UnexpectedErrors, install_error_handlers
from .logs import RequestLog
from .malloc import limit_arenas
from .metrics import MetricsMiddleware
from .openapi import describe_answers, docs_app, document_errors
from .ratelimit import FailedSignIns, RateLimiter

log = logging.getLogger("finkraft.server")


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else get_settings())
    limit_arenas(settings.malloc_arenas)  # before the worker threads start (server/malloc.py)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc = services or Services.from_settings(settings)
        # migrations, demo users, dev tokens in dev, demo data on first start (business_data/startup.py)
        await run_in_threadpool(svc.prepare)
        svc.memory.warm()  # the embedding model loads in the background; /health answers meanwhile
        async with open_async_checkpointer(svc.settings) as saver:
            from graph.model_choice import describe, make_router  # an LLM router when a key or model is configured

            router = make_router(settings)
            # what server/deps.py hands to the routes
            app.state.model_info = describe(settings, router)
            app.state.services = svc
            app.state.checkpointer = saver
            app.state.graph = build_graph(svc, router=router).compile(checkpointer=saver, name="finkraft")
            app.state.rate_limiter = RateLimiter(settings.rate_limit, settings.redis_url)
            app.state.failed_sign_ins = FailedSignIns(settings.auth_failure_limit, settings.redis_url)
            log.info("FinkraftAI ready (env=%s, model=%s)", settings.env, app.state.model_info.get("mode"))
            watching = None
            if svc.settings.watch_every_minutes > 0:  # the detectors on a schedule; one process runs each time
                watching = asyncio.create_task(insights.schedule(svc, svc.settings.watch_every_minutes * 60))
            try:
                yield
            finally:
                if watching is not None:
                    watching.cancel()

    app = docs_app(
        title="FinkraftAI",
        version=__version__,
        lifespan=lifespan,
        description="A business assistant for finance operations: plain language in, real actions out.",
    )
    install_error_handlers(app)
    for module in (health, chat_routes, chat_stream, resources, threads, per_user, admin, session, plans, insights):
        app.include_router(module.router)
    app.include_router(trace_explorer.router)  # GET /admin/traces
    mount_agent(app)
    document_errors(app, OPENAPI_ERRORS)
    describe_answers(app)
    app.add_middleware(InputCheck)  # NUL, lone surrogates, LangServe's bodies (server/edge.py)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout_s)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestLog)  # outermost: every request gets its id and access line, 500s included
    return app
