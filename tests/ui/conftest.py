"""The web app's tests: Streamlit's AppTest (the page logic, in process) against a real API server on
loopback, and a real headless Chromium (the *_browser.py files: the browser, the web app and the steps
that drive a page are below)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import ROOT, TOKENS, free_port

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


# -- the browser tests: Chromium, the web app, and the steps that drive a page ------------------------
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 60_000  # ms


def ensure_chromium() -> str:
    """Debian's Chromium, installed by the project's own script when missing; skip only if that fails."""
    if not Path(CHROMIUM).exists():
        try:
            r = subprocess.run(
                ["sh", str(ROOT / "scripts" / "install-chromium.sh")], capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            pytest.skip(f"Chromium is not installed and scripts/install-chromium.sh could not run: {e}")
        if r.returncode != 0 or not Path(CHROMIUM).exists():
            pytest.skip(
                "Chromium is not installed and scripts/install-chromium.sh failed "
                f"(exit {r.returncode}): {(r.stderr or r.stdout).strip()[-300:]}"
            )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright (installed from scripts/install-chromium.sh when missing), one per
    module: the browser tests' one launch."""
    from playwright.sync_api import sync_playwright

    path = ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        yield b
        b.close()


@contextmanager
def running_web_app(api_url: str, folder: Path) -> Iterator[str]:
    """`finkraft ui` against the API at `api_url`, on a free loopback port (its log in `folder`): its URL."""
    port = free_port()
    log = folder / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "ui", "--port", str(port), "--api-url", api_url],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FINKRAFT_ENV": "dev"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(url + "/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.terminate()
        raise RuntimeError(f"the web app did not start: {log.read_text()[-2000:]}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def web_app(live_server, tmp_path_factory):
    """`finkraft ui` against the live API, on a free loopback port."""
    with running_web_app(live_server.url, tmp_path_factory.mktemp("ui")) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the README's screenshots go: docs/img/ with FINKRAFT_UPDATE_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("FINKRAFT_UPDATE_SCREENSHOTS") == "1":
        out = ROOT / "docs" / "img"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("screenshots")


def open_session(browser, url: str, user: str, width: int = 1280, height: int = 800):
    """A new browser context on the web app, signed in as `user` with their token: (context, page)."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(url)
    page.get_by_label("API token").fill(TOKENS[user])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for()
    return context, page


def ask(page, text: str, expect: str | re.Pattern):
    """Type a question in the chat box and wait for the answer that says `expect`: that answer."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").last
    answer.get_by_text(expect).first.wait_for()
    settle(page)
    return answer


def settle(page) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    page.wait_for_timeout(200)


def raise_ticket(page) -> str:
    """Ask for a ticket on the listing just shown and answer Yes: the new ticket's id."""
    ask(page, "create a ticket and notify me when fixed", "yes/no")
    page.get_by_role("button", name="Yes").click()
    created = page.get_by_test_id("stChatMessage").last
    created.get_by_text(re.compile(r"Created ticket T-\d+")).wait_for()
    settle(page)
    found = re.search(r"T-\d{5}", created.inner_text())
    assert found, created.inner_text()
    return found.group(0)


def download_csv(page, button, folder: Path) -> list[dict]:
    """Click a download button, save the file in `folder` and read it: its rows."""
    with page.expect_download() as got:
        button.click()
    saved = folder / got.value.suggested_filename
    got.value.save_as(saved)
    with open(saved, newline="") as f:
        return list(csv.DictReader(f))


def go(page, name: str) -> None:
    page.locator(".st-key-page").get_by_text(name, exact=True).click()
    settle(page)


def choose(page, label: str, option: str | re.Pattern) -> None:
    """Pick an option in a Streamlit selectbox by its label."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.press("ArrowDown")  # opens the whole list (not filtered by the current text)
    page.get_by_role("option", name=option).first.click()
    settle(page)


SCROLL_TO_TOP = """e => {
    e.scrollIntoView({block: 'start'});
    let box = e.parentElement;  // the scrolling container: leave room for Streamlit's header bar
    while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
    if (box) box.scrollBy(0, -70);
}"""


def top(locator) -> None:
    """Scroll so that this element starts at the top of the page (for a screenshot)."""
    locator.page.mouse.move(1, 1)  # no hover toolbars in the picture
    for _ in range(2):  # again once the chat's stick-to-bottom scrolling has settled
        locator.evaluate(SCROLL_TO_TOP)
        locator.page.wait_for_timeout(600)


def fits(page, width: int) -> bool:
    """Nothing sticks out sideways (no horizontal scrolling of the page)."""
    return page.evaluate("document.documentElement.scrollWidth") <= width + 1


def button_names(page) -> str:
    return " | ".join(page.get_by_role("button").all_inner_texts())
