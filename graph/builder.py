"""Build the assistant's StateGraph, and compile it with or without persistence.

- `build_graph(services)` -> the uncompiled StateGraph (one builder for every use).
- `compile_graph(services, checkpointer)` -> for the server and notebooks (threads persist).
- `sqlite_checkpointer(path)` -> LangGraph's SqliteSaver on a file under the data dir.
- `graph_input(value)` -> `{"resume": "yes"}` becomes Command(resume=...) (the server's LangServe endpoint uses it).
`graph/agent.py` exports a persistence-free compiled graph for `langgraph dev` (Studio).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from .nodes import Nodes, after_confirm, after_gate, after_plan, after_route, after_template
from .services import Services, default_services
from .state import AgentState, InputState
from .templates import TEMPLATES


def build_graph(services: Services | None = None, router=None) -> StateGraph:
    """router: None -> chosen from settings (graph/model_choice.make_router: Gemini or another chat
    model when configured, else the offline parser); False -> offline parser; or a router."""
    services = services or default_services()
    if router is None:
        from .model_choice import make_router
        router = make_router(services.settings)
    n = Nodes(services, router=router or None)
    g = StateGraph(AgentState, input_schema=InputState)
    g.add_node("context", n.context)
    g.add_node("route", n.route)
    g.add_node("plan", n.plan)
    g.add_node("gate", n.gate)
    g.add_node("confirm", n.confirm)
    g.add_node("act", n.act)
    for name, template in TEMPLATES.items():  # compiled subgraphs: they share the parent's checkpointer
        g.add_node(name, template.build(services))
    g.add_node("respond", n.respond)
    g.add_node("remember", n.remember)
    g.add_edge(START, "context")
    g.add_edge("context", "route")
    g.add_conditional_edges("route", after_route, ["plan", "respond"])
    g.add_conditional_edges("plan", after_plan, ["gate", "respond"])
    g.add_conditional_edges("gate", after_gate, ["confirm", "act", "respond", *TEMPLATES])
    g.add_conditional_edges("confirm", after_confirm, ["confirm", "act", "respond", *TEMPLATES])
    for name in TEMPLATES:
        g.add_conditional_edges(name, after_template, ["confirm", "respond"])
    g.add_edge("act", "respond")
    g.add_edge("respond", "remember")
    g.add_edge("remember", END)
    return g


def sqlite_checkpointer(path: Path | str) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite import SqliteSaver
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def default_checkpointer(services: Services) -> BaseCheckpointSaver:
    """SqliteSaver under the data dir (PostgresSaver when the app database is PostgreSQL)."""
    from business_data.db import is_postgres
    if is_postgres(services.settings.app_url):
        return postgres_checkpointer(services.settings.app_url)
    return sqlite_checkpointer(services.settings.checkpoint_path)


def postgres_checkpointer(url: str) -> BaseCheckpointSaver:
    """LangGraph's PostgresSaver on one autocommit connection (it serialises use with a lock): enough
    for notebooks and in-process use; the server uses AsyncPostgresSaver with a pool. setup() runs
    under an advisory lock, as several processes may start at once."""
    import time

    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    from business_data.db import libpq_url, lock_key
    conn = psycopg.connect(libpq_url(url), autocommit=True, prepare_threshold=0, row_factory=dict_row)
    saver = PostgresSaver(conn)
    # poll, don't block: setup() runs CREATE INDEX CONCURRENTLY, which would wait for a blocked waiter
    while not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (lock_key("checkpoints:setup"),)).fetchone()["ok"]:
        time.sleep(0.05)
    try:
        saver.setup()
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("checkpoints:setup"),))
    return saver


def compile_graph(services: Services | None = None, checkpointer: BaseCheckpointSaver | None = None, router=None):
    services = services or default_services()
    if checkpointer is None:
        checkpointer = default_checkpointer(services)
    return build_graph(services, router=router).compile(checkpointer=checkpointer, name="finkraft")


def graph_input(value: Any) -> Any:
    """{"resume": answer} -> Command(resume=answer): the thread's paused write goes on (or not).
    Anything else is the graph's normal input ({"messages": [...]}). A "resume" wins over "messages"."""
    if isinstance(value, dict) and value.get("resume") is not None:
        return Command(resume=value["resume"])
    return value
