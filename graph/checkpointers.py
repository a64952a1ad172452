"""Checkpointers: where threads persist. SQLite by default, PostgreSQL when the app database is.

    default_checkpointer(settings)      sync saver: compile_graph, notebooks, tests
    open_async_checkpointer(settings)   async saver for the server's lifespan (async context manager)
    sqlite_checkpointer(path)           SqliteSaver on one file
    postgres_checkpointer(url)          PostgresSaver on one autocommit connection

LangGraph's own checkpoint tables are created by its `setup()`. On PostgreSQL several processes may
start at once, so that runs under the one start-up lock (business_data/db.py `startup_lock`),
from the sync saver for both kinds (its migrations are the async saver's).
"""
from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from langgraph.checkpoint.base import BaseCheckpointSaver

from business_data.db import is_postgres, libpq_url, make_engine, startup_lock
from business_data.settings import Settings

POOL_MAX = 10  # async pool per process; PostgreSQL's max_connections must cover workers x (this + SQLAlchemy's pools)
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def default_checkpointer(settings: Settings) -> BaseCheckpointSaver:
    """SqliteSaver under the data dir, or PostgresSaver when the app database is PostgreSQL."""
    if is_postgres(settings.app_url):
        return postgres_checkpointer(settings.app_url)
    return sqlite_checkpointer(settings.checkpoint_path)


def sqlite_checkpointer(path: Path | str) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite import SqliteSaver
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def postgres_checkpointer(url: str) -> BaseCheckpointSaver:
    """PostgresSaver on one autocommit connection (it serialises use with a lock): enough for
    notebooks and in-process use; the server uses AsyncPostgresSaver with a pool."""
    from langgraph.checkpoint.postgres import PostgresSaver
    saver = PostgresSaver(_pg_connection(url))
    _setup_postgres(saver, url)
    return saver


def _pg_connection(url: str):
    import psycopg
    from psycopg.rows import dict_row
    return psycopg.connect(libpq_url(url), autocommit=True, prepare_threshold=0, row_factory=dict_row)


def _setup_postgres(saver, url: str) -> None:
    """LangGraph's checkpoint migrations, one process at a time (startup_lock polls rather than blocks:
    setup() runs CREATE INDEX CONCURRENTLY, which would wait for a waiter's open transaction)."""
    with startup_lock(make_engine(url), "checkpoints:setup"):
        saver.setup()


def _setup_postgres_once(url: str) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver
    with _pg_connection(url) as conn:
        _setup_postgres(PostgresSaver(conn), url)


@asynccontextmanager
async def open_async_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver]:
    """AsyncSqliteSaver on the embedded default, AsyncPostgresSaver on PostgreSQL. On PostgreSQL every
    server process (and uvicorn worker) has its own pool, so a thread started on one process
    continues on any other."""
    url = settings.app_url
    if is_postgres(url):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
        await asyncio.to_thread(_setup_postgres_once, url)
        pool = AsyncConnectionPool(libpq_url(url), min_size=1, max_size=POOL_MAX, open=False,
                                   kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
        async with pool:
            yield AsyncPostgresSaver(pool)
        return
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    async with aiosqlite.connect(str(settings.checkpoint_path), timeout=30) as conn:
        for pragma in SQLITE_PRAGMAS:
            await conn.execute(pragma)
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver
