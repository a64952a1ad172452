"""Confirmation before writes: pause with interrupt(), resume with Command(resume=...) after a
process restart, "no" writes nothing, unclear answers are asked again, the direct path asks too,
and the LangServe mapping {"resume": ...} -> Command(resume=...)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from langgraph.types import Command
from sqlalchemy import select

from business_data.appdb import Export, Ticket
from business_data.db import session_scope
from tests.conftest import ROOT, make_services
from tests.helpers import answer, cfg, indisky_last_month, turn, turn_and_answer
from tests.helpers import count_rows

QUESTION = "Create ticket 'IndiSky Airlines: 7 invoices failed, GSTIN missing' for maya? yes/no"


def compiled(services):
    from graph.builder import compile_graph
    from graph.checkpointers import sqlite_checkpointer

    return compile_graph(services, checkpointer=sqlite_checkpointer(services.settings.checkpoint_path), router=False)


def exported_files(services) -> list:
    return [p for p in services.exports_dir.rglob("*") if p.is_file()]


@pytest.mark.slow  # subprocesses: in `make test`, not the quick loop
def test_paused_plan_survives_a_restart_and_creates_exactly_one_ticket(tmp_path):
    # process 1: start the investigation; it pauses before the ticket, then the process exits
    script = textwrap.dedent(f"""
        import json
        from tests.conftest import make_services
        from tests.unit.test_confirmation import compiled
        from tests.helpers import cfg
        from pathlib import Path
        services = make_services(Path({str(tmp_path)!r}))
        out = compiled(services).invoke({{"messages": [("user", "investigate the IndiSky failures from last month")]}}, cfg("maya", "plan-restart"))
        print(json.dumps({{"paused": bool(out.get("__interrupt__")), "response": out["response"],
                          "steps": [s["step"] for s in out["step_statuses"]]}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = json.loads(proc.stdout.strip().splitlines()[-1])
    services = make_services(tmp_path)
    seven_of = "{} of {} failed".format(*indisky_last_month(services.business))  # "7 of N": N from the data
    assert first["paused"] and first["steps"] == ["filter", "analyse", "propose"]
    assert first["response"].endswith("\n\n" + QUESTION) and seven_of in first["response"]

    # process 2 (fresh Services, fresh SqliteSaver on the same files): the question is still there
    assert count_rows(services.app, Ticket) == 0
    graph = compiled(services)
    state = graph.get_state(cfg("maya", "plan-restart"))
    assert state.values["pending_confirmation"]["question"] == QUESTION
    assert (
        state.values["response"].endswith("\n\n" + QUESTION) and seven_of in state.values["response"]
    )  # findings first
    assert state.interrupts and state.interrupts[0].value["question"] == QUESTION
    out = graph.invoke(Command(resume="yes"), cfg("maya", "plan-restart"))
    assert not out.get("__interrupt__") and out["pending_confirmation"] is None
    steps = out["step_statuses"]
    assert [s["step"] for s in steps] == ["filter", "analyse", "propose", "create_ticket"]
    assert all(s["attempts"] == 1 and s["status"] == "success" for s in steps)  # nothing before the pause ran again
    with session_scope(services.app) as s:
        tickets = s.scalars(select(Ticket)).all()
        assert [(t.title, t.created_by, len(t.record_ids)) for t in tickets] == [
            ("IndiSky Airlines: 7 invoices failed, GSTIN missing", "maya", 7)
        ]
        ticket_id = tickets[0].ticket_id
    assert ticket_id in out["response"] and out["last_ticket_id"] == ticket_id
    # a later turn on the same thread does not replay the write
    turn(graph, cfg("maya", "plan-restart"), "show my tickets")
    assert count_rows(services.app, Ticket) == 1


def test_no_writes_nothing(tmp_path):
    services = make_services(tmp_path)
    graph = compiled(services)
    out = turn_and_answer(
        graph, cfg("maya", "no-1"), "investigate the IndiSky failures from last month", "no", asks=True
    )
    assert count_rows(services.app, Ticket) == 0
    assert out["step_statuses"][-1] == {
        "step": "create_ticket",
        "status": "cancelled",
        "attempts": 0,
        "message": "You said no, so nothing was written.",
    }
    assert "Nothing was written" in out["response"]
    assert "{} of {} failed".format(*indisky_last_month(services.business)) in out["response"]

    out = turn_and_answer(
        graph, cfg("maya", "no-3"), "investigate the IndiSky failures from last month", False, asks=True
    )  # JSON false
    assert count_rows(services.app, Ticket) == 0 and "Nothing was written" in out["response"]


def test_unclear_answer_is_asked_again(tmp_path):
    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "maybe-1")
    turn(graph, c, "investigate the IndiSky failures from last month", asks=True)
    out = answer(graph, c, "hmm, not sure", asks=True)
    assert count_rows(services.app, Ticket) == 0
    assert out["response"] == "Please answer yes or no. " + QUESTION
    assert graph.get_state(c).values["pending_confirmation"]["question"] == out["response"]
    answer(graph, c, "y")
    assert count_rows(services.app, Ticket) == 1


def test_direct_writes_ask_first(tmp_path):
    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "direct-1")
    turn(graph, c, "Filter invoices for last month, vendor=IndiSky, status=failed")
    out = turn(graph, c, "Create a ticket and notify me when fixed", asks=True)
    assert out["response"].endswith(QUESTION)
    assert out["pending_confirmation"]["steps"][0]["tool"] == "create_ticket"
    assert count_rows(services.app, Ticket) == 0
    out = answer(graph, c, "ok")
    assert out["tool_calls"][0]["tool"] == "create_ticket" and out["result"]["status"] == "success"
    assert count_rows(services.app, Ticket) == 1

    # an export is a download of data the user may already see: no question, the file is there at once
    out = turn(graph, c, "export these as excel", asks=False)
    assert out["pending_confirmation"] is None
    assert (
        out["result"]["data"]["rows"] == 7
        and count_rows(services.app, Export) == 1
        and len(exported_files(services)) == 1
    )

    # read-only tools never ask
    out = turn(graph, c, "why did these fail?", asks=False)
    assert out["pending_confirmation"] is None


def test_a_new_message_replaces_a_pending_question(tmp_path):
    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "new-msg")
    turn(graph, c, "investigate the IndiSky failures from last month", asks=True)
    out = turn(graph, c, "show my tickets", asks=False)
    assert out["pending_confirmation"] is None
    assert count_rows(services.app, Ticket) == 0


