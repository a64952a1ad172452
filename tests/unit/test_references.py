"""memory/references.py: "these", "the same for X", "that ticket", "the fixed report", "that report" as a typed Resolution.

Tickets and exports resolve with the tools' own visibility rules: what view_tickets shows, what a
download allows. Real SQLite files in tmp_path, semantic memory off.
"""

from __future__ import annotations

from business_data.db import session_scope
from tests.unit.memory_support import (  # noqa: F401  (engine, store are fixtures)
    ADMIN,
    GITA,
    INDISKY,
    MAYA,
    VICTOR,
    converse_a,
    ctx,
    engine,
    store,
)
from business_data.appdb import Export, TicketSubscription
from memory.references import Resolution
from tools.exports import find_export
from tools.ticket_update import UpdateTicketParams, update_ticket
from tools.tickets import (
    CreateTicketParams,
    ViewTicketsParams,
    create_ticket,
    view_tickets,
)


def shown(engine, who, **filters) -> list[str]:
    """The ticket ids view_tickets shows this user, newest first."""
    return [t["ticket_id"] for t in view_tickets(ctx(engine, who), ViewTicketsParams(**filters)).data["tickets"]]


def test_new_thread_resolves_previous_records_to_same_invoices(store):
    converse_a(store)
    r = store.resolve(MAYA, "thread-B", {"records": "previous"})
    assert r.invoice_numbers == INDISKY
    assert r.dataset == "invoices" and "earlier conversation" in r.source
    assert r.params is None and r.ticket_id is None  # those mean "previous filter" / "use this ticket" to the graph
    assert r.tool == "explain_failures" and r.filter_params == {"dataset": "invoices"}
    # the thread's own last result wins over older memory
    mine = {"tool": "filter_data", "dataset": "invoices", "keys": ["INV-X"], "params": {"vendor": "Metro Cabs"}}
    r2 = store.resolve(MAYA, "thread-B", {"records": "previous"}, thread_state={"last_result": mine})
    assert r2.invoice_numbers == ["INV-X"] and r2.source == "this conversation"
    # previous filter
    f = store.resolve(MAYA, "thread-B", {"filter": "previous"})
    assert f.params["vendor"] == "IndiSky Airlines" and f.params["status"] == "failed"
    # nothing to refer to
    m = store.resolve(GITA, "thread-G", {"records": "previous"})
    assert m.missing is True and m.question.endswith(".")


def test_ticket_references(store, engine):
    c = ctx(engine, MAYA)
    t1 = create_ticket(c, CreateTicketParams(title="IndiSky Airlines: 7 invoices failed, GSTIN missing")).data[
        "ticket_id"
    ]
    # one open ticket: "that ticket" is it
    assert store.resolve(MAYA, "new", {"ticket": "previous"}).ticket_id == t1
    t2 = create_ticket(c, CreateTicketParams(title="Metro Cabs: 2 invoices failed, GSTIN mismatch")).data["ticket_id"]
    # two open tickets, nothing in this thread: ask
    r = store.resolve(MAYA, "new", {"ticket": "previous"})
    assert {a["ticket_id"] for a in r.ambiguous} == {t1, t2}
    assert r.question.startswith("Which ticket do you mean") and t1 in r.question and t2 in r.question
    # this thread mentioned one: no question
    store.record_turn(
        identity=MAYA,
        thread_id="new",
        speaker="assistant",
        text=f"Created ticket {t2}",
        tool="create_ticket",
        result_ref={"tool": "create_ticket", "dataset": None, "keys": [], "params": {}, "ticket_id": t2},
    )
    assert store.resolve(MAYA, "new", {"ticket": "previous"}).ticket_id == t2
    assert store.resolve(MAYA, "other", {"ticket": "previous"}, thread_state={"last_ticket_id": t1}).ticket_id == t1
    # explicit ids are checked against what the user may see
    assert store.resolve(MAYA, "x", {"ticket": "1"}).ticket_id == t1
    assert store.resolve(GITA, "x", {"ticket": t1}).missing is True
    # the fixed report: the most recently resolved ticket
    assert store.resolve(MAYA, "x", {"ticket": "fixed"}).missing is True
    update_ticket(ctx(engine, ADMIN), UpdateTicketParams(ticket_id=t1, status="resolved", comment="GSTIN added"))
    assert store.resolve(MAYA, "x", {"ticket": "fixed"}).ticket_id == t1
    rep = store.resolve(MAYA, "x", {"report": "fixed"})
    assert rep.ticket_id == t1 and rep.export_id is None
    recs = store.resolve(MAYA, "x", {"records": "fixed"})
    assert recs.from_ticket == t1 and recs.invoice_numbers == []


def test_report_reference(store, engine, tmp_path):
    assert store.resolve(MAYA, "t", {"report": "previous"}).missing is True
    with session_scope(engine) as s:
        s.add(
            Export(
                export_id="e1",
                owner="maya",
                workspace_id="acme",
                format="csv",
                dataset="invoices",
                rows=7,
                path=str(tmp_path / "e1.csv"),
            )
        )
        s.add(
            Export(
                export_id="e2",
                owner="victor",
                workspace_id="acme",
                format="csv",
                dataset="invoices",
                rows=7,
                path=str(tmp_path / "e2.csv"),
            )
        )
    assert store.resolve(MAYA, "t", {"report": "previous"}).export_id == "e1"
    assert store.resolve(MAYA, "t", {"report": "previous"}, thread_state={"last_export_id": "e9"}).export_id == "e9"
    assert store.resolve(MAYA, "t", {"report": "e2"}).missing is True  # someone else's export


