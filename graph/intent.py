"""What a router (offline parser or LLM) produces for one user message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

IntentKind = Literal[
    "tool", "clarify", "help", "greeting", "forget", "template", "answer"
]  # answer: the model's own reply, in `question`


@dataclass
class ParseContext:
    """What the router may know about the user's world (never who they are: that is config)."""

    vendors: list[str]
    today: date
    customers: list[str] = field(default_factory=list)
    # the newest result set in reach: {"tool", "dataset", "keys", "params"} (keys = invoice numbers for invoices)
    last_result: dict[str, Any] | None = None
    last_ticket_id: str | None = None
    last_export_id: str | None = None
    open_tickets: list[dict[str, Any]] = field(default_factory=list)
    model: Any = None  # the data model to read the message with (None: the configured one)
    # stored values of lookup dimensions other than vendor and customer: {"sales.product": ["Laptop", ...]}
    lookups: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Intent:
    kind: IntentKind
    tool: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # references the graph resolves from the working context:
    #   {"records": "previous"}              these / those / them / same invoices
    #   {"ticket": "previous"}               that ticket / the ticket
    #   {"ticket": "fixed"}                  the fixed report / the resolved ticket
    #   {"filter": "previous"}               "the same for SkyHigh": previous filter, params override it
    refs: dict[str, str] = field(default_factory=dict)
    question: str | None = None  # clarifying question when kind == "clarify"
    template: str | None = None  # invoice_investigation | vendor_analysis | monthly_review when kind == "template"
    confidence: float = 1.0
    reason: str = ""  # why the router decided this (goes into the trace)


def routed_by(intent: dict[str, Any]) -> str:
    """Who understood the message, in words: "offline", "offline (fallback: model error)" or
    "llm (google_genai:gemini-2.0-flash)" (from the intent record's router, model and fallback fields)."""
    router = str(intent.get("router") or "offline")
    if router == "llm":
        return f"llm ({intent.get('model')})" if intent.get("model") else "llm"
    if router == "offline" and intent.get("fallback"):
        return f"offline (fallback: {intent['fallback']})"
    return router
