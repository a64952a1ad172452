"""A customer's own database in the reference schema (no workspace column: one tenant, mapped to acme),
used with FINKRAFT_DATA_MODEL=reference. The sample scenario and ten analytic questions run on it,
every figure checked against hand-written SQL on the reference tables; `finkraft model check`."""

from __future__ import annotations

from business_data import clock

import subprocess
import sys
from collections import defaultdict
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data.datamodel import DataModelError
from business_data.db import dispose_engine, make_engine
from tools.money import money
from tools.registry import run_tool

from ..conftest import ROOT, make_services, pg_databases, using_postgres
from ..helpers import cfg, this_month_so_far, turn, turn_and_answer
from .. import reference_db
from ..helpers import rows_of


def new_database(tmp_path, name: str, request) -> str:
    """An empty database for a customer: a SQLite file, or a fresh PostgreSQL database in postgres mode."""
    if not using_postgres():
        return f"sqlite:///{tmp_path / name}.sqlite"
    pg = pg_databases()
    db = pg.create(name)
    request.addfinalizer(lambda: pg.drop(db))
    return pg.url(db)


@pytest.fixture
def ref_url(tmp_path, request):
    url = new_database(tmp_path, "customer", request)
    reference_db.build(url, clock.today())
    return url


@pytest.fixture
def ref(tmp_path, ref_url):
    return make_services(tmp_path / "data", FINKRAFT_DATA_MODEL="reference", BUSINESS_DATABASE_URL=ref_url)


def sql(url: str, query: str, **params) -> list:
    with make_engine(url).connect() as conn:
        return [
            tuple(float(v) if type(v).__name__ == "Decimal" else v for v in row)
            for row in conn.execute(text(query), params)
        ]


def month(n: int) -> date:
    return clock.today().replace(day=1) - relativedelta(months=n)


