"""The graph's last two nodes, `respond` (the answer in words and typed) and `remember` (the turn into
episodic memory), mixed into graph/nodes.py's Nodes; and the user's last message of a thread's state."""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast
from collections.abc import Callable

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from tools.notifications import mark_notifications_read
from tools.queries import KEY_CAP
from tools.rbac import Identity
from tools.registry import tools_where
from tools.results import shared

from . import responses
from .answer import build as build_answer, stored
from .context import RunSettings
from .services import Services
from .state import AgentState
from .understanding import stated

log = logging.getLogger("finkraft.graph")


def last_user_text(state: AgentState) -> str:
    for m in reversed(state.get("messages") or []):
        if isinstance(m, HumanMessage) or getattr(m, "type", "") == "human":
            content = m.content
            if isinstance(content, list):  # multimodal content blocks
                content = " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
            return str(content)
    return ""


class Answering:
    """`respond` and `remember`, for Nodes (which sets these up)."""

    s: Services
    router: Any
    identity: Callable[[RunnableConfig], Identity | None]

    def respond(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        text = state.get("response") or ""
        extra: dict[str, Any] = {}
        result = state.get("result")
        tool = (result or {}).get("tool")
        words = text
        if not text:
            words = result["message"] if result else responses.render(tool, None)
            explained, how = self._explain(state, tool, cast(dict, result))
            if explained:
                words = explained
            if how:  # which writer produced the answer goes into the trace next to intent["router"]
                extra["intent"] = {**(state.get("intent") or {}), "explained_by": how}
            interp = state.get("interpretation") or {}
            if interp.get("decision") == "assume" and (result or {}).get("status") == "success":
                words = stated(interp) + "\n" + words  # the user's check: what was kept from before
            text = words + responses.listing(tool, cast(dict, result))
        calls = state.get("tool_calls") or []
        ident = self.identity(config)
        typed = build_answer(
            text=words,
            status=(result or {}).get("status") or "answered",
            tool=tool,
            params=calls[-1]["params"] if calls else None,
            result=cast(dict, result),
            interpretation=cast(dict, state.get("interpretation")),
            identity=ident,
            record_key=self._record_key(ident, result),
        )
        return {
            **extra,
            "response": text,
            "answer": typed,
            "messages": [AIMessage(content=text, id=str(uuid.uuid4()))],
        }

    def _record_key(self, ident: Identity | None, result: Any) -> str | None:
        """The key column of a listing's dataset (invoice_number), from the data model."""
        dataset = shared((result or {}).get("data"))["dataset"]
        if ident is None or not dataset:
            return None
        ds = self.s.tool_context(ident).data_model.datasets.get(dataset)
        return ds.key if ds is not None else None

    def _explain(self, state: AgentState, tool: str | None, result: dict | None) -> tuple[str | None, str | None]:
        """With a model: (its explanation of a successful result, how); numbers are checked
        against the data in graph/llm.py. (None, ...) keeps the template text. Skipped when
        routing already fell back this turn (the model is down: don't wait for it twice)."""
        intent = state.get("intent") or {}
        if self.router is None or (result or {}).get("status") != "success" or intent.get("router") != "llm":
            return None, None
        try:
            text, how = self.router.explain(last_user_text(state), tool, result)
        except Exception:  # noqa: BLE001 - the template answer is always there
            log.exception("model explanation failed")
            return None, "template (fallback: model error)"
        return text, how

    def remember(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Episodic memory: the user's turn and the answer, with a compact result reference."""
        ident = self.identity(config)
        if ident is None or (state.get("intent") or {}).get("kind") == "forget":
            return {}  # a "forget me" turn leaves nothing behind either
        thread_id = RunSettings.of(config).thread_id
        result = state.get("result") or {}
        calls = state.get("tool_calls") or []
        tool = calls[-1]["tool"] if calls else None
        params = calls[-1]["params"] if calls else None
        data = shared(result.get("data"))
        writes = tools_where(writes=True)
        ref = None
        if result.get("status") == "success":
            ref = {
                "tool": tool,
                "dataset": data["dataset"],
                "keys": list(data["keys"] or [])[:KEY_CAP],
                "keys_complete": data["keys_complete"] is not False,
                "query": data["query"],
                "params": {k: v for k, v in (params or {}).items() if k != "invoice_numbers"},
                "ticket_id": data["ticket_id"],
                "export_id": data["export_id"],
            }
        context = state.get("context") or {}
        # the user has been told about these updates: don't welcome them with the same news again
        read = (
            [n["id"] for n in context.get("unread_notifications", []) if n.get("id") is not None]
            if state.get("welcome")
            else []
        )
        memory, text, answer = self.s.memory, last_user_text(state), state.get("response", "")
        kept = stored(state.get("answer"))  # the typed answer, to draw it again and to embed

        def write(s) -> list:
            after = [
                memory.record_turn_in(
                    s,
                    identity=ident,
                    thread_id=thread_id,
                    speaker="user",
                    text=text,
                    tool=tool,
                    params=params,
                    importance=0.5,
                ),
                memory.record_turn_in(
                    s,
                    identity=ident,
                    thread_id=thread_id,
                    speaker="assistant",
                    text=answer,
                    tool=tool,
                    params=params,
                    result_ref=ref,
                    importance=0.8 if tool in writes else 0.5,
                    answer=kept,
                ),
            ]
            mark_notifications_read(self.s.tool_context(ident), read, s)
            return after

        turn = RunSettings.of(config).turn
        if turn is not None:  # the host records the run: these commit with its trace, or not at all
            turn.stage(write)
            return {}
        try:
            with self.s.app.begin() as conn:
                after = write(conn)
            for queue_embedding in after:
                queue_embedding()
        except Exception:  # memory must never break an answer the user already has
            log.exception("could not record turn")
        return {}
