"""What the assistant understood, under the question: the parts of its reading as chips ("vendor: IndiSky
Airlines ✕", "period: last month · kept ✕"), the clarifying choices as buttons, and which understanding
answered (the offline parser or a model).

Everything here comes from the answer's `interpretation` and `tool_calls` (never from its words). A click
on a chip opens a small editor with the slot's other values (periods, the dimension's values as the API
groups them, top 3/5/10); choosing one, or the chip's ✕, sends the answer's own tool call with that part
replaced or removed as POST /chat's `tool_call`: the API runs it through the graph (same permissions,
confirmation, trace and memory) and the new answer is appended.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import streamlit as st

from . import state
from schema.formats import Format, cell
from schema.toolnames import ANALYZE_DATA

# parts that name what is read rather than a condition on it: shown, not removable
FIXED = {"dataset", "measures", "time_dimension", "order_by", "format", "invoice_numbers", "ticket_id", "query"}
REFS = {"records": "your last result", "ticket": "that ticket", "filter": "your last filter", "report": "that report"}
SLOT_WORDS = {"group_by": "by", "date_from": "from", "date_to": "to", "time_grain": "per", "limit": "top"}
OPS = {"eq": "", "ne": "not ", "gt": "over ", "gte": "at least ", "lt": "under ", "lte": "at most ", "in": ""}
# the editor's alternatives: the tools' period names (tools/periods.py), in the words shown
PERIODS = {
    "this_month": "this month",
    "last_month": "last month",
    "this_quarter": "this quarter",
    "last_quarter": "last quarter",
    "this_year": "this year",
    "last_year": "last year",
    "this_fy": "this financial year",
    "last_30_days": "last 30 days",
}
LIMITS = (3, 5, 10)
CATEGORICAL = ("vendor", "status", "region", "customer")  # filter_data's own filters
MAX_VALUES = 12  # a dimension's values offered, the largest groups first
REMOVE = object()  # _changed(..., value=REMOVE): the part is dropped


@dataclass(frozen=True)
class Chip:
    label: str  # "vendor: IndiSky Airlines"
    kept: bool  # carried from an earlier question
    why: str | None  # "kept from your last question"
    tool_call: dict[str, Any] | None  # the answer's call without this part (None: not removable)
    slot: str = ""  # "period", "limit", a filter_data filter, or "filters" (one of analyze_data's)
    item: int | None = None  # the filter's place in analyze_data's list
    value: Any = None  # the part's value (a filter: its value)
    dimension: str | None = None  # the categorical dimension the value is one of
    call: dict[str, Any] | None = None  # the answer's call, to change this part in


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def _value(value: Any, fmt: Format | None = None, formats: dict[str, Format] | None = None) -> str:
    """A part's value in words, written by the format the interpretation declares for it (money as ₹ with
    lakh and crore, a date as DD MMM YYYY; a dict's values each by its field's format in `formats`)."""
    if isinstance(value, list):
        return ", ".join(_value(v, fmt) for v in value)
    if isinstance(value, bool) or value is None:
        return _words(value)
    if fmt not in (None, "text") and (isinstance(value, (int, float)) or fmt == "date"):
        return cell(value, fmt)
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)} {_value(v, (formats or {}).get(str(k)))}" for k, v in value.items())
    return _words(value)


def _filter_label(f: Any, formats: dict[str, Format] | None = None) -> str:
    if not isinstance(f, dict) or "field" not in f:
        return _value(f)
    field = str(f["field"])
    op = OPS.get(str(f.get("op") or "eq"), f"{_words(f.get('op'))} ")
    return f"{_words(field)}: {op}{_value(f.get('value'), (formats or {}).get(field))}"


def _call_of(answer: dict, action: str) -> dict | None:
    for call in reversed(answer.get("tool_calls") or []):
        if call.get("tool") == action:
            return call
    return None


def _changed(call: dict, slot: str, item: int | None, value: Any = REMOVE) -> dict:
    """The call with one part replaced by `value` (REMOVE: removed): a key of filter_data's parameters, or
    of analyze_data's query (one filter, whose value changes, or one grouping of its lists)."""
    params = copy.deepcopy(dict(call.get("params") or {}))
    target = params["query"] if isinstance(params.get("query"), dict) else params
    if item is not None and isinstance(target.get(slot), list):
        if value is not REMOVE:
            old = target[slot][item]
            target[slot][item] = {**old, "value": value} if isinstance(old, dict) else value
        else:
            target[slot] = [v for i, v in enumerate(target[slot]) if i != item]
            if not target[slot]:
                target.pop(slot)
    elif value is REMOVE:
        target.pop(slot, None)
    else:
        target[slot] = value
    return {"tool": call["tool"], "params": params}


def _without(call: dict, slot: str, item: int | None) -> dict:
    return _changed(call, slot, item)


