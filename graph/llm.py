"""The LLM router: a tool-calling chat model (Gemini by default) that drives the graph.

Selection (`make_router(settings)`), from the environment:
- GOOGLE_API_KEY or GEMINI_API_KEY -> ChatGoogleGenerativeAI, model `gemini-1.5-flash`
  unless FINKRAFT_MODEL names one (`gemini-2.0-flash` or `google_genai:gemini-2.0-flash`).
  FINKRAFT_MODEL_BASE_URL points the client elsewhere (a proxy, or a local stub in tests);
  FINKRAFT_MODEL_TIMEOUT is the per-request timeout in seconds.
- FINKRAFT_MODEL=`provider:model` (e.g. `openai:gpt-4o-mini`) -> any LangChain chat model,
  through `langchain.chat_models.init_chat_model` (its integration package must be installed
  and its own key set).
- nothing set -> None: the offline parser routes every message.

What the router guarantees:
- the model is offered only the tools the caller's role may run (tools_for_role); the
  permission gate in graph/nodes.py still checks every call in code;
- data (vendor names, error messages, ticket text, tool results) reaches the model only as
  delimited JSON (prompts.data_block), never as instructions;
- any model failure (timeout, 429, 5xx, a malformed tool call, an unusable reply) returns
  `(None, "offline (fallback: ...)")`, so the graph routes that turn with the offline parser;
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

from business_data.settings import Settings
from tools.rbac import Identity, tools_for_role
from tools.registry import TOOLS

from . import prompts
from .intent import Intent, ParseContext

log = logging.getLogger("finkraft.llm")

DEFAULT_GEMINI_MODEL = "gemini-1.5-flash"
GOOGLE_PROVIDER = "google_genai"
DEFAULT_MAX_RETRIES = 2  # google-genai counts attempts: 1 = no retry, 0 = the SDK default (5)

# tools whose records can be "the previous results" / whose ticket can be "that ticket"
RECORD_TOOLS = {"filter_data", "explain_failures", "export_report", "create_ticket"}
TICKET_REF_TOOLS = {"export_report"}
# tools whose successful result the model may put in its own words
EXPLAINED_TOOLS = {"explain_failures", "filter_data"}
MAX_ANSWER_CHARS = 1500


# -- selection -----------------------------------------------------------------------------
def _split_model(spec: str | None) -> tuple[str | None, str | None]:
    """'google_genai:gemini-2.0-flash' -> ('google_genai', 'gemini-2.0-flash'); 'gemini-x' -> (None, 'gemini-x')."""
    spec = (spec or "").strip()
    if not spec:
        return None, None
    if ":" in spec:
        provider, name = spec.split(":", 1)
        if re.fullmatch(r"[a-z][a-z0-9_\-]*", provider.strip()):
            return provider.strip(), name.strip() or None
    return None, spec


def select_model(settings: Settings) -> dict[str, Any]:
    """What the settings ask for: {"mode", "provider", "model", "reason"} (no side effects)."""
    provider, name = _split_model(settings.model)
    key = settings.google_api_key
    if provider is None and (name or "").lower().startswith("gemini"):
        provider = GOOGLE_PROVIDER
    if provider is None and name is None:
        if key:
            return {"mode": "llm", "provider": GOOGLE_PROVIDER, "model": DEFAULT_GEMINI_MODEL, "reason": "GOOGLE_API_KEY"}
        return {"mode": "offline", "provider": None, "model": None,
                "reason": "no GOOGLE_API_KEY, GEMINI_API_KEY or FINKRAFT_MODEL set"}
    if provider == GOOGLE_PROVIDER:
        if not key:
            return {"mode": "offline", "provider": None, "model": None,
                    "reason": f"FINKRAFT_MODEL names a Gemini model ({name}) but no GOOGLE_API_KEY/GEMINI_API_KEY is set"}
        return {"mode": "llm", "provider": GOOGLE_PROVIDER, "model": name or DEFAULT_GEMINI_MODEL, "reason": "GOOGLE_API_KEY"}
    return {"mode": "llm", "provider": provider, "model": name, "reason": "FINKRAFT_MODEL"}


def build_chat_model(choice: dict[str, Any], settings: Settings, *, timeout_s: float | None = None,
                     max_retries: int | None = None) -> BaseChatModel:
    timeout_s = settings.model_timeout_s if timeout_s is None else timeout_s
    retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    if choice["provider"] == GOOGLE_PROVIDER:
        from langchain_google_genai import ChatGoogleGenerativeAI
        kwargs: dict[str, Any] = dict(model=choice["model"], google_api_key=settings.google_api_key, temperature=0,
                                      timeout=timeout_s, max_retries=max(1, retries))
        if settings.model_base_url:
            kwargs["base_url"] = settings.model_base_url
        return ChatGoogleGenerativeAI(**kwargs)
    from langchain.chat_models import init_chat_model
    kwargs = dict(temperature=0, timeout=timeout_s, max_retries=retries)
    if settings.model_base_url:
        kwargs["base_url"] = settings.model_base_url
    spec = f"{choice['provider']}:{choice['model']}" if choice["provider"] else choice["model"]
    try:
        return init_chat_model(spec, **kwargs)
    except (TypeError, ValueError) as e:  # a provider that names timeout/retries differently (or not at all)
        log.info("%s rejected timeout/max_retries (%s); starting it with its own defaults", spec, e)
        return init_chat_model(spec, temperature=0, **({"base_url": settings.model_base_url} if settings.model_base_url else {}))


def make_router(settings: Settings | None = None, *, timeout_s: float | None = None,
                max_retries: int | None = None) -> "LLMRouter | None":
    """The configured router, or None (offline parser). Never raises: a model that can't be
    built (missing package, bad name) is logged and the assistant runs offline."""
    if settings is None:
        from business_data.settings import get_settings
        settings = get_settings()
    choice = select_model(settings)
    if choice["mode"] != "llm":
        return None
    try:
        model = build_chat_model(choice, settings, timeout_s=timeout_s, max_retries=max_retries)
    except Exception as e:  # noqa: BLE001 - configuration problems degrade to offline, loudly
        log.warning("could not start chat model %s:%s (%s); using the offline parser",
                    choice["provider"], choice["model"], e)
        return None
    return LLMRouter(model, provider=choice["provider"] or getattr(model, "_llm_type", "unknown"),
                     model_name=choice["model"] or "")


def describe(settings: Settings | None = None, router: "LLMRouter | None" = None) -> dict[str, Any]:
    """For /health/detailed: {"mode": "offline"|"llm", "provider", "model"} (never the key)."""
    if router is not None:
        return router.describe()
    if settings is None:
        from business_data.settings import get_settings
        settings = get_settings()
    choice = select_model(settings)
    if choice["mode"] == "llm" and make_router(settings) is None:
        return {"mode": "offline", "provider": None, "model": None,
                "reason": f"could not start {choice['provider']}:{choice['model']}"}
    return choice


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
    if (isinstance(code, int) and code >= 500) or re.search(r"\b5\d\d\b", text) or \
            any(s in text for s in ("INTERNAL", "UNAVAILABLE", "ServerError")):
        return "model server error"
    if isinstance(exc, getattr(lce, "ModelConnectionError", ())) or "connect" in text.lower():
        return "model unreachable"
    return "model error"


class MalformedToolCall(ValueError):
    pass


# -- numbers -------------------------------------------------------------------------------
_NUMBER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")


def extract_numbers(text: str) -> list[float]:
    """Every number written in `text` ('₹4,49,977.12' -> 449977.12; 'INV-ACM-2610-00220' -> 2610, 220)."""
    out = []
    for m in _NUMBER.finditer(text or ""):
        try:
            out.append(float(m.group().replace(",", "")))
        except ValueError:
            continue
    return out


def _walk_numbers(obj: Any, acc: set[float]) -> None:
    if isinstance(obj, bool):
        return
    if isinstance(obj, (int, float)):
        acc.add(float(obj))
    elif isinstance(obj, str):
        acc.update(extract_numbers(obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk_numbers(k, acc)
            _walk_numbers(v, acc)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            _walk_numbers(v, acc)
    elif obj is not None:
        acc.update(extract_numbers(str(obj)))


def grounded_numbers(*sources: Any) -> set[float]:
    """The numbers a model may quote: every number in the sources, also rounded (₹449,977.12 -> 449,977)."""
    raw: set[float] = set()
    for s in sources:
        _walk_numbers(s, raw)
    allowed = set(raw)
    for x in raw:
        allowed.update({round(x), round(x, 1), round(x, 2)})
    return allowed


def ungrounded_numbers(text: str, *sources: Any) -> list[float]:
    allowed = grounded_numbers(*sources)
    return [n for n in extract_numbers(text) if n not in allowed and round(n, 2) not in allowed]


def numbers_grounded(text: str, *sources: Any) -> bool:
    """True when every number in `text` appears in the sources (the tool result)."""
    return not ungrounded_numbers(text, *sources)


# -- the router ----------------------------------------------------------------------------
def _strip_schema(node: Any) -> Any:
    """Drop JSON-schema keys some providers reject or warn about (Gemini: additionalProperties)."""
    if isinstance(node, dict):
        return {k: _strip_schema(v) for k, v in node.items()
                if not (k == "additionalProperties" or (k == "title" and isinstance(v, str)))}
    if isinstance(node, list):
        return [_strip_schema(v) for v in node]
    return node


def tool_schemas(role: str) -> list[dict[str, Any]]:
    """OpenAI-style function schemas for the tools `role` may run, from the registry's pydantic models."""
    out = []
    for name in tools_for_role(role):
        spec = TOOLS.get(name)
        if spec is None:  # in the policy but not registered in this process (e.g. run_template)
            continue
        fn = copy.deepcopy(convert_to_openai_tool(spec.params))
        fn["function"]["name"] = spec.name
        fn["function"]["description"] = spec.description
        params = _strip_schema(fn["function"].get("parameters") or {"type": "object", "properties": {}})
        props = params.setdefault("properties", {})
        props.pop("request_key", None)  # the graph sets idempotency keys, never the model
        if role != "Admin":
            props.pop("workspace", None)  # other workspaces are Admin-only: don't even suggest it
        if name in RECORD_TOOLS:
            props["use_previous_results"] = {"type": "boolean", "description": prompts.USE_PREVIOUS_RESULTS}
        if name in TICKET_REF_TOOLS:
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

    def __init__(self, model: BaseChatModel, *, provider: str = "custom", model_name: str = "",
                 max_history: int = 6):
        self.model = model
        self.provider = provider
        self.model_name = model_name or getattr(model, "model", "") or getattr(model, "model_name", "") or ""
        self.max_history = max_history

    @property
    def name(self) -> str:
        return f"llm ({self.provider}:{self.model_name})" if self.model_name else f"llm ({self.provider})"

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
        msgs = list(state.get("messages") or [])[:-1][-self.max_history:]
        for m in msgs:
            role = "user" if getattr(m, "type", "") == "human" else "assistant" if getattr(m, "type", "") == "ai" else None
            if role:
                history.append({"role": role, "text": _human_text(m)[:300]})
        return {
            "today": pctx.today.isoformat(),
            "vendors": list(pctx.vendors)[:100],
            "previous_result": None if not last else {
                "tool": last.get("tool"), "dataset": last.get("dataset"), "params": last.get("params"),
                "count": len(last.get("keys") or [])},
            "last_ticket_id": pctx.last_ticket_id,
            "last_export_id": pctx.last_export_id,
            "open_tickets": [{k: t.get(k) for k in ("ticket_id", "title", "status")} for t in (pctx.open_tickets or [])][:10],
            "unread_notifications": [{"ticket_id": n.get("ticket_id"), "message": str(n.get("message") or "")[:200]}
                                     for n in ctx.get("unread_notifications") or []][:10],
            "recent_results": list(ctx.get("last_results") or [])[:3],
            "recent_conversation": history,
        }

    def messages_for(self, text: str, pctx: ParseContext, identity: Identity, state: dict[str, Any]) -> list[BaseMessage]:
        system = prompts.router_system(today=pctx.today.isoformat(), role=identity.role, workspace=identity.workspace_id)
        return [SystemMessage(content=system),
                HumanMessage(content=prompts.router_user_parts(self.context_payload(pctx, identity, state), text))]

    def route(self, text: str, pctx: ParseContext, identity: Identity, state: dict[str, Any]) -> tuple[Intent | None, str]:
        """(Intent, router name), or (None, "offline (fallback: why)") for the offline parser."""
        if not text.strip():
            return None, "offline (empty message)"
        tools = self.offered_tools(identity)
        messages = self.messages_for(text, pctx, identity, state)
        try:
            bound = self.model.bind_tools(tools) if tools else self.model
            reply = bound.invoke(messages)
        except Exception as e:  # noqa: BLE001 - every model failure degrades to the offline parser
            why = classify_error(e)
            log.warning("model call failed (%s): %s", why, e)
            return None, prompts.FALLBACK_NOTE.format(why=why)
        try:
            intent = self.intent_from(reply, identity, allowed={t["function"]["name"] for t in tools},
                                      grounding=(self.context_payload(pctx, identity, state), text))
        except MalformedToolCall as e:
            log.warning("unusable model reply: %s", e)
            return None, prompts.FALLBACK_NOTE.format(why=str(e))
        return intent, self.name

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
        if spec is None:
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
        if from_ticket in ("previous", "fixed") and name in TICKET_REF_TOOLS:
            refs["ticket"] = from_ticket
        if name == "run_template":
            template = args.pop("template", None)
            if not template:
                raise MalformedToolCall("malformed tool call (no template)")
            return Intent("template", template=template, params=args, reason="llm")
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
            data["by_reason"] = [{**r, "invoice_numbers": list(r.get("invoice_numbers") or [])[:max_rows]}
                                 for r in data["by_reason"]]
        return {"tool": tool, "status": result.get("status"), "summary": result.get("message"), "data": data}

    def explain(self, question: str, tool: str | None, result: dict[str, Any] | None) -> tuple[str | None, str]:
        """(text, how) — text is None when the template should stand; `how` goes into the trace."""
        if not result or result.get("status") != "success" or tool not in EXPLAINED_TOOLS:
            return None, "template"
        compact = self.compact_result(tool, result)
        messages = [SystemMessage(content=prompts.explain_system()),
                    HumanMessage(content=prompts.explain_request(question=question, tool=tool, result=compact))]
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
