"""Schema migrations (Alembic, configured in code) on SQLite and PostgreSQL, start-up races, retries."""

from __future__ import annotations

import glob
import importlib
import os
import pkgutil
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from business_data.db import make_engine, retry_on_conflict, write_transaction
from business_data.migrations import HERE, SCHEMAS, current, differences, downgrade, head, metadata, migrate

from ..conftest import ROOT, pg_databases

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture
def fresh(request, tmp_path):
    """A function returning the URL of a new, empty database of the backend."""
    backend = request.param
    made: list[str] = []

    def new(kind: str = "x") -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{kind}-{len(made)}.sqlite'}"
        pgdb = pg_databases()
        name = pgdb.create(f"mig_{kind}")
        made.append(name)
        return pgdb.url(name)

    yield new
    for name in made:
        pg_databases().drop(name)


def _python(code: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_migrations_build_exactly_the_models(fresh):
    url = fresh()
    for schema in SCHEMAS:  # both schemas in one database: two version tables, no clash
        assert current(url, schema) is None
        assert migrate(url, schema) == (None, head(schema))
        assert migrate(url, schema) == (head(schema), head(schema))  # idempotent
        assert differences(url, schema) == [], f"{schema}: models changed without a migration"
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {
        "invoices",
        "vendors",
        "users",
        "tickets",
        "memory_turns",
        "memory_embeddings",
        "finkraft_business_version",
        "finkraft_app_version",
    } <= tables


def test_every_app_table_is_declared_in_business_data_appdb():
    """One home: with every module of every layer imported, each mapped class of either schema comes
    from its one module, and each schema's metadata holds only those classes' tables."""
    for pkg in ("business_data", "tools", "memory", "graph", "server"):
        for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
            if ".migrations." not in info.name and info.name != "server.main":  # (env.py runs under Alembic only)
                importlib.import_module(info.name)
    from sqlalchemy.orm import DeclarativeBase

    bases = {b.__name__: b for b in DeclarativeBase.__subclasses__()}
    assert set(bases) == {"AppBase", "BusinessBase"}
    for name, schema, module in (
        ("AppBase", "app", "business_data.appdb"),
        ("BusinessBase", "business", "business_data.models"),
    ):
        mappers = list(bases[name].registry.mappers)
        assert {m.class_.__module__ for m in mappers} == {module}
        assert {m.local_table.name for m in mappers} == set(metadata(schema).tables)
        assert bases[name].metadata is metadata(schema)
    assert {"users", "api_tokens", "tickets", "traces", "plans", "memory_turns", "memory_embeddings"} <= set(
        metadata("app").tables
    )


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_downgrade_to_base_and_up_again(fresh):
    url = fresh()
    for schema in SCHEMAS:
        migrate(url, schema)
        downgrade(url, schema, "base")
        assert current(url, schema) is None
    assert set(inspect(create_engine(url)).get_table_names()) <= {"finkraft_business_version", "finkraft_app_version"}
    for schema in SCHEMAS:
        migrate(url, schema)
        assert current(url, schema) == head(schema)


@pytest.mark.parametrize("had_n_keys", [False, True], ids=["older-model", "current-model"])
@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_database_from_before_migrations_is_adopted(fresh, had_n_keys):
    """Tables made by create_all (the pre-migration code) with data in them: stamped at the initial
    revision, upgraded (a0002 only adds memory_turns.n_keys if it is missing), data kept."""
    url = fresh()
    engine = create_engine(url)
    metadata("app").create_all(engine)
    with engine.begin() as conn:
        if not had_n_keys:
            conn.execute(text("ALTER TABLE memory_turns DROP COLUMN n_keys"))
        cols = "" if not had_n_keys else ", n_keys"
        conn.execute(
            text(
                f"INSERT INTO memory_turns (id, thread_id, user_id, workspace_id, speaker, text, result_ref, "
                f"importance, created_at{cols}) VALUES (1, 't', 'maya', 'acme', 'user', 'hi', "
                f'\'{{"keys": ["a", "b"]}}\', 0.5, CURRENT_TIMESTAMP{", 2" if had_n_keys else ""})'
            )
        )
    engine.dispose()
    assert migrate(url, "app") == ("a0001", head("app"))
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT n_keys FROM memory_turns WHERE id = 1")).scalar() == 2  # kept / backfilled
    assert differences(url, "app") == []
    assert current(url, "app") == head("app")


@pytest.mark.slow  # subprocesses: in `make test`, not the quick loop
@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_services_started_by_several_processes_at_once(fresh, tmp_path):
    """Migrations, demo users and the demo data: done once, whatever the number of processes starting."""
    app, biz = fresh("app"), fresh("biz")
    code = (
        "from business_data.settings import Settings; from graph.services import Services; "
        "Services.from_settings(Settings(_env_file=None)).prepare(); print('ok')"
    )
    env = {
        "APP_DATABASE_URL": app,
        "BUSINESS_DATABASE_URL": biz,
        "FINKRAFT_DATA_DIR": str(tmp_path),
        "FINKRAFT_SEMANTIC_MEMORY": "false",
    }
    procs = [_python(code, env) for _ in range(4)]
    outs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-2000:] for o in outs)
    from business_data.models import Invoice, SeedInfo
    from business_data.appdb import User

    with create_engine(biz).connect() as conn:
        assert conn.execute(select(func.count()).select_from(SeedInfo)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(Invoice)).scalar() > 1000
    with create_engine(app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar() == 4
        assert conn.execute(text("SELECT count(*) FROM finkraft_app_version")).scalar() == 1


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_new_business_rows_after_seeding_get_fresh_ids(fresh):
    """The seed inserts explicit ids; PostgreSQL's sequences must be moved past them."""
    from business_data.models import Vendor
    from business_data.seed import seed

    url = fresh("biz")
    migrate(url, "business")
    engine = create_engine(url)
    seed(engine, seed=7)
    with engine.begin() as conn:
        top = conn.execute(select(func.max(Vendor.id))).scalar()
        new_id = conn.execute(
            Vendor.__table__.insert()
            .values(
                workspace_id="acme",
                name="New Vendor",
                gstin=None,
                category="Travel",
                state="Delhi",
                contact_email="a@b.in",
                payment_terms_days=30,
            )
            .returning(Vendor.id)
        ).scalar()
    assert new_id == top + 1
    engine.dispose()


@pytest.mark.slow  # subprocesses: in `make test`, not the quick loop
def test_finkraft_migrate_cli_runs_anywhere_without_alembic_ini(tmp_path):
    assert not list(ROOT.glob("**/alembic.ini")), "configuration is in code"
    env = {**os.environ, "FINKRAFT_DATA_DIR": str(tmp_path / "data")}
    env.pop("APP_DATABASE_URL", None), env.pop("BUSINESS_DATABASE_URL", None)

    def cli(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "migrate", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])  # (keeps the tests' clock)
    r = cli("--current")
    assert r.returncode == 0 and "at nothing (empty)" in r.stdout, r.stdout + r.stderr
    r = cli()
    assert r.returncode == 0 and f"empty -> {head('app')}" in r.stdout and f"empty -> {head('business')}" in r.stdout, (
        r.stderr
    )
    r = cli()
    assert r.returncode == 0 and r.stdout.count("(up to date)") == 2
    r = cli("--check")
    assert r.returncode == 0 and r.stdout.count("models and migrations agree") == 2, r.stdout


