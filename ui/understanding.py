"""What the assistant understood, under the question: the parts of its reading as chips ("vendor: IndiSky
Airlines ✕", "period: last month · kept ✕"), the clarifying choices as buttons, and which understanding
answered (the offline parser or a model).

Everything here comes from the answer's `interpretation` and `tool_calls` (never from its words). A click
on a chip's ✕ sends the answer's own tool call without that part as POST /chat's `tool_call`: the API runs
it through the graph (same permissions, confirmation, trace and memory) and the new answer is appended.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import streamlit as st

from .format import money

# parts that name what is read rather than a condition on it: shown, not removable
FIXED = {"dataset", "measures", "time_dimension", "order_by", "format", "invoice_numbers", "ticket_id", "query"}
REFS = {"records": "your last result", "ticket": "that ticket", "filter": "your last filter", "report": "that report"}
SLOT_WORDS = {"group_by": "by", "date_from": "from", "date_to": "to", "time_grain": "per", "limit": "top"}
OPS = {"eq": "", "ne": "not ", "gt": "over ", "gte": "at least ", "lt": "under ", "lte": "at most ", "in": ""}
MONEYISH = ("amount", "value", "outstanding", "revenue", "sales", "spend")


@dataclass(frozen=True)
class Chip:
    label: str  # "vendor: IndiSky Airlines"
    kept: bool  # carried from an earlier question
    why: str | None  # "kept from your last question"
    tool_call: dict[str, Any] | None  # the answer's call without this part (None: not removable)


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def _value(value: Any, field: str = "") -> str:
    if isinstance(value, list):
        return ", ".join(_value(v, field) for v in value)
    if isinstance(value, bool) or value is None:
        return _words(value)
    if isinstance(value, (int, float)) and any(w in field for w in MONEYISH):
        return money(value)
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)} {_value(v)}" for k, v in value.items())
    return _words(value)


def _filter_label(f: Any) -> str:
    if not isinstance(f, dict) or "field" not in f:
        return _value(f)
    field = str(f["field"])
    op = OPS.get(str(f.get("op") or "eq"), f"{_words(f.get('op'))} ")
    return f"{_words(field)}: {op}{_value(f.get('value'), field)}"


def _call_of(answer: dict, action: str) -> dict | None:
    for call in reversed(answer.get("tool_calls") or []):
        if call.get("tool") == action:
            return call
    return None


def _without(call: dict, slot: str, item: int | None) -> dict:
    """The call with one part removed: a key of filter_data's parameters, or of analyze_data's query
    (one filter or one grouping of its lists)."""
    params = copy.deepcopy(dict(call.get("params") or {}))
    target = params["query"] if isinstance(params.get("query"), dict) else params
    if item is not None and isinstance(target.get(slot), list):
        target[slot] = [v for i, v in enumerate(target[slot]) if i != item]
        if not target[slot]:
            target.pop(slot)
    else:
        target.pop(slot, None)
    return {"tool": call["tool"], "params": params}


def chips(answer: dict) -> list[Chip]:
    """The answer's reading as chips, each with the call to run without it (when it ran and can be removed)."""
    interp = answer.get("interpretation") or {}
    action = str(interp.get("action") or "")
    call = _call_of(answer, action) if interp.get("decision") in ("run", "assume") else None
    out: list[Chip] = []
    for part in interp.get("parts") or []:
        slot, value = str(part.get("slot") or ""), part.get("value")
        kept = part.get("source") == "carried"
        why = part.get("why")
        if slot in REFS:
            out.append(Chip(f"{slot}: {REFS[slot]}", kept, why, None))
            continue
        if slot in ("filters", "group_by") and isinstance(value, list):
            carried = set(part.get("kept") or [])  # the items of this message's list kept from the last question
            for i, v in enumerate(value):
                label = _filter_label(v) if slot == "filters" else f"by: {_words(v)}"
                item_kept = kept or i in carried
                item_why = why or ("kept from your last question" if i in carried else None)
                out.append(Chip(label, item_kept, item_why, _without(call, slot, i) if call else None))
            continue
        label = f"{SLOT_WORDS.get(slot, _words(slot))}: {_value(value, slot)}"
        out.append(Chip(label, kept, why, _without(call, slot, None) if call and slot not in FIXED else None))
    return out


def understood_by(interp: dict) -> str:
    router = interp.get("router")
    if router == "llm":
        return f"Understood by {interp.get('model') or 'the language model'}"
    if router == "client":
        return "Run as you chose it in the web app (nothing was parsed)"
    return "Understood by the offline parser"


def _escape(text: str) -> str:
    return str(text).replace("$", "\\$").replace("~", "\\~")


def show_chips(answer: dict, key: str, waiting: bool) -> None:
    """The reading's parts under the question. `waiting`: a yes/no is open, so nothing re-runs now."""
    found = sorted(chips(answer), key=lambda c: c.tool_call is not None)  # what is read, then its conditions
    if not found:
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"chips-{key}"):
        for i, chip in enumerate(found):
            text = chip.label + (" · kept" if chip.kept else "")
            if chip.tool_call is None:
                st.badge(_escape(text), color="gray")
                continue
            tip = (chip.why.capitalize() + ". " if chip.why else "") + "Remove it and ask again."
            if st.button(_escape(text) + " ✕", key=f"chip-{key}-{i}", help=tip, disabled=waiting, type="secondary"):
                st.session_state["pending_prompt"] = f"Same, without {chip.label}"
                st.session_state["pending_tool_call"] = chip.tool_call
                st.rerun()


def show_choices(answer: dict, key: str) -> None:
    """decision == ask: the likeliest readings as buttons; one sends its message."""
    interp = answer.get("interpretation") or {}
    choices = interp.get("choices") or [] if interp.get("decision") == "ask" else []
    if not choices:
        return
    with st.container(horizontal=True, key=f"choices-{key}"):
        for i, choice in enumerate(choices):
            if st.button(_escape(choice["label"]), key=f"choice-{key}-{i}", icon=":material/arrow_forward:"):
                st.session_state["pending_prompt"] = choice["message"]
                st.rerun()


def caption(answer: dict) -> None:
    interp = answer.get("interpretation")
    if interp:
        st.caption(understood_by(interp))
