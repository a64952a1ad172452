"""Who may analyse what: Viewers analyse but do not export; an Admin's cross-workspace analysis is
explicit (workspace=globex or all); a Manager's never crosses workspaces. Figures against SQL."""

from __future__ import annotations

import pytest

from tools.registry import run_tool
from tests.helpers import sql


def ctx(services, user):
    return services.tool_context(services.identity(user))


BY_VENDOR = {"dataset": "invoices", "measures": ["invoice_count", "total_value"], "group_by": ["vendor"]}


def by_vendor(res) -> dict:
    return {r[0]: (r[1], r[2]) for r in res.data["rows"]}


def expected_by_vendor(services, *workspaces) -> dict:
    rows = sql(
        services,
        "SELECT v.name, i.workspace_id, count(*), sum(i.total_amount) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
        "GROUP BY v.name, i.workspace_id",
    )
    out: dict = {}
    for name, ws, n, total in rows:
        if ws in workspaces:
            prev = out.get(name, (0, 0.0))
            out[name] = (prev[0] + n, prev[1] + total)
    return out


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for k, (n, total) in expected.items():
        assert got[k][0] == n and got[k][1] == pytest.approx(total, abs=0.01)


def test_viewer_analyses_but_cannot_export(services):
    victor = ctx(services, "victor")
    res = run_tool("analyze_data", BY_VENDOR, victor)
    assert res.status == "success"
    assert_same(by_vendor(res), expected_by_vendor(services, "acme"))
    res = run_tool("export_report", {"format": "xlsx", "query": BY_VENDOR}, victor)
    assert res.status == "denied" and res.code == "denied" and "can't export reports" in res.message
    assert not any((services.exports_dir).rglob("*.xlsx"))


def test_manager_never_crosses_workspaces(services):
    maya, gita = ctx(services, "maya"), ctx(services, "gita")
    for other in ("globex", "all", "ALL"):
        res = run_tool("analyze_data", {**BY_VENDOR, "workspace": other}, maya)
        assert res.status == "denied" and "own workspace (acme)" in res.message
    res = run_tool("analyze_data", BY_VENDOR, gita)
    assert_same(by_vendor(res), expected_by_vendor(services, "globex"))
    # a vendor both workspaces have (IndiSky Airlines) is counted only in the caller's
    res = run_tool(
        "analyze_data", {"dataset": "invoices", "measures": ["invoice_count"], "filters": {"vendor": "IndiSky"}}, gita
    )
    ((n,),) = sql(
        services,
        "SELECT count(*) FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
        "WHERE i.workspace_id = 'globex' AND v.name = 'IndiSky Airlines'",
    )
    assert res.data["rows"] == [[n]]
    # names of the other workspace are not even found
    res = run_tool(
        "analyze_data",
        {"dataset": "invoices", "measures": ["invoice_count"], "filters": {"vendor": "Metro Cabs"}},
        gita,
    )
    assert res.status == "error" and "couldn't find a vendor called 'Metro Cabs'" in res.message


def test_admin_cross_workspace_analysis_is_explicit(services):
    admin = ctx(services, "admin")
    res = run_tool("analyze_data", BY_VENDOR, admin)  # nothing asked: the admin's own workspace
    assert res.data["workspace_id"] == "acme"
    assert_same(by_vendor(res), expected_by_vendor(services, "acme"))
    res = run_tool("analyze_data", {**BY_VENDOR, "workspace": "globex"}, admin)
    assert res.data["workspace_id"] == "globex"
    assert_same(by_vendor(res), expected_by_vendor(services, "globex"))
    res = run_tool("analyze_data", {**BY_VENDOR, "workspace": "all"}, admin)
    assert res.data["workspace_id"] == "all" and res.sources[0].filters["workspace_id"] == "all"
    assert_same(by_vendor(res), expected_by_vendor(services, "acme", "globex"))
    res = run_tool(
        "analyze_data",
        {"dataset": "sales", "measures": ["sales_value"], "group_by": ["workspace"], "workspace": "all"},
        admin,
    )
    assert {r[0]: r[1] for r in res.data["rows"]} == pytest.approx(
        dict(sql(services, "SELECT workspace_id, sum(amount) FROM sales GROUP BY workspace_id")), abs=0.01
    )
