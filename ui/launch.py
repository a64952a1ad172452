"""Starting the web app: `finkraft ui` (the app alone, against any API) and `finkraft serve --with-ui`
(`make serve`: the API and the app together; when either stops, the other is stopped too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

APP = Path(__file__).resolve().with_name("serve.py")  # ui/app.py with the sign-in cookie routes
THEME = {"primaryColor": "#0f766e", "base": "light"}


def streamlit_command(host: str, port: int) -> list[str]:
    """`streamlit run ui/app.py` offline: no usage statistics, no file watcher, no developer menu."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--global.developmentMode",
        "false",
        "--client.showErrorDetails",
        "none",
    ]  # an unforeseen error: a short notice, never a traceback
    for key, value in THEME.items():
        cmd += [f"--theme.{key}", value]
    return cmd


def ui_env(api_url: str) -> dict[str, str]:
    return {**os.environ, "FINKRAFT_API_URL": api_url.rstrip("/"), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def run_ui(host: str, port: int, api_url: str) -> int:
    """`finkraft ui`: this process becomes the Streamlit server (Ctrl-C stops it)."""
    print(f"FinkraftAI web app on http://{host}:{port} (API: {api_url})", flush=True)
    os.execve(sys.executable, streamlit_command(host, port), ui_env(api_url))
    return 0  # not reached


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 20
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def serve_with_ui(
    host: str, port: int, ui_port: int, *, workers: int = 1, log_level: str = "info", ui_host: str | None = None
) -> int:
    """The API (`finkraft serve`) and the web app as two child processes. Stopping either one, or this
    process (Ctrl-C, SIGTERM), stops both; the exit code is the first stopped child's (0 on a signal)."""
    ui_host = ui_host or host
    api_url = f"http://{_loopback(host)}:{port}"
    ui_url = f"http://{_loopback(ui_host)}:{ui_port}"
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            log_level,
        ],
        cwd=Path(__file__).resolve().parents[1],
    )
    app = subprocess.Popen(streamlit_command(ui_host, ui_port), env=ui_env(api_url), stdout=subprocess.DEVNULL)
    procs = [api, app]
    stopping: list[int] = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    announced = False
    try:
        while not stopping and all(p.poll() is None for p in procs):
            if not announced and _up(api_url + "/health") and _up(ui_url + "/_stcore/health"):
                print(
                    f"\nFinkraftAI is up:\n  web app  {ui_url}\n  API      {api_url}  (docs: {api_url}/docs)\n"
                    "Stop both with Ctrl-C.\n",
                    flush=True,
                )
                announced = True
            time.sleep(0.3)
    finally:
        first = next((p for p in procs if p.poll() is not None), None)
        _stop(procs)
        for s, handler in old.items():
            signal.signal(s, handler)
    if stopping or first is None:
        return 0
    name = "API" if first is api else "web app"
    print(f"The {name} stopped (exit code {first.returncode}); stopped the other one too.", file=sys.stderr, flush=True)
    return first.returncode or 1
