"""`finkraft serve` pointed at a customer's database in the reference schema (FINKRAFT_DATA_MODEL=reference,
BUSINESS_DATABASE_URL=...): analyses over /execute_tool and the sample scenario over /chat, checked against SQL."""

from __future__ import annotations

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data import clock
from business_data.db import make_engine
from tools.money import money

from ..helpers import chat, reference_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ref_server(tmp_path_factory):
    with reference_server(tmp_path_factory.mktemp("ref-live"), "ref_live") as (server, url):
        yield server, url


def scalar(url: str, query: str, **params):
    with make_engine(url).connect() as conn:
        v = conn.execute(text(query), params).scalar()
    return float(v) if type(v).__name__ == "Decimal" else v


def test_analyses_over_execute_tool(ref_server):
    server, url = ref_server
    start, end = clock.today().replace(day=1) - relativedelta(months=1), clock.today().replace(day=1)
    with server.client("maya") as maya, server.client("victor") as victor:
        r = maya.post(
            "/execute_tool",
            json={
                "tool_name": "analyze_data",
                "params": {"dataset": "invoices", "filters": {"status": "failed"}, "period": "last_month"},
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        total = scalar(
            url,
            "SELECT sum(total_amount) FROM invoices WHERE status = 'failed' AND invoice_date >= :s AND invoice_date < :e",
            s=start,
            e=end,
        )
        assert body["data"]["rows"][0][1] == pytest.approx(total, abs=0.01) and money(total) in body["message"]
        r = victor.post(
            "/execute_tool",
            json={
                "tool_name": "analyze_data",
                "params": {
                    "dataset": "sales",
                    "measures": ["sales_value"],
                    "group_by": ["region"],
                    "period": "last_month",
                },
            },
        )
        assert r.status_code == 200 and r.json()["data"]["chart"]["mark"]["type"] == "bar"
        r = victor.post(
            "/execute_tool",
            json={
                "tool_name": "export_report",
                "params": {
                    "format": "csv",
                    "query": {"dataset": "sales", "measures": ["sales_value"], "group_by": ["region"]},
                },
            },
        )
        assert r.status_code == 403
        r = maya.post("/execute_tool", json={"tool_name": "analyze_data", "params": {"dataset": "transactions"}})
        assert r.status_code == 400 and "no dataset 'transactions'" in r.json()["detail"]
        r = maya.post(
            "/execute_tool", json={"tool_name": "analyze_data", "params": {"dataset": "invoices", "workspace": "all"}}
        )
        assert r.status_code == 403


def test_sample_scenario_over_chat(ref_server):
    server, url = ref_server
    with server.client("maya") as maya:
        body = chat(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "ref-chat")
        assert body["tool_used"] == "filter_data" and body["data"]["filtered_records"] == 7, body
        assert {r["vendor"] for r in body["data"]["results"]} == {"IndiSky Airlines"}
        body = chat(maya, "why did these fail?", "ref-chat")
        assert body["tool_used"] == "explain_failures" and "7 of 7 failed: GSTIN missing" in body["agent_response"]
        body = chat(maya, "sales in the North last month", "ref-chat-2")
        n = scalar(
            url,
            "SELECT count(*) FROM sales WHERE region = 'North' AND sale_date >= :s AND sale_date < :e",
            s=clock.today().replace(day=1) - relativedelta(months=1),
            e=clock.today().replace(day=1),
        )
        assert body["tool_used"] == "filter_data" and body["data"]["filtered_records"] == n
