"""Bad input gets a clear answer, and nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select, text

from business_data.appdb import Export, Ticket
from business_data.db import session_scope
from tools.registry import run_tool

from ..helpers import calls, cfg, turn


def _nothing_written(services):
    with session_scope(services.app) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(Export)) == 0


def test_unknown_vendor_did_you_mean(services, app_graph):
    out = turn(app_graph, cfg("maya", "b1"), "show invoices from vendor=Indsky Air")
    assert "IndiSky Airlines" in out["response"]
    res = run_tool("filter_data", {"vendor": "Skyhigh Hotelz"}, services.tool_context(services.identity("maya")))
    assert res.status in ("success", "error")
    res = run_tool("filter_data", {"vendor": "Acme Widgets"}, services.tool_context(services.identity("maya")))
    assert res.status == "error" and "couldn't find a vendor called 'Acme Widgets'" in res.message


def test_impossible_dates(services):
    ctx = services.tool_context(services.identity("maya"))
    res = run_tool("filter_data", {"date_from": "2026-02-30"}, ctx)
    assert res.status == "error" and "not a real date" in res.message
    res = run_tool("filter_data", {"date_from": "2026-05-01", "date_to": "2026-04-01"}, ctx)
    assert res.status == "error" and "empty" in res.message
    res = run_tool("filter_data", {"period": "2026-13"}, ctx)
    assert res.status == "error" and "not a real month" in res.message
    res = run_tool("filter_data", {"period": "next blue moon"}, ctx)
    assert res.status == "error" and "don't know the period" in res.message


def test_unknown_dataset_and_fields(services):
    ctx = services.tool_context(services.identity("maya"))
    res = run_tool("filter_data", {"dataset": "payroll"}, ctx)
    assert res.status == "error" and "payroll" in res.message and "invoices" in res.message
    res = run_tool("filter_data", {"colour": "red"}, ctx)
    assert res.status == "error" and "colour" in res.message
    res = run_tool("filter_data", {"min_amount": 500, "max_amount": 100}, ctx)
    assert res.status == "error" and "minimum" in res.message
    res = run_tool("no_such_tool", {}, ctx)
    assert res.status == "error" and "no tool called" in res.message


def test_sql_injection_is_a_literal(services):
    ctx = services.tool_context(services.identity("maya"))
    evil = "x' OR '1'='1"
    res = run_tool("filter_data", {"dataset": "sales", "customer": evil}, ctx)
    assert res.status == "success" and res.data["filtered_records"] == 0
    res = run_tool("filter_data", {"vendor": "IndiSky'; DROP TABLE invoices; --"}, ctx)
    assert res.status == "error"
    res = run_tool("filter_data", {"invoice_numbers": ["' OR 1=1 --"]}, ctx)
    assert res.data["filtered_records"] == 0
    with services.business.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM invoices")).scalar() > 2000


def test_empty_message(services, app_graph):
    out = turn(app_graph, cfg("maya", "b2"), "   ")
    assert not calls(out) and out["response"]
    _nothing_written(services)


def test_unknown_user_gets_no_data(app_graph):
    out = turn(app_graph, cfg("mallory", "b3"), "show all invoices")
    assert not calls(out) and "don't know who you are" in out["response"]


def test_failed_write_leaves_nothing(services, monkeypatch):
    """An export whose bookkeeping fails leaves no file and no row."""
    import tools.exports as exports

    ctx = services.tool_context(services.identity("maya"))

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports.WRITERS, "csv", boom)
    res = run_tool("export_report", {"vendor": "IndiSky", "format": "csv"}, ctx)
    assert res.status == "error" and "error id" in res.message and "Traceback" not in res.message
    assert not any(p.is_file() for p in services.exports_dir.rglob("*"))
    _nothing_written(services)


def test_vendor_matching_is_careful():
    from tools.names import best_match as m

    names = ["IndiSky Airlines", "SkyHigh Hotels", "Metro Cabs", "Vayu Travels", "Zenith Telecom"]
    assert m("indsky", names)[0] == "IndiSky Airlines"  # misspelt, clear winner
    assert m("IndiSky's", names)[0] == "IndiSky Airlines"
    assert m("Skyhigh Hotelz", names)[0] == "SkyHigh Hotels"
    assert m("sky", names) == (None, ["IndiSky Airlines", "SkyHigh Hotels"])  # fits two: ambiguous
    assert m("travel", names)[0] is None and m("the", names) == (None, [])  # fragments don't guess
    assert m("Acme Widgets", names) == (None, [])


def test_unknown_dataset_in_chat(services, app_graph):
    out = turn(app_graph, cfg("maya", "b4"), "show me payroll data")
    assert not calls(out) and "don't have payroll data" in out["response"] and "invoices, sales" in out["response"]
