"""Engines and sessions for any SQLAlchemy URL (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from collections.abc import Callable, Iterator

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# A SQLite write waits this long for another connection's write lock, then gives up with "database is
# locked" (a plain "busy, try again" sentence to the user); retry_on_conflict does not wait that long
# again, and stops once a write has spent WRITE_BUDGET_S in all. A "yes" against a database another
# process keeps locked answers in seconds (the write, then its trace), not minutes.
SQLITE_BUSY_S = 3.0
WRITE_BUDGET_S = 6.0

_engines: dict[str, Engine] = {}
_sessionmakers: dict[Engine, sessionmaker] = {}


def normalise_url(url: str) -> str:
    """Accept the common PostgreSQL spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    url = normalise_url(url)
    if url in _engines:
        return _engines[url]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_S})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
            cur.close()
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    _engines[url] = engine
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error (nothing half written)."""
    factory = _sessionmakers.get(engine)
    if factory is None:
        factory = _sessionmakers[engine] = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# -- locks and retries: several processes share one database ------------------------------------


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (same name -> same key in every process)."""
    return int.from_bytes(hashlib.sha256(f"finkraft:{name}".encode()).digest()[:8], "big", signed=True)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases and for in-memory SQLite)."""
    u = make_url(normalise_url(url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


@contextmanager
def startup_lock(engine: Engine, name: str) -> Iterator[None]:
    """Serialise one-off start-up work (migrations, demo users, seeding) across processes.

    PostgreSQL: a session-level advisory lock on a dedicated connection. SQLite: an exclusive
    flock on a file next to the database. Also exclusive between threads of this process."""
    with _local_locks_guard:
        local = _local_locks.setdefault(f"{engine.url!r}:{name}", threading.Lock())
    with local:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # poll instead of blocking: a waiter blocked inside a statement holds a transaction
                # open, which CREATE INDEX CONCURRENTLY elsewhere (LangGraph's setup) would wait for
                while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar():
                    time.sleep(0.05)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
            return
        path = (
            sqlite_path(engine.url.render_as_string(hide_password=False)) if engine.dialect.name == "sqlite" else None
        )
        if path is None:
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: SQLite's own locking (busy_timeout) is what remains
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.{name}.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def try_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Take a lock for one periodic job if nobody holds it; yields whether this process got it (never
    waits). PostgreSQL: pg_try_advisory_lock on a dedicated connection, so of several workers and servers
    exactly one runs the job; SQLite: a non-blocking flock on a file next to the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar())
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
        return
    path = sqlite_path(engine.url.render_as_string(hide_password=False)) if engine.dialect.name == "sqlite" else None
    if path is None:
        yield True  # in-memory SQLite: one process
        return
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.{name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_retryable(exc: BaseException) -> bool:
    """A conflict that a fresh attempt of the same transaction can get past: PostgreSQL serialization
    failures and deadlocks, SQLite 'database is locked' (e.g. a WAL snapshot gone stale between a
    read and a write, which SQLite reports at once instead of waiting for busy_timeout)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    msg = str(orig).lower()
    return isinstance(exc, OperationalError) and (
        "database is locked" in msg
        or "database table is locked" in msg
        or "deadlock detected" in msg
        or "could not serialize" in msg
    )


def is_busy(exc: BaseException | None) -> bool:
    """Another connection holds the lock this write waited for: SQLite's 'database is locked' (its
    busy timeout ran out), PostgreSQL's lock_not_available. Looks through wrapped errors."""
    seen = 0
    while exc is not None and seen < 10:
        seen += 1
        if getattr(exc, "sqlstate", None) == "55P03":
            return True
        msg = str(exc).lower()
        if "database is locked" in msg or "database table is locked" in msg:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def busy_message(action: str) -> str:
    """What a person reads when a write gave up waiting for another one's lock (HTTP 503)."""
    return (
        f"The database is busy with another change, so I could not {action} just now. Nothing was changed; "
        "try again in a moment."
    )


DISK_FULL_SQLSTATES = {"53100"}  # disk_full (PostgreSQL)


def no_space_message(action: str) -> str:
    """What a person reads when a write failed for want of disk space (HTTP 507)."""
    return (
        f"The server is out of disk space, so I could not {action} just now. Nothing was changed; "
        "try again once an administrator has freed some space."
    )


def is_disk_full(exc: BaseException | None) -> bool:
    """The storage is full: SQLite's SQLITE_FULL ('database or disk is full'), PostgreSQL's disk_full,
    or a file write that got ENOSPC / EDQUOT. Looks through wrapped errors (SQLAlchemy, __cause__)."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        seen += 1
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(exc, "sqlstate", None) in DISK_FULL_SQLSTATES:
            return True
        if getattr(exc, "sqlite_errorname", None) == "SQLITE_FULL" or "database or disk is full" in str(exc).lower():
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def retry_on_conflict(
    fn: Callable[..., T] | None = None,
    *,
    attempts: int = 6,
    base_delay: float = 0.02,
    budget: float | None = None,
):
    """Decorator: run a function that does one write transaction again when it hits a conflict.

    Only for functions whose effects all live inside the transaction (a retry must not repeat a
    side effect). Backoff with jitter: 20 ms, 40 ms, 80 ms... (at most ~0.6 s in total by default).
    An attempt that already waited out SQLite's busy timeout is not run again (another process holds
    the lock for long: waiting again would only make the user wait), and no attempt starts after
    `budget` seconds (WRITE_BUDGET_S)."""
    limit = WRITE_BUDGET_S if budget is None else budget

    def wrap(f: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(f)
        def run(*args, **kwargs) -> T:
            start = time.monotonic()
            for attempt in range(attempts):
                began = time.monotonic()
                try:
                    return f(*args, **kwargs)
                except DBAPIError as e:
                    now = time.monotonic()
                    waited_out = is_busy(e) and now - began >= SQLITE_BUSY_S * 0.9
                    if attempt == attempts - 1 or not is_retryable(e) or waited_out or now - start >= limit:
                        raise
                    log.info(
                        "retrying %s after a write conflict (%s), attempt %d",
                        f.__qualname__,
                        type(e.orig).__name__,
                        attempt + 2,
                    )
                    time.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
            raise AssertionError("unreachable")

        return run

    return wrap(fn) if fn is not None else wrap


def write_transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = 6) -> T:
    """`work(session)` in one transaction (session_scope), retried as a whole on a conflict."""

    @retry_on_conflict(attempts=attempts)
    def once() -> T:
        with session_scope(engine) as s:
            return work(s)

    return once()


def reset_sequences(conn, tables: list[str], column: str = "id") -> None:
    """After inserting rows with explicit ids: move PostgreSQL's SERIAL sequences past them, so the
    next row without an id does not collide (SQLite needs nothing: it uses max(rowid) + 1)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"GREATEST((SELECT COALESCE(MAX({column}), 0) FROM {table}), 1), "
                f"(SELECT COUNT(*) > 0 FROM {table}))"
            )
        )


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a plain libpq URL (for psycopg / LangGraph's PostgresSaver)."""
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


def dispose_engine(url: str) -> None:
    """Close one URL's pooled connections and forget its engine (e.g. before dropping the database)."""
    engine = _engines.pop(normalise_url(url), None)
    if engine is not None:
        _sessionmakers.pop(engine, None)
        engine.dispose()
