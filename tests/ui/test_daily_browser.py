"""The web app as a daily tool, clicked through in a real headless Chromium as a Manager and as a
Viewer, at 1280x800 and at 390x844: every conversation reachable (grouped, searched, renamed,
deleted after a warning), a reload keeps you signed in, `?page=tickets` opens the tickets page,
sign-out ends the session on the server; a ticket assigned, unassigned, closed and reopened, with
the history in words. Screenshots go to docs/img/ with FINKRAFT_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, update

from business_data.appdb import MemoryTurn, utcnow
from business_data.settings import Settings

from ..conftest import TOKENS
from .conftest import settle, top

pytestmark = pytest.mark.slow
SIZES = [(1280, 800), (390, 844)]


def api_call(api_url: str, user: str, method: str, path: str, **kw):
    r = httpx.request(method, api_url + path, headers={"Authorization": f"Bearer {TOKENS[user]}"}, timeout=120, **kw)
    assert r.status_code < 400, r.text
    return r.json()


def sign_in(browser, url: str, user: str, size: tuple[int, int], path: str = "/"):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + path)
    page.get_by_label("API token").fill(TOKENS[user])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for(state="attached")
    settle(page)
    return context, page


def pick(page, label: str, option) -> None:
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.press("ArrowDown")  # the whole list, not filtered by the current text
    page.get_by_role("option", name=option).first.click()
    settle(page)


def side_panel(page, width: int):
    """The side panel's content, opened first on a phone (where it folds away)."""
    if width < 700:
        opener = page.get_by_test_id("stExpandSidebarButton")
        if opener.is_visible():
            opener.click()
            page.wait_for_timeout(500)
    return page.get_by_test_id("stSidebarContent")


def close_side_panel(page, width: int) -> None:
    if width < 700:
        closer = page.get_by_test_id("stSidebarCollapseButton")
        if closer.count():
            page.get_by_test_id("stSidebar").hover()
            closer.locator("button").click()
            page.wait_for_timeout(400)


