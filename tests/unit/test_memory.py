"""Memory: episodic turns, working context, semantic search, isolation, forgetting.

Reference resolution is in test_references.py. Real SQLite files in tmp_path. Tests marked
`model` load all-MiniLM-L6-v2 (once per process, ~6 s) and one of them starts a second Python process;
the rest run with semantic=False and never import torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import func, select, update

from business_data import clock
from business_data.db import session_scope
from business_data.appdb import MemoryEmbedding, MemoryTurn
from memory.narrate import when
from memory.store import MemoryStore
from tests.unit.memory_support import (  # noqa: F401  (engine, store, sstore are fixtures)
    ADMIN,
    GITA,
    INDISKY,
    MAYA,
    MAYA_GLOBEX,
    REPO,
    VICTOR,
    converse_a,
    ctx,
    engine,
    model,
    sstore,
    store,
)
from business_data.appdb import Notification
from tools.ticket_update import UpdateTicketParams, update_ticket
from tools.tickets import CreateTicketParams, create_ticket

# -- episodic memory and working context (no model) ------------------------------------------------------


def test_schema_is_idempotent_and_store_is_cheap(engine):
    s = MemoryStore(engine, semantic=True)  # no model load, no DB access
    s.init_schema()
    s.init_schema()
    assert s.stats()["pending_embeddings"] == 0


def test_record_and_recent_turns(store):
    converse_a(store)
    turns = store.recent_turns(MAYA, "thread-A", limit=3)
    assert [t["speaker"] for t in turns] == ["assistant", "user", "assistant"]  # oldest first, last 3
    assert turns[-1]["text"].startswith("7 of 7 failed")
    assert store.recent_turns(MAYA, "thread-B") == []
    assert store.recent_turns(VICTOR, "thread-A") == []  # another user's thread with the same id
    with pytest.raises(ValueError):
        store.record_turn(identity=MAYA, thread_id="t", speaker="system", text="x")


def test_last_result_sets_newest_first(store):
    converse_a(store)
    store.record_turn(
        identity=MAYA,
        thread_id="thread-C",
        speaker="assistant",
        text="Found 2 SkyHigh invoices.",
        tool="filter_data",
        result_ref={
            "tool": "filter_data",
            "dataset": "invoices",
            "keys": ["INV-1", "INV-2"],
            "params": {"vendor": "SkyHigh Hotels"},
        },
    )
    sets = store.last_result_sets(MAYA)
    assert [s["keys"] for s in sets[:2]] == [["INV-1", "INV-2"], INDISKY]
    assert sets[0]["thread_id"] == "thread-C" and sets[0]["params"] == {"vendor": "SkyHigh Hotels"}
    assert {"turn_id", "thread_id", "created_at", "tool", "dataset", "keys", "params"} <= sets[0].keys()
    assert [s["thread_id"] for s in store.last_result_sets(MAYA, thread_id="thread-A")] == ["thread-A", "thread-A"]
    assert store.last_result_sets(GITA) == []


def test_welcome_back_mentions_resolved_ticket(store, engine):
    converse_a(store)
    t1 = create_ticket(
        ctx(engine, MAYA), CreateTicketParams(title="IndiSky Airlines: 7 invoices failed, GSTIN missing")
    ).data["ticket_id"]
    update_ticket(ctx(engine, ADMIN), UpdateTicketParams(ticket_id=t1, status="resolved", comment="GSTINs added"))
    with session_scope(engine) as s:  # the fix happened yesterday
        s.execute(update(Notification).values(created_at=datetime.now(UTC) - timedelta(days=1)))
    wc = store.working_context(MAYA, "thread-B", "download the fixed report", is_new_thread=True)
    assert (
        wc["welcome"]
        == f"Welcome back - your ticket {t1} about the 7 failed IndiSky Airlines invoices was resolved yesterday."
    )
    assert [t["ticket_id"] for t in wc["open_tickets"]] == [t1]  # resolved is not closed
    assert len(wc["unread_notifications"]) == 1 and wc["unread_notifications"][0]["ticket_id"] == t1
    assert wc["last_results"][0]["keys"] == INDISKY
    assert wc["usage"]["tools"][0]["name"] in ("filter_data", "explain_failures")
    assert wc["usage"]["vendors"] == [{"name": "IndiSky Airlines", "count": 1}]
    # not a new thread, or a first-time user: no welcome
    assert store.working_context(MAYA, "thread-B", "hi", is_new_thread=False)["welcome"] is None
    assert store.working_context(GITA, "g1", "hi", is_new_thread=True)["welcome"] is None


def test_usage_counts_the_last_tool_exchanges_in_this_workspace(store):
    """Usage patterns: tools, vendors and datasets of the user's last `scan` tool exchanges (a listing
    without a dataset counts as invoices; ties go to the most recent), this workspace only."""
    from memory.context import usage

    said = [
        ("filter_data", {"vendor": "IndiSky Airlines"}),
        ("filter_data", {"vendor": "SkyHigh Hotels", "dataset": "invoices"}),
        ("analyze_data", {"dataset": "sales"}),
        ("filter_data", {"vendor": "IndiSky Airlines", "status": "failed"}),
        ("export_report", {"format": "csv"}),
        ("filter_data", {"vendor": "SkyHigh Hotels"}),
        ("filter_data", {"dataset": "transactions", "vendor": ""}),
    ]
    for i, (tool, params) in enumerate(said):
        store.record_turn(identity=MAYA, thread_id="u1", speaker="user", text=f"ask {i}", tool=tool, params=params)
        store.record_turn(
            identity=MAYA, thread_id="u1", speaker="assistant", text=f"answer {i}", tool=tool, params=params
        )
    store.record_turn(identity=MAYA, thread_id="u1", speaker="assistant", text="hello")  # no tool: not an exchange
    store.record_turn(
        identity=MAYA_GLOBEX, thread_id="g", speaker="assistant", text="x", tool="filter_data", params={"vendor": "Zed"}
    )
    u = usage(store.episodic, MAYA, "u1")
    assert u["exchanges"] == 7 and u["history_elsewhere"] is False and u["_last_seen"] is None
    assert u["tools"] == [
        {"name": "filter_data", "count": 5, "label": "lists of records"},
        {"name": "export_report", "count": 1, "label": "exports"},
        {"name": "analyze_data", "count": 1, "label": "totals, breakdowns and trends"},
    ]
    # IndiSky and SkyHigh tie at 2: SkyHigh was asked about last
    assert u["vendors"] == [{"name": "SkyHigh Hotels", "count": 2}, {"name": "IndiSky Airlines", "count": 2}]
    assert u["datasets"] == [
        {"name": "invoices", "count": 5},
        {"name": "transactions", "count": 1},
        {"name": "sales", "count": 1},
    ]
    assert usage(store.episodic, MAYA, "u1", scan=2)["vendors"] == [{"name": "SkyHigh Hotels", "count": 1}]
    elsewhere = usage(store.episodic, MAYA, "u2")
    assert elsewhere["history_elsewhere"] is True and elsewhere["_last_seen"] is not None
    assert usage(store.episodic, GITA, "u1")["exchanges"] == 0


def test_welcome_with_only_history_comes_once_per_return(store):
    """With no news, a new thread right after the last one is not a return: no welcome. After a break
    (30 minutes or more) the first new thread is welcomed with what the user was looking at."""
    converse_a(store)
    assert store.working_context(MAYA, "thread-B", is_new_thread=True)["welcome"] is None
    later = datetime.now(UTC) + timedelta(hours=2)
    w = store.working_context(MAYA, "thread-B", is_new_thread=True, now=later)["welcome"]
    day = "today" if later.astimezone(clock.zone()).date() == clock.today() else "yesterday"  # (late at night)
    assert w.startswith(f"Welcome back - last time ({day}) you were looking at 7 failed invoices from IndiSky Airlines")
    assert (
        store.working_context(MAYA, "thread-B", is_new_thread=True, now=datetime.now(UTC) + timedelta(minutes=5))[
            "welcome"
        ]
        is None
    )


def test_humanised_dates():
    now = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    assert when(now - timedelta(hours=1), now) == "today"
    assert when(now - timedelta(days=1), now) == "yesterday"
    assert when(now - timedelta(days=3), now).startswith("on ")
    assert when(now - timedelta(days=30), now) == "on 10 February"
    # calendar days are India's (FINKRAFT_TIMEZONE): 23:30 IST on the 12th, seen at 00:30 IST on the 13th, is
    # "yesterday", although both instants are on the 12th in UTC; and 06:00 UTC is "today" from 23:00 UTC
    assert when(datetime(2026, 3, 12, 18, 0, tzinfo=UTC), datetime(2026, 3, 12, 19, 0, tzinfo=UTC)) == "yesterday"
    assert when(datetime(2026, 3, 12, 19, 0, tzinfo=UTC), datetime(2026, 3, 12, 23, 0, tzinfo=UTC)) == "today"


def test_keyword_fallback_and_isolation(store):
    converse_a(store)
    converse_a(store, who=VICTOR, thread="v1")
    converse_a(store, who=MAYA_GLOBEX, thread="mg1")
    hits = store.search(MAYA, "IndiSky failed invoices", k=3)
    assert hits and all(h["thread_id"] == "thread-A" for h in hits)
    assert store.search(MAYA, "IndiSky", k=5, exclude_thread="thread-A") == []
    assert store.search(GITA, "IndiSky failed invoices") == []
    assert {h["thread_id"] for h in store.search(MAYA_GLOBEX, "IndiSky", k=10)} == {"mg1"}


def test_forget_without_model(store):
    converse_a(store)
    converse_a(store, who=VICTOR, thread="v1")
    out = store.forget(MAYA)
    assert out["turns"] == 4 and out["thread_ids"] == ["thread-A"]
    assert store.count(MAYA) == {"turns": 0, "embeddings": 0, "index_entries": 0}
    assert store.search(MAYA, "IndiSky") == [] and store.last_result_sets(MAYA) == []
    assert store.count(VICTOR)["turns"] == 4


# -- semantic memory (real model) ---------------------------------------------------------------------


@model
def test_semantic_search_finds_related_memory_in_other_threads(sstore):
    converse_a(sstore)
    sstore.record_turn(identity=MAYA, thread_id="thread-S", speaker="user", text="Show me sales by region for Q2")
    assert sstore.flush(60)
    hits = sstore.search(MAYA, "airline bills rejected because the tax registration number was absent", k=2)
    assert hits and hits[0]["thread_id"] == "thread-A" and hits[0]["score"] > 0.3
    assert "GSTIN" in hits[0]["text"] or "IndiSky" in hits[0]["text"]
    assert "match" not in hits[0]  # semantic, not keyword
    wc = sstore.working_context(MAYA, "thread-new", "why did the IndiSky invoices fail", is_new_thread=True)
    assert any(r["thread_id"] == "thread-A" for r in wc["related"])
    assert sstore.search(MAYA, "regional sales", k=1, exclude_thread="thread-A")[0]["thread_id"] == "thread-S"


@model
def test_repeated_questions_do_not_crowd_out_other_memories(sstore):
    """A user who asks the same thing every day: search returns each text once and still reaches the
    other memories behind dozens of copies (the over-fetch widens; signatures are kept in process)."""
    for i in range(60):
        sstore.record_turn(
            identity=MAYA, thread_id=f"daily-{i}", speaker="user", text="failed IndiSky invoices last month"
        )
    sstore.record_turn(
        identity=MAYA, thread_id="gst", speaker="user", text="IndiSky invoices rejected for a missing GSTIN"
    )
    sstore.record_turn(identity=MAYA, thread_id="pay", speaker="user", text="which IndiSky bills are still unpaid")
    assert sstore.flush(120)
    hits = sstore.search(MAYA, "failed IndiSky invoices last month", k=3, exclude_thread="daily-59")
    texts = [h["text"] for h in hits]
    assert len(hits) == 3 and len(set(texts)) == 3, texts
    assert texts[0] == "failed IndiSky invoices last month" and hits[0]["thread_id"] != "daily-59"
    assert {h["thread_id"] for h in hits[1:]} == {"gst", "pay"}
    again = sstore.search(MAYA, "failed IndiSky invoices last month", k=3, exclude_thread="daily-59")
    assert [h["turn_id"] for h in again] == [h["turn_id"] for h in hits]  # the same answer from kept signatures


@model
def test_semantic_isolation_between_users_and_workspaces(sstore):
    converse_a(sstore)  # maya @ acme
    sstore.record_turn(identity=VICTOR, thread_id="v1", speaker="user", text="list pending Zenith Telecom invoices")
    sstore.record_turn(
        identity=MAYA_GLOBEX, thread_id="mg", speaker="user", text="IndiSky failed invoices GSTIN missing in globex"
    )
    assert sstore.flush(60)
    q = "failed IndiSky invoices with missing GSTIN"
    assert {h["thread_id"] for h in sstore.search(MAYA, q, k=20)} == {"thread-A"}
    assert {h["thread_id"] for h in sstore.search(VICTOR, q, k=20)} == {"v1"}
    assert {h["thread_id"] for h in sstore.search(MAYA_GLOBEX, q, k=20)} == {"mg"}
    assert sstore.search(GITA, q, k=20) == []
    parts = set(sstore.index.parts)
    assert ("gita", "globex") not in parts or sstore.index.parts[("gita", "globex")].size == 0
    assert sstore.index.parts[("maya", "acme")].size == 4 and sstore.index.parts[("maya", "globex")].size == 1


def _embedded_turn(services, app_graph, message: str, thread: str) -> tuple[str, dict]:
    """Run one turn through the graph; what memory embeds for its answer, from the stored row alone (the
    background worker and the backfill read the same columns), and that answer's typed payload."""
    from memory.semantic import embedding_text
    from tests.helpers import cfg, turn

    turn(app_graph, cfg("maya", thread), message)
    with session_scope(services.app) as s:
        row = s.execute(
            select(MemoryTurn).where(MemoryTurn.thread_id == thread, MemoryTurn.speaker == "assistant")
        ).scalar_one()
        return embedding_text(row.text, row.tool, row.params, row.answer), dict(row.answer)


