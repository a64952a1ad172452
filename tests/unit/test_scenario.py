"""The sample scenario, in-process through the compiled graph with a SQLite checkpointer."""

from __future__ import annotations

from business_data import clock

import csv
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, text

from business_data.appdb import Export, Notification, Ticket
from business_data.db import session_scope
from graph.builder import compile_graph
from tools.registry import run_tool

from ..conftest import make_services
from ..helpers import answer, calls, cfg, expected_indisky_failed, turn, turn_and_answer


def test_sample_scenario_end_to_end(services, app_graph):
    expected = expected_indisky_failed(services.business)
    assert len(expected) == 7
    maya = cfg("maya", "scenario")

    out = turn(app_graph, maya, "Filter invoices for last month, vendor=IndiSky, status=failed")
    assert calls(out)[0][0] == "filter_data"
    data = out["result"]["data"]
    assert data["filtered_records"] == 7
    assert {r["invoice_number"] for r in data["results"]} == expected

    out = turn(app_graph, maya, "Why did these fail?")
    assert calls(out)[0][0] == "explain_failures"
    assert set(calls(out)[0][1]["invoice_numbers"]) == expected
    assert out["response"].startswith("7 of 7 failed: GSTIN missing")

    out = turn(app_graph, maya, "Create a ticket and notify me when fixed", asks=True)
    assert out["pending_confirmation"]["steps"][0]["tool"] == "create_ticket" and not calls(out)
    with session_scope(services.app) as s:
        assert s.scalars(select(Ticket)).all() == []  # nothing written before the yes
    out = answer(app_graph, maya, "yes")
    assert calls(out)[0][0] == "create_ticket"
    ticket_id = out["result"]["data"]["ticket_id"]
    with session_scope(services.app) as s:
        t = s.scalars(select(Ticket).where(Ticket.ticket_id == ticket_id)).one()
        assert set(t.record_ids) == expected and t.created_by == "maya" and t.status == "open"
        assert "IndiSky" in t.title

    # someone fixes it: the Admin resolves the ticket -> maya (subscribed) is notified
    admin_ctx = services.tool_context(services.identity("admin"))
    res = run_tool(
        "update_ticket", {"ticket_id": ticket_id, "status": "resolved", "comment": "GSTIN added by vendor"}, admin_ctx
    )
    assert res.status == "success" and res.data["notified"] == ["maya"]
    with session_scope(services.app) as s:
        notes = s.scalars(select(Notification).where(Notification.user_id == "maya")).all()
        assert len(notes) == 1 and ticket_id in notes[0].message and "resolved" in notes[0].message

    # next day, a new thread: the fixed report
    out = turn(app_graph, cfg("maya", "next-day"), "download the fixed report", asks=False)  # a download: no question
    assert calls(out)[0][0] == "export_report"
    export_id = out["result"]["data"]["export_id"]
    with session_scope(services.app) as s:
        e = s.get(Export, export_id)
        path, owner, ws = Path(e.path), e.owner, e.workspace_id
    assert owner == "maya" and ws == "acme" and path.is_file()
    with open(path, newline="") as f:
        numbers = [row["invoice_number"] for row in csv.DictReader(f)]
    assert sorted(numbers) == sorted(expected)


def test_threads_persist_across_restart(tmp_path):
    """A new process (fresh services + checkpointer on the same files) continues the thread."""
    s1 = make_services(tmp_path)
    g1 = compile_graph(s1)
    turn(g1, cfg("maya", "t"), "failed IndiSky invoices from last month")
    g2 = compile_graph(make_services(tmp_path))
    out = turn(g2, cfg("maya", "t"), "why did these fail?")
    assert out["result"]["data"]["failed"] == 7
    assert len([m for m in out["messages"] if m.type == "human"]) == 2


def test_these_without_previous_results_asks(app_graph):
    out = turn(app_graph, cfg("maya", "fresh"), "why did these fail?")
    assert not calls(out)
    assert "which" in out["response"].lower() or "?" in out["response"]