def test_package_data_ships_the_migrations():
    """pyproject's package-data globs cover every file the migrations need at run time."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["business_data"]
    shipped = {Path(p) for pat in patterns for p in glob.glob(str(ROOT / "business_data" / pat), recursive=True)}
    needed = {
        p
        for p in HERE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".mako") and p.parent != HERE
    }  # modules of the package itself ship as code
    assert needed and needed <= shipped, sorted(map(str, needed - shipped))
    assert (HERE / "script.py.mako") in shipped


# -- retries on write conflicts ------------------------------------------------------------------


def test_deadlock_on_postgres_is_retried():
    """Two transactions locking two rows in opposite orders: PostgreSQL kills one (deadlock_detected);
    write_transaction runs it again and both writes land."""
    pgdb = pg_databases()
    name = pgdb.create("deadlock")
    try:
        engine = make_engine(pgdb.url(name))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE acct (id INT PRIMARY KEY, n INT NOT NULL)"))
            conn.execute(text("INSERT INTO acct VALUES (1, 0), (2, 0)"))
        barrier = threading.Barrier(2)
        attempts = {"a": 0, "b": 0}
        errors: list[BaseException] = []

        def work(label: str, first: int, second: int):
            def tx(s):
                attempts[label] += 1
                s.execute(text("UPDATE acct SET n = n + 1 WHERE id = :i"), {"i": first})
                if attempts[label] == 1:
                    barrier.wait(timeout=10)  # both hold their first row now
                s.execute(text("UPDATE acct SET n = n + 1 WHERE id = :i"), {"i": second})

            try:
                write_transaction(engine, tx)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        ts = [threading.Thread(target=work, args=("a", 1, 2)), threading.Thread(target=work, args=("b", 2, 1))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=60)
        assert not errors, errors
        assert sorted(attempts.values()) == [1, 2]  # one of them was retried
        with engine.connect() as conn:
            assert conn.execute(text("SELECT sum(n) FROM acct")).scalar() == 4  # nothing lost, nothing doubled
    finally:
        pgdb.drop(name)


def test_sqlite_locked_database_is_retried(tmp_path):
    """A writer that gives up waiting ('database is locked') is run again once the lock is gone."""
    path = tmp_path / "lock.sqlite"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    with engine.begin() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a while
    threading.Timer(0.3, holder.rollback).start()
    calls = []

    @retry_on_conflict(attempts=8, base_delay=0.05)
    def insert():
        calls.append(1)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES ('x')"))

    t0 = time.time()
    insert()
    assert len(calls) >= 2 and time.time() - t0 < 10
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    holder.close()
    engine.dispose()


def test_non_conflict_errors_are_not_retried(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'e.sqlite'}")
    calls = []

    @retry_on_conflict
    def bad():
        calls.append(1)
        with engine.begin() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        bad()
    assert calls == [1]


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_existing_subscriptions_take_their_tickets_workspace(fresh):
    """a0006 gives every subscription made before it the workspace of its ticket."""
    url = fresh()
    migrate(url, "app", "a0005")
    engine = create_engine(url)
    with engine.begin() as c:
        for n, ws in ((1, "acme"), (2, "globex")):
            c.execute(
                text(
                    "INSERT INTO tickets (id, ticket_id, workspace_id, created_by, title, description, status, "
                    "priority, record_type, record_ids, created_at, updated_at) VALUES (:n, :t, :ws, 'maya', 'x', '', "
                    "'open', 'medium', 'invoices', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"n": n, "t": f"T-0000{n}", "ws": ws},
            )
            c.execute(
                text("INSERT INTO ticket_subscriptions (ticket_id, user_id, notify_on) VALUES (:t, 'maya', 'any')"),
                {"t": f"T-0000{n}"},
            )
    migrate(url, "app")
    with engine.connect() as c:
        rows = c.execute(text("SELECT ticket_id, workspace_id FROM ticket_subscriptions ORDER BY ticket_id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("T-00001", "acme"), ("T-00002", "globex")]