def test_resume_input_maps_to_command(tmp_path):
    """{"resume": ...} (what LangServe clients send) resumes the paused thread; the HTTP side is in test_http."""
    from graph.builder import graph_input

    assert isinstance(graph_input({"resume": "yes"}), Command)
    assert graph_input({"messages": []}) == {"messages": []}
    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "ls-1")
    out = graph.invoke(graph_input({"messages": [("user", "investigate the IndiSky failures from last month")]}), c)
    assert out["response"].endswith(QUESTION)
    out = graph.invoke(graph_input({"resume": "yes"}), c)
    assert count_rows(services.app, Ticket) == 1 and "Created ticket" in out["response"]


def test_a_confirmed_request_never_makes_two_tickets(tmp_path):
    """If a process dies after writing the ticket but before saving the checkpoint, the resumed
    write carries the same request key and returns the first ticket instead of a second one."""
    from sqlalchemy import select

    from business_data.db import session_scope
    from tools.registry import run_tool

    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "idem")
    turn(graph, c, "failed IndiSky invoices from last month")
    turn_and_answer(graph, c, "create a ticket for these", "yes", asks=True)
    with session_scope(services.app) as s:
        t = s.scalars(select(Ticket)).one()
        key, ticket_id = t.request_key, t.ticket_id
    assert key  # the confirmed write carried its key
    ctx = services.tool_context(services.identity("maya"))
    again = run_tool("create_ticket", {"invoice_numbers": t.record_ids, "request_key": key}, ctx)  # the replay
    assert again.status == "success" and again.data["ticket_id"] == ticket_id and again.data["repeated"]
    assert count_rows(services.app, Ticket) == 1


def test_turn_helper_fails_when_the_question_is_not_the_expected_one(tmp_path):
    """tests.helpers.turn never answers on its own: it fails both ways when `asks` is wrong."""
    services = make_services(tmp_path)
    graph = compiled(services)
    c = cfg("maya", "helper")
    with pytest.raises(AssertionError, match="expected a yes/no question"):
        turn(graph, c, "Filter invoices for last month, vendor=IndiSky, status=failed", asks=True)
    with pytest.raises(AssertionError, match="asked a question that was not expected"):
        turn(graph, c, "create a ticket for these", asks=False)
    answer(graph, c, "no")
    with pytest.raises(AssertionError, match="no pending question"):
        answer(graph, c, "yes")
    assert count_rows(services.app, Ticket) == 0
