"""The dashboard in a real headless Chromium: the headline compares this month so far with the same days
of last month and says which days; the trend marks the month so far; clicking a region's point on the
trend asks about that region and that month. Figures come from the API at run time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from business_data import clock

from ..helpers import this_month_so_far
from .conftest import go, open_session, settle

pytestmark = pytest.mark.slow


def test_the_dashboard_compares_the_same_days_and_a_trend_point_asks_about_its_region_and_month(
    web_app,  # noqa: F811
    browser,
    tmp_path,
):
    today = clock.today()
    (_, end), (prev_start, prev_end) = this_month_so_far(today)
    ctx, maya = open_session(browser, web_app, "maya", height=1900)
    go(maya, "Dashboard")
    maya.get_by_text("Sales trend").wait_for()
    maya.locator("[aria-roledescription='point']").first.wait_for()
    settle(maya)
    maya.wait_for_timeout(1500)  # the charts draw
    maya.mouse.move(1, 1)
    maya.screenshot(path=str(tmp_path / "dashboard-full.png"))  # (to look at when it changes)
    metrics = maya.get_by_test_id("stMetric")
    if end.day == 1:  # today is the month's last day: whole months
        expect(metrics.filter(has_text="Sales this month")).to_contain_text("vs last month")
    else:  # "vs 1–7 Nov"
        last = (prev_end - timedelta(days=1)).day
        days = f"vs 1–{last} {prev_start:%b}" + ("" if prev_start.year == today.year else f" {prev_start.year}")
        expect(metrics.filter(has_text="Sales this month")).to_contain_text(days)
        expect(metrics.first).to_contain_text(days)
        expect(maya.locator("[aria-roledescription='axis']").filter(has_text="so far")).to_contain_text(
            f"{today:%b} 1–{today.day} so far"
        )
    # a point of last month on the trend, of one region: the question names both
    month = prev_start.strftime("%Y-%m")
    point = maya.locator(f"[aria-roledescription='point'][aria-label*='month: {month}']").first
    label = point.get_attribute("aria-label") or ""
    region = label.split("region: ")[1].split(";")[0]
    point.click(force=True)  # (Vega's canvas takes the click at that point)
    question = f"sales in the {region} in {datetime.strptime(month, '%Y-%m'):%B %Y}"
    maya.get_by_test_id("stChatMessage").first.get_by_text(question).wait_for()
    answer = maya.get_by_test_id("stChatMessage").last
    answer.get_by_text(f"region {region}").first.wait_for()
    settle(maya)
    ctx.close()
