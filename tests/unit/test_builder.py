"""graph/builder.py: `inline` nodes and edges run in place (on the event loop under `ainvoke`) through
LangChain's public `Runnable` interface, with LangGraph's config context (interrupts work), while a
plain node still hops to a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from graph.builder import inline


class S(TypedDict, total=False):
    threads: list[str]
    answer: str


def _where(tag: str):
    def node(state: S) -> dict:
        return {"threads": [*state.get("threads", []), f"{tag}:{threading.current_thread().name}"]}

    return node


def _graph(first, second):
    g = StateGraph(S)
    g.add_node("first", first)
    g.add_node("second", second)
    g.add_edge(START, "first")
    g.add_conditional_edges("first", inline(lambda s: "second", name="next"), ["second"])
    g.add_edge("second", END)
    return g


def test_an_inline_node_runs_on_the_event_loop_and_a_plain_one_in_a_worker_thread():
    graph = _graph(inline(_where("inline"), name="first"), _where("plain")).compile()

    async def run() -> S:
        return await graph.ainvoke({"threads": []})

    out = asyncio.run(run())
    main = threading.main_thread().name
    assert out["threads"][0] == f"inline:{main}"
    assert out["threads"][1].startswith("plain:") and out["threads"][1] != f"plain:{main}"


def test_an_inline_node_under_plain_invoke_gets_its_config_and_can_pause_and_resume():
    def ask(state: S, config: RunnableConfig) -> dict:
        assert config["configurable"]["thread_id"] == "t1"
        return {"answer": interrupt("proceed?")}

    graph = _graph(inline(_where("inline"), name="first"), inline(ask, name="second")).compile(
        checkpointer=InMemorySaver()
    )
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    paused = graph.invoke({"threads": []}, config)
    assert paused["__interrupt__"][0].value == "proceed?"
    done = graph.invoke(Command(resume="yes"), config)
    assert done["answer"] == "yes"


def test_an_inline_node_pauses_under_ainvoke_too():
    def ask(state: S) -> dict:
        return {"answer": interrupt("proceed?")}

    graph = _graph(_where("plain"), inline(ask, name="second")).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t2"}}

    async def run() -> tuple[dict, dict]:
        paused = await graph.ainvoke({"threads": []}, config)
        return paused, await graph.ainvoke(Command(resume="no"), config)

    paused, done = asyncio.run(run())
    assert paused["__interrupt__"][0].value == "proceed?" and done["answer"] == "no"
