"""The sign-in page never sends a browser to another site: in a real headless Chromium, a `next` with a
tab, CR, LF, a backslash, `//` or a scheme in it lands on this server after signing in. Every request
that would leave the loopback server is intercepted, recorded and aborted: none may be made."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from ..conftest import TOKENS

pytestmark = pytest.mark.slow
WAIT = 30_000  # ms


@pytest.mark.parametrize(
    "next_",
    [
        "/\t/evil.example/x",
        "/\r/evil.example/x",
        "/\n/evil.example/x",
        "/\\evil.example/x",
        "//evil.example/x",
        "https://evil.example/x",
        "javascript:alert(document.domain)",
    ],
    ids=["tab", "cr", "lf", "backslash", "double-slash", "scheme", "javascript"],
)
def test_sign_in_stays_on_this_server(live_server, browser, next_):
    context = browser.new_context()
    outside: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live_server.url}/auth/login?next={quote(next_, safe='')}")
        page.get_by_label("API token").fill(TOKENS["maya"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server.url + "/agent/playground/")
        page.wait_for_load_state("networkidle")
        assert outside == [] and dialogs == []
        assert urlsplit(page.url).netloc == urlsplit(live_server.url).netloc
    finally:
        context.close()


def test_a_local_next_is_followed(live_server, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.goto(f"{live_server.url}/auth/login?next={quote('/docs', safe='')}")
        page.get_by_label("API token").fill(TOKENS["maya"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server.url + "/docs")
    finally:
        context.close()