def backdate(live_server, thread: str, days: int) -> None:
    """Move a conversation `days` back in time (as if it had happened then)."""
    url = live_server.env.get("APP_DATABASE_URL")  # PostgreSQL: the server's own database
    engine = create_engine(url or Settings(_env_file=None, FINKRAFT_DATA_DIR=str(live_server.data_dir)).app_url)
    try:
        with engine.begin() as c:
            c.execute(
                update(MemoryTurn)
                .where(MemoryTurn.thread_id == thread)
                .values(created_at=utcnow() - timedelta(days=days))
            )
    finally:
        engine.dispose()


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "finkraft_ui_session"), None)


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_conversations_and_staying_signed_in(web_app, live_server, browser, shots, size, tmp_path):  # noqa: F811
    width = size[0]
    tag = f"{width}"
    name = "IndiSky GSTIN follow-up" if width >= 700 else "IndiSky follow-up, phone"
    first = "Filter invoices for last month, vendor=IndiSky, status=failed"
    api_call(live_server.url, "maya", "POST", "/chat", json={"message": first, "thread_id": f"walk-a-{tag}"})
    api_call(
        live_server.url,
        "maya",
        "POST",
        "/chat",
        json={"message": "total sales by region this year", "thread_id": f"walk-b-{tag}"},
    )
    for days, words in (
        (1, "unpaid invoices from Skyline"),
        (4, "sales by region last month"),
        (20, "vendors with most failures"),
    ):
        thread = f"walk-{days}-{tag}"
        api_call(live_server.url, "maya", "POST", "/chat", json={"message": words, "thread_id": thread})
        backdate(live_server, thread, days)
    context, page = sign_in(browser, web_app, "maya", size)
    cookie = session_cookie(context)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert TOKENS["maya"] not in page.url and TOKENS["maya"] not in cookie["value"]
    panel = side_panel(page, width)
    for group in ("Today", "Yesterday", "Previous 7 days", "Older"):  # every conversation, by day
        expect(panel.get_by_text(group, exact=True)).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile("vendors with most failures")).first).to_be_visible()
    # search by text
    box = panel.get_by_placeholder("Search conversations")
    box.fill("region this year")
    box.press("Enter")
    settle(page)
    expect(panel.get_by_role("button", name=re.compile("total sales by region this year")).first).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile(re.escape(first[:30])))).to_have_count(0)
    box.fill("")
    box.press("Enter")
    settle(page)
    # open, rename, find it by its new name
    panel.get_by_role("button", name=re.compile(re.escape(first[:30]))).first.click()
    settle(page)
    close_side_panel(page, width)
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Conversation name").fill(name)
    page.get_by_role("button", name="Save name").click()
    settle(page)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    panel = side_panel(page, width)
    box = panel.get_by_placeholder("Search conversations")
    box.fill(name.lower())
    box.press("Enter")
    settle(page)
    expect(panel.get_by_role("button", name=re.compile(re.escape(name)))).to_be_visible()
    box.fill("")
    box.press("Enter")
    settle(page)
    if width >= 700:
        page.keyboard.press("Escape")  # the rename popover closed
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.mouse.move(1, 1)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "conversations.png"))
    close_side_panel(page, width)
    # a reload keeps her signed in, on the same page
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for(state="attached")
    settle(page)
    expect(page.get_by_text("Paste a token first")).to_have_count(0)
    # delete: it warns first, then the conversation is gone and forgotten on the server
    panel = side_panel(page, width)
    panel.get_by_role("button", name=re.compile(re.escape(name))).click()
    settle(page)
    close_side_panel(page, width)
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("The assistant also")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"conversation-delete-{tag}.png"))
    page.get_by_role("button", name="Delete conversation").click()
    settle(page)
    expect(page.get_by_text("and forgot it")).to_be_visible()
    threads = api_call(live_server.url, "maya", "GET", "/threads", params={"limit": 200})["threads"]
    assert f"walk-a-{tag}" not in {t["thread_id"] for t in threads}
    r = httpx.get(f"{live_server.url}/threads/walk-a-{tag}", headers={"Authorization": f"Bearer {TOKENS['maya']}"})
    assert r.status_code == 404
    # a deep link after a reload opens that page; clicking the selected tab keeps it selected
    page.goto(web_app + "/?page=tickets")
    expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    page.locator(".st-key-page").get_by_text("Tickets", exact=True).click()
    settle(page)
    expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    assert "page=tickets" in page.url
    # sign-out ends the session on the server: the old cookie no longer signs anyone in
    side_panel(page, width).get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You signed out.")).to_be_visible()
    old = cookie["value"]
    r = httpx.get(f"{live_server.url}/auth/session", cookies={"finkraft_session": old})
    assert r.status_code == 401
    page.wait_for_timeout(500)
    assert session_cookie(context) is None
    page.reload()
    expect(page.get_by_label("API token")).to_be_visible()
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_assign_unassign_close_reopen(web_app, live_server, browser, shots, size, tmp_path):  # noqa: F811
    width = size[0]
    found = api_call(
        live_server.url,
        "maya",
        "POST",
        "/execute_tool",
        json={"tool_name": "filter_data", "params": {"vendor": "IndiSky", "status": "failed", "period": "last_month"}},
    )
    numbers = [r["invoice_number"] for r in found["data"]["results"]]
    made = api_call(
        live_server.url,
        "maya",
        "POST",
        "/execute_tool",
        json={"tool_name": "create_ticket", "params": {"invoice_numbers": numbers}},
    )
    tid = made["data"]["ticket_id"]
    context, page = sign_in(browser, web_app, "maya", size, path="/?page=tickets")
    expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    pick(page, "Open a ticket", re.compile(tid))
    detail = page.locator(".st-key-ticket-detail")
    # assign to Victor from the form
    pick(page, "Assigned to", re.compile("Victor Varma"))
    detail.get_by_role("button", name="Save").click()
    settle(page)
    expect(page.get_by_text(f"Saved: {tid} is Open and assigned to victor. Notified victor.")).to_be_visible()
    detail = page.locator(".st-key-ticket-detail")
    expect(detail.get_by_text("assigned to victor")).to_be_visible()
    expect(detail.get_by_text("Maya Menon assigned it to Victor Varma")).to_be_visible()
    assert api_call(live_server.url, "maya", "GET", f"/tickets/{tid}")["assignee"] == "victor"
    # Save again with nothing changed: nothing is written, and the page says so
    before = len(api_call(live_server.url, "maya", "GET", f"/tickets/{tid}")["history"])
    detail.get_by_role("button", name="Save").click()
    settle(page)
    expect(page.get_by_text("Nothing changed, so nothing was saved.")).to_be_visible()
    assert len(api_call(live_server.url, "maya", "GET", f"/tickets/{tid}")["history"]) == before
    # close, reopen, unassign: each one click, the form and badges show what is saved
    detail.get_by_role("button", name="Close", exact=True).click()
    settle(page)
    detail = page.locator(".st-key-ticket-detail")
    expect(detail.get_by_text("Maya Menon closed it")).to_be_visible()
    expect(detail.get_by_role("combobox", name="Status", exact=True)).to_have_value(
        "Closed"
    )  # the form starts from the saved status
    detail.get_by_role("button", name="Reopen").click()
    settle(page)
    detail = page.locator(".st-key-ticket-detail")
    expect(detail.get_by_text("Maya Menon reopened it")).to_be_visible()
    expect(detail.get_by_role("combobox", name="Status", exact=True)).to_have_value(
        "Open"
    )  # the form starts from the saved status
    if width >= 700:
        top(detail.get_by_text("History", exact=True))
        page.screenshot(path=str(shots / "ticket-history.png"))
    detail.get_by_role("button", name="Unassign victor").click()
    settle(page)
    detail = page.locator(".st-key-ticket-detail")
    expect(detail.get_by_text("Maya Menon unassigned Victor Varma")).to_be_visible()
    saved = api_call(live_server.url, "maya", "GET", f"/tickets/{tid}")
    assert (saved["status"], saved["assignee"]) == ("open", None)
    history = detail.locator("li").all_inner_texts()
    assert not any(re.search(r"\d{2}:\d{2}:\d{2}|None|→|in_progress|T\d{2}:", h) for h in history), history
    page.screenshot(path=str(tmp_path / f"ticket-walk-{width}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_a_viewer_sees_only_what_he_may_do(web_app, live_server, browser, size, tmp_path):  # noqa: F811
    width = size[0]
    made = api_call(
        live_server.url,
        "maya",
        "POST",
        "/execute_tool",
        json={"tool_name": "create_ticket", "params": {"title": f"Victor's to follow {width}"}},
    )
    tid = made["data"]["ticket_id"]
    context, page = sign_in(browser, web_app, "victor", size, path="/?page=tickets")
    mine = api_call(live_server.url, "victor", "GET", "/tickets")["tickets"]
    if not mine:
        expect(page.get_by_text("Tickets you follow or that are assigned to you will appear here.")).to_be_visible()
        expect(page.get_by_text(re.compile("create one", re.I))).to_have_count(0)
    api_call(live_server.url, "maya", "PATCH", f"/tickets/{tid}", json={"assignee": "victor"})
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for(state="attached")
    settle(page)
    pick(page, "Open a ticket", re.compile(tid))
    detail = page.locator(".st-key-ticket-detail")
    expect(detail.get_by_text("assigned to victor")).to_be_visible()
    expect(detail.get_by_text("You can follow this ticket here; a Manager or an Admin changes it.")).to_be_visible()
    for action in ("Save", "Close", "Reopen"):
        expect(detail.get_by_role("button", name=action, exact=True)).to_have_count(0)
    page.screenshot(path=str(tmp_path / f"tickets-viewer-{width}.png"), full_page=True)
    context.close()
