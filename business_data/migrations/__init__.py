"""Schema migrations (Alembic) for both databases, configured in code: no alembic.ini at run time.

Two schemas, one Alembic environment (env.py here), two version tables, so both may live in
one PostgreSQL database or in two:

  business  the customer's tables (business_data/models.py)      versions_business/  finkraft_business_version
  app       every application table (business_data/appdb.py)   versions_app/       finkraft_app_version

Revision scripts are plain `op.*` calls. Autogenerate and the drift check (`finkraft migrate
--autogenerate / --check`) compare against `metadata(schema)`: the one module of each schema.

`migrate()` is idempotent and safe when several processes start at once: on PostgreSQL it runs
inside one transaction holding a transaction-level advisory lock (PostgreSQL DDL is transactional,
so the second process waits, then finds the schema at head); on SQLite inside one
`BEGIN IMMEDIATE` transaction (SQLite DDL is transactional too). A database created before
migrations existed (tables present, no version table) is adopted: stamped at the initial revision,
then upgraded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from ..db import lock_key, normalise_url

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Schema:
    name: str
    versions: str  # directory under migrations/
    version_table: str
    marker_table: str  # present in every database of this schema (adoption of pre-migration databases)
    initial: str  # the first revision


SCHEMAS = {
    "business": Schema("business", "versions_business", "finkraft_business_version", "invoices", "b0001"),
    "app": Schema("app", "versions_app", "finkraft_app_version", "users", "a0001"),
}


def metadata(schema: str) -> MetaData:
    """Every table of a schema, from its one module (nothing else needs importing first)."""
    if schema == "business":
        from ..models import BusinessBase

        return BusinessBase.metadata
    if schema == "app":
        from ..appdb import AppBase

        return AppBase.metadata
    raise KeyError(f"no schema {schema!r}; choose one of {', '.join(SCHEMAS)}")


def _url(target: str | Engine) -> str:
    if isinstance(target, Engine):
        return target.url.render_as_string(hide_password=False)
    return normalise_url(target)


def _config(schema: Schema, connection: Connection | None = None, models: MetaData | None = None):
    from alembic.config import Config

    cfg = Config()  # no file: everything set here
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / schema.versions))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = schema.version_table
    cfg.attributes["target_metadata"] = models
    return cfg


def _migration_engine(url: str) -> Engine:
    """A short-lived engine whose transactions hold the schema lock for their whole length."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only transaction control
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, not at the first write

        return engine
    return create_engine(url, poolclass=NullPool)


def _lock(conn: Connection, schema: Schema) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(f"migrate:{schema.name}")})


def current(target: str | Engine, schema: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    s = SCHEMAS[schema]
    engine = _migration_engine(_url(target))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": s.version_table}).get_current_revision()
    finally:
        engine.dispose()


def head(schema: str) -> str:
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(_config(SCHEMAS[schema])).get_current_head()
    if rev is None:
        raise LookupError(f"the {schema} schema has no migrations")
    return rev


def migrate(target: str | Engine, schema: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade one schema to `revision` (default: head). Returns (before, after)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    s = SCHEMAS[schema]
    engine = _migration_engine(_url(target))
    try:
        with engine.begin() as conn:
            _lock(conn, s)
            before = MigrationContext.configure(conn, opts={"version_table": s.version_table}).get_current_revision()
            if before is None and inspect(conn).has_table(s.marker_table):
                log.warning("%s database has tables but no migration history: adopting it at %s", schema, s.initial)
                command.stamp(_config(s, conn), s.initial)
                before = s.initial
            cfg = _config(s, conn)
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(conn, opts={"version_table": s.version_table}).get_current_revision()
        if before != after:
            log.info("migrated %s schema: %s -> %s", schema, before or "empty", after)
        return before, after
    finally:
        engine.dispose()


def downgrade(target: str | Engine, schema: str, revision: str) -> None:
    from alembic import command

    s = SCHEMAS[schema]
    engine = _migration_engine(_url(target))
    try:
        with engine.begin() as conn:
            _lock(conn, s)
            command.downgrade(_config(s, conn), revision)
    finally:
        engine.dispose()


def differences(target: str | Engine, schema: str) -> list:
    """What autogenerate would still emit: [] when the migrated database matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    s = SCHEMAS[schema]
    models = metadata(schema)
    engine = _migration_engine(_url(target))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"version_table": s.version_table, "compare_type": True, "target_metadata": models}
            )
            return [d for d in compare_metadata(ctx, models) if not _other_tables(d, models)]
    finally:
        engine.dispose()


def _other_tables(diff: Any, models: MetaData) -> bool:
    """Tables of the other schema, LangGraph's checkpoint tables and the version tables may share the
    database: their presence is not drift."""
    if isinstance(diff, tuple) and diff and diff[0] in ("remove_table", "remove_index"):
        table = diff[1] if diff[0] == "remove_table" else diff[1].table
        return table.name not in models.tables
    return False


def autogenerate(target: str | Engine, schema: str, message: str, rev_id: str | None = None):
    """Write a new revision from the difference between the database and the schema's models
    (run against a database migrated to head; against an empty one for the initial revision)."""
    from alembic import command

    s = SCHEMAS[schema]
    engine = _migration_engine(_url(target))
    try:
        with engine.begin() as conn:
            return command.revision(
                _config(s, conn, metadata(schema)),
                message=message,
                autogenerate=True,
                rev_id=rev_id,
                version_path=str(HERE / s.versions),
            )
    finally:
        engine.dispose()
