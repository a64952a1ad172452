"""The demo data: deterministic, dated relative to today, and the sample scenario holds."""

from __future__ import annotations

from business_data import clock

from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data import gstin
from business_data.db import make_engine
from business_data.migrations import migrate
from business_data.seed import WORKSPACES, generate, seed


def test_same_seed_same_day_same_rows():
    a, b = generate(date(2026, 11, 24), 7), generate(date(2026, 11, 24), 7)
    assert a == b
    assert generate(date(2026, 11, 24), 8)["invoices"] != a["invoices"]


def test_sample_scenario_and_volume(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/b.sqlite")
    migrate(engine, "business")
    today = clock.today()
    counts = seed(engine, today=today)
    assert counts["invoices"] > 2000 and counts["sales"] > 3000
    first = today.replace(day=1)
    last_month = first - relativedelta(months=1)
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT i.error_message FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
                "WHERE i.workspace_id='acme' AND v.name='IndiSky Airlines' AND i.status='failed' "
                "AND i.invoice_date >= :a AND i.invoice_date < :b"
            ),
            {"a": last_month, "b": first},
        ).all()
        assert [r[0] for r in rows] == ["GSTIN missing"] * 7
        vendors = {r[0] for r in c.execute(text("SELECT name FROM vendors WHERE workspace_id='acme'"))}
        assert {
            "IndiSky Airlines",
            "SkyHigh Hotels",
            "Metro Cabs",
            "Apex Office Supplies",
            "Zenith Telecom",
            "Konark Caterers",
            "Nimbus Cloud Services",
            "Vayu Travels",
        } <= vendors
        assert {r[0] for r in c.execute(text("SELECT DISTINCT status FROM invoices"))} == {
            "pending",
            "processed",
            "failed",
            "cancelled",
        }
        assert {r[0] for r in c.execute(text("SELECT DISTINCT region FROM sales"))} == {
            "North",
            "South",
            "East",
            "West",
        }
        months = c.execute(text("SELECT COUNT(DISTINCT strftime('%Y-%m', invoice_date)) FROM invoices")).scalar()
        assert months >= 18
        for (g,) in c.execute(text("SELECT gstin FROM vendors")):
            assert gstin.is_valid(g), g
        # a failed 'GSTIN missing' invoice carries no GSTIN; a mismatch carries a different one
        assert (
            c.execute(
                text("SELECT COUNT(*) FROM invoices WHERE error_message='GSTIN missing' AND vendor_gstin IS NOT NULL")
            ).scalar()
            == 0
        )
    assert seed(engine, today=today) == {}  # idempotent without reset


def test_gstin_check_character():
    assert gstin.is_valid("27AAPFU0939F1ZV")  # a published example GSTIN
    assert not gstin.is_valid("27AAPFU0939F1ZA")
    assert not gstin.is_valid("99AAPFU0939F1ZV")  # no such state code
    assert not gstin.is_valid(None)
    assert len(WORKSPACES["acme"]) >= 8