def test_an_answer_is_embedded_from_its_payload_not_its_record_lines(services, app_graph, monkeypatch):
    """Memory embeds a listing's words and the first keys that are names, from the typed answer: the record
    lines the text shows are a rendering detail. Written another way, the embedding stays the same."""
    from graph import responses

    message = "failed IndiSky invoices from last month"
    first, payload = _embedded_turn(services, app_graph, message, "emb-1")
    monkeypatch.setattr(responses, "RECORD_BULLET", "• ")
    monkeypatch.setattr(responses, "FIELD_SEP", " ~ ")
    again, _ = _embedded_turn(services, app_graph, message, "emb-2")
    with session_scope(services.app) as s:
        shown = s.execute(
            select(MemoryTurn.text).where(MemoryTurn.thread_id == "emb-2", MemoryTurn.speaker == "assistant")
        )
        assert "\n• INV-" in shown.scalar_one()  # the text shows its records the new way
    assert first == again
    assert first.startswith(payload["text"]) and "INV-" not in first  # numbers are found by exact match
    assert "[filter data: " in first and "vendor IndiSky" in first
    vendors, _ = _embedded_turn(services, app_graph, "list all vendors", "emb-3")
    with services.business.connect() as c:
        from sqlalchemy import text

        names = [r[0] for r in c.execute(text("SELECT name FROM vendors WHERE workspace_id = 'acme' ORDER BY name"))]
    assert sum(n in vendors for n in names) >= min(5, len(names)) - 1  # a listing of names keeps its names


