"""Bounded growth: `finkraft prune` applies the retention settings (traces, memory turns) and keeps each
thread's latest checkpoint (an open question survives); the graph state keeps only the latest messages.
Real SQLite files, or PostgreSQL with FINKRAFT_TEST_DB=postgres."""

from __future__ import annotations

from datetime import timedelta

import pytest
from langchain_core.messages import HumanMessage
from sqlalchemy import func, select, update

from business_data.appdb import MemoryTurn, Ticket, Trace, utcnow
from business_data.db import session_scope
from business_data.settings import get_settings
from graph.builder import compile_graph, graph_input
from graph.nodes import KEEP_MESSAGES
from graph.runs import checkpoint_thread, traced_run
from server.cli import main


@pytest.fixture
def graph(services, monkeypatch):
    monkeypatch.setenv("FINKRAFT_DATA_DIR", str(services.settings.resolved_data_dir))
    monkeypatch.setenv("FINKRAFT_SEMANTIC_MEMORY", "false")
    get_settings.cache_clear()
    yield compile_graph(services)  # the sync saver, default durability: a checkpoint per step, nothing pruned by a host
    get_settings.cache_clear()


def turn(graph, services, thread: str, text: str):
    ident = services.identity("maya")
    config, _ = traced_run(services.app, ident, thread, text)
    value = {"resume": text} if thread_waiting(graph, ident, thread) else {"messages": [HumanMessage(content=text)]}
    return graph.invoke(graph_input(value), config)


def thread_config(services, thread: str) -> dict:
    return {"configurable": {"thread_id": checkpoint_thread(services.identity("maya"), thread)}}


def thread_waiting(graph, ident, thread) -> bool:
    return bool(graph.get_state({"configurable": {"thread_id": checkpoint_thread(ident, thread)}}).next)


def checkpoints(graph, services, thread: str) -> int:
    return len(list(graph.checkpointer.list(thread_config(services, thread))))


def rows(services) -> tuple[int, int]:
    with session_scope(services.app) as s:
        return s.scalar(select(func.count()).select_from(Trace)), s.scalar(select(func.count()).select_from(MemoryTurn))


def backdate(services, table, days: int, limit: int) -> None:
    key = list(table.__table__.primary_key.columns)[0]
    with session_scope(services.app) as s:
        ids = s.scalars(select(key).order_by(table.created_at, key).limit(limit)).all()
        s.execute(update(table).where(key.in_(ids)).values(created_at=utcnow() - timedelta(days=days)))


def test_prune_applies_retention_and_keeps_each_threads_latest_checkpoint(graph, services, capsys):
    for text in ("failed IndiSky invoices from last month", "show my tickets", "what about SkyHigh", "show my tickets"):
        turn(graph, services, "pr-1", text)
    before = graph.get_state(thread_config(services, "pr-1")).values
    assert checkpoints(graph, services, "pr-1") > 4
    assert rows(services) == (4, 8)
    backdate(services, Trace, 91, 2)  # FINKRAFT_TRACE_RETENTION_DAYS=90
    backdate(services, MemoryTurn, 366, 4)  # FINKRAFT_MEMORY_RETENTION_DAYS=365
    n_checkpoints = checkpoints(graph, services, "pr-1")

    assert main(["prune", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "traces older than 90 days: would delete 2",
        "memory turns older than 365 days: would delete 4 (and 0 embeddings)",
        f"checkpoints older than their thread's latest: would delete {n_checkpoints - 1} (in 1 threads)",
    ]
    assert rows(services) == (4, 8) and checkpoints(graph, services, "pr-1") == n_checkpoints

    assert main(["prune"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "traces older than 90 days: deleted 2" and out[1].startswith(
        "memory turns older than 365 days: deleted 4"
    )
    assert out[2] == f"checkpoints older than their thread's latest: deleted {n_checkpoints - 1} (in 1 threads)"
    assert rows(services) == (2, 4) and checkpoints(graph, services, "pr-1") == 1
    assert graph.get_state(thread_config(services, "pr-1")).values["messages"] == before["messages"]
    # the thread goes on from its latest state ("these" = the SkyHigh result)
    assert turn(graph, services, "pr-1", "how many of these failed")["result"]["status"] == "success"

    assert main(["prune", "--traces-days", "0", "--memory-days", "0"]) == 0  # 0: kept forever
    assert capsys.readouterr().out.splitlines()[:2] == [
        "traces none (retention 0: kept forever): deleted 0",
        "memory turns none (retention 0: kept forever): deleted 0 (and 0 embeddings)",
    ]


def test_an_open_question_survives_prune(graph, services, capsys):
    turn(graph, services, "pr-q", "failed IndiSky invoices from last month")
    out = turn(graph, services, "pr-q", "create a ticket for these")
    assert out["__interrupt__"]
    assert main(["prune"]) == 0
    assert checkpoints(graph, services, "pr-q") == 1
    with session_scope(services.app) as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
    out = turn(graph, services, "pr-q", "yes")
    assert out["result"]["status"] == "success" and out["last_ticket_id"]
    with session_scope(services.app) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == tickets + 1


def test_the_state_keeps_only_the_latest_messages(graph, services):
    for _ in range(KEEP_MESSAGES // 2 + 3):
        out = turn(graph, services, "pr-long", "show my tickets")
    assert len(out["messages"]) <= KEEP_MESSAGES + 2  # the kept ones, plus this turn's question and answer
    with session_scope(services.app) as s:  # memory holds every turn
        assert s.scalar(select(func.count()).select_from(MemoryTurn).where(MemoryTurn.thread_id == "pr-long")) == 2 * (
            KEEP_MESSAGES // 2 + 3
        )
