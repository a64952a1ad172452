"""The LLM router: a tool-calling chat model (Gemini by default) that drives the graph.

The model itself is chosen in graph/model_choice.py (`make_router(settings)`).

What the router guarantees:
- the model is offered only the tools the caller's role may run (registry.tools_for_role); the
  permission gate in graph/nodes.py still checks every call in code;
- data (vendor names, error messages, ticket text, tool results) reaches the model only as
  delimited JSON (prompts.data_block), never as instructions;
- any model failure (timeout, 429, 5xx, a malformed tool call, an unusable reply) returns
  `(None, why)`, so the graph routes that turn with the offline parser (intent["fallback"] = why);
- explanations written by the model are used only when every number in them appears in the
  tool result (`numbers_grounded`); otherwise the template text stands.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from tools.rbac import Identity
from tools.registry import TOOLS, tools_for_role

from . import prompts
from .grounding import numbers_grounded, ungrounded_numbers
from .intent import Intent, ParseContext

log = logging.getLogger("finkraft.llm")

MAX_ANSWER_CHARS = 1500


# -- failures ------------------------------------------------------------------------------
def classify_error(exc: BaseException) -> str:
    """A short, user-safe label for why the model call failed (goes into the trace)."""
    from langchain_core import exceptions as lce

    try:
        import httpx

        timeout_types: tuple[type, ...] = (httpx.TimeoutException, TimeoutError)
    except ImportError:  # pragma: no cover
        timeout_types = (TimeoutError,)
    if isinstance(exc, timeout_types) or isinstance(exc, getattr(lce, "ModelTimeoutError", ())):
        return "model timeout"
    if isinstance(exc, getattr(lce, "ModelRateLimitError", ())):
        return "model quota exceeded (429)"
    if isinstance(exc, getattr(lce, "ModelAPIError", ())):  # langchain-core's class for provider 5xx
        return "model server error"
    if isinstance(exc, getattr(lce, "ModelConnectionError", ())):
        return "model unreachable"
    code = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    text = f"{type(exc).__name__} {exc}"
    if code == 429 or "RESOURCE_EXHAUSTED" in text or re.search(r"\b429\b", text):
        return "model quota exceeded (429)"
    if "timed out" in text.lower() or "deadline" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "model timeout"
    if (
        (isinstance(code, int) and code >= 500)
        or re.search(r"\b5\d\d\b", text)
        or any(s in text for s in ("INTERNAL", "UNAVAILABLE", "ServerError"))
    ):
        return "model server error"
    if isinstance(exc, getattr(lce, "ModelConnectionError", ())) or "connect" in text.lower():
        return "model unreachable"
    return "model error"


class MalformedToolCall(ValueError):
    pass


# -- the router ----------------------------------------------------------------------------
def _strip_schema(node: Any) -> Any:
    """Drop JSON-schema keys some providers reject or warn about (Gemini: additionalProperties)."""
    if isinstance(node, dict):
        return {
            k: _strip_schema(v)
            for k, v in node.items()
            if not (k == "additionalProperties" or (k == "title" and isinstance(v, str)))
        }
    if isinstance(node, list):
        return [_strip_schema(v) for v in node]
    return node


def tool_schemas(role: str) -> list[dict[str, Any]]:
    """OpenAI-style function schemas for the tools `role` may run, from the registry's pydantic models."""
    out = []
    for name in tools_for_role(role):
        spec = TOOLS[name]
        if spec.func is None:  # run by the graph (run_template): the model routes to tools only
            continue
        fn = copy.deepcopy(convert_to_openai_tool(spec.params))
        fn["function"]["name"] = spec.name
        fn["function"]["description"] = spec.description + (
            " For example: " + "; ".join(f'"{p}"' for p in spec.phrases) + "." if spec.phrases else ""
        )
        params = _strip_schema(fn["function"].get("parameters") or {"type": "object", "properties": {}})
        props = params.setdefault("properties", {})
        props.pop("request_key", None)  # the graph sets idempotency keys, never the model
        if spec.takes_thread:
            props.pop("thread_id", None)  # the graph names this conversation, never the model
        if role != "Admin":
            props.pop("workspace", None)  # other workspaces are Admin-only: don't even suggest it
        if spec.takes_records:
            props["use_previous_results"] = {"type": "boolean", "description": prompts.USE_PREVIOUS_RESULTS}
        if spec.takes_ticket:
            props["from_ticket"] = {"type": "string", "enum": ["previous", "fixed"], "description": prompts.FROM_TICKET}
        params["required"] = [r for r in params.get("required", []) if r in props]
        fn["function"]["parameters"] = params
        out.append(fn)
    return out