def test_a_question_is_embedded_as_written():
    from memory.semantic import embedding_text

    assert embedding_text("  why did these fail?  ", "explain_failures", {}) == "why did these fail?"
    steps = "Next steps:\n- ask the vendor for a GSTIN\n- re-submit the invoices"
    assert embedding_text(steps, None, None) == steps


def _named_turns(mem) -> int:
    """Maya's listing that showed INV-ACM-2610-00220, and other people's turns naming the same invoice."""
    rows = "- INV-ACM-2610-00220 | IndiSky Airlines | 2026-10-31 | ₹28,517.72 | failed - GSTIN missing"
    mem.record_turn(identity=MAYA, thread_id="old", speaker="user", text="failed invoices from indisky")
    shown = mem.record_turn(
        identity=MAYA,
        thread_id="old",
        speaker="assistant",
        text=f"Found 1 invoice (vendor IndiSky Airlines, status failed), totalling ₹28,517.72.\n{rows}",
        tool="filter_data",
        params={"vendor": "IndiSky Airlines", "status": "failed"},
        result_ref={"tool": "filter_data", "dataset": "invoices", "keys": ["INV-ACM-2610-00220"]},
    )
    mem.record_turn(identity=MAYA, thread_id="sales", speaker="user", text="sales in the north last quarter")
    mem.record_turn(identity=MAYA, thread_id="sales", speaker="user", text="top 5 vendors by value")
    for other in (VICTOR, MAYA_GLOBEX):
        mem.record_turn(identity=other, thread_id="x", speaker="user", text="what about INV-ACM-2610-00220?")
    return shown


