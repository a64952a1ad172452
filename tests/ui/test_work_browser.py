"""A browser walk (Chromium) through the fixed report and "show your work", with the API restarted
mid-way: Maya raises a ticket on the 7 IndiSky invoices, an Admin resolves it, Maya downloads the
fixed report (a button, no raw path; rows say failed then, the state now, who fixed it), opens
"show your work" in plain words and then its technical view; the API goes down (one plain banner,
no unknown ticket count) and comes back (the banner goes, the next question is answered); a resumed
conversation still has "show your work". Takes docs/img/show_your_work.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..conftest import LiveServer, free_port
from .conftest import ask, download_csv, open_session, raise_ticket, running_web_app, settle, top

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """An API server of its own: the test stops and starts it."""
    server = LiveServer(
        tmp_path_factory.mktemp("work-server"),
        env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "100000/minute"},
        port=free_port(),
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_url(api_server, tmp_path_factory):
    with running_web_app(api_server.url, tmp_path_factory.mktemp("work-ui")) as url:
        yield url


def test_fixed_report_and_show_your_work_through_an_api_restart(api_server, app_url, browser, shots, tmp_path):
    ctx, maya = open_session(browser, app_url, "maya")
    ask(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "Found 7 invoices")
    ticket_id = raise_ticket(maya)
    with api_server.client("maya") as c:
        expected = sorted(c.get(f"/tickets/{ticket_id}").json()["record_ids"])
    with api_server.client("admin") as c:
        assert c.patch(f"/tickets/{ticket_id}", json={"status": "resolved"}).status_code == 200
    assert len(expected) == 7

    # the fixed report: a download button, no raw path, then and now in the file
    answer = ask(maya, "download the fixed report", re.compile("report is ready"))
    title = f"{ticket_id} IndiSky Airlines: 7 invoices, fixed report"
    expect(answer).not_to_contain_text("/exports/")
    button = answer.get_by_role("button", name=re.compile("Download CSV"))
    rows = download_csv(maya, button, tmp_path)
    assert sorted(r["invoice_number"] for r in rows) == expected
    assert {(r["status_then"], r["reason_then"], r["fixed_by"]) for r in rows} == {
        ("failed", "GSTIN missing", "Asha Admin")
    }
    with api_server.client("maya") as c:
        exports = c.get("/exports").json()["exports"]
    assert any(e.get("title") == title for e in exports), exports

    # show your work: plain words first, the technical view one click deeper
    answer.get_by_text("Show your work").click()
    panel = maya.locator("[class*='st-key-trace-panel-']").last
    panel.get_by_text(f"Wrote a CSV file of 7 rows from the 7 invoices of ticket {ticket_id}", exact=False).wait_for()
    expect(panel.get_by_text("export_report")).to_be_hidden()  # the technical view is folded away
    expect(panel).not_to_contain_text("UTC")
    panel.get_by_text(re.compile("^Technical details")).click()
    panel.get_by_text("export_report").first.wait_for()
    expect(panel).to_contain_text("Trace id ")
    settle(maya)
    expect(maya.locator("[data-testid='stSidebar']")).to_contain_text("Answered by the offline parser")
    top(panel)
    maya.screenshot(path=str(shots / "show_your_work.png"))

    # the API goes down: one plain banner, no unknown count
    api_server.stop()
    box = maya.get_by_test_id("stChatInputTextArea")
    box.fill("failed IndiSky invoices from last month")
    box.press("Enter")
    banner = maya.locator(".st-key-api-banner")
    banner.wait_for()
    settle(maya)
    expect(banner).to_contain_text("The assistant is not reachable right now; your question was not sent.")
    expect(maya.get_by_text(re.compile("not reachable"))).to_have_count(1)
    expect(maya.get_by_text("make serve")).to_have_count(0)
    maya.get_by_role("button", name="Try again").click()  # the side panel reads again: still down
    settle(maya)
    expect(maya.get_by_text(re.compile("not reachable"))).to_have_count(1)
    expect(maya.get_by_text(re.compile(r"Open tickets \(\d+\)"))).to_have_count(0)
    maya.screenshot(path=str(tmp_path / "api_down.png"))  # (not a README picture: to look at when it changes)

    # ... and comes back
    api_server.start()
    maya.get_by_role("button", name="Try again").click()
    settle(maya)
    expect(maya.locator(".st-key-api-banner")).to_have_count(0)
    expect(maya.get_by_text(re.compile(r"Open tickets \(\d+\)"))).to_have_count(1)
    ask(maya, "why did invoices fail last month?", re.compile(r"failed"))
    expect(maya.get_by_text(re.compile("not reachable"))).to_have_count(0)

    # a resumed conversation keeps "show your work"
    maya.get_by_role("button", name="New conversation").click()
    settle(maya)
    maya.locator("[data-testid='stSidebar']").get_by_role("button", name=re.compile("Filter invoices for last")).click()
    settle(maya)
    maya.get_by_text("Show your work").first.click()
    settle(maya)
    maya.locator("[class*='st-key-trace-panel-']").first.get_by_text(re.compile(r"; found 7\.")).wait_for()
    ctx.close()
