"""How the server runs a turn (issue 13): one checkpoint read per /chat turn, writes never on the
event loop, and on embedded SQLite the nodes' short reads on it. The real graph, the server's own
saver (graph/checkpointers.py open_async_checkpointer) and server/conversation.py chat_turn; real
SQLite files, or PostgreSQL with FINKRAFT_TEST_DB=postgres."""

from __future__ import annotations

import asyncio
import threading

import pytest
from blockbuster import BlockingError, blockbuster_ctx
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.checkpointers import open_async_checkpointer, reuse_read
from graph.runs import checkpoint_thread
from server.conversation import chat_turn
from tests.conftest import using_postgres


def run_turns(services, messages: list[tuple[str, str]], spy) -> list[dict]:
    """Each (thread, message) as a /chat turn for maya, with `spy(saver)` installed first."""

    async def go() -> list[dict]:
        async with open_async_checkpointer(services.settings) as saver:
            graph = build_graph(services, router=False).compile(checkpointer=saver)
            spy(saver)
            ident = services.identity("maya")
            return [await chat_turn(graph, services, ident, text, thread) for thread, text in messages]

    return asyncio.run(go())


def test_a_turn_reads_its_thread_once_and_the_next_turn_sees_it(services, monkeypatch):
    reads: list[str] = []

    def spy(saver: BaseCheckpointSaver) -> None:  # count the reads that reach the database
        if using_postgres():
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

            original = AsyncPostgresSaver.aget_tuple

            async def counted(self, config):
                reads.append(config["configurable"]["thread_id"])
                return await original(self, config)

            monkeypatch.setattr(AsyncPostgresSaver, "aget_tuple", counted)
        else:
            read = saver.get_tuple

            def counted_sync(config):
                reads.append(config["configurable"]["thread_id"])
                return read(config)

            monkeypatch.setattr(saver, "get_tuple", counted_sync)

    out = run_turns(
        services,
        [("t1", "failed IndiSky invoices from last month"), ("t1", "why did these fail?"), ("t2", "pending invoices")],
        spy,
    )
    assert [o["success"] for o in out] == [True, True, True]
    assert out[0]["data"]["filtered_records"] > 0
    # "these" came from the first turn's checkpoint: exactly its records were explained
    assert out[1]["tool_used"] == "explain_failures"
    assert out[1]["data"]["failed"] == out[0]["data"]["filtered_records"]
    assert [t.rsplit("/", 1)[-1] for t in reads] == ["t1", "t1", "t2"], reads  # one read per turn, no more


