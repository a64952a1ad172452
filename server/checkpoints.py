"""The server's checkpointer: AsyncSqliteSaver on the embedded default, AsyncPostgresSaver on PostgreSQL.

On PostgreSQL every server process (and every uvicorn worker) opens its own connection pool to the
application database, so a thread started on one process continues on any other. `setup()` (LangGraph's
own checkpoint migrations) runs under an advisory lock: several processes may start at once.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from langgraph.checkpoint.base import BaseCheckpointSaver

from business_data.db import is_postgres, libpq_url, lock_key

POOL_MAX = 10  # per process; PostgreSQL's max_connections must cover workers x (this + SQLAlchemy's pools)


@asynccontextmanager
async def open_async_checkpointer(services) -> AsyncIterator[BaseCheckpointSaver]:
    url = services.settings.app_url
    if is_postgres(url):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
        pool = AsyncConnectionPool(libpq_url(url), min_size=1, max_size=POOL_MAX, open=False,
                                   kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
        async with pool:
            saver = AsyncPostgresSaver(pool)
            async with pool.connection() as conn:  # one process at a time runs LangGraph's migrations
                # Poll, don't block: setup() runs CREATE INDEX CONCURRENTLY, which waits for every open
                # transaction, including another process's blocked pg_advisory_lock (a deadlock).
                while not (await (await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok",
                                                     (lock_key("checkpoints:setup"),))).fetchone())["ok"]:
                    await asyncio.sleep(0.05)
                try:
                    await saver.setup()
                finally:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("checkpoints:setup"),))
            yield saver
        return
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    async with aiosqlite.connect(str(services.settings.checkpoint_path), timeout=30) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=30000")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver
