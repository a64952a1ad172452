"""The dashboard's figures (ui/figures.py, through a real API server) equal the chat's answers to the same
questions, and the database by independent SQL, on the demo data model and on the reference model (a
customer's single-tenant database). Every figure is computed at run time; none is written here."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data import clock
from business_data.db import make_engine

from ..conftest import LiveServer
from ..helpers import reference_server, this_month_so_far
from ui import figures
from ui.api import Api

pytestmark = pytest.mark.slow

# the same questions in each schema: the demo's (workspace column, vendors.name, sales.amount) and the reference's
SCHEMAS = {
    "demo": {
        "ws": "workspace_id = 'acme' AND ",
        "iws": "i.workspace_id = 'acme' AND ",
        "vendor": "v.name",
        "sale": "amount",
    },
    "reference": {"ws": "", "iws": "", "vendor": "v.vendor_name", "sale": "total_amount"},
}


@pytest.fixture(scope="module", params=["demo", "reference"])
def server(request, tmp_path_factory):
    """(LiveServer, business database URL, schema name) for each data model."""
    base = tmp_path_factory.mktemp(f"dash-{request.param}")
    if request.param == "reference":
        with reference_server(base, "dash_ref") as (live, url):
            yield live, url, request.param
        return
    live = LiveServer(base, env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "100000/minute"}).start()
    from business_data.settings import Settings

    url = live.env.get("BUSINESS_DATABASE_URL") or Settings(_env_file=None, FINKRAFT_DATA_DIR=str(base)).business_url
    yield live, url, request.param
    live.stop()


@pytest.fixture(scope="module")
def figs(server):
    live, _, _ = server
    client = Api(live.url, "dev-maya")
    try:
        yield figures.all_figures(client)
    finally:
        client.close()


@pytest.fixture(scope="module")
def sql(server):
    _, url, schema = server
    engine = make_engine(url)

    def query(statement: str, **params):
        with engine.connect() as conn:
            return [
                tuple(float(v) if type(v).__name__ == "Decimal" else v for v in r)
                for r in conn.execute(text(statement.format(**SCHEMAS[schema])), params)
            ]

    yield query
    engine.dispose()


def ask(server, question: str) -> list[dict]:
    """The chat's answer to `question` (a new thread), as rows of dicts; it must have run analyze_data."""
    live, _, schema = server
    with live.client("maya") as c:
        r = c.post("/chat", json={"message": question, "thread_id": f"dash-{schema}-{abs(hash(question))}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tool_used"] == "analyze_data", (question, body["agent_response"])
    return [dict(zip(body["data"]["columns"], row)) for row in body["data"]["rows"]], body


def test_outstanding_is_the_data_models_measure_as_the_chat_says_it(server, figs, sql):
    [answer], _ = ask(server, "total outstanding amount")
    assert figs["outstanding"]["outstanding"] == pytest.approx(answer["outstanding"], abs=0.01)
    [(owed, with_cancelled)] = sql(
        "SELECT sum(CASE WHEN status <> 'cancelled' THEN total_amount END), sum(total_amount) FROM invoices "
        "WHERE {ws}payment_status IN ('unpaid', 'overdue')"
    )
    assert figs["outstanding"]["outstanding"] == pytest.approx(owed, abs=0.01)  # cancelled invoices are not owed
    assert with_cancelled > owed  # (the seed has cancelled unpaid invoices: counting them was the old mistake)
    assert sum(v for _, v in figs["outstanding"]["parts"]) == pytest.approx(owed, abs=0.02)


def test_outstanding_by_vendor_is_the_chats_breakdown(server, figs, sql):
    answer, _ = ask(server, "outstanding amount by vendor")
    per_vendor: defaultdict[str, float] = defaultdict(float)
    for r in figs["by_vendor"]:
        per_vendor[r["vendor"]] += r["amount"]
    assert per_vendor == pytest.approx({r["vendor"]: r["outstanding"] for r in answer if r["outstanding"]}, abs=0.02)
    owed = sql(
        "SELECT {vendor}, sum(i.total_amount) FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE "
        "{iws}i.payment_status IN ('unpaid', 'overdue') AND i.status <> 'cancelled' GROUP BY {vendor}"
    )
    assert per_vendor == pytest.approx(dict(owed), abs=0.02)
    order = list(dict.fromkeys(r["vendor"] for r in figs["by_vendor"]))
    assert [per_vendor[v] for v in order] == sorted(per_vendor.values(), reverse=True)  # largest first


def test_failed_invoices_this_month_against_the_same_days_of_last_month(server, figs, sql):
    today = clock.today()
    (s, e), (ps, pe) = this_month_so_far(today)
    [count], said = ask(server, "compare failed invoices this month with last month")
    [value], _ = ask(server, "compare the value of failed invoices this month with last month")
    f = figs["failed"]
    assert (f["failed_count"], f["failed_count_previous"]) == (count["invoice_count"], count["invoice_count_previous"])
    assert f["failed_count_change"] == count["invoice_count_change"]  # the headline's "+7 vs 1–7 Nov"
    assert (f["failed_value"], f["failed_value_previous"]) == pytest.approx(
        (value["total_value"], value["total_value_previous"]), abs=0.01
    )
    failed = "SELECT count(*), coalesce(sum(total_amount), 0) FROM invoices WHERE {ws}status = 'failed' AND invoice_date >= :s AND invoice_date < :e"
    assert sql(failed, s=s, e=e) == [pytest.approx((f["failed_count"], f["failed_value"]), abs=0.01)]
    assert sql(failed, s=ps, e=pe) == [
        pytest.approx((f["failed_count_previous"], f["failed_value_previous"]), abs=0.01)
    ]
    if f["same_days"]:  # not on a month's last day: the dashboard and the chat name the same days
        this, last = figures.days(f["dates"], today), figures.days(f["previous_dates"], today)
        assert (this, last) == (
            f"1–{today.day} {today:%b}",
            figures.days([ps.isoformat(), (pe - relativedelta(days=1)).isoformat()], today),
        )
        assert (
            f"so far ({this})" in said["agent_response"]
            and f"the same days of last month ({last})" in said["agent_response"]
        )


def test_sales_this_month_against_the_same_days_of_last_month(server, figs, sql):
    today = clock.today()
    (s, e), (ps, pe) = this_month_so_far(today)
    [answer], _ = ask(server, "compare sales this month with last month")
    got = figs["sales"]
    assert (got["sales_value"], got["sales_value_previous"]) == pytest.approx(
        (answer["sales_value"], answer["sales_value_previous"]), abs=0.01
    )
    assert got["sales_value_change_pct"] == answer["sales_value_change_pct"]
    total = "SELECT sum({sale}) FROM sales WHERE {ws}sale_date >= :s AND sale_date < :e"
    assert [sql(total, s=s, e=e)[0][0], sql(total, s=ps, e=pe)[0][0]] == pytest.approx(
        [got["sales_value"], got["sales_value_previous"]], abs=0.01
    )


def test_sales_by_region_and_the_trend_are_the_chats_figures(server, figs, sql):
    today = clock.today()
    this_month, _ = ask(server, "sales by region this month")
    assert {r["region"]: r["amount"] for r in figs["regions"]} == pytest.approx(
        {r["region"]: r["sales_value"] for r in this_month}, abs=0.01
    )
    earlier, _ = ask(server, "monthly sales by region for the last 6 months")
    chat = {(r["period"], r["region"]): r["sales_value"] for r in earlier}
    chat |= {(f"{today:%Y-%m}", r["region"]): r["sales_value"] for r in this_month}
    trend = {(r["month"], r["region"]): r["amount"] for r in figs["trend"]["rows"]}
    months = [f"{figures.trend_start(today) + relativedelta(months=k):%Y-%m}" for k in range(figures.TREND_MONTHS)]
    assert sorted({m for m, _ in trend}) == months
    assert trend == pytest.approx({k: v for k, v in chat.items() if k[0] in months}, abs=0.01)
    # the regions come from the data, not a list in the web app
    regions = {
        r for (r,) in sql("SELECT DISTINCT region FROM sales WHERE {ws}sale_date >= :s", s=figures.trend_start(today))
    }
    assert {r for _, r in trend} == regions
    # the month so far is marked partial (unless today is its last day)
    (_, e), _ = this_month_so_far(today)
    expected = {} if e.day == 1 else {f"{today:%Y-%m}": [today.replace(day=1).isoformat(), today.isoformat()]}
    assert figs["trend"]["partial"] == expected
    assert figs["as_of"] == today and isinstance(figs["as_of"], date)


def test_open_tickets_are_the_apis(server, figs):
    live, _, _ = server
    client = Api(live.url, "dev-maya")
    try:
        open_ids = {t.ticket_id for status in ("open", "in_progress") for t in client.tickets(status)}
    finally:
        client.close()
    assert {t.ticket_id for t in figs["tickets"]} == open_ids
