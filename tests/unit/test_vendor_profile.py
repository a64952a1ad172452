"""vendor_profile: a read-only tool added by its own module plus one line in tools.yaml (the worked example
of "how to add a tool" in docs/ARCHITECTURE.md). Figures are checked against hand-written SQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from graph.llm import tool_schemas
from server.app import create_app
from tools.money import money
from tools.registry import TOOLS, can_run, run_tool


def _sql_counts(services, workspace: str, vendor: str) -> dict[str, tuple[int, float]]:
    with services.business.connect() as c:
        rows = c.execute(
            text(
                "SELECT i.status, COUNT(*), SUM(i.total_amount) FROM invoices i "
                "JOIN vendors v ON v.id = i.vendor_id "
                "WHERE i.workspace_id = :ws AND v.workspace_id = :ws AND v.name = :name GROUP BY i.status"
            ),
            {"ws": workspace, "name": vendor},
        ).all()
    return {status: (n, round(float(total), 2)) for status, n, total in rows}


def test_profile_figures_match_sql(services):
    res = run_tool("vendor_profile", {"vendor": "IndiSky Airlines"}, services.tool_context(services.identity("victor")))
    assert res.status == "success", res.message
    prof = res.data["profile"]
    expected = _sql_counts(services, "acme", "IndiSky Airlines")
    assert prof["invoices_by_status"] == {s: n for s, (n, _) in expected.items()}
    assert prof["amount_by_status"] == pytest.approx({s: a for s, (_, a) in expected.items()})
    assert prof["invoices"] == sum(n for n, _ in expected.values()) > 0
    with services.business.connect() as c:
        gstin, terms = c.execute(
            text("SELECT gstin, payment_terms_days FROM vendors WHERE workspace_id='acme' AND name='IndiSky Airlines'")
        ).one()
    assert prof["gstin"] == gstin and prof["payment_terms_days"] == terms
    assert f"{prof['invoices']:,} invoices" in res.message and str(terms) in res.message
    assert money(prof["total_amount"]) in res.message  # Indian grouping: ₹x,xx,xxx
    assert {s.table for s in res.sources} == {"vendors", "invoices"}  # "show your work"


def test_a_close_spelling_resolves_and_an_unknown_vendor_says_did_you_mean(services):
    ctx = services.tool_context(services.identity("maya"))
    assert run_tool("vendor_profile", {"vendor": "indisky"}, ctx).data["profile"]["vendor"] == "IndiSky Airlines"
    res = run_tool("vendor_profile", {"vendor": "Nonesuch Traders"}, ctx)
    assert res.status == "error" and res.code == "invalid" and "couldn't find a vendor" in res.message
    res = run_tool("vendor_profile", {"vendor": "IndiSky", "workspace": "globex"}, ctx)
    assert res.code == "invalid" and "'workspace' is not something I can filter on" in res.message


def test_each_workspace_sees_its_own_vendor(services):
    """globex has an IndiSky Airlines too: gita gets globex's figures, never acme's."""
    res = run_tool("vendor_profile", {"vendor": "IndiSky"}, services.tool_context(services.identity("gita")))
    expected = _sql_counts(services, "globex", "IndiSky Airlines")
    assert res.data["profile"]["invoices_by_status"] == {s: n for s, (n, _) in expected.items()}
    assert expected != _sql_counts(services, "acme", "IndiSky Airlines")


def test_the_declaration_reaches_permissions_and_the_model(services):
    assert TOOLS["vendor_profile"].writes is False and TOOLS["vendor_profile"].confirm is False
    for user in ("victor", "maya", "admin"):
        assert can_run(services.identity(user), "vendor_profile")
    offered = {t["function"]["name"] for t in tool_schemas("Viewer")}
    assert "vendor_profile" in offered
    assert (
        "vendor"
        in next(t for t in tool_schemas("Viewer") if t["function"]["name"] == "vendor_profile")["function"][
            "parameters"
        ]["properties"]
    )


def test_over_http_with_the_same_checks(services):
    with TestClient(create_app(services=services)) as client:
        ok = client.post(
            "/execute_tool",
            json={"tool_name": "vendor_profile", "params": {"vendor": "Metro Cabs"}},
            headers={"Authorization": "Bearer dev-victor"},
        )
        assert ok.status_code == 200 and ok.json()["data"]["profile"]["vendor"] == "Metro Cabs"
        bad = client.post(
            "/execute_tool",
            json={"tool_name": "vendor_profile", "params": {}},
            headers={"Authorization": "Bearer dev-victor"},
        )
        assert bad.status_code == 400 and "vendor is required" in bad.json()["detail"]


def test_reached_in_chat_by_its_declared_phrases_alone(services):
    """No parser rule names vendor_profile: its declared phrases and slots route it offline."""
    from tests.helpers import chat

    with TestClient(create_app(services=services)) as client:
        client.headers["Authorization"] = "Bearer dev-victor"
        body = chat(client, "tell me about Metro Cabs", "vp-1")
        assert body["tool_used"] == "vendor_profile", body
        expected = _sql_counts(services, "acme", "Metro Cabs")
        assert f"{sum(n for n, _ in expected.values()):,} invoices" in body["agent_response"]
        assert body["interpretation"]["decision"] == "run" and body["interpretation"]["unused"] == []
        asked = chat(client, "vendor profile", "vp-2")
        assert asked["tool_used"] is None and "Which vendor" in asked["agent_response"]