@pytest.mark.parametrize("where", ["keyword", pytest.param("semantic", marks=model), "suite-database"])
def test_an_identifier_finds_the_turns_that_named_it(request, where):
    """An invoice number in a search finds, first and by exact match (any case), the caller's turns
    that named it; nobody else's, and not in the excluded thread.
    (suite-database: the store of `services`, on PostgreSQL when the suite runs there.)"""
    mem = (
        request.getfixturevalue("services").memory
        if where == "suite-database"
        else request.getfixturevalue("sstore" if where == "semantic" else "store")
    )
    if where == "suite-database":
        assert mem.episodic.engine.dialect.name == {"postgres": "postgresql"}.get(
            os.environ["FINKRAFT_TEST_DB"], "sqlite"
        )
    shown = _named_turns(mem)
    assert mem.flush(60)
    hits = mem.search(MAYA, "what happened to inv-acm-2610-00220?", k=3)
    assert hits[0]["turn_id"] == shown and hits[0]["match"] == "exact" and hits[0]["score"] == 1.0
    assert all(h["turn_id"] != shown for h in hits[1:])
    assert all(h.get("match") != "exact" for h in mem.search(MAYA, "INV-ACM-2610-00220", k=5, exclude_thread="old"))
    assert mem.search(MAYA_GLOBEX, "INV-ACM-2610-00220", k=5)[0]["thread_id"] == "x"  # her own, in globex only
    assert mem.search(GITA, "INV-ACM-2610-00220", k=5) == []


