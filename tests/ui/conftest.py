"""The web app's tests: Streamlit's AppTest (the page logic, in process) against a real API server on
loopback, and a real headless Chromium (tests/ui/test_browser.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import ROOT, TOKENS

APP = str(ROOT / "ui" / "app.py")


@pytest.fixture(scope="module")
def watched(live_server):
    """The detectors run once over the live server's databases, as cron would (`finkraft watch`)."""
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "watch"],
        cwd=ROOT,
        env=live_server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "acme: " in r.stdout, r.stdout
    return live_server


@pytest.fixture
def ui_for(live_server, monkeypatch):
    """ui_for(user) -> an AppTest of the web app, signed in as `user` (None: not signed in)."""
    monkeypatch.setenv("FINKRAFT_API_URL", live_server.url)
    monkeypatch.setenv("FINKRAFT_ENV", "dev")

    def make(user: str | None = None, token: str | None = None, page: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        if page:
            at.query_params["page"] = page  # as if opened at /?page=...
        at.run()
        if user or token:
            at.text_input(key="token_input").input(token or TOKENS[user])
            press(at, "Sign in")
            assert not at.exception, at.exception
        return at

    return make


def press(at: AppTest, label: str, **where) -> AppTest:
    """Click the (first) button with this label and run the script again."""
    for b in at.button:
        if b.label == label and all(getattr(b, k, None) == v for k, v in where.items()):
            b.click()
            return at.run()
    raise AssertionError(f"no button {label!r}; buttons: {[b.label for b in at.button]}")


def open_page(at: AppTest, page: str) -> AppTest:
    """Choose a page in the bar at the top (chat, dashboard, tickets, admin)."""
    at.segmented_control(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def say(at: AppTest, text: str) -> AppTest:
    at.chat_input(key="chat_input").set_value(text).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page says in words (markdown, captions, alerts), for 'the page shows X' checks."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.success, at.warning, at.error) for e in kind]
    return "\n".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright (installed from scripts/install-chromium.sh when missing), one per
    module: the browser tests' one launch (tests/ui/test_browser.py has the flags)."""
    from playwright.sync_api import sync_playwright

    from .test_browser import FLAGS, ensure_chromium

    path = ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        yield b
        b.close()
