"""The dashboard's figures, computed through the API, against independent SQL on the business database."""

from __future__ import annotations

from business_data import clock

from collections import defaultdict
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import create_engine, text

from ui import figures
from ui.api import Api

pytestmark = pytest.mark.slow


def month_range(month: str) -> tuple[date, date]:
    first = date.fromisoformat(month + "-01")
    return first, first + relativedelta(months=1, days=-1)


@pytest.fixture
def sql(live_server):
    from business_data.settings import Settings

    engine = create_engine(Settings(_env_file=None, FINKRAFT_DATA_DIR=str(live_server.data_dir)).business_url)

    def query(statement: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(statement), params).all()

    yield query
    engine.dispose()


@pytest.fixture
def api(live_server):
    client = Api(live_server.url, "dev-maya")
    yield client
    client.close()


def check(api, sql, today: date) -> None:
    got = figures.all_figures(api, today)
    this_month = figures.months_back(today, 1)[0]
    last_month = figures.months_back(today, 2)[0]
    for key, month in (("", this_month), ("last_month_", last_month)):
        lo, hi = month_range(month)
        [(n, value)] = sql(
            "SELECT count(*), coalesce(sum(total_amount), 0) FROM invoices WHERE workspace_id = 'acme' "
            "AND status = 'failed' AND invoice_date BETWEEN :lo AND :hi",
            lo=lo,
            hi=hi,
        )
        assert got["failed"][f"{key}count"] == n
        assert got["failed"][f"{key}value" if key else "value"] == pytest.approx(value, abs=0.01)

    owed = sql(
        "SELECT v.name, i.payment_status, sum(i.total_amount) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
        "WHERE i.workspace_id = 'acme' AND i.payment_status IN ('unpaid', 'overdue') GROUP BY v.name, i.payment_status"
    )
    assert {(r["vendor"], r["payment_status"]): r["amount"] for r in got["outstanding"]} == pytest.approx(
        {(v, s): round(a, 2) for v, s, a in owed}, abs=0.02
    )
    totals = defaultdict(float)
    for r in got["outstanding"]:
        totals[r["vendor"]] += r["amount"]
    vendors = list(dict.fromkeys(r["vendor"] for r in got["outstanding"]))
    assert [totals[v] for v in vendors] == sorted(totals.values(), reverse=True)  # largest first

    months = figures.months_back(today, 6)
    assert sorted({r["month"] for r in got["sales"]}) == months
    for month in months:
        lo, hi = month_range(month)
        rows = sql(
            "SELECT region, sum(amount) FROM sales WHERE workspace_id = 'acme' AND sale_date BETWEEN :lo AND :hi "
            "GROUP BY region",
            lo=lo,
            hi=hi,
        )
        assert {r["region"]: r["amount"] for r in got["sales"] if r["month"] == month} == pytest.approx(
            {region: round(a, 2) for region, a in rows}, abs=0.02
        )

    open_ids = {
        t["ticket_id"] for status in ("open", "in_progress") for t in api.tickets(status)
    }  # filtered by the API
    assert {t["ticket_id"] for t in got["tickets"]} == open_ids


def test_dashboard_figures_match_the_database(api, sql):
    check(api, sql, clock.today())


def test_figures_are_the_same_when_the_rows_do_not_fit_in_one_answer(api, sql, monkeypatch):
    monkeypatch.setattr(figures, "ROW_LIMIT", 5)  # every group is then summed by the API, one call each
    calls = []
    original = Api.tool

    def counting(self, name, **params):
        calls.append(params)
        return original(self, name, **params)

    monkeypatch.setattr(Api, "tool", counting)
    check(api, sql, clock.today())
    assert any(p.get("payment_status") == "unpaid" and p.get("vendor") for p in calls)  # per-vendor totals were asked
    assert any(p.get("dataset") == "sales" and p.get("region") for p in calls)
