"""Calendar edges, on purpose: the period logic, the seed and the sample scenario at the moments where
periods turn over (tests/clock.py freezes "now" with time-machine).

Each moment is an instant; the business date is the calendar day in Asia/Kolkata (FINKRAFT_TIMEZONE),
whatever the server's own time zone. Moments on both sides of midnight UTC and of midnight IST show
that: 1 April 00:30 in India is still 31 March in UTC, and the new financial year has begun.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data import clock, gstin
from business_data.anomalies import planted as planted_truth
from business_data.db import make_engine
from business_data.migrations import migrate
from business_data.seed import seed
from tests.clock import travel
from tests.conftest import make_services
from tests.helpers import calls, cfg, expected_indisky_failed, turn
from tools.periods import resolve_period

IST, UTC, NEW_YORK = ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC"), ZoneInfo("America/New_York")


def at(text_: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=tz)


D = date
# (moment, the business date there, {period: (first day, day after the last)})
MOMENTS = [
    # New Year just after midnight in India: still 31 December in UTC
    (
        at("2027-01-01T00:30", IST),
        D(2027, 1, 1),
        {
            "today": (D(2027, 1, 1), D(2027, 1, 2)),
            "yesterday": (D(2026, 12, 31), D(2027, 1, 1)),
            "this_year": (D(2027, 1, 1), D(2028, 1, 1)),
            "last_year": (D(2026, 1, 1), D(2027, 1, 1)),
            "last_month": (D(2026, 12, 1), D(2027, 1, 1)),
            "this_quarter": (D(2027, 1, 1), D(2027, 4, 1)),
            "last_quarter": (D(2026, 10, 1), D(2027, 1, 1)),
            "this_fy": (D(2026, 4, 1), D(2027, 4, 1)),
        },
    ),
    # the other side of midnight UTC: 23:30 UTC on 31 December is already 1 January in India
    (at("2026-12-31T23:30", UTC), D(2027, 1, 1), {"this_year": (D(2027, 1, 1), D(2028, 1, 1))}),
    # and 18:00 UTC on 31 December is 23:30 in India: still the old year
    (
        at("2026-12-31T18:00", UTC),
        D(2026, 12, 31),
        {"this_year": (D(2026, 1, 1), D(2027, 1, 1)), "this_month": (D(2026, 12, 1), D(2027, 1, 1))},
    ),
    # the Indian financial year ends at 31 March 23:59 ...
    (
        at("2027-03-31T23:30", IST),
        D(2027, 3, 31),
        {
            "this_fy": (D(2026, 4, 1), D(2027, 4, 1)),
            "last_fy": (D(2025, 4, 1), D(2026, 4, 1)),
            "this_quarter": (D(2027, 1, 1), D(2027, 4, 1)),
            "this_month": (D(2027, 3, 1), D(2027, 4, 1)),
        },
    ),
    # ... and a new one starts at 1 April 00:00 in India (18:30 UTC on 31 March)
    (
        at("2027-04-01T00:30", IST),
        D(2027, 4, 1),
        {
            "this_fy": (D(2027, 4, 1), D(2028, 4, 1)),
            "last_fy": (D(2026, 4, 1), D(2027, 4, 1)),
            "this_quarter": (D(2027, 4, 1), D(2027, 7, 1)),
            "last_quarter": (D(2027, 1, 1), D(2027, 4, 1)),
            "last_month": (D(2027, 3, 1), D(2027, 4, 1)),
            "this_month": (D(2027, 4, 1), D(2027, 5, 1)),
        },
    ),
    # the same instant seen by a server in New York (14:00 on 31 March there): India's date still wins
    (at("2027-03-31T15:00", NEW_YORK), D(2027, 4, 1), {"this_fy": (D(2027, 4, 1), D(2028, 4, 1))}),
    # 29 February of a leap year
    (
        at("2028-02-29T12:00", IST),
        D(2028, 2, 29),
        {
            "yesterday": (D(2028, 2, 28), D(2028, 2, 29)),
            "this_month": (D(2028, 2, 1), D(2028, 3, 1)),
            "last_month": (D(2028, 1, 1), D(2028, 2, 1)),
            "last_30_days": (D(2028, 1, 31), D(2028, 3, 1)),
            "last_3_months": (D(2027, 11, 1), D(2028, 2, 1)),
            "last_year": (D(2027, 1, 1), D(2028, 1, 1)),
        },
    ),
    # the first morning of a month, which is also a Monday: "this week" is one day long
    (
        at("2027-02-01T07:00", IST),
        D(2027, 2, 1),
        {
            "this_month": (D(2027, 2, 1), D(2027, 3, 1)),
            "last_month": (D(2027, 1, 1), D(2027, 2, 1)),
            "this_week": (D(2027, 2, 1), D(2027, 2, 2)),
            "last_week": (D(2027, 1, 25), D(2027, 2, 1)),
            "yesterday": (D(2027, 1, 31), D(2027, 2, 1)),
        },
    ),
    # the last evening of a month, a Sunday: the week runs Monday to Sunday
    (
        at("2027-01-31T23:30", IST),
        D(2027, 1, 31),
        {
            "this_month": (D(2027, 1, 1), D(2027, 2, 1)),
            "this_week": (D(2027, 1, 25), D(2027, 2, 1)),
            "last_week": (D(2027, 1, 18), D(2027, 1, 25)),
        },
    ),
    # an ordinary Monday morning and Sunday night
    (
        at("2026-12-07T09:00", IST),
        D(2026, 12, 7),
        {"this_week": (D(2026, 12, 7), D(2026, 12, 8)), "last_week": (D(2026, 11, 30), D(2026, 12, 7))},
    ),
    (
        at("2026-12-13T21:00", IST),
        D(2026, 12, 13),
        {"this_week": (D(2026, 12, 7), D(2026, 12, 14)), "last_week": (D(2026, 11, 30), D(2026, 12, 7))},
    ),
]
IDS = [f"{m.isoformat()}" for m, _, _ in MOMENTS]


@pytest.mark.parametrize(("moment", "day", "periods"), MOMENTS, ids=IDS)
def test_periods_at_the_edges(moment, day, periods):
    """The business date is India's calendar day, whatever the server's clock and zone say, and each
    named period is exactly the right range there."""
    with travel(moment, tick=False):
        assert clock.today() == day
        for name, want in periods.items():
            assert resolve_period(name, clock.today()) == want, name


def test_the_server_time_zone_does_not_move_the_business_date():
    """The process's own time zone (TZ) changes; the business date does not. Old code asked
    date.today(), which in UTC still said 31 March at 00:30 on 1 April in India."""
    moment = at("2027-04-01T00:30", IST)
    for tz in (UTC, NEW_YORK, IST, ZoneInfo("Pacific/Kiritimati")):
        with travel(moment.astimezone(tz), tick=False):  # a ZoneInfo destination also sets the process's TZ
            assert clock.today() == D(2027, 4, 1), tz
    with travel(moment.astimezone(UTC), tick=False):
        assert date.today() == D(2027, 3, 31)  # (what the server's own calendar says)
        assert clock.today("UTC") == D(2027, 3, 31)  # a workspace that keeps UTC books is still in March


def _seeded(tmp_path, day: date):
    engine = make_engine(f"sqlite:///{tmp_path}/b-{day}.sqlite")
    migrate(engine, "business")
    seed(engine, today=day)
    return engine


SEED_MOMENTS = [m for m in MOMENTS if m[0].tzinfo is IST]


@pytest.mark.slow  # a seed per moment
@pytest.mark.parametrize(("moment", "day", "periods"), SEED_MOMENTS, ids=[m.isoformat() for m, *_ in SEED_MOMENTS])
def test_the_seed_at_the_edges(tmp_path, moment, day, periods):
    """Seeded at the moment: nothing is dated after today, last month holds the sample scenario, this
    month has invoices from every active vendor so far, and every GSTIN is well formed."""
    with travel(moment, tick=False):
        engine = _seeded(tmp_path, clock.today())
    first = day.replace(day=1)
    with engine.connect() as c:
        assert c.scalar(text("SELECT max(invoice_date) FROM invoices")) <= day.isoformat()
        assert c.scalar(text("SELECT max(sale_date) FROM sales")) <= day.isoformat()
        reasons = c.execute(
            text(
                "SELECT i.error_message FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE "
                "i.workspace_id='acme' AND v.name='IndiSky Airlines' AND i.status='failed' "
                "AND i.invoice_date >= :a AND i.invoice_date < :b"
            ),
            {"a": first - relativedelta(months=1), "b": first},
        ).scalars()
        assert list(reasons) == ["GSTIN missing"] * 7
        this_month = c.execute(
            text(
                "SELECT count(DISTINCT v.id) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
                "WHERE v.status = 'active' AND i.invoice_date >= :a"
            ),
            {"a": first},
        ).scalar()
        active = c.scalar(text("SELECT count(*) FROM vendors WHERE status = 'active'"))
        assert this_month == active
        # every GSTIN is well formed, but those the seed plants on purpose (the GSTIN-mismatch detector's
        # checksum typos: business_data/anomalies.py)
        planted = {k for p in planted_truth(day, 20261124) if p.detector == "gstin_mismatch" for k in p.keys}
        for number, invoice in c.execute(
            text(
                "SELECT vendor_gstin, invoice_number FROM invoices WHERE vendor_gstin <> '' "
                "UNION SELECT gstin, '' FROM vendors WHERE gstin <> ''"
            )
        ):
            assert gstin.is_valid(number) or invoice in planted, (number, invoice)


@pytest.mark.slow  # seeds and runs the graph per moment
@pytest.mark.parametrize(
    "moment",
    [
        at("2027-01-01T00:30", IST),
        at("2027-04-01T00:30", IST),
        at("2028-02-29T12:00", IST),
        at("2027-03-31T19:00", UTC),
    ],
    ids=lambda m: m.isoformat(),
)
def test_the_sample_scenario_at_the_edges(tmp_path, moment, monkeypatch):
    """'failed IndiSky invoices from last month' and 'why did these fail?' give the seed's 7 invoices
    and 'GSTIN missing' at the turn of the year, of the financial year, on 29 February, and when the
    server's UTC calendar still says 31 March while India is on 1 April."""
    from graph.builder import compile_graph

    # on PostgreSQL a slow test's tmp_path gets databases (in the environment) before the travel, seeded on
    # the real date: this test makes its own, on the moment's date
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    monkeypatch.delenv("BUSINESS_DATABASE_URL", raising=False)
    with travel(moment):
        services = make_services(tmp_path / "data")
        graph = compile_graph(services)
        expected = expected_indisky_failed(services.business)
        assert len(expected) == 7
        maya = cfg("maya", "edges")
        out = turn(graph, maya, "failed IndiSky invoices from last month")
        data = out["result"]["data"]
        assert data["filtered_records"] == 7 and {r["invoice_number"] for r in data["results"]} == expected
        out = turn(graph, maya, "why did these fail?")
        assert calls(out)[0][0] == "explain_failures"
        assert out["response"].startswith("7 of 7 failed: GSTIN missing")
