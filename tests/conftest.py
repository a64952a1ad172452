"""Shared fixtures: seeded services on real SQLite files, and a real uvicorn server on loopback."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from tests.clock import start_run_clock

os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# the embedding model's ONNX export is made once (~30 s with torch), not once per test's data dir: in a
# virtual environment it is kept there across test sessions (memory/embedder.py checks that it is still
# the export of the installed weights and format, and makes it again if not); elsewhere once per
# session. Servers and child processes the tests start inherit it. Set FINKRAFT_EMBEDDING_DIR to choose.
if "FINKRAFT_EMBEDDING_DIR" not in os.environ:
    if sys.prefix != sys.base_prefix:
        os.environ["FINKRAFT_EMBEDDING_DIR"] = str(Path(sys.prefix) / "finkraft-test-models")
    else:
        os.environ["FINKRAFT_EMBEDDING_DIR"] = _embedding_dir = tempfile.mkdtemp(prefix="finkraft-embedding-")
        atexit.register(shutil.rmtree, _embedding_dir, True)
# the suite runs offline: a developer's model key (environment or .env) must never make tests
# call a real service; empty variables override .env and mean "not set"
for _var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "FINKRAFT_MODEL", "FINKRAFT_MODEL_BASE_URL"):
    os.environ[_var] = ""

ROOT = Path(__file__).resolve().parents[1]
TOKENS = {"admin": "dev-admin", "maya": "dev-maya", "victor": "dev-victor", "gita": "dev-gita"}


def make_services(data_dir: Path, **overrides):
    """Migrated, seeded services on a data dir. In SQLite mode an empty data dir first gets a copy of
    one seeded once per test session (the demo data is deterministic): a file copy instead of
    migrating and seeding again, and each test still owns its own databases."""
    from business_data.settings import Settings
    from graph.services import Services

    if _copy_template_ok(Path(data_dir), overrides):
        shutil.copytree(_seeded_template(), data_dir, dirs_exist_ok=True)
    env = {"FINKRAFT_DATA_DIR": str(data_dir), "FINKRAFT_SEMANTIC_MEMORY": "false", **overrides}
    return Services.from_settings(Settings(**env)).prepare()


_template_for_session = False  # set by pytest_configure: subprocesses that import this file seed as before
_template_dirs: dict[date, Path] = {}  # one seeded copy per business date: the demo data is dated from it
_template_lock = threading.Lock()


def _copy_template_ok(data_dir: Path, overrides: dict) -> bool:
    elsewhere = {"APP_DATABASE_URL", "BUSINESS_DATABASE_URL", "FINKRAFT_SEED"}
    return (
        _template_for_session
        and not using_postgres()
        and not elsewhere & (set(overrides) | set(os.environ))
        and not (data_dir.exists() and any(data_dir.iterdir()))
    )


def _seeded_template() -> Path:
    from business_data import clock

    day = clock.today()  # a test that travels to another date gets data seeded on that date
    with _template_lock:
        if day not in _template_dirs:
            from business_data.db import dispose_engine
            from business_data.settings import Settings
            from graph.services import Services

            tpl = Path(tempfile.mkdtemp(prefix="finkraft-seeded-"))
            atexit.register(shutil.rmtree, tpl, ignore_errors=True)
            settings = Settings(FINKRAFT_DATA_DIR=str(tpl), FINKRAFT_SEMANTIC_MEMORY="false")
            Services.from_settings(settings).prepare()
            for url in (settings.app_url, settings.business_url):
                dispose_engine(url)  # closed (and WAL checkpointed) before the files are copied
            _template_dirs[day] = tpl
        return _template_dirs[day]


@pytest.fixture
def services(tmp_path):
    """Fresh seeded databases (business, app, checkpoints) under a temporary data dir."""
    return make_services(tmp_path)


@pytest.fixture
def app_graph(services):
    """The graph compiled with a SqliteSaver on a file, as notebooks and the server use it."""
    from graph.builder import compile_graph

    return compile_graph(services)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`finkraft serve` in a subprocess on a free loopback port."""

    def __init__(self, data_dir: Path, env: dict | None = None, port: int | None = None, args: tuple[str, ...] = ()):
        self.args = list(args)  # extra `finkraft serve` arguments, e.g. ("--workers", "2")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {**os.environ, "FINKRAFT_DATA_DIR": str(data_dir), "FINKRAFT_ENV": "dev", **(env or {})}
        if using_postgres() and not (env or {}).get("APP_DATABASE_URL"):
            self.env.update(pg_databases().env_for(data_dir))  # the databases behind this data dir
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 90) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    # /health answers before the lifespan finishes only if startup is done; check an authed call
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def client(self, user: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKENS[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kw.pop("timeout", 60), **kw)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    server = LiveServer(
        tmp_path_factory.mktemp("server"),
        env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "100000/minute"},
    ).start()
    yield server
    server.stop()


