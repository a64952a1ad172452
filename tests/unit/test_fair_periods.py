"""Periods compared fairly: "this month vs last month" on the 7th compares 1–7 with 1–7 and says so, and a
trend whose last month has only begun marks it and reads no drop into it. The moments are frozen with
tests.clock.travel inside the seeded data; every figure is computed by SQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from business_data import clock
from tests.clock import travel
from tools.money import money
from tools.periods import days_words, resolve_period, same_days
from tools.registry import run_tool

from ..helpers import sql, this_month_so_far

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("today", "period", "compare_to", "current", "previous", "words"),
    [
        (
            "2026-12-07",
            "this_month",
            "last_month",
            ("2026-12-01", "2026-12-08"),
            ("2026-11-01", "2026-11-08"),
            ("1–7 Dec", "1–7 Nov"),
        ),
        (
            "2027-03-30",
            "this_month",
            "last_month",
            ("2027-03-01", "2027-03-31"),
            ("2027-02-01", "2027-03-01"),
            ("1–30 Mar", "1–28 Feb"),
        ),
        (
            "2028-02-29",
            "this_year",
            "last_year",
            ("2028-01-01", "2028-03-01"),
            ("2027-01-01", "2027-03-01"),
            ("1 Jan–29 Feb", "1 Jan–28 Feb 2027"),
        ),
        (
            "2026-12-07",
            "last_month",
            "this_month",
            ("2026-11-01", "2026-11-08"),
            ("2026-12-01", "2026-12-08"),
            ("1–7 Nov", "1–7 Dec"),
        ),
        (
            "2027-01-03",
            "this_month",
            "last_month",
            ("2027-01-01", "2027-01-04"),
            ("2026-12-01", "2026-12-04"),
            ("1–3 Jan", "1–3 Dec 2026"),
        ),
        # this week and the year to date already end today: the other period is cut to as many days
        (
            "2026-12-09",
            "this_week",
            "last_week",
            ("2026-12-07", "2026-12-10"),
            ("2026-11-30", "2026-12-03"),
            ("7–9 Dec", "30 Nov–2 Dec"),
        ),
        (
            "2026-12-07",
            "ytd",
            "last_year",
            ("2026-01-01", "2026-12-08"),
            ("2025-01-01", "2025-12-08"),
            ("1 Jan–7 Dec", "1 Jan–7 Dec 2025"),
        ),
    ],
)
def test_a_period_not_over_is_compared_with_the_same_days(today, period, compare_to, current, previous, words):
    day = date.fromisoformat(today)
    got = same_days(resolve_period(period, day), resolve_period(compare_to, day), day)
    assert got == (tuple(map(date.fromisoformat, current)), tuple(map(date.fromisoformat, previous)))
    assert tuple(days_words(s, e, day) for s, e in got) == words


@pytest.mark.parametrize("today", ["2026-11-30", "2026-12-31", "2027-02-28", "2027-03-31"])
def test_periods_that_are_over_are_compared_whole(today):
    day = date.fromisoformat(today)
    assert same_days(resolve_period("this_month", day), resolve_period("last_month", day), day) is None
    week_before = (day - timedelta(days=13), day - timedelta(days=6))  # two runs of 7 days: already fair
    assert same_days(resolve_period("last_7_days", day), week_before, day) is None
    assert same_days(resolve_period("last_month", day), resolve_period("2020-01", day), day) is None


def moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), IST)


def seventh_of_last_month() -> date:
    """A 7th inside the seeded data (seeded up to the real today), whatever today is."""
    return clock.today().replace(day=7) - relativedelta(months=1)


TOTAL = "SELECT coalesce(sum(amount), 0) FROM sales WHERE workspace_id = 'acme' AND sale_date >= :s AND sale_date < :e"


def test_this_month_on_the_7th_against_the_same_days_of_last_month(services):
    day = seventh_of_last_month()
    (s, e), (ps, pe) = this_month_so_far(day)
    assert (e - s).days == (pe - ps).days == 7
    ((now,),), ((before,),) = sql(services, TOTAL, s=s, e=e), sql(services, TOTAL, s=ps, e=pe)
    with travel(moment(day)):
        maya = services.tool_context(services.identity("maya"))
        res = run_tool(
            "analyze_data",
            {"dataset": "sales", "measures": ["sales_value"], "period": "this_month", "compare_to": "last_month"},
            maya,
        )
    assert res.status == "success", res.message
    row = dict(zip(res.data["columns"], res.data["rows"][0]))
    assert row["sales_value"] == pytest.approx(now, abs=0.01)
    assert row["sales_value_previous"] == pytest.approx(before, abs=0.01)
    assert row["sales_value_change_pct"] == pytest.approx(round((now - before) / before * 100, 1))
    this, last = f"1–7 {day:%b}", f"1–7 {ps:%b}" + ("" if ps.year == day.year else f" {ps.year}")
    assert res.message.startswith(f"Sales this month so far ({this}): {money(now)}, against {money(before)} ")
    assert f"the same days of last month ({last})" in res.message
    assert res.data["same_days"] is True and res.data["as_of"] == day.isoformat()


def test_a_breakdown_compared_on_the_7th_uses_the_same_days_and_shares_of_them(services):
    day = seventh_of_last_month()
    (s, e), (ps, pe) = this_month_so_far(day)
    by_region = TOTAL.replace("coalesce(sum(amount), 0)", "region, sum(amount)") + " GROUP BY region"
    now, before = dict(sql(services, by_region, s=s, e=e)), dict(sql(services, by_region, s=ps, e=pe))
    with travel(moment(day)):
        maya = services.tool_context(services.identity("maya"))
        res = run_tool(
            "analyze_data",
            {
                "dataset": "sales",
                "measures": ["sales_value"],
                "group_by": ["region"],
                "period": "this_month",
                "compare_to": "last_month",
            },
            maya,
        )
    rows = [dict(zip(res.data["columns"], r)) for r in res.data["rows"]]
    assert {r["region"]: r["sales_value"] for r in rows} == pytest.approx(now, abs=0.01)
    assert {r["region"]: r["sales_value_previous"] for r in rows} == pytest.approx(before, abs=0.01)
    assert {r["region"]: r["sales_value_share"] for r in rows} == pytest.approx(
        {k: round(v / sum(now.values()) * 100, 1) for k, v in now.items()}, abs=0.05
    )
    assert "compared with the same days of last month" in res.message


def test_on_the_last_day_of_a_month_whole_months_are_compared(services):
    day = clock.today().replace(day=1) - timedelta(days=1)  # the last day of last month
    (s, e), (ps, pe) = this_month_so_far(day)
    assert s.day == e.day == ps.day == pe.day == 1  # whole months
    ((now,),), ((before,),) = sql(services, TOTAL, s=s, e=e), sql(services, TOTAL, s=ps, e=pe)
    with travel(moment(day)):
        maya = services.tool_context(services.identity("maya"))
        res = run_tool(
            "analyze_data",
            {"dataset": "sales", "measures": ["sales_value"], "period": "this_month", "compare_to": "last_month"},
            maya,
        )
    row = dict(zip(res.data["columns"], res.data["rows"][0]))
    assert (row["sales_value"], row["sales_value_previous"]) == pytest.approx((now, before), abs=0.01)
    assert f"against {money(before)} last month ({ps:%d %b %Y} to {pe - timedelta(days=1):%d %b %Y})" in res.message
    assert res.data["same_days"] is False


def test_a_monthly_trend_marks_the_month_so_far_and_reads_no_drop_into_it(services):
    day = seventh_of_last_month()
    first = day.replace(day=1)
    months = [first - relativedelta(months=k) for k in range(5, -1, -1)]  # five whole months, then 1–7
    totals = []
    for m in months:
        end = min(m + relativedelta(months=1), day + timedelta(days=1))
        ((v,),) = sql(services, TOTAL, s=m, e=end)
        totals.append(v)
    with travel(moment(day)):
        maya = services.tool_context(services.identity("maya"))
        res = run_tool(
            "analyze_data",
            {
                "dataset": "sales",
                "measures": ["sales_value"],
                "time_grain": "month",
                "date_from": months[0].isoformat(),
                "date_to": day.isoformat(),
            },  # (the data runs on to the real today)
            maya,
        )
    rows = [dict(zip(res.data["columns"], r)) for r in res.data["rows"]]
    assert [r["period"] for r in rows] == [f"{m:%Y-%m}" for m in months]
    assert [r["sales_value"] for r in rows] == pytest.approx(totals, abs=0.01)
    assert res.data["partial"] == {f"{first:%Y-%m}": [first.isoformat(), day.isoformat()]}
    assert f"{first:%b %Y} (1–7 {first:%b} so far) {money(totals[-1])}" in res.message
    full = totals[:-1]  # the change is read between whole months only
    pct = (full[-1] - full[0]) / full[0] * 100
    assert (
        f"from first to last full month: {'up' if pct > 0 else 'down'} {money(abs(full[-1] - full[0]))}" in res.message
    )
    assert f"({pct:+.1f}%)" in res.message
    axis = res.data["chart"]["encoding"]["x"]["axis"]["labelExpr"]
    assert f"{first:%Y-%m} (1–7 {first:%b} so far)" in axis