@model
def test_a_listing_answer_is_found_by_what_it_was_about(sstore):
    rows = "\n".join(
        f"- INV-ACM-2610-0022{i} | IndiSky Airlines | 2026-10-2{i} | ₹28,517.72 | failed - GSTIN missing"
        for i in range(5)
    )
    sstore.record_turn(identity=MAYA, thread_id="list-1", speaker="user", text="failed invoices from indisky")
    sstore.record_turn(
        identity=MAYA,
        thread_id="list-1",
        speaker="assistant",
        text=f"Found 7 invoices (vendor IndiSky Airlines, status failed), totalling ₹2,85,050.\n{rows}\n(and 2 more)",
        tool="filter_data",
        params={"vendor": "IndiSky Airlines", "status": "failed"},
    )
    sstore.record_turn(identity=MAYA, thread_id="sales-1", speaker="user", text="sales in the north last quarter")
    assert sstore.flush(60)
    hits = sstore.search(MAYA, "which IndiSky invoices were rejected", k=2)
    assert [h["thread_id"] for h in hits] == ["list-1", "list-1"]


@model
def test_memory_written_by_another_process_is_found(sstore, engine, tmp_path):
    converse_a(sstore)
    assert sstore.flush(60)
    assert sstore.search(MAYA, "vendor contract renewal for office chairs", k=10)  # index built before the write
    before = sstore.index.parts[("maya", "acme")].size
    url = str(engine.url)
    script = textwrap.dedent(f"""
        from business_data.db import make_engine
        from memory.store import MemoryStore
        from tools.rbac import Identity
        store = MemoryStore(make_engine({url!r}), semantic=True)
        store.init_schema()
        tid = store.record_turn(identity=Identity("maya", "Manager", "acme"), thread_id="proc-2", speaker="user",
                                text="Renew the Apex Office Supplies contract for ergonomic chairs")
        assert store.flush(120)
        print(tid)
    """)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    turn_id = int(proc.stdout.strip().splitlines()[-1])
    hits = sstore.search(MAYA, "vendor contract renewal for office chairs", k=1)
    assert hits[0]["turn_id"] == turn_id and hits[0]["thread_id"] == "proc-2"
    assert sstore.index.parts[("maya", "acme")].size == before + 1  # incremental catch-up, no rebuild
    assert sstore.search(VICTOR, "vendor contract renewal for office chairs") == []