# -- which database the suite runs on: SQLite files (default) or fresh PostgreSQL databases ------
#
#   FINKRAFT_TEST_DB=postgres .venv/bin/pytest -q        (or: pytest --db postgres)
#
# On PostgreSQL every data dir a test uses gets its own pair of databases (app + business), created
# from session templates (migrated, seeded once) and dropped WITH (FORCE) when the test ends (those of
# module-scoped fixtures when the session ends). In-process code finds them through Settings.app_url /
# business_url (patched below: "the embedded default" becomes PostgreSQL); subprocesses (LiveServer,
# langgraph dev, notebooks) get APP_DATABASE_URL / BUSINESS_DATABASE_URL in their environment.
PG_ADMIN_URL = os.environ.get("FINKRAFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default=None,
        help="database for the suite (default: $FINKRAFT_TEST_DB or sqlite)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The quick loop (`pytest -m "not slow"`, the whole tree) runs on two processes: its tests are
    independent (own data dirs, own PostgreSQL databases per process), and on two cores that halves
    it. `-n 0` (or any explicit -n), a -k or -x, or named files keep it in one process."""
    opt = config.option
    if (
        getattr(opt, "numprocesses", "absent") is None
        and opt.markexpr.strip() in ("not slow", "'not slow'")
        and not opt.keyword
        and not opt.maxfail
        and not opt.file_or_dir
        and os.environ.get("PYTEST_XDIST_WORKER") is None
    ):
        opt.numprocesses = 2
        opt.dist = "load"
        opt.tx = ["popen"] * 2


def pytest_configure(config):
    global _template_for_session
    _template_for_session = True
    try:
        start_run_clock()  # FINKRAFT_TEST_NOW moves the whole run (tests/clock.py)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    mode = config.getoption("--db", default=None) or os.environ.get("FINKRAFT_TEST_DB", "sqlite")
    mode = {"pg": "postgres", "postgresql": "postgres"}.get(mode.lower(), mode.lower())
    if mode not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"FINKRAFT_TEST_DB must be sqlite or postgres, not {mode!r}")
    os.environ["FINKRAFT_TEST_DB"] = mode  # the one place tests and helpers read it


def pytest_report_header(config):
    mode = os.environ.get("FINKRAFT_TEST_DB", "sqlite")
    return f"finkraft test database: {mode}" + (f" ({PG_ADMIN_URL.rsplit('@', 1)[-1]})" if mode == "postgres" else "")


def using_postgres() -> bool:
    return os.environ.get("FINKRAFT_TEST_DB") == "postgres"


class PgDatabases:
    """Creates and drops throwaway PostgreSQL databases for one test session."""

    def __init__(self, admin_url: str = PG_ADMIN_URL):
        import psycopg

        self.admin_url = admin_url
        self.prefix = f"fk_test_{os.getpid()}_{secrets.token_hex(2)}"
        self._n = 0
        self._lock = threading.Lock()
        self.by_dir: dict[Path, tuple[str, str]] = {}
        self.names: dict[Path, list[str]] = {}
        self.templates: dict[str, str] = {}
        self.admin = psycopg.connect(admin_url, autocommit=True)
        self._drop_leftovers()

    def url(self, name: str) -> str:
        from sqlalchemy import make_url

        return (
            make_url(self.admin_url)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )

    def _drop_leftovers(self) -> None:
        """Databases of earlier sessions that died before their teardown (their pid is gone)."""
        for (name,) in self.admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'fk\\_test\\_%'"
        ).fetchall():
            pid = name.split("_")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                self.drop(name)

    def create(self, kind: str, template: str | None = None) -> str:
        with self._lock:
            self._n += 1
            name = f"{self.prefix}_{self._n}_{kind}"
            self.admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop(self, name: str) -> None:
        from business_data.db import dispose_engine

        dispose_engine(self.url(name))
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self, kind: str) -> str:
        """A migrated (and for business: seeded) database to copy; built once per session (the business
        one once per business date: the demo data is dated from it)."""
        from business_data import clock

        key = kind if kind != "biz" else f"biz_{clock.today():%Y%m%d}"
        with self._lock:
            if key in self.templates:
                return self.templates[key]
        from business_data.db import dispose_engine, make_engine
        from business_data.migrations import migrate

        name = self.create(f"tpl_{key}")
        url = self.url(name)
        if kind == "biz":
            from business_data.seed import seed
            from business_data.settings import Settings

            migrate(url, "business")
            seed(make_engine(url), seed=Settings(_env_file=None).seed)
        else:
            from business_data.demo_users import ensure_demo_users

            migrate(url, "app")
            ensure_demo_users(make_engine(url))
        dispose_engine(url)  # CREATE DATABASE ... TEMPLATE needs it idle
        with self._lock:
            self.templates[key] = name
        return name

    def urls_for(self, data_dir: Path) -> tuple[str, str]:
        """(app_url, business_url) of the databases behind a data dir (created on first use)."""
        key = Path(data_dir).expanduser().resolve()
        with self._lock:
            if key in self.by_dir:
                return self.by_dir[key]
        app, biz = self.create("app", self.template("app")), self.create("biz", self.template("biz"))
        with self._lock:
            if key in self.by_dir:  # another thread won
                self.drop(app), self.drop(biz)
                return self.by_dir[key]
            self.by_dir[key] = (self.url(app), self.url(biz))
            self.names[key] = [app, biz]
        return self.by_dir[key]

    def env_for(self, data_dir: Path) -> dict[str, str]:
        app, biz = self.urls_for(data_dir)
        return {"APP_DATABASE_URL": app, "BUSINESS_DATABASE_URL": biz}

    def release(self, data_dir: Path) -> None:
        key = Path(data_dir).expanduser().resolve()
        with self._lock:
            names = self.names.pop(key, [])
            self.by_dir.pop(key, None)
        for name in names:
            self.drop(name)

    def close(self) -> None:
        for key in list(self.names):
            self.release(key)
        for name in self.templates.values():
            self.drop(name)
        self.admin.close()


_pg: PgDatabases | None = None


def pg_databases() -> PgDatabases:
    """The session's PostgreSQL helper (skips the test when no PostgreSQL server answers)."""
    global _pg
    if _pg is None:
        try:
            _pg = PgDatabases()
        except Exception as e:  # noqa: BLE001
            pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
    return _pg


@pytest.fixture(scope="session")
def pg():
    return pg_databases()


@pytest.fixture(scope="session", autouse=True)
def _postgres_everywhere():
    """In postgres mode: every Settings without an explicit URL resolves to PostgreSQL databases
    belonging to its data dir (what the SQLite files under the data dir are in sqlite mode)."""
    global _pg
    if not using_postgres():
        yield
    else:
        from business_data.settings import Settings

        pgdb = pg_databases()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(
                Settings, "app_url", property(lambda s: s.app_database_url or pgdb.urls_for(s.resolved_data_dir)[0])
            )
            mp.setattr(
                Settings,
                "business_url",
                property(lambda s: s.business_database_url or pgdb.urls_for(s.resolved_data_dir)[1]),
            )
            yield
    if _pg is not None:  # also in sqlite mode, where PostgreSQL-specific tests made databases
        _pg.close()
        _pg = None


def _made_so_far() -> set[Path]:
    return set(_pg.names) if _pg is not None else set()


def _release_made_since(before: set[Path]) -> None:
    """Drop the PostgreSQL databases made since `before` (see _made_so_far)."""
    if _pg is not None:
        for key in set(_pg.names) - before:
            _pg.release(key)


@pytest.fixture(scope="module", autouse=True)
def _postgres_per_module():
    """In postgres mode: databases made by a module's own fixtures (an app shared by its tests) are
    dropped when the module ends, not at the end of the session: kept open, their pools added up to
    PostgreSQL's connection limit ("too many clients") in a full run."""
    before = _made_so_far()
    yield
    if using_postgres():
        _release_made_since(before)


@pytest.fixture(autouse=True)
def _postgres_per_test(request):
    """In postgres mode: databases made during a test are dropped when it ends; tests that start
    processes on their tmp_path (langgraph dev, notebooks) get its databases in the environment."""
    before = _made_so_far()
    if not using_postgres():
        yield
    else:
        pgdb = pg_databases()
        with pytest.MonkeyPatch.context() as mp:
            if request.node.get_closest_marker("slow") and "tmp_path" in request.fixturenames:
                for k, v in pgdb.env_for(request.getfixturevalue("tmp_path")).items():
                    mp.setenv(k, v)
            yield
    _release_made_since(before)
