"""The API's own browser pages in a real headless Chromium, offline: every request that leaves the
loopback server is blocked and recorded, and none may be made.

- The LangServe playground: an unsigned visit lands on the sign-in page; a wrong token is told so;
  the right one opens the playground, which renders its form (no console errors) and runs a turn.
- Swagger UI (/docs, with Authorize offering both sign-in schemes) and ReDoc (/redoc) render from
  the installed assets.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from ..conftest import TOKENS

pytestmark = pytest.mark.slow
WAIT = 60_000  # ms


class Offline:
    """A browser context that may reach only the loopback server; it records what the page tried
    elsewhere, console errors, page errors and failed answers."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))

    def _route(self, route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith("data:") or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def offline(browser):
    ctx = Offline(browser)
    yield ctx
    ctx.close()


def test_playground_signs_in_from_the_browser_renders_and_runs_a_turn(live_server, offline, shots):
    page = offline.page
    page.goto(live_server.url + "/agent/playground/")
    assert page.url.startswith(live_server.url + "/auth/login"), page.url  # not signed in: the sign-in page
    page.get_by_label("API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").get_by_text("That token is not valid").wait_for()
    offline.problems.clear()  # that 401 was the point

    page.get_by_label("API token").fill(TOKENS["maya"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/agent/playground/")
    page.get_by_text("Try it").wait_for()
    assert "LangServe Playground" in page.get_by_role("heading", level=1).inner_text()
    for text in ("Configure", "Thread ID", "Inputs", "Messages", "Resume", "Start"):
        assert page.get_by_text(text, exact=True).first.is_visible(), text
    page.screenshot(path=str(shots / "playground.png"))
    assert offline.problems == [] and offline.outside == []

    page.get_by_label("Thread ID").fill("pg-browser")
    page.wait_for_load_state("networkidle")
    page.get_by_text("Your conversation thread").wait_for()  # the form re-rendered for the new thread
    page.locator("label:has-text('Messages') + button").click()
    page.locator(".control textarea:not([id])").first.fill("failed IndiSky invoices from last month")
    with page.expect_response(lambda r: r.url.endswith("/stream_log")) as answered:
        page.get_by_role("button", name="Start").click()
    assert answered.value.status == 200
    page.get_by_text("Found 7 invoices").first.wait_for()
    page.get_by_text("Output", exact=True).first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "playground-answer.png"))
    assert offline.problems == [] and offline.outside == []
    assert (shots / "playground.png").stat().st_size > 10_000


def test_playground_resume_with_nothing_pending_is_refused_with_a_reason(live_server, offline):
    page = offline.page
    session = httpx.post(live_server.url + "/auth/session", headers={"Authorization": f"Bearer {TOKENS['maya']}"})
    offline.context.add_cookies(
        [{"name": "finkraft_session", "value": session.cookies["finkraft_session"], "url": live_server.url}]
    )
    page.goto(live_server.url + "/agent/playground/")
    page.get_by_text("Try it").wait_for()
    page.get_by_label("Thread ID").fill("pg-nothing-pending")
    page.wait_for_load_state("networkidle")
    page.get_by_text("Your conversation thread").wait_for()
    page.get_by_label("Resume").fill("yes")
    with page.expect_response(lambda r: r.url.endswith("/stream_log")) as answered:
        page.get_by_role("button", name="Start").click()
    assert answered.value.status == 409
    # the same request from the page's own script, to read the reason the playground got
    status, detail = page.evaluate("""async () => {
        const r = await fetch("/agent/stream_log", {method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({input: {resume: "yes"}, config: {configurable: {thread_id: "pg-nothing-pending"}}})});
        return [r.status, (await r.json()).detail];
    }""")
    assert status == 409
    assert detail == (
        "Nothing to answer: no question is waiting for a yes or no in thread 'pg-nothing-pending'. "
        'Send {"messages": [...]} to ask something new.'
    )
    assert offline.outside == []


def test_swagger_ui_renders_offline_with_authorize(live_server, offline, shots):
    page = offline.page
    page.goto(live_server.url + "/docs")
    page.get_by_role("heading", name="FinkraftAI").wait_for()
    page.get_by_text("/chat", exact=True).first.wait_for()
    for text in ("/memory/{user_id}/insights", "/tickets/{ticket_id}", "/agent/invoke"):
        assert page.get_by_text(text, exact=True).first.is_visible(), text
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_text("bearerToken").wait_for()
    assert dialog.get_by_text("sessionCookie").is_visible() and dialog.get_by_text("finkraft_session").is_visible()
    page.screenshot(path=str(shots / "swagger.png"))
    assert offline.problems == [] and offline.outside == []


# ReDoc's bundle always asks for its maker's logo from their CDN (the "API docs by Redocly" link) and
# hides the image when that fails: the one request it makes elsewhere, and not needed to read the docs
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_renders_offline(live_server, offline):
    page = offline.page
    page.goto(live_server.url + "/redoc")
    page.get_by_role("heading", name="FinkraftAI").first.wait_for()
    page.get_by_text("One turn of the conversation").first.wait_for()
    assert page.get_by_text("/memory/{user_id}/insights").first.count() == 1
    assert set(offline.outside) <= {REDOC_LOGO}
    assert [p for p in offline.problems if p != "console: Failed to load resource: net::ERR_FAILED"] == []
