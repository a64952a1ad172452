"""`make serve` (`finkraft serve --with-ui`): the API and the web app start together, and stopping
either one, or the command itself, stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import ROOT, free_port, pg_databases, using_postgres

pytestmark = pytest.mark.slow


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def children(pid: int) -> dict[int, str]:
    """pid -> command line of a process's direct children (Linux /proc)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                out[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                pass
    return out


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # only a zombie is left
    except OSError:
        return True


class Both:
    def __init__(self, data_dir: Path):
        self.api_port, self.ui_port = free_port(), free_port()
        self.api, self.ui = f"http://127.0.0.1:{self.api_port}", f"http://127.0.0.1:{self.ui_port}"
        env = {
            **os.environ,
            "FINKRAFT_DATA_DIR": str(data_dir),
            "FINKRAFT_ENV": "dev",
            "FINKRAFT_SEMANTIC_MEMORY": "false",
        }
        if using_postgres():
            env.update(pg_databases().env_for(data_dir))
        self.log = data_dir / "serve.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.api_port),
                "--with-ui",
                "--ui-port",
                str(self.ui_port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(self.log, "wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while time.time() < deadline and "FinkraftAI is up" not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.3)
        assert answers(self.api + "/health") and answers(self.ui + "/_stcore/health"), self.log.read_text()[-3000:]
        kids = children(self.proc.pid)
        self.ui_pid = next(p for p, cmd in kids.items() if "streamlit" in cmd)
        self.api_pid = next(p for p, cmd in kids.items() if "streamlit" not in cmd)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in (self.ui_pid, self.api_pid):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_both_addresses_are_named_and_both_answer(tmp_path):
    both = Both(tmp_path / "a")
    try:
        text = both.log.read_text()
        assert f"web app  {both.ui}" in text and f"API      {both.api}" in text
        r = httpx.get(both.api + "/tickets", headers={"Authorization": "Bearer dev-maya"}, timeout=10)
        assert r.status_code == 200
        assert "streamlit" in httpx.get(both.ui, timeout=10).text.lower()
    finally:
        both.kill()


def test_stopping_the_web_app_stops_the_api(tmp_path):
    both = Both(tmp_path / "b")
    try:
        os.kill(both.ui_pid, signal.SIGTERM)
        assert both.wait() != 0  # the command reports that a part stopped
        assert not answers(both.api + "/health") and gone(both.api_pid)
        assert "The web app stopped" in both.log.read_text()
    finally:
        both.kill()


def test_stopping_the_api_stops_the_web_app(tmp_path):
    both = Both(tmp_path / "c")
    try:
        os.kill(both.api_pid, signal.SIGTERM)
        assert both.wait() != 0
        assert not answers(both.ui + "/_stcore/health") and gone(both.ui_pid)
    finally:
        both.kill()


def test_ctrl_c_stops_both(tmp_path):
    both = Both(tmp_path / "d")
    try:
        both.proc.send_signal(signal.SIGINT)
        assert both.wait() == 0
        assert gone(both.ui_pid) and gone(both.api_pid)
        assert not answers(both.api + "/health") and not answers(both.ui + "/_stcore/health")
    finally:
        both.kill()