@model
def test_forget_removes_rows_embeddings_and_index_entries(sstore, engine):
    converse_a(sstore)
    converse_a(sstore, who=VICTOR, thread="v1")
    assert sstore.flush(60)
    other = MemoryStore(engine, semantic=True)  # stands in for another process with a warm index
    assert other.search(MAYA, "IndiSky failures", k=3)
    assert sstore.search(MAYA, "IndiSky failures", k=3)
    out = sstore.forget(MAYA)
    assert (
        out["turns"] == 4 and out["embeddings"] == 4 and out["index_entries"] == 4 and out["thread_ids"] == ["thread-A"]
    )
    assert sstore.count(MAYA) == {"turns": 0, "embeddings": 0, "index_entries": 0}
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(MemoryTurn).where(MemoryTurn.user_id == "maya")) == 0
        assert s.scalar(select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.user_id == "maya")) == 0
    assert sstore.search(MAYA, "IndiSky failures", k=3) == []
    assert other.search(MAYA, "IndiSky failures", k=3) == []  # stale entries elsewhere are dropped on sight
    assert other.index.parts[("maya", "acme")].size == 0
    assert len(sstore.search(VICTOR, "IndiSky failures", k=3)) == 3  # other users untouched
    # remembering again after forgetting works
    sstore.record_turn(identity=MAYA, thread_id="fresh", speaker="user", text="IndiSky invoices again")
    assert sstore.flush(60)
    assert [h["thread_id"] for h in sstore.search(MAYA, "IndiSky failures", k=3)] == ["fresh"]


@model
def test_turns_without_embeddings_are_backfilled(engine):
    plain = MemoryStore(engine, semantic=False)
    plain.init_schema()
    converse_a(plain)  # written with no embeddings (e.g. a process that died before its worker ran)
    s = MemoryStore(engine, semantic=True)
    assert s.search(MAYA, "IndiSky GSTIN", k=1) == []  # first use queues the backfill
    assert s.flush(60)
    assert s.search(MAYA, "IndiSky GSTIN", k=1)[0]["thread_id"] == "thread-A"


def test_partition_switches_to_ivf_and_keeps_every_vector(monkeypatch):
    import numpy as np

    from memory import index as mindex

    monkeypatch.setattr(mindex, "IVF_THRESHOLD", 1_000)
    rng = np.random.default_rng(0)
    v = rng.standard_normal((5_000, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    p = mindex.Partition(384)
    p.add(np.arange(1, 801), v[:800])
    assert p.kind == "flat"
    p.add(np.arange(801, 1201), v[800:1200])
    assert p.kind == "ivf" and p.size == 1200 and p.trained_on == 1200
    p.add(np.arange(1201, 5001), v[1200:])  # grew 4x: retrained, nothing lost
    assert p.kind == "ivf" and p.size == 5000 and p.trained_on == 5000
    ids, vecs = p.all_vectors()
    assert sorted(ids.tolist()) == list(range(1, 5001))
    assert p.add([17], v[16:17]) == 0  # no double adds
    for i in (0, 999, 4321):
        assert p.search(v[i], 1)[1][0] == i + 1
    assert p.remove([4322]) == 1 and 4322 not in p.search(v[4321], 5)[1].tolist()


def test_forget_one_thread_keeps_the_others(store):
    converse_a(store)
    converse_a(store, thread="thread-B")
    converse_a(store, who=VICTOR, thread="thread-A")  # the same client thread id, another user
    out = store.forget_thread(MAYA, "thread-A")
    assert out["turns"] == 4
    assert store.recent_turns(MAYA, "thread-A") == [] and len(store.recent_turns(MAYA, "thread-B")) == 4
    assert store.last_result_sets(MAYA, 5, "thread-A") == [] and store.last_result_sets(MAYA, 5, "thread-B")
    assert len(store.recent_turns(VICTOR, "thread-A")) == 4
    assert store.forget_thread(MAYA, "thread-A")["turns"] == 0


@model
def test_forget_one_thread_drops_its_embeddings_and_index_entries(sstore, engine):
    converse_a(sstore)
    sstore.record_turn(identity=MAYA, thread_id="thread-B", speaker="user", text="IndiSky failed invoices again")
    assert sstore.flush(60)
    assert {h["thread_id"] for h in sstore.search(MAYA, "IndiSky failures", k=8)} == {"thread-A", "thread-B"}
    out = sstore.forget_thread(MAYA, "thread-A")
    assert out == {"turns": 4, "embeddings": 4, "index_entries": 4}
    with session_scope(engine) as s:
        left = s.scalar(select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.user_id == "maya"))
    assert left == 1 == sstore.count(MAYA)["index_entries"]
    assert {h["thread_id"] for h in sstore.search(MAYA, "IndiSky failures", k=8)} == {"thread-B"}
