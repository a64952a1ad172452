"""Shared fixtures: seeded services on real SQLite files, and a real uvicorn server on loopback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
TOKENS = {"admin": "dev-admin", "maya": "dev-maya", "victor": "dev-victor", "gita": "dev-gita"}


def make_services(data_dir: Path, **overrides):
    from business_data.settings import Settings
    from graph.services import Services
    env = {"FINKRAFT_DATA_DIR": str(data_dir), "FINKRAFT_SEMANTIC_MEMORY": "false", **overrides}
    return Services.from_settings(Settings(**env)).prepare()


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

    def __init__(self, data_dir: Path, env: dict | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {**os.environ, "FINKRAFT_DATA_DIR": str(data_dir), "FINKRAFT_ENV": "dev", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 90) -> "LiveServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--log-level", "warning"],
                                     cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
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
    server = LiveServer(tmp_path_factory.mktemp("server"), env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "100000/minute"}).start()
    yield server
    server.stop()
