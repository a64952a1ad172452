"""Checkpointers: where threads persist. SQLite by default, PostgreSQL when the app database is.

    default_checkpointer(settings)      sync saver: compile_graph, notebooks, tests
    open_async_checkpointer(settings)   async saver for the server's lifespan (async context manager)
    sqlite_checkpointer(path)           SqliteSaver on one file
    postgres_checkpointer(url)          PostgresSaver on one autocommit connection

LangGraph's own checkpoint tables are created by its `setup()`. On PostgreSQL several processes may
start at once, so that runs under the one start-up lock (business_data/db.py `startup_lock`),
from the sync saver for both kinds (its migrations are the async saver's).

Every saver here is LangGraph's, with two guards for runs a host records (configurable["turn"],
graph/tracing.py): a run that failed saves no checkpoint (a 500 never writes), and a full disk is
reported to the run instead of failing it (the answer is given; the host says what was not saved).
Growth is bounded by `prune(thread_ids, strategy="keep_latest")`: the latest checkpoint of each
namespace with its pending writes (an open question survives), nothing older. PostgreSQL's savers
implement it (langgraph-checkpoint-postgres >= 3.2); the SQLite savers get the same here. Hosts prune
a thread after each turn (graph/runs.py `aprune_thread`); the server's SQLite saver does it in the same
worker-thread hop as the turn's checkpoint write (`InlineSqliteSaver.prunes_on_put`); `finkraft prune`
does every thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, cast
from collections.abc import AsyncIterator, Sequence

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from business_data.db import is_disk_full, is_postgres, libpq_url, make_engine, startup_lock
from business_data.settings import Settings

log = logging.getLogger("finkraft.graph")

POOL_MAX = 10  # async pool per process; PostgreSQL's max_connections must cover workers x (this + SQLAlchemy's pools)
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def default_checkpointer(settings: Settings) -> BaseCheckpointSaver:
    """SqliteSaver under the data dir, or PostgresSaver when the app database is PostgreSQL."""
    if is_postgres(settings.app_url):
        return postgres_checkpointer(settings.app_url)
    return sqlite_checkpointer(settings.checkpoint_path)


def sqlite_checkpointer(path: Path | str, kind: type[GuardedSqliteSaver] | None = None) -> BaseCheckpointSaver:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    saver = (kind or GuardedSqliteSaver)(conn)
    saver.setup()
    return saver


def postgres_checkpointer(url: str) -> BaseCheckpointSaver:
    """PostgresSaver on one autocommit connection (it serialises use with a lock): enough for
    notebooks and in-process use; the server uses AsyncPostgresSaver with a pool."""
    saver = GuardedPostgresSaver(_pg_connection(url))
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
    with _pg_connection(url) as conn:
        _setup_postgres(PostgresSaver(conn), url)


@asynccontextmanager
async def open_async_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver]:
    """The server's saver. On PostgreSQL: AsyncPostgresSaver on a pool; every server process (and
    uvicorn worker) has its own, so a thread started on one process continues on any other. On the
    embedded SQLite default: InlineSqliteSaver (reads on the loop, writes in a worker thread)."""
    url = settings.app_url
    if is_postgres(url):
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        await asyncio.to_thread(_setup_postgres_once, url)
        pool = AsyncConnectionPool(
            libpq_url(url),
            min_size=1,
            max_size=POOL_MAX,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        async with pool:
            yield GuardedAsyncPostgresSaver(cast(Any, pool))  # (rows are dicts: row_factory above)
        return
    saver = cast(InlineSqliteSaver, sqlite_checkpointer(settings.checkpoint_path, InlineSqliteSaver))
    saver.writer = cast(GuardedSqliteSaver, sqlite_checkpointer(settings.checkpoint_path))
    try:
        yield saver
    finally:
        saver.writer.conn.close()
        saver.conn.close()


# -- guards: failed runs save nothing, a full disk is reported to the run -------------------------


def _turn(config: Any) -> Any:
    return ((config or {}).get("configurable") or {}).get("turn")


def _saved_as(config: Any, checkpoint: Any) -> dict:
    conf = config["configurable"]
    return {
        "configurable": {
            "thread_id": conf["thread_id"],
            "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint_id": checkpoint["id"],
        }
    }


def _skipped(config: Any) -> bool:
    turn = _turn(config)
    return turn is not None and bool(getattr(turn, "failed", False))


def _reported(config: Any, exc: BaseException) -> bool:
    """A full disk under a recorded run: the run is told and goes on (True); anything else is raised."""
    turn = _turn(config)
    if turn is None or not is_disk_full(exc):
        return False
    log.warning("out of disk space: thread %s's checkpoint was not saved", config["configurable"].get("thread_id"))
    turn.storage_full("checkpoint")
    return True


# -- one checkpoint read per turn: the host's look (is a question pending?) serves the run too ----------

_READ: ContextVar[tuple[str, CheckpointTuple | None] | None] = ContextVar("finkraft_checkpoint_read", default=None)
_UNREAD = object()


@contextmanager
def reuse_read(config: Any, saved: CheckpointTuple | None):
    """A run started inside this block takes the thread's latest checkpoint from `saved`, which the
    host has just read for the same thread, instead of reading it again (once; a subgraph's or a
    given checkpoint id's read goes to the database as usual)."""
    token = _READ.set((str(((config or {}).get("configurable") or {}).get("thread_id")), saved))
    try:
        yield
    finally:
        _READ.reset(token)


def _reused(config: Any) -> Any:
    held = _READ.get()
    conf = (config or {}).get("configurable") or {}
    if held is None or conf.get("checkpoint_id") or conf.get("checkpoint_ns") or held[0] != str(conf.get("thread_id")):
        return _UNREAD
    _READ.set(None)
    return held[1]


class _Guarded:
    async def aget_tuple(self, config):
        saved = _reused(config)
        return await super().aget_tuple(config) if saved is _UNREAD else saved

    def _rollback(self) -> None:
        """After a failed write: no transaction is left open on the saver's connection (SQLite)."""

    async def _arollback(self) -> None:
        pass

    def put(self, config, checkpoint, metadata, new_versions):
        if _skipped(config):
            return _saved_as(config, checkpoint)
        try:
            return super().put(config, checkpoint, metadata, new_versions)
        except Exception as exc:
            self._rollback()
            if _reported(config, exc):
                return _saved_as(config, checkpoint)
            raise

    async def aput(self, config, checkpoint, metadata, new_versions):
        if _skipped(config):
            return _saved_as(config, checkpoint)
        try:
            return await super().aput(config, checkpoint, metadata, new_versions)
        except Exception as exc:
            await self._arollback()
            if _reported(config, exc):
                return _saved_as(config, checkpoint)
            raise

    def put_writes(self, config, writes, task_id, task_path=""):
        if _skipped(config):
            return None
        try:
            return super().put_writes(config, writes, task_id, task_path)
        except Exception as exc:
            self._rollback()
            if not _reported(config, exc):
                raise

    async def aput_writes(self, config, writes, task_id, task_path=""):
        if _skipped(config):
            return None
        try:
            return await super().aput_writes(config, writes, task_id, task_path)
        except Exception as exc:
            await self._arollback()
            if not _reported(config, exc):
                raise


class GuardedPostgresSaver(_Guarded, PostgresSaver):
    pass


class GuardedAsyncPostgresSaver(_Guarded, AsyncPostgresSaver):
    pass


# -- keep_latest on SQLite: what langgraph-checkpoint-postgres's prune does, on LangGraph's SQLite tables


def _sqlite_prune(conn: sqlite3.Connection, thread_ids: Sequence[str], strategy: str) -> int:
    """Prune in one transaction on `conn` (the caller holds the saver's lock); returns checkpoints deleted.
    keep_latest keeps each namespace's latest checkpoint and its writes; a subgraph call's namespace
    ("name:task") goes once the root checkpoint it started from is saved and superseded."""
    if isinstance(thread_ids, str):
        raise TypeError("thread_ids must be a sequence of thread IDs, not a str")
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"Unknown prune strategy: {strategy!r}")
    deleted = 0
    try:
        for thread in map(str, thread_ids):
            if strategy == "delete":
                deleted += conn.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread,)).rowcount
                conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread,))
                continue
            rows = conn.execute(
                "SELECT checkpoint_ns, checkpoint_id, metadata FROM checkpoints WHERE thread_id = ?", (thread,)
            ).fetchall()
            heads: dict[str, tuple[str, Any]] = {}
            roots = set()
            for ns, cid, meta in rows:
                if ns == "":
                    roots.add(cid)
                if ns not in heads or cid > heads[ns][0]:
                    heads[ns] = (cid, meta)
            root_head = heads.get("", (None, None))[0]
            for ns, (head, meta) in heads.items():
                root = (json.loads(meta or b"{}").get("parents") or {}).get("") if ":" in ns else None
                if root is not None and root in roots and root != root_head:  # a finished subgraph call
                    deleted += conn.execute(
                        "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ?", (thread, ns)
                    ).rowcount
                    conn.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ?", (thread, ns))
                    continue
                deleted += conn.execute(
                    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id <> ?",
                    (thread, ns, head),
                ).rowcount
                conn.execute(
                    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
                    (thread, ns, head),
                )  # (a newer one may be a run's, saved meanwhile: kept)
            conn.execute(
                "UPDATE checkpoints SET parent_checkpoint_id = NULL WHERE thread_id = ? AND parent_checkpoint_id "
                "NOT IN (SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?)",
                (thread, thread),
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return deleted


class GuardedSqliteSaver(_Guarded, SqliteSaver):
    def _rollback(self) -> None:
        with self.lock:
            self.conn.rollback()

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        with self.lock:
            self.setup()
            _sqlite_prune(self.conn, thread_ids, strategy)


class InlineSqliteSaver(GuardedSqliteSaver):
    """The SQLite saver for async hosts. Reads run their sync twin on the event loop: a checkpoint read
    on a local WAL file is a fraction of a millisecond and never waits for a writer, while
    aiosqlite's hop to its own thread and back cost ~3 ms of CPU per turn (benchmarks, issue 13).
    Writes go to a worker thread on a second connection (`writer`): a write may wait for another
    process's (several workers share the file), and that wait must not stop the loop."""

    writer: GuardedSqliteSaver | None = None

    def _w(self) -> GuardedSqliteSaver:
        return self.writer or self

    async def aget_tuple(self, config):
        saved = _reused(config)
        return self.get_tuple(config) if saved is _UNREAD else saved

    async def alist(self, config, *, filter=None, before=None, limit=None):
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    prunes_on_put = True  # graph/runs.py aprune_thread: nothing left to do after the turn

    async def aput(self, config, checkpoint, metadata, new_versions):
        return await asyncio.to_thread(self._put_latest, config, checkpoint, metadata, new_versions)

    def _put_latest(self, config, checkpoint, metadata, new_versions):
        """Save, then keep only the thread's latest checkpoint (what the host did after each turn,
        here in the same worker-thread hop as the write)."""
        saved = self._w().put(config, checkpoint, metadata, new_versions)
        conf = config.get("configurable") or {}
        if not conf.get("checkpoint_ns") and not _skipped(config):  # a root checkpoint was saved
            try:
                self._w().prune([str(conf["thread_id"])])
            except Exception:  # noqa: BLE001 - e.g. a full disk: the next turn's prune catches up
                log.warning("could not prune checkpoints of thread %s", conf.get("thread_id"), exc_info=True)
        return saved

    async def aput_writes(self, config, writes, task_id, task_path=""):
        return await asyncio.to_thread(self._w().put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id):
        return await asyncio.to_thread(self._w().delete_thread, thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        return await asyncio.to_thread(self._w().prune, list(thread_ids), strategy=strategy)
