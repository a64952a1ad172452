"""The "Needs attention" panel end to end in a real headless Chromium (Debian's package, Playwright).

`finkraft watch` runs the detectors on the demo seed (its planted anomalies). Maya, a Manager, sees
the findings on the dashboard, most money first; "Show me" opens a new conversation with the finding's
records already shown, and "export these" downloads exactly those records. She dismisses a finding
with a reason: it is gone from the panel, and still gone after a reload. Back the next day (her
earlier turns are dated a day back in the app database: the one way to be "yesterday" in a test), the
welcome-back line names what the detectors found. Screenshots go to a temporary folder (the panel and
"Show me" to docs/img/ with FINKRAFT_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from ..conftest import ROOT
from .conftest import ask, download_csv, fits, go, open_session, settle, top

pytestmark = pytest.mark.slow

README_SHOTS = ("insights_panel.png", "insights_show_me.png")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("insight-shots")
    docs = ROOT / "docs" / "img" if os.environ.get("FINKRAFT_UPDATE_SCREENSHOTS") == "1" else tmp
    return {
        name: (docs if name in README_SHOTS else tmp) / name for name in (*README_SHOTS, "dismissed.png", "welcome.png")
    }


def open_findings(server, user: str = "maya") -> list[dict]:
    with server.client(user) as api:
        r = api.get("/insights", params={"limit": 1000})
        assert r.status_code == 200, r.text
        return r.json()["insights"]


def app_engine(server):
    return sa.create_engine(server.env.get("APP_DATABASE_URL") or f"sqlite:///{server.data_dir / 'app.sqlite'}")


def panel(page):
    return page.locator(".st-key-needs-attention")


def test_needs_attention_show_me_dismiss_and_welcome_back(watched, web_app, browser, shots, tmp_path):  # noqa: F811
    found = open_findings(watched)
    assert len(found) >= 5 and all(f["workspace_id"] == "acme" for f in found)
    first = found[0]  # most money first, as the panel lists them

    ctx, maya = open_session(browser, web_app, "maya", height=1000)
    go(maya, "Dashboard")
    box = panel(maya)
    box.get_by_text(first["explanation"]).wait_for()
    expect(box).to_contain_text(f"Needs attention ({len(found)})")  # all of them counted, the first few listed
    settle(maya)
    assert fits(maya, 1280)
    maya.set_viewport_size({"width": 1280, "height": 2200})  # tall enough for the whole panel (the page scrolls inside)
    settle(maya)
    maya.mouse.move(1, 1)
    top(box)
    edge = box.bounding_box()  # the panel alone, with a margin
    assert edge
    clip = {"x": edge["x"] - 16, "y": edge["y"] - 16, "width": edge["width"] + 32, "height": edge["height"] + 32}
    maya.screenshot(path=str(shots["insights_panel.png"]), clip=clip)
    maya.set_viewport_size({"width": 1280, "height": 1000})
    settle(maya)

    # "Show me": a new conversation that opens on the finding's records; "export these" has them
    shown = next(f for f in found[:5] if f["record_keys"])
    box.locator(f".st-key-insight-show-{shown['id']}").get_by_role("button").click()
    answer = maya.get_by_test_id("stChatMessage").last
    answer.get_by_text(re.compile(rf"Found {len(shown['record_keys'])} invoices?")).wait_for()
    settle(maya)
    expect(maya.get_by_test_id("stChatMessage")).to_have_count(2)  # a new conversation: the request and its answer
    expect(maya.get_by_test_id("stChatMessage").first).to_contain_text(shown["subject"])
    expect(answer.get_by_test_id("stDataFrame")).to_have_count(1)
    top(maya.get_by_test_id("stChatMessage").first)
    maya.screenshot(path=str(shots["insights_show_me.png"]))
    ask(maya, "export these", re.compile(r"report is ready", re.I))
    download = maya.get_by_role("button", name=re.compile("Download CSV"))
    rows = download_csv(maya, download, tmp_path)
    assert sorted(row["invoice_number"] for row in rows) == sorted(shown["record_keys"])

    # dismiss one with a reason: gone from the panel, and after a reload
    go(maya, "Dashboard")
    gone = next(f for f in found[:5] if f["id"] != shown["id"])
    box.get_by_text(gone["explanation"]).wait_for()
    box.locator(f".st-key-insight-act-{gone['id']}").get_by_role("button", name="Dismiss").click()
    reason = maya.locator(f".st-key-insight-reason-{gone['id']} input")
    reason.fill("Checked with the vendor: two separate bookings")
    reason.press("Enter")  # (the text is sent; the Dismiss button is enabled by it)
    settle(maya)
    maya.locator(f".st-key-insight-dismiss-{gone['id']}").get_by_role("button").click()
    expect(box).to_contain_text(f"Needs attention ({len(found) - 1})")
    expect(box.get_by_text(gone["explanation"])).to_have_count(0)
    settle(maya)
    top(box)
    maya.screenshot(path=str(shots["dismissed.png"]))
    ctx.close()
    ctx, maya = open_session(browser, web_app, "maya", height=1000)  # a reload: a new session
    go(maya, "Dashboard")
    box = panel(maya)
    expect(box).to_contain_text(f"Needs attention ({len(found) - 1})")
    expect(box.get_by_text(gone["explanation"])).to_have_count(0)
    dismissed = {f["id"]: f for f in open_findings(watched) if f["id"] == gone["id"]}
    assert not dismissed  # not open any more
    with watched.client("maya") as api:
        kept = api.get(f"/insights/{gone['id']}").json()
    assert kept["status"] == "dismissed" and kept["status_reason"].startswith("Checked with the vendor")
    ctx.close()

    # the next day: her turns so far are dated a day back; the findings are newer than her last visit
    from business_data.appdb import MemoryTurn

    engine = app_engine(watched)
    with engine.begin() as c:
        rows = c.execute(sa.select(MemoryTurn.id, MemoryTurn.created_at).where(MemoryTurn.user_id == "maya")).all()
        assert rows
        for ident, at in rows:
            c.execute(sa.update(MemoryTurn).where(MemoryTurn.id == ident).values(created_at=at - timedelta(days=1)))
    engine.dispose()
    ctx, maya = open_session(browser, web_app, "maya", height=1000)
    answer = ask(maya, "overdue invoices", re.compile(r"Found \d+ invoices"))
    welcome = answer.get_by_test_id("stAlert")  # the answer's welcome-back line, above the answer
    expect(welcome).to_contain_text("Since yesterday: ")
    with watched.client("maya") as api:
        summary = api.get("/insights", params={"limit": 1000}).json()["summary"]
    assert "possible duplicate payment" in summary and "₹" in summary
    expect(welcome).to_contain_text(f"Since yesterday: {summary}.")  # every open finding, by kind, with the money
    top(maya.get_by_test_id("stChatMessage").first)
    maya.screenshot(path=str(shots["welcome.png"]))
    ctx.close()
    for path in shots.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, path
