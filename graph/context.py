"""Who is asking and in which thread: the one typed accessor for a run's settings.

LangServe calls `ainvoke(input, config)` and never passes LangGraph's runtime `context=`, so the
identity travels in `config["configurable"]`, set by the host (the server from the bearer token;
Studio and notebooks by hand: `{"configurable": {"user_id": "maya", "thread_id": "t1"}}`). Nodes
read it only through `RunSettings.of(config)`; hosts build it only through `configurable(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from langchain_core.runnables import RunnableConfig


@dataclass(frozen=True)
class RunSettings:
    user_id: str | None  # the authenticated user (role and workspace are looked up)
    thread_id: str  # the user's own name for the thread ("default" if none)
    template_request: dict[str, Any] | None = None  # set by the Plans API: run this template, skip routing
    # set by POST /chat's `tool_call` (the web app's chips): {"tool", "params"} is the intent, no parsing
    tool_call: dict[str, Any] | None = None
    turn: Any = None  # the run's unit of work (graph/tracing.py TraceRecorder): nodes stage their writes on it

    @classmethod
    def of(cls, config: RunnableConfig | Mapping[str, Any] | None) -> RunSettings:
        conf = (config or {}).get("configurable") or {}
        return cls(
            user_id=conf.get("user_id") or None,
            thread_id=str(conf.get("client_thread_id") or conf.get("thread_id") or "default"),
            template_request=conf.get("template_request"),
            tool_call=conf.get("tool_call"),
            turn=conf.get("turn"),
        )


def configurable(
    user_id: str,
    thread_id: str,
    *,
    checkpoint_thread: str | None = None,
    template_request: dict[str, Any] | None = None,
    tool_call: dict[str, Any] | None = None,
    turn: Any = None,
) -> dict[str, Any]:
    """The `configurable` block for a run: the checkpointer's thread key (namespaced per user by the
    server, so two users' "t1" never meet), the user's own thread name and, when the host records the
    run, its unit of work (`turn`: writes staged on it commit together when the run ends well)."""
    conf: dict[str, Any] = {
        "user_id": user_id,
        "thread_id": checkpoint_thread or thread_id,
        "client_thread_id": thread_id,
    }
    if template_request is not None:
        conf["template_request"] = template_request
    if tool_call is not None:
        conf["tool_call"] = tool_call
    if turn is not None:
        conf["turn"] = turn
    return conf
