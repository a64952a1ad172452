"""The web app end to end in a real headless Chromium (Debian's package, driven by Playwright).

Maya runs the sample scenario through the page: filter, why, ticket (clicking Yes); an Admin resolves
it on the tickets page; Maya's next session shows the news; she downloads the fixed report, and the
file holds the 7 invoice numbers. Victor is offered no export and no ticket action. The test takes
the README's screenshots (docs/img/ with FINKRAFT_UPDATE_SCREENSHOTS=1, else a temporary folder) and
checks the page at 1280x800 and at phone width.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import ask, button_names, choose, download_csv, fits, go, open_session, raise_ticket, settle, top
from .test_understanding import failed_this_month

pytestmark = pytest.mark.slow


# -- the scenario ----------------------------------------------------------------------------------
def test_sample_scenario_in_a_real_browser(web_app, live_server, browser, shots, tmp_path):
    with live_server.client("maya") as api:  # the 7 invoices, independently of the page
        expected = sorted(
            r["invoice_number"]
            for r in api.post(
                "/execute_tool",
                json={
                    "tool_name": "filter_data",
                    "params": {
                        "dataset": "invoices",
                        "period": "last_month",
                        "vendor": "IndiSky Airlines",
                        "status": "failed",
                    },
                },
            ).json()["data"]["results"]
        )
    assert len(expected) == 7

    maya_ctx, maya = open_session(browser, web_app, "maya")
    assert fits(maya, 1280)
    answer = ask(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "Found 7 invoices")
    expect(answer.get_by_test_id("stDataFrame")).to_have_count(1)  # a table, not lines of text
    maya.get_by_role("button", name="Why did these fail?").click()
    why = maya.get_by_test_id("stChatMessage").last
    why.get_by_text("7 of 7 failed").wait_for()
    settle(maya)
    top(maya.get_by_test_id("stChatMessage").first)
    maya.screenshot(path=str(shots / "chat.png"))
    why.get_by_text("Show your work").click()
    panel = maya.locator("[class*='st-key-trace-panel-']").last
    panel.get_by_text("grouped by reason").wait_for()  # first in a finance user's words
    panel.get_by_text(re.compile("^Technical details")).click()  # then the tools, one click deeper
    panel.get_by_text("Data read").wait_for()
    settle(maya)
    expect(panel).to_contain_text("explain_failures")
    expect(panel).to_contain_text("invoices")
    top(panel)
    maya.screenshot(path=str(shots / "trace.png"))

    ticket_id = raise_ticket(maya)

    go(maya, "Dashboard")
    maya.get_by_text("Outstanding by vendor").wait_for()
    maya.locator("[aria-roledescription='bar']").first.wait_for()
    settle(maya)
    assert fits(maya, 1280)
    maya.mouse.move(1, 1)
    maya.screenshot(path=str(shots / "dashboard.png"))
    bar = maya.locator("[aria-roledescription='bar'][aria-label*='IndiSky Airlines']").first
    bar.click(force=True)  # a bar asks the assistant about it (Vega's canvas takes the click at that point)
    maya.get_by_test_id("stChatMessage").last.get_by_text("payment status unpaid").wait_for()
    settle(maya)
    maya_ctx.close()

    # an Admin resolves the ticket on the tickets page
    admin_ctx, admin = open_session(browser, web_app, "admin")
    go(admin, "Tickets")
    choose(admin, "Open a ticket", re.compile(ticket_id))
    detail = admin.locator(".st-key-ticket-detail")
    detail.get_by_text("Invoices (7)").wait_for()
    for number in expected:
        expect(detail).to_contain_text(number)
    top(admin.get_by_test_id("stDataFrame").first)  # the list, the choice and the opened ticket
    admin.screenshot(path=str(shots / "tickets.png"))
    choose(admin, "Status", "Resolved")
    admin.get_by_label("Comment").fill("IndiSky reissued the invoices with their GSTIN")
    admin.get_by_role("button", name="Save").click()
    admin.get_by_text(f"Saved: {ticket_id} is Resolved").wait_for()
    admin_ctx.close()

    # Maya comes back: a new session shows the news, and the fixed report downloads
    maya_ctx, maya = open_session(browser, web_app, "maya")
    welcome = maya.locator(".st-key-welcome_back")
    welcome.wait_for()
    expect(welcome).to_contain_text(ticket_id)
    expect(welcome).to_contain_text("resolved")
    box = maya.get_by_test_id("stChatInputTextArea")
    box.fill("download the fixed report")
    box.press("Enter")
    last = maya.get_by_test_id("stChatMessage").last
    last.get_by_text(re.compile(r"report is ready", re.I)).first.wait_for()
    settle(maya)
    download_button = maya.get_by_role("button", name=re.compile("Download CSV"))
    download_button.wait_for()
    # exporting rows she can already see is a download, not a yes/no question
    expect(last.get_by_text(re.compile(r"yes/no", re.I))).to_have_count(0)
    expect(maya.get_by_role("button", name="Yes")).to_have_count(0)
    numbers = sorted(row["invoice_number"] for row in download_csv(maya, download_button, tmp_path))
    assert numbers == expected
    maya_ctx.close()


def test_a_viewer_is_offered_no_export_and_no_ticket_action(web_app, browser):
    ctx, victor = open_session(browser, web_app, "victor")
    ask(victor, "Filter invoices for last month, vendor=IndiSky, status=failed", "Found 7 invoices")
    names = button_names(victor)
    assert "Why did these fail?" in names
    assert "Export" not in names and "Create a ticket" not in names and "Download" not in names
    ask(victor, "export these as csv", "Viewer")
    assert "Download" not in button_names(victor)
    go(victor, "Tickets")
    victor.get_by_text(re.compile("No tickets yet|ticket")).first.wait_for()
    settle(victor)
    assert "Save" not in button_names(victor) and victor.get_by_label("Comment").count() == 0
    assert "Admin" not in victor.locator(".st-key-page").inner_text()
    ctx.close()


def test_the_page_works_at_phone_width(web_app, browser, shots):
    ctx, maya = open_session(browser, web_app, "maya", width=390, height=844)
    assert fits(maya, 390)
    ask(maya, "failed IndiSky invoices from last month", "Found 7 invoices")
    assert fits(maya, 390)  # the table scrolls inside itself, the page does not
    top(maya.locator(".st-key-page"))  # the page bar, the question and the start of the answer
    maya.screenshot(path=str(shots / "phone.png"))
    go(maya, "Dashboard")
    maya.get_by_text("Outstanding by vendor").wait_for()
    assert fits(maya, 390)
    ctx.close()


def test_chips_and_choices_in_a_real_browser(web_app, live_server, browser, shots, tmp_path):
    """The reading under the question as chips; a chip's ✕ asks again without it, a click on it opens
    its other values and one asks again with it; a question's choices are buttons."""
    ctx, maya = open_session(browser, web_app, "maya", height=1000)
    ask(maya, "total value of failed invoices last month", re.compile(r"accounts for|tie for"))
    follow_up = ask(maya, "what about IndiSky?", "Kept from your last question")
    chips = follow_up.locator("[class*='st-key-chips-']")
    expect(chips).to_contain_text("vendor: IndiSky Airlines")
    expect(chips).to_contain_text("period: last month · kept")
    expect(chips).to_contain_text("status: failed · kept")  # kept, in the list of filters this message changed
    expect(follow_up).to_contain_text("Understood by the offline parser")
    before = maya.get_by_test_id("stChatMessage").count()
    chip(chips, "vendor: IndiSky Airlines").get_by_role("button", name="✕").click()
    expect(maya.get_by_test_id("stChatMessage")).to_have_count(before + 2)
    again = maya.get_by_test_id("stChatMessage").last
    again.get_by_text(re.compile(r"Failed invoices last month")).first.wait_for()  # every vendor again
    settle(maya)
    expect(maya.get_by_test_id("stChatMessage").nth(before)).to_contain_text("Same, without vendor: IndiSky Airlines")
    expect(again).to_contain_text("Run as you chose it in the web app")
    expect(again.locator("[class*='st-key-chips-']")).not_to_contain_text("vendor: IndiSky")

    listing = ask(maya, "failed invoices last month", re.compile(r"Found \d+ invoices|No invoices match"))
    chip(listing.locator("[class*='st-key-chips-']"), "period: last month").get_by_role(
        "button", name="period: last month"
    ).click()
    editor = maya.get_by_test_id("stPopoverBody")
    editor.get_by_role("button", name="this month", exact=True).wait_for()
    expect(editor).to_contain_text("Ask again with another period")
    top(listing)
    maya.screenshot(path=str(shots / "chips.png"))
    before = maya.get_by_test_id("stChatMessage").count()
    editor.get_by_role("button", name="this month", exact=True).click()
    expect(maya.get_by_test_id("stChatMessage")).to_have_count(before + 2)
    n = failed_this_month(live_server)  # by SQL
    again = maya.get_by_test_id("stChatMessage").last
    again.get_by_text(f"Found {n:,} invoice" if n else "No invoices match").first.wait_for()
    settle(maya)
    expect(maya.get_by_test_id("stChatMessage").nth(before)).to_contain_text("Same, with period: this month")
    expect(again.locator("[class*='st-key-chips-']")).to_contain_text("period: this month")
    expect(again).to_contain_text("Run as you chose it in the web app")
    expect(maya.get_by_test_id("stPopoverBody")).to_have_count(0)  # the editor closed
    top(again)
    maya.screenshot(path=str(tmp_path / "changed.png"))

    asked = ask(maya, "invoices whose frobnication is pending", "haven't run anything")
    first = asked.locator("[class*='st-key-choices-']").get_by_role("button").first
    expect(first).to_contain_text("Run it without")
    top(asked)
    maya.screenshot(path=str(tmp_path / "choices.png"))  # (not a README picture: to look at when it changes)
    before = maya.get_by_test_id("stChatMessage").count()
    first.click()
    expect(maya.get_by_test_id("stChatMessage")).to_have_count(before + 2)
    maya.get_by_test_id("stChatMessage").last.get_by_text(re.compile(r"Found \d+ invoices")).wait_for()
    settle(maya)
    ctx.close()


def chip(chips, text: str):
    """One chip (its editor and its ✕) in a row of chips, by its text."""
    return chips.locator("[data-testid='stHorizontalBlock']", has_text=text).last


def test_screenshots_are_pictures(shots):
    """Run after the tests above (file order): the README's screenshots exist and are PNG images."""
    for name in ("chat", "dashboard", "trace", "tickets", "phone", "chips"):
        path = shots / f"{name}.png"
        if not path.exists():
            pytest.skip(f"{name}.png was not taken in this run (an earlier test failed or was deselected)")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, name
