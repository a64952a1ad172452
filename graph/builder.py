"""Build the assistant's StateGraph, and compile it with or without persistence.

- `build_graph(services)` -> the uncompiled StateGraph (one builder for every use).
- `compile_graph(services, checkpointer)` -> for notebooks and tests (threads persist; the saver comes
  from `graph/checkpointers.py`, which also gives the server its async saver).
- `graph_input(value)` -> `{"resume": "yes"}` becomes Command(resume=...) (the server's LangServe endpoint uses it).
`graph/agent.py` exports a persistence-free compiled graph for `langgraph dev` (Studio).
"""

from __future__ import annotations

import inspect
from typing import Any
from collections.abc import Callable

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from .checkpointers import default_checkpointer
from .edges import after_act, after_confirm, after_gate, after_plan, after_route, after_template
from .nodes import Nodes
from .services import Services, default_services
from .state import AgentState, InputState
from .templates import TEMPLATES


class Inline(Runnable[Any, Any]):
    """A node or edge body as a plain `Runnable` (LangChain's public interface, which `add_node` and
    `add_conditional_edges` take as it is): `invoke` and `ainvoke` both call the function in place, so
    under `ainvoke` it runs on the event loop instead of LangGraph's default hop to a worker thread.
    No callback run of its own (LangGraph traces edges by default; nodes never are). LangGraph runs a
    node's first step inside its config context, so `interrupt()` and `get_config()` work as usual."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.func = fn  # named as LangChain's own wrappers name it
        self.name = name or fn.__name__
        self.takes_config = "config" in inspect.signature(fn).parameters

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.func(input, config) if self.takes_config else self.func(input)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.invoke(input, config)


def inline(fn: Callable[..., Any], name: str | None = None) -> Any:
    """A node or edge that does no long blocking I/O (pure code, or a few short queries on embedded
    SQLite): under `ainvoke` it runs on the event loop (plain `invoke` is unchanged)."""
    return Inline(fn, name)


def _threaded(fn: Callable[..., Any]) -> Any:
    return fn


def build_graph(services: Services | None = None, router=None, *, reads_on_loop: bool | None = None) -> StateGraph:
    """router: None -> chosen from settings (graph/model_choice.make_router: Gemini or another chat
    model when configured, else the offline parser); False -> offline parser; or a router.
    reads_on_loop: the nodes' short database reads run on the event loop under `ainvoke` (default:
    on embedded SQLite, `Services.embedded`); False keeps them in worker threads (Studio's server
    refuses blocking calls on its loop)."""
    services = services or default_services()
    if router is None:
        from .model_choice import make_router

        router = make_router(services.settings)
    n = Nodes(services, router=router or None)
    # on embedded SQLite the nodes' few short queries run on the loop; `act` (a tool's SQL, which may
    # scan a million rows) and a model call stay in a worker thread, as everything does on PostgreSQL
    local = inline if (services.embedded if reads_on_loop is None else reads_on_loop) else _threaded
    g = StateGraph(AgentState, input_schema=InputState)
    g.add_node("context", local(n.context))
    g.add_node("route", _threaded(n.route) if router else local(n.route))
    g.add_node("plan", local(n.plan))
    g.add_node("gate", inline(n.gate))  # cached identity (graph/services.py), then pure
    g.add_node("confirm", local(n.confirm))
    g.add_node("act", n.act)
    for name, template in TEMPLATES.items():  # compiled subgraphs: they share the parent's checkpointer
        g.add_node(name, template.build(services))
    # the offline answer is a template; a model's explanation is a network call: that stays in a thread
    g.add_node("respond", n.respond if router else inline(n.respond))
    g.add_node("remember", local(n.remember))
    g.add_edge(START, "context")
    g.add_edge("context", "route")
    g.add_conditional_edges("route", inline(after_route), ["plan", "respond"])
    g.add_conditional_edges("plan", inline(after_plan), ["gate", "respond"])
    g.add_conditional_edges("gate", inline(after_gate), ["confirm", "act", "respond", *TEMPLATES])
    g.add_conditional_edges("confirm", inline(after_confirm), ["confirm", "act", "respond", *TEMPLATES])
    for name in TEMPLATES:
        g.add_conditional_edges(name, inline(after_template), ["confirm", "respond"])
    g.add_conditional_edges("act", inline(after_act), ["confirm", "respond"])
    g.add_edge("respond", "remember")
    g.add_edge("remember", END)
    return g


def compile_graph(services: Services | None = None, checkpointer: BaseCheckpointSaver | None = None, router=None):
    services = services or default_services()
    if checkpointer is None:
        checkpointer = default_checkpointer(services.settings)
    return build_graph(services, router=router).compile(checkpointer=checkpointer, name="finkraft")


def graph_input(value: Any) -> Any:
    """{"resume": answer} -> Command(resume=answer): the thread's paused write goes on (or not).
    Anything else is the graph's normal input ({"messages": [...]}). A "resume" wins over "messages"."""
    if isinstance(value, dict) and value.get("resume") is not None:
        return Command(resume=value["resume"])
    return value