def test_checkpoint_writes_never_run_on_the_event_loop(services, monkeypatch):
    if using_postgres():  # the PostgreSQL saver's writes are async network I/O: nothing blocks the loop there
        return
    writers: list[bool] = []

    def spy(saver) -> None:
        put = saver.writer.put

        def recorded(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                writers.append(True)  # called on a thread that runs an event loop
            except RuntimeError:
                writers.append(threading.current_thread() is threading.main_thread())
            return put(*args, **kwargs)

        monkeypatch.setattr(saver.writer, "put", recorded)

    out = run_turns(services, [("w1", "pending invoices"), ("w1", "unpaid invoices")], spy)
    assert [o["success"] for o in out] == [True, True]
    assert writers and not any(writers), "a checkpoint write ran on the event loop's thread"


def test_sqlite_keeps_one_checkpoint_per_thread_pruned_in_the_write_hop(services, monkeypatch):
    if using_postgres():  # PostgreSQL prunes after the turn (graph/runs.py aprune_thread)
        return
    seen: dict[str, list] = {"prune_threads": [], "aprune": []}

    def spy(saver) -> None:
        prune = saver.writer.prune

        def recorded(thread_ids, **kw):
            seen["prune_threads"].append((list(thread_ids), threading.current_thread() is threading.main_thread()))
            return prune(thread_ids, **kw)

        async def separate(*a, **kw):  # the host's own prune after the turn: not needed any more
            seen["aprune"].append(a)

        monkeypatch.setattr(saver.writer, "prune", recorded)
        monkeypatch.setattr(saver, "aprune", separate)

    out = run_turns(
        services, [("p1", "pending invoices"), ("p1", "unpaid invoices"), ("p1", "why did these fail?")], spy
    )
    assert [o["success"] for o in out] == [True, True, True]
    assert seen["aprune"] == []
    assert len(seen["prune_threads"]) == 3 and not any(on_loop for _, on_loop in seen["prune_threads"])
    assert all(t[0].endswith("p1") for t, _ in seen["prune_threads"])
    import sqlite3

    with sqlite3.connect(services.settings.checkpoint_path) as conn:
        counts = conn.execute("SELECT thread_id, count(*) FROM checkpoints GROUP BY thread_id").fetchall()
    assert [n for t, n in counts if t.endswith("p1")] == [1], counts


def test_a_saved_turn_keeps_its_result_without_rows_and_the_next_turn_still_finds_these(services):
    saved: dict = {}

    async def go() -> list[dict]:
        async with open_async_checkpointer(services.settings) as saver:
            graph = build_graph(services, router=False).compile(checkpointer=saver)
            ident = services.identity("maya")
            first = await chat_turn(graph, services, ident, "failed IndiSky invoices from last month", "r1")
            state = (await graph.aget_state({"configurable": {"thread_id": checkpoint_thread(ident, "r1")}})).values
            saved.update(state)
            return [first, await chat_turn(graph, services, ident, "why did these fail?", "r1")]

    first, second = asyncio.run(go())
    assert len(first["data"]["results"]) == first["data"]["filtered_records"] > 0  # the answer has its rows
    data = saved["result"]["data"]
    assert "results" not in data and "keys" not in data  # the checkpoint does not
    assert data["filtered_records"] == first["data"]["filtered_records"] and saved["result"]["status"] == "success"
    assert len(saved["last_result"]["keys"]) == first["data"]["filtered_records"]  # "these" survive as keys
    assert second["tool_used"] == "explain_failures" and second["data"]["failed"] == first["data"]["filtered_records"]


def test_a_read_handed_over_serves_only_its_own_thread():
    async def go():
        class Saver:
            async def aget_tuple(self, config):
                return "from the database"

        from graph.checkpointers import _Guarded

        class Guarded(_Guarded, Saver):
            pass

        saver = Guarded()
        config = {"configurable": {"thread_id": "a"}}
        with reuse_read(config, "held"):
            other = await saver.aget_tuple({"configurable": {"thread_id": "b"}})
            given = await saver.aget_tuple(config)
            again = await saver.aget_tuple(config)  # once only
            subgraph = await saver.aget_tuple({"configurable": {"thread_id": "a", "checkpoint_ns": "x:1"}})
        after = await saver.aget_tuple(config)
        return other, given, again, subgraph, after

    assert asyncio.run(go()) == (
        "from the database",
        "held",
        "from the database",
        "from the database",
        "from the database",
    )


def test_studio_graph_makes_no_blocking_call_on_the_loop(services):
    """`langgraph dev` watches its event loop with blockbuster and fails a run that blocks it:
    graph/agent.py builds with reads_on_loop=False. The server's graph on embedded SQLite does
    read on the loop (that is the point of it), which blockbuster catches the same way."""

    async def run(graph, thread: str):
        with blockbuster_ctx():
            return await graph.ainvoke(
                {"messages": [HumanMessage(content="pending invoices")]},
                {"configurable": {"user_id": "maya", "thread_id": thread}},
            )

    services.identity("maya")  # (the gate reads the cached identity on the loop)
    studio = build_graph(services, router=False, reads_on_loop=False).compile(checkpointer=InMemorySaver())
    out = asyncio.run(run(studio, "studio"))
    assert out["result"]["status"] == "success" and out["result"]["data"]["filtered_records"] > 0
    if services.embedded:
        served = build_graph(services, router=False).compile(checkpointer=InMemorySaver())
        with pytest.raises(BlockingError):
            asyncio.run(run(served, "served"))


def test_small_result_sets_are_fetched_by_key_of_either_type(services):
    """A small result's rows are fetched by their keys with one statement kept per query: integer keys
    (sales) and text keys (invoices) alike. PostgreSQL refused the kept statement with integer keys
    bound as text ("operator does not exist: integer = character varying")."""
    from sqlalchemy import text

    from tools.registry import run_tool

    maya = services.identity("maya")
    ctx = services.tool_context(maya)
    with services.business.connect() as conn:
        north = conn.execute(
            text("SELECT count(*) FROM sales WHERE region = 'North' AND workspace_id = :ws"), {"ws": maya.workspace_id}
        ).scalar_one()
    assert 0 < north <= 1000  # a small set: its rows are fetched by key
    for _ in range(2):  # the second run uses the kept statement
        sales = run_tool("filter_data", {"dataset": "sales", "region": "North"}, ctx)
        assert sales.status == "success", sales.message
        assert sales.data["filtered_records"] == north
        assert {r["region"] for r in sales.data["results"]} == {"North"}
        assert all(isinstance(k, int) for k in sales.data["keys"])
        failed = run_tool("filter_data", {"dataset": "invoices", "status": "failed"}, ctx)
        assert failed.status == "success", failed.message
        assert {r["status"] for r in failed.data["results"]} == {"failed"}