def _text_of(msg: BaseMessage) -> str:
    text = getattr(msg, "text", None)
    if isinstance(text, str):  # langchain-core 1.x: a property (a str that is also callable)
        return str(text).strip()
    if callable(text):  # older langchain-core: a method
        text = text()
        if isinstance(text, str):
            return text.strip()
    content = msg.content
    if isinstance(content, list):
        return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content).strip()
    return str(content or "").strip()


def _human_text(m: BaseMessage) -> str:
    c = m.content
    if isinstance(c, list):
        c = " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in c)
    return str(c)


class LLMRouter:
    """Routes one user message with a tool-calling chat model; explains tool results."""

    def __init__(self, model: BaseChatModel, *, provider: str = "custom", model_name: str = "", max_history: int = 6):
        self.model = model
        self.provider = provider
        self.model_name = model_name or getattr(model, "model", "") or getattr(model, "model_name", "") or ""
        self.max_history = max_history

    @property
    def model_id(self) -> str:
        """ "provider:model", as intent["model"] and the trace show it."""
        return f"{self.provider}:{self.model_name}" if self.model_name else self.provider

    @property
    def name(self) -> str:
        return f"llm ({self.model_id})"

    def describe(self) -> dict[str, Any]:
        return {"mode": "llm", "provider": self.provider, "model": self.model_name}

    # -- routing -------------------------------------------------------------------------
    def offered_tools(self, identity: Identity) -> list[dict[str, Any]]:
        return tool_schemas(identity.role)

    def context_payload(self, pctx: ParseContext, identity: Identity, state: dict[str, Any]) -> dict[str, Any]:
        """The compact working context, as data."""
        ctx = state.get("context") or {}
        last = pctx.last_result or None
        history = []
        msgs = list(state.get("messages") or [])[:-1][-self.max_history :]
        for m in msgs:
            role = (
                "user" if getattr(m, "type", "") == "human" else "assistant" if getattr(m, "type", "") == "ai" else None
            )
            if role:
                history.append({"role": role, "text": _human_text(m)[:300]})
        return {
            "today": pctx.today.isoformat(),
            "vendors": list(pctx.vendors)[:100],
            "previous_result": None
            if not last
            else {
                "tool": last.get("tool"),
                "dataset": last.get("dataset"),
                "params": last.get("params"),
                "count": len(last.get("keys") or []),
            },
            "last_ticket_id": pctx.last_ticket_id,
            "last_export_id": pctx.last_export_id,
            "open_tickets": [
                {k: t.get(k) for k in ("ticket_id", "title", "status")} for t in (pctx.open_tickets or [])
            ][:10],
            "unread_notifications": [
                {"ticket_id": n.get("ticket_id"), "message": str(n.get("message") or "")[:200]}
                for n in ctx.get("unread_notifications") or []
            ][:10],
            "recent_results": list(ctx.get("last_results") or [])[:3],
            "recent_conversation": history,
        }

    def messages_for(
        self, text: str, pctx: ParseContext, identity: Identity, state: dict[str, Any]
    ) -> list[BaseMessage]:
        system = prompts.router_system(
            today=pctx.today.isoformat(), role=identity.role, workspace=identity.workspace_id
        )
        return [
            SystemMessage(content=system),
            HumanMessage(content=prompts.router_user_parts(self.context_payload(pctx, identity, state), text)),
        ]

    def route(
        self, text: str, pctx: ParseContext, identity: Identity, state: dict[str, Any]
    ) -> tuple[Intent | None, str | None]:
        """(Intent, None), or (None, why) when the offline parser should route this message."""
        if not text.strip():
            return None, "empty message"
        tools = self.offered_tools(identity)
        messages = self.messages_for(text, pctx, identity, state)
        try:
            bound = self.model.bind_tools(tools) if tools else self.model
            reply = bound.invoke(messages)
        except Exception as e:  # noqa: BLE001 - every model failure degrades to the offline parser
            why = classify_error(e)
            log.warning("model call failed (%s): %s", why, e)
            return None, why
        try:
            intent = self.intent_from(
                reply,
                identity,
                allowed={t["function"]["name"] for t in tools},
                grounding=(self.context_payload(pctx, identity, state), text),
            )
        except MalformedToolCall as e:
            log.warning("unusable model reply: %s", e)
            return None, str(e)
        return intent, None

    def intent_from(self, reply: Any, identity: Identity, *, allowed: set[str], grounding: Any = ()) -> Intent:
        if not isinstance(reply, AIMessage):
            raise MalformedToolCall("malformed model reply")
        calls = list(reply.tool_calls or [])
        if not calls:
            if reply.invalid_tool_calls:
                raise MalformedToolCall("malformed tool call")
            answer = _text_of(reply)
            if not answer:
                raise MalformedToolCall("empty model reply")
            if len(answer) > MAX_ANSWER_CHARS:
                raise MalformedToolCall("overlong model reply")
            if not numbers_grounded(answer, grounding):
                raise MalformedToolCall("model answer quoted numbers not in the data")
            return Intent("answer", question=answer, reason="llm")
        call = calls[0]
        name = call.get("name")
        spec = TOOLS.get(name or "")
        if spec is None or spec.func is None:
            raise MalformedToolCall("malformed tool call (unknown tool)")
        args = call.get("args")
        if not isinstance(args, dict):
            raise MalformedToolCall("malformed tool call (arguments)")
        args = dict(args)
        use_prev = args.pop("use_previous_results", None)
        from_ticket = args.pop("from_ticket", None)
        args = {k: v for k, v in args.items() if v is not None and v != "" and v != []}
        refs: dict[str, str] = {}
        if use_prev is True or str(use_prev).lower() == "true":
            refs["records"] = "previous"
            for k in ("invoice_numbers",):  # the graph fills these from the previous result
                args.pop(k, None)
        if from_ticket in ("previous", "fixed") and spec.takes_ticket:
            refs["ticket"] = from_ticket
        try:
            spec.params.model_validate(args)
        except ValidationError:
            raise MalformedToolCall(f"malformed tool call ({name} arguments)") from None
        reason = "llm" if name in allowed else "llm (tool not offered to this role)"
        if len(calls) > 1:
            reason += f"; {len(calls) - 1} further tool call(s) ignored"
        return Intent("tool", tool=name, params=args, refs=refs, reason=reason)

    # -- explanations --------------------------------------------------------------------
    @staticmethod
    def compact_result(tool: str, result: dict[str, Any], *, max_rows: int = 20) -> dict[str, Any]:
        data = dict(result.get("data") or {})
        data.pop("keys", None)
        if isinstance(data.get("results"), list):
            data["results"] = data["results"][:max_rows]
        if isinstance(data.get("invoice_numbers"), list):
            data["invoice_numbers"] = data["invoice_numbers"][:max_rows]
        if isinstance(data.get("by_reason"), list):
            data["by_reason"] = [
                {**r, "invoice_numbers": list(r.get("invoice_numbers") or [])[:max_rows]} for r in data["by_reason"]
            ]
        return {"tool": tool, "status": result.get("status"), "summary": result.get("message"), "data": data}

    def explain(self, question: str, tool: str | None, result: dict[str, Any] | None) -> tuple[str | None, str]:
        """(text, how) — text is None when the template should stand; `how` goes into the trace."""
        explained = TOOLS.get(tool or "")
        if not tool or not result or result.get("status") != "success" or not (explained and explained.explained):
            return None, "template"
        compact = self.compact_result(tool, result)
        messages = [
            SystemMessage(content=prompts.explain_system()),
            HumanMessage(content=prompts.explain_request(question=question, tool=tool, result=compact)),
        ]
        try:
            reply = self.model.invoke(messages)
        except Exception as e:  # noqa: BLE001
            why = classify_error(e)
            log.warning("model explanation failed (%s): %s", why, e)
            return None, f"template (fallback: {why})"
        text = _text_of(reply) if isinstance(reply, BaseMessage) else ""
        if not text or len(text) > MAX_ANSWER_CHARS:
            return None, "template (fallback: unusable model explanation)"
        bad = ungrounded_numbers(text, result)
        if bad:
            log.warning("model explanation quoted numbers not in the tool result: %s", bad[:5])
            return None, "template (fallback: numbers not in the data)"
        return text, self.name
