"""Roles and workspaces, enforced in code: a Viewer's refusals, a globex Manager never sees acme."""

from __future__ import annotations

from sqlalchemy import func, select, text

from business_data.appdb import Export, Ticket
from business_data.db import session_scope
from tools.registry import run_tool

from ..helpers import cfg, turn


def test_viewer_can_filter_and_explain(app_graph):
    v = cfg("victor", "v1")
    out = turn(app_graph, v, "failed IndiSky invoices last month")
    assert out["result"]["status"] == "success" and out["result"]["data"]["filtered_records"] == 7
    out = turn(app_graph, v, "why did these fail?")
    assert out["result"]["status"] == "success" and out["result"]["data"]["failed"] == 7


def test_viewer_refused_export_and_tickets(services, app_graph):
    v = cfg("victor", "v2")
    turn(app_graph, v, "failed IndiSky invoices last month")
    for request in ("export these as excel", "create a ticket for these and notify me", "mark T-00001 as resolved"):
        out = turn(app_graph, v, request, asks=False)  # refused before any confirmation is asked
        assert out["result"]["status"] == "denied", request
        assert "Viewer" in out["response"] and "You can filter" in out["response"]
    with session_scope(services.app) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(Export)) == 0
    assert not any(services.exports_dir.rglob("*.*"))


def test_registry_checks_roles_too(services):
    """Defence in depth: even a direct tool call is refused for the wrong role."""
    res = run_tool("export_report", {"format": "csv"}, services.tool_context(services.identity("victor")))
    assert res.status == "denied"


def test_globex_manager_never_sees_acme(services, app_graph):
    g = cfg("gita", "g1")
    with services.business.connect() as c:
        globex_indisky = c.execute(
            text(
                "SELECT COUNT(*) FROM invoices i JOIN vendors v ON v.id=i.vendor_id "
                "WHERE i.workspace_id='globex' AND v.name='IndiSky Airlines'"
            )
        ).scalar()
        acme_numbers = {r[0] for r in c.execute(text("SELECT invoice_number FROM invoices WHERE workspace_id='acme'"))}
    out = turn(app_graph, g, "show all IndiSky invoices")
    data = out["result"]["data"]
    assert data["filtered_records"] == globex_indisky > 0
    assert all(r["invoice_number"].startswith("INV-GLO") for r in data["results"])
    ctx = services.tool_context(services.identity("gita"))
    # whatever the parameters say
    res = run_tool("filter_data", {"workspace": "acme"}, ctx)
    assert res.status == "denied" and "own workspace" in res.message
    res = run_tool("filter_data", {"invoice_numbers": sorted(acme_numbers)[:50]}, ctx)
    assert res.status == "success" and res.data["filtered_records"] == 0
    res = run_tool("explain_failures", {"invoice_numbers": sorted(acme_numbers)[:50]}, ctx)
    assert res.data.get("failed", 0) == 0
    res = run_tool("create_ticket", {"invoice_numbers": sorted(acme_numbers)[:3]}, ctx)
    assert res.status == "error" and "not in your workspace" in res.message
    res = run_tool("filter_data", {"dataset": "vendors"}, ctx)
    assert res.data["filtered_records"] == 6  # globex's own vendors only


def test_admin_sees_other_workspace(services):
    res = run_tool(
        "filter_data", {"workspace": "globex", "vendor": "IndiSky"}, services.tool_context(services.identity("admin"))
    )
    assert res.status == "success" and res.data["filtered_records"] > 0
    assert all(r["invoice_number"].startswith("INV-GLO") for r in res.data["results"])


def test_manager_cannot_update_someone_elses_ticket(services):
    maya = services.tool_context(services.identity("maya"))
    admin = services.tool_context(services.identity("admin"))
    tid = run_tool("create_ticket", {"title": "Admin's own ticket"}, admin).data["ticket_id"]
    res = run_tool("update_ticket", {"ticket_id": tid, "status": "closed"}, maya)
    assert res.status == "error"
    assert run_tool("view_tickets", {}, maya).data["count"] == 0
    assert run_tool("view_tickets", {}, admin).data["count"] == 1