def test_welcome_back_once_then_quiet(services, app_graph):
    maya = cfg("maya", "w1")
    turn(app_graph, maya, "failed IndiSky invoices from last month")
    tid = turn_and_answer(app_graph, maya, "create a ticket for these", "yes", asks=True)["result"]["data"]["ticket_id"]
    run_tool(
        "update_ticket", {"ticket_id": tid, "status": "resolved"}, services.tool_context(services.identity("admin"))
    )
    out = turn(app_graph, cfg("maya", "w2"), "show my tickets")
    # the news is its own field, apart from the answer (which is about the tickets asked for)
    assert out["welcome"].startswith("Welcome back") and tid in out["welcome"] and "resolved" in out["welcome"]
    assert not out["response"].startswith("Welcome") and out["response"].startswith("1 ticket")
    out = turn(app_graph, cfg("maya", "w3"), "show my tickets")
    assert out["welcome"] is None  # the news was told once; a new thread minutes later is not a return
    with session_scope(services.app) as s:
        assert all(n.read_at is not None for n in s.scalars(select(Notification).where(Notification.user_id == "maya")))


def test_new_thread_resolves_those_invoices_again(services, app_graph):
    """Thread A filters; a new thread B, same user, "show me those invoices again" -> the same rows."""
    first = turn(app_graph, cfg("maya", "day1"), "failed IndiSky invoices from last month")
    expected = sorted(r["invoice_number"] for r in first["result"]["data"]["results"])
    out = turn(app_graph, cfg("maya", "day2"), "show me those invoices again")
    assert calls(out)[0][0] == "filter_data"
    assert sorted(r["invoice_number"] for r in out["result"]["data"]["results"]) == expected
    # another user has no such memory to resolve
    out = turn(app_graph, cfg("victor", "v-day2"), "show me those invoices again")
    assert not calls(out) and "?" in out["response"]


def test_notify_me_when_fixed_means_the_fix(services):
    """ "Tell me when it's fixed" notifies on resolution, not on every comment; "keep me posted" on every update."""
    maya = services.tool_context(services.identity("maya"))
    admin = services.tool_context(services.identity("admin"))
    fixed = run_tool("create_ticket", {"title": "GSTIN fix", "notify_on": "resolved"}, maya).data["ticket_id"]
    posted = run_tool("create_ticket", {"title": "Keep me posted"}, maya).data["ticket_id"]
    for tid in (fixed, posted):
        run_tool("update_ticket", {"ticket_id": tid, "comment": "called the vendor"}, admin)
    run_tool("update_ticket", {"ticket_id": fixed, "status": "resolved"}, admin)
    with session_scope(services.app) as s:
        notes = [
            (n.ticket_id, n.message) for n in s.scalars(select(Notification).where(Notification.user_id == "maya"))
        ]
    assert [t for t, _ in notes if t == fixed] == [fixed] and "resolved" in dict(notes)[fixed]
    assert [t for t, _ in notes if t == posted] == [posted] and "comment" in dict(notes)[posted]


def test_customers_resolve_against_the_sales_data(services, app_graph):
    """Customer names come from the workspace's own sales rows (not a fixed list)."""
    out = turn(app_graph, cfg("maya", "cust"), "sales to coastal foods last quarter")
    params = calls(out)[0][1]
    assert params["dataset"] == "sales" and params["customer"] == "Coastal Foods"
    with services.business.connect() as c:
        n = c.execute(
            text(
                "SELECT COUNT(*) FROM sales WHERE workspace_id='acme' AND customer='Coastal Foods' "
                "AND sale_date >= :a AND sale_date < :b"
            ),
            dict(zip("ab", _last_quarter())),
        ).scalar()
    assert out["result"]["data"]["filtered_records"] == n > 0


def _last_quarter():
    today = clock.today()
    q0 = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return q0 - relativedelta(months=3), q0
