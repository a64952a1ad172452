"""The side panel's status line: which understanding answered the last question (the offline parser, or
the configured model, and whether the parser stood in for it), from the last answer's `interpretation`;
before any answer, which one is configured (GET /health/detailed `model`)."""

from __future__ import annotations

import streamlit as st

from .state import api, cached


def last_interpretation() -> dict | None:
    for msg in reversed(st.session_state.get("messages") or []):
        answer = msg.get("answer")  # a schema.chat.ChatResponse
        interp = getattr(answer, "interpretation", None)
        if interp:
            return interp.model_dump()
    return None


def sentence(interp: dict | None, configured: dict | None) -> str:
    """'Answered by the offline parser', 'Answered by gemini-2.0-flash', 'Answered by the offline parser:
    the model gemini-2.0-flash was not used (model error)', or before any answer what is configured."""
    model = (configured or {}).get("model")
    if interp is None:
        if configured is None:
            return "Understanding: not known yet"
        if configured.get("mode") == "llm":
            return f"Understanding: the model {model}" + (
                f" ({configured['provider']})" if configured.get("provider") else ""
            )
        return "Understanding: the offline parser (no model configured)"
    router = interp.get("router")
    if router == "llm":
        return f"Answered by the model {interp.get('model') or model or ''}".rstrip()
    if router == "client":
        return "Run as you chose it (nothing was parsed)"
    if interp.get("fallback"):
        return (
            f"Answered by the offline parser; the model{f' {model}' if model else ''} fell back ({interp['fallback']})"
        )
    if configured and configured.get("mode") == "llm":
        return f"Answered by the offline parser (the model {model} was not needed)"
    return "Answered by the offline parser"


def render() -> None:
    health = cached("health-detailed", lambda: api().health_detailed(), seconds=300)
    configured = health.model if health is not None else None
    st.caption(sentence(last_interpretation(), configured), help="Which understanding read your last question")