def test_model_check_passes_and_the_schema_is_left_alone(ref, ref_url):
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "model", "check", "--model", "reference", "--url", ref_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "ok (3 datasets" in r.stdout, r.stdout + r.stderr
    tables = (
        {t for (t,) in sql(ref_url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not using_postgres()
        else {t for (t,) in sql(ref_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    )
    assert tables == {"vendors", "invoices", "sales"}  # never migrated, never seeded with demo tables


def test_model_check_names_every_missing_table_and_column(tmp_path, request):
    url = new_database(tmp_path, "partial", request)
    engine = make_engine(url)
    with engine.begin() as conn:
        for stmt in reference_db.statements(drop_columns=("invoices.gstin_verified", "sales.customer_name")):
            if not stmt.startswith("CREATE TABLE vendors") and "ON sales" not in stmt:
                conn.exec_driver_sql(stmt.replace("REFERENCES vendors(id)", ""))
    dispose_engine(url)
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "model", "check", "--model", "reference", "--url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    for line in (
        "missing column 'invoices.gstin_verified'",
        "missing column 'sales.customer_name'",
        "missing table 'vendors'",
    ):
        assert line in r.stdout
    with pytest.raises(DataModelError, match="does not fit the data model 'reference'.*invoices.gstin_verified"):
        make_services(tmp_path / "data", FINKRAFT_DATA_MODEL="reference", BUSINESS_DATABASE_URL=url)
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "model", "check", "--model", "demo", "--url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "missing column 'invoices.workspace_id'" in r.stdout


def test_sample_scenario_on_the_customers_database(ref, ref_url):
    maya = ref.tool_context(ref.identity("maya"))
    res = run_tool("filter_data", {"vendor": "indisky", "status": "failed", "period": "last_month"}, maya)
    ((n,),) = sql(
        ref_url,
        "SELECT count(*) FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE v.vendor_name = 'IndiSky Airlines' "
        "AND i.status = 'failed' AND i.invoice_date >= :s AND i.invoice_date < :e",
        s=month(1),
        e=month(0),
    )
    assert res.status == "success" and res.data["filtered_records"] == n == 7
    assert set(res.data["results"][0]) == {
        "invoice_number",
        "vendor",
        "vendor_code",
        "invoice_date",
        "total_amount",
        "status",
        "payment_status",
        "gstin_verified",
        "error_message",
    }
    res = run_tool("explain_failures", {"invoice_numbers": res.data["keys"]}, maya)
    ((gstin,),) = sql(ref_url, "SELECT gstin FROM vendors WHERE vendor_name = 'IndiSky Airlines'")
    assert res.message.startswith("7 of 7 failed: GSTIN missing") and f"on file: {gstin}" in res.message
    # through the graph, as a user types it (the offline parser's vendors come from this database)
    from graph.builder import compile_graph

    g = compile_graph(ref)
    out = turn(g, cfg("maya", "ref-1"), "Filter invoices for last month, vendor=IndiSky, status=failed")
    assert out["result"]["data"]["filtered_records"] == 7, out["response"]
    out = turn(g, cfg("maya", "ref-1"), "why did these fail?")
    assert "7 of 7 failed: GSTIN missing" in out["response"]
    out = turn_and_answer(g, cfg("maya", "ref-1"), "create a ticket and notify me when fixed", "yes", asks=True)
    ticket = out["result"]["data"]["ticket"]
    assert out["result"]["status"] == "success" and len(ticket["record_ids"]) == 7, out["response"]
    assert ticket["title"].startswith("IndiSky Airlines: 7 invoices failed, GSTIN missing")


def test_another_workspace_sees_nothing_of_a_single_tenant_database(ref):
    gita = ref.tool_context(ref.identity("gita"))
    res = run_tool("analyze_data", {"dataset": "invoices", "measures": ["invoice_count", "total_value"]}, gita)
    assert rows_of(res) == [{"invoice_count": 0, "total_value": 0}]
    assert run_tool("filter_data", {"dataset": "sales"}, gita).data["filtered_records"] == 0
    admin = ref.tool_context(ref.identity("admin"))
    assert rows_of(
        run_tool("analyze_data", {"dataset": "invoices", "measures": ["invoice_count"], "workspace": "globex"}, admin)
    ) == [{"invoice_count": 0}]


def test_ten_questions_on_the_customers_database(ref, ref_url):
    maya = ref.tool_context(ref.identity("maya"))
    today, year = clock.today(), date(clock.today().year, 1, 1)
    ask = lambda **q: run_tool("analyze_data", q, maya)  # noqa: E731

    # 1. what's the total value of failed invoices last month?
    ((n, total),) = sql(
        ref_url,
        "SELECT count(*), sum(total_amount) FROM invoices WHERE status = 'failed' AND invoice_date >= :s "
        "AND invoice_date < :e",
        s=month(1),
        e=month(0),
    )
    res = ask(dataset="invoices", filters={"status": "failed"}, period="last_month")
    assert rows_of(res) == [{"invoice_count": n, "total_value": pytest.approx(total, abs=0.01)}]
    assert f": {n}, worth {money(total)}" in res.message

    # 2. how much do we owe Metro Cabs?
    ((owed,),) = sql(
        ref_url,
        "SELECT sum(i.total_amount) FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE v.vendor_name = "
        "'Metro Cabs' AND i.payment_status IN ('unpaid', 'overdue') AND i.status <> 'cancelled'",
    )
    res = ask(dataset="invoices", measures=["outstanding"], filters={"vendor": "metro cabs"})
    assert rows_of(res)[0]["outstanding"] == pytest.approx(owed, abs=0.01) and money(owed) in res.message

    # 3. which vendor has the most failed invoices this year? (every vendor tied for first, in name order)
    ranked = sql(
        ref_url,
        "SELECT v.vendor_name, count(*) FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE i.status = 'failed' "
        "AND i.invoice_date >= :s GROUP BY v.vendor_name ORDER BY 2 DESC, 1",
        s=year,
    )
    top = [r for r in ranked if r[1] == ranked[0][1]]
    res = ask(
        dataset="invoices",
        measures=["failed_count"],
        group_by=["vendor"],
        period="this_year",
        order_by=["-failed_count"],
        limit=1,
    )
    assert [(r["vendor"], r["failed_count"]) for r in rows_of(res)] == top

    # 4. top 3 customers by sales last quarter
    q0 = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    best = sql(
        ref_url,
        "SELECT customer_name, sum(total_amount) FROM sales WHERE sale_date >= :s AND sale_date < :e "
        "GROUP BY customer_name ORDER BY 2 DESC LIMIT 3",
        s=q0 - relativedelta(months=3),
        e=q0,
    )
    res = ask(
        dataset="sales",
        measures=["sales_value"],
        group_by=["customer"],
        period="last_quarter",
        order_by=["-sales_value"],
        limit=3,
    )
    assert [(r["customer"], pytest.approx(r["sales_value"], abs=0.01)) for r in rows_of(res)] == best

    # 5. sales by region last month
    regions = dict(
        sql(
            ref_url,
            "SELECT region, sum(total_amount) FROM sales WHERE sale_date >= :s AND sale_date < :e GROUP BY region",
            s=month(1),
            e=month(0),
        )
    )
    res = ask(dataset="sales", measures=["sales_value"], group_by=["region"], period="last_month")
    assert {r["region"]: r["sales_value"] for r in rows_of(res)} == pytest.approx(regions, abs=0.01)
    assert res.data["chart"]["mark"]["type"] == "bar"

    # 6. compare sales this month with last month (this month so far against the same days of last month)
    (s, e), (ps, pe) = this_month_so_far(today)
    total = "SELECT sum(total_amount) FROM sales WHERE sale_date >= :s AND sale_date < :e"
    ((now,),), ((before,),) = sql(ref_url, total, s=s, e=e), sql(ref_url, total, s=ps, e=pe)
    res = ask(dataset="sales", measures=["sales_value"], period="this_month", compare_to="last_month")
    (row,) = rows_of(res)
    assert row["sales_value"] == pytest.approx(now, abs=0.01)
    assert row["sales_value_previous"] == pytest.approx(before, abs=0.01)

    # 7. average invoice amount for IndiSky this year
    ((avg,),) = sql(
        ref_url,
        "SELECT avg(i.total_amount) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
        "WHERE v.vendor_name = 'IndiSky Airlines' AND i.invoice_date >= :s",
        s=year,
    )
    res = ask(dataset="invoices", measures=["average_value"], filters={"vendor": "IndiSky"}, period="this_year")
    assert rows_of(res)[0]["average_value"] == pytest.approx(avg, abs=0.01)

    # 8. monthly trend of invoice value over the last 6 months
    buckets: dict[str, float] = defaultdict(float)
    for d, amount in sql(
        ref_url,
        "SELECT invoice_date, total_amount FROM invoices WHERE invoice_date >= :s AND invoice_date < :e",
        s=month(6),
        e=month(0),
    ):
        buckets[str(d)[:7]] += amount
    res = ask(dataset="invoices", measures=["total_value"], time_grain="month", period="last_6_months")
    assert {r["period"]: r["total_value"] for r in rows_of(res)} == pytest.approx(dict(buckets), abs=0.01)
    assert res.data["chart"]["mark"]["type"] == "line"

    # 9. failure rate by vendor this year
    rates = {
        v: round(f / c * 100, 2)
        for v, c, f in sql(
            ref_url,
            "SELECT v.vendor_name, count(*), sum(CASE WHEN i.status = 'failed' THEN 1 ELSE 0 END) FROM invoices i "
            "JOIN vendors v ON v.id = i.vendor_id WHERE i.invoice_date >= :s GROUP BY v.vendor_name",
            s=year,
        )
    }
    res = ask(dataset="invoices", measures=["failure_rate"], group_by=["vendor"], period="this_year")
    assert {r["vendor"]: r["failure_rate"] for r in rows_of(res)} == pytest.approx(rates, abs=0.01)

    # 10. invoices whose GSTIN is not verified, last month, by vendor code (a boolean column of this schema)
    unverified = dict(
        sql(
            ref_url,
            "SELECT v.vendor_code, count(*) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
            "WHERE i.gstin_verified = :f AND i.invoice_date >= :s AND i.invoice_date < :e GROUP BY v.vendor_code",
            f=False,
            s=month(1),
            e=month(0),
        )
    )
    res = ask(
        dataset="invoices",
        measures=["invoice_count"],
        group_by=["vendor_code"],
        filters={"gstin_verified": "no"},
        period="last_month",
    )
    assert {r["vendor_code"]: r["invoice_count"] for r in rows_of(res)} == unverified and sum(unverified.values()) >= 7

    # and an export of one of them
    res = run_tool(
        "export_report",
        {
            "format": "csv",
            "query": {"dataset": "sales", "measures": ["sales_value"], "group_by": ["region"], "period": "last_month"},
        },
        maya,
    )
    assert res.status == "success" and res.data["rows"] == len(regions)
