"""The server's checkpointer: AsyncSqliteSaver on the embedded default, AsyncPostgresSaver on PostgreSQL."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from langgraph.checkpoint.base import BaseCheckpointSaver


@asynccontextmanager
async def open_async_checkpointer(services) -> AsyncIterator[BaseCheckpointSaver]:
    url = services.settings.app_url
    if url.startswith("postgres"):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        async with AsyncConnectionPool(conninfo, max_size=20, kwargs={"autocommit": True, "prepare_threshold": 0,
                                                                      "row_factory": dict_row}) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            yield saver
        return
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    async with aiosqlite.connect(str(services.settings.checkpoint_path), timeout=30) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver
