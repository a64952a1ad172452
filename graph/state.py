"""The graph's state. Clients may only write `messages` (the input schema); everything else
is the graph's own bookkeeping, checkpointed per thread."""
from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict  # pydantic needs this one on 3.11 (LangServe schemas)


class InputState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class AgentState(InputState, total=False):
    intent: dict[str, Any] | None          # what the router understood this turn
    plan: dict[str, Any] | None            # {"mode": "direct"|"template"|"answer", "steps": [...], "reason": ...}
    tool_calls: list[dict[str, Any]]       # this turn: tool, params, status, message, sources, duration_ms
    result: dict[str, Any] | None          # this turn's main tool result (status, message, data)
    response: str                          # this turn's answer text
    context: dict[str, Any]                # compact working context used this turn
    last_result: dict[str, Any] | None     # newest result set in this thread: tool, dataset, keys, params
    last_ticket_id: str | None
    last_export_id: str | None
    # planning and confirmation (graph/templates/, graph/confirmation.py)
    step_statuses: list[dict[str, Any]]            # template steps this turn: {step, status, attempts, message}
    template_data: dict[str, Any]                  # a template's intermediate results (kept across a confirmation pause)
    pending_confirmation: dict[str, Any] | None    # {"question", "steps"} while paused before a write
    confirmation: dict[str, Any] | None            # {"approved": bool, "answer"} once the user has answered
    forgotten_threads: list[str]                   # "forget me": threads whose checkpoints the host should delete