def test_admin_resolves_tickets_exactly_as_view_tickets_shows(store, engine):
    mine = create_ticket(
        ctx(engine, MAYA), CreateTicketParams(title="Metro Cabs: 2 invoices failed, GSTIN mismatch")
    ).data["ticket_id"]
    theirs = create_ticket(ctx(engine, GITA), CreateTicketParams(title="Orbit Freight: 3 invoices failed")).data[
        "ticket_id"
    ]
    assert set(shown(engine, ADMIN, status="open")) == {mine, theirs}  # an Admin sees every ticket, any workspace
    # "that ticket" with nothing in the thread: the open tickets view_tickets shows, and a question
    r = store.resolve(ADMIN, "a1", {"ticket": "previous"})
    assert {a["ticket_id"] for a in r.ambiguous} == set(shown(engine, ADMIN, status="open"))
    # by id: every ticket view_tickets shows
    for tid in shown(engine, ADMIN):
        assert store.resolve(ADMIN, "a1", {"ticket": tid}) == Resolution(
            sources={"ticket": "given"}, ticket_id=tid, source="given"
        )
    # "the fixed report": the most recently resolved of the tickets view_tickets shows
    assert store.resolve(ADMIN, "a1", {"report": "fixed"}).missing is True
    update_ticket(ctx(engine, GITA), UpdateTicketParams(ticket_id=theirs, status="resolved", comment="GSTIN corrected"))
    assert shown(engine, ADMIN, status="resolved") == [theirs]
    assert store.resolve(ADMIN, "a1", {"report": "fixed"}).ticket_id == theirs
    assert store.resolve(ADMIN, "a1", {"ticket": "fixed"}).ticket_id == theirs
    # one open ticket left among those shown: "that ticket" is it
    assert shown(engine, ADMIN, status="open") == [mine]
    assert store.resolve(ADMIN, "a2", {"ticket": "previous"}).ticket_id == mine
    # the working context and welcome line still speak of the Admin's own tickets ("your ticket ...")
    assert store.working_context(ADMIN, "a3", is_new_thread=True)["open_tickets"] == []


def test_manager_cannot_resolve_someone_elses_ticket(store, engine):
    admins = create_ticket(
        ctx(engine, ADMIN), CreateTicketParams(title="Zenith Telecom: duplicate invoice number")
    ).data["ticket_id"]
    gitas = create_ticket(ctx(engine, GITA), CreateTicketParams(title="Orbit Freight: 3 invoices failed")).data[
        "ticket_id"
    ]
    assert shown(engine, MAYA) == []
    for tid in (admins, gitas):  # same workspace or not: not hers
        r = store.resolve(MAYA, "m1", {"ticket": tid})
        assert r.missing is True and tid in r.question and r.ticket_id is None
    assert store.resolve(MAYA, "m1", {"ticket": "previous"}).missing is True
    update_ticket(ctx(engine, ADMIN), UpdateTicketParams(ticket_id=admins, status="resolved"))
    update_ticket(ctx(engine, GITA), UpdateTicketParams(ticket_id=gitas, status="resolved"))
    for kind in ("ticket", "report", "records"):
        assert store.resolve(MAYA, "m1", {kind: "fixed"}).missing is True
    # following a ticket ("notify me") makes it hers to see: in view_tickets and in memory alike
    with session_scope(engine) as s:
        s.add(TicketSubscription(ticket_id=admins, user_id="maya", workspace_id="acme", notify_on="any"))
    assert shown(engine, MAYA) == [admins]
    assert store.resolve(MAYA, "m1", {"ticket": "fixed"}).ticket_id == admins
    assert store.resolve(MAYA, "m1", {"ticket": admins}).ticket_id == admins
    assert store.resolve(MAYA, "m1", {"ticket": gitas}).missing is True


def test_explicit_report_resolves_only_where_its_download_is_allowed(store, engine, tmp_path):
    with session_scope(engine) as s:
        for export_id, owner, ws in (("e1", "maya", "acme"), ("e2", "victor", "acme"), ("e3", "gita", "globex")):
            s.add(
                Export(
                    export_id=export_id,
                    owner=owner,
                    workspace_id=ws,
                    format="csv",
                    dataset="invoices",
                    rows=7,
                    path=str(tmp_path / f"{export_id}.csv"),
                )
            )
    for who in (MAYA, VICTOR, GITA, ADMIN):
        for export_id in ("e1", "e2", "e3"):
            allowed = find_export(engine, who, export_id) is not None  # the download's own rule
            r = store.resolve(who, "t", {"report": export_id})
            assert (r.export_id == export_id) is allowed and bool(r.missing) is not allowed
    assert store.resolve(ADMIN, "t", {"report": "e3"}).export_id == "e3"  # an Admin downloads any export
    assert store.resolve(MAYA, "t", {"report": "e2"}).missing is True
    # "that report" with nothing in the thread is the user's own latest export, never someone else's
    assert store.resolve(ADMIN, "t", {"report": "previous"}).missing is True