def _dimension(slot: str, value: Any) -> str | None:
    """The categorical dimension whose other values can replace this part (None: nothing to offer)."""
    if slot in CATEGORICAL and isinstance(value, str):
        return slot
    if slot == "filters" and isinstance(value, dict) and isinstance(value.get("value"), str):
        if str(value.get("op") or "eq") == "eq":
            return str(value.get("field"))
    return None


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
                label = _filter_label(v, part.get("formats")) if slot == "filters" else f"by: {_words(v)}"
                item_kept = kept or i in carried
                item_why = why or ("kept from your last question" if i in carried else None)
                removed = _without(call, slot, i) if call else None
                dim = _dimension(slot, v)
                out.append(Chip(label, item_kept, item_why, removed, slot, i, v.get("value") if dim else v, dim, call))
            continue
        label = f"{SLOT_WORDS.get(slot, _words(slot))}: {_value(value, part.get('format'), part.get('formats'))}"
        removed = _without(call, slot, None) if call and slot not in FIXED else None
        out.append(Chip(label, kept, why, removed, slot, None, value, _dimension(slot, value), call))
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


def _target(call_: dict) -> dict:
    params = call_.get("params") or {}
    return params["query"] if isinstance(params.get("query"), dict) else params


def _same(a: Any, b: Any) -> bool:
    return str(a).strip().lower() == str(b).strip().lower()


def dimension_values(dataset: str, dimension: str) -> list[str]:
    """A categorical dimension's values, the largest groups first: analyze_data grouped by it, through
    POST /execute_tool (so only what this user may read). Asked once a session; [] when it can't be."""
    cache = st.session_state.setdefault("chip_values", {})
    if f"{dataset}.{dimension}" not in cache:
        data = state.call(
            state.api().tool, ANALYZE_DATA, quiet=True, dataset=dataset, group_by=[dimension], limit=MAX_VALUES
        )
        if data is None:  # refused or not reachable: nothing to offer now, asked again next time
            return []
        columns, rows = data.get("columns") or [], data.get("rows") or []
        at = columns.index(dimension) if dimension in columns else None
        cache[f"{dataset}.{dimension}"] = [str(r[at]) for r in rows if at is not None and r[at] not in (None, "")]
    return cache[f"{dataset}.{dimension}"]


def alternatives(chip: Chip) -> list[tuple[str, Any]]:
    """(label, value) to offer instead of the chip's value: the named periods, top 3/5/10, or the other
    values of its dimension. [] for what can only be removed (a date range, a grouping, a free condition)."""
    if chip.call is None or chip.tool_call is None:
        return []
    if chip.slot == "period":
        return [(words, name) for name, words in PERIODS.items() if not _same(name, chip.value)]
    if chip.slot == "limit":
        return [(f"top {n}", n) for n in LIMITS if n != chip.value]
    if chip.dimension:
        dataset = str(_target(chip.call).get("dataset") or "invoices")
        return [(v, v) for v in dimension_values(dataset, chip.dimension) if not _same(v, chip.value)]
    return []


def editable(chip: Chip) -> bool:
    return chip.tool_call is not None and (chip.slot in ("period", "limit") or chip.dimension is not None)


def _ask(prompt: str, tool_call: dict) -> None:
    st.session_state["pending_prompt"] = prompt
    st.session_state["pending_tool_call"] = tool_call
    st.rerun()


def _editor(chip: Chip, text: str, key: str, waiting: bool) -> None:
    """The chip as a button that opens its alternatives; one re-runs the call with it instead."""
    tip = (chip.why.capitalize() + ". " if chip.why else "") + "Change it."
    pop = st.popover(_escape(text), help=tip, disabled=waiting, key=key, on_change="rerun")
    with pop:
        if not pop.open:
            return
        name = chip.label.split(":")[0]
        st.caption("Ask again with " + ("" if chip.slot == "limit" else f"another {name}"))
        offered = alternatives(chip)
        if not offered:
            st.caption("Nothing else to offer here.")
        with st.container(horizontal=True, gap="small"):
            for j, (label, value) in enumerate(offered):
                assert chip.call is not None
                tool_call = _changed(chip.call, chip.slot, chip.item, value)
                st.button(
                    _escape(label),
                    key=f"{key}-{j}",
                    on_click=_choose,
                    args=(key, f"Same, with {label if chip.slot == 'limit' else f'{name}: {label}'}", tool_call),
                )


def _choose(popover: str, prompt: str, tool_call: dict) -> None:
    """An alternative's click (a callback, before the page runs): queue the call, close the editor."""
    st.session_state["pending_prompt"] = prompt
    st.session_state["pending_tool_call"] = tool_call
    st.session_state[popover] = False


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
            pair = f"chippair-{key}-{i}" if editable(chip) else None  # one pill: the chip and its ✕
            with st.container(horizontal=True, gap=None, width="content", vertical_alignment="center", key=pair):
                if editable(chip):
                    _editor(chip, text, f"chipedit-{key}-{i}", waiting)
                    label, tip = "✕", f"Remove {chip.label} and ask again."
                else:
                    label = _escape(text) + " ✕"
                    tip = (chip.why.capitalize() + ". " if chip.why else "") + "Remove it and ask again."
                if st.button(label, key=f"chip-{key}-{i}", help=tip, disabled=waiting, type="secondary"):
                    _ask(f"Same, without {chip.label}", chip.tool_call)


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
