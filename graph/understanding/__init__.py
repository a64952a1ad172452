"""Understanding made visible: what the router read in one message, where each part came from, the words
it did not use, and the decision before acting (run, run stating an assumption, ask, or refuse).

The router (offline parser or model) proposes an Intent; `interpret` turns it into an Interpretation
record, and `decide` applies the rules that keep a guess from being acted on:

- a content word nothing used (not filler, not a name, date, amount or a word of the data model that the
  query applied) means the message asked for something the query would silently drop: ask, offering
  the likeliest readings as one-click choices;
- a write or an export needs an explicit verb, and its "these" must be a non-empty result of this
  conversation;
- the caller's role is checked first: a refusal comes before any clarifying question;
- parts taken from an earlier turn or from a default are stated ("No period given, so all dates").

The same decision applies to the offline parser and to a model's tool call. A tool call the client chose
(POST /chat's `tool_call`, router "client") has no words to check: only the role decides.
"""

from __future__ import annotations

import json
import re

from typing import Any

from tools.tables import param_format
from tools.toolnames import ANALYZE_DATA, FILTER_DATA

from ..parser.vocabulary import vocabulary
from ..state import Interpretation, Part

from .decision import (
    ask_text,
    assumptions_of,
    decide,
    referent_problem,
    shape_problem,
    stated,
    summary,
    wants_a_write_it_may_not,
)
from .shapes import (
    with_aggregate_condition,
    with_context_fallback,
    with_named_measure_or_dataset,
    with_polarity,
    with_ranking_or_share,
)
from .carry import with_carried_parts, with_previous_filter_in_query
from .dates import with_time_dimension
from .counts import (
    with_count_asked,
    with_measure_named_by,
    with_most_by_status,
    with_overall_average,
    with_unit_condition,
    with_units_asked,
)
from .records import with_record_ranking
from .values import declared_values, with_attribute_lookup, with_declared_values
from .words import DATA_TOOLS, FILLER, FOLLOW_CUE, PERIOD_KEYS, parser_words, unused_words

__all__ = [
    "ask_text",
    "assumptions_of",
    "decide",
    "declared_values",
    "interpret",
    "parser_words",
    "parts_of",
    "query_of",
    "referent_problem",
    "shape_problem",
    "starts_clean",
    "stated",
    "summary",
    "understand",
    "unused_words",
    "wants_a_write_it_may_not",
    "with_aggregate_condition",
    "with_attribute_lookup",
    "with_carried_parts",
    "with_context_fallback",
    "with_count_asked",
    "with_unit_condition",
    "with_units_asked",
    "with_declared_values",
    "with_measure_named_by",
    "with_most_by_status",
    "with_named_measure_or_dataset",
    "with_overall_average",
    "with_polarity",
    "with_previous_filter_in_query",
    "with_ranking_or_share",
    "with_record_ranking",
    "with_time_dimension",
    "DATA_TOOLS",
    "FILLER",
    "PERIOD_KEYS",
]


def _kept_items(value: Any, previous: Any, alone: Any) -> list[int]:
    """Of a list part (analyze_data's filters, group_by) this message changed: the items the previous
    query had and this message, read alone, did not say (their indices)."""
    if not isinstance(value, list) or not isinstance(previous, list):
        return []
    said = alone if isinstance(alone, list) else []
    return [i for i, v in enumerate(value) if v in previous and v not in said]


def parts_of(
    params: dict[str, Any], refs: dict[str, str], standalone: dict[str, Any] | None, previous: dict[str, Any]
) -> list[Part]:
    """Where each parameter came from: this message (the message read alone gives it), an earlier turn
    (the previous query had it and this message did not say it), or a default."""
    parts: list[Part] = []
    alone = standalone if standalone is not None else params
    for key, value in params.items():
        if key in ("limit", "format") and key not in alone:
            continue
        if key in alone and alone[key] == value or standalone is None:
            parts.append({"slot": key, "value": value, "source": "message"})
        elif previous.get(key) == value:
            parts.append({"slot": key, "value": value, "source": "carried", "why": "kept from your last question"})
        else:
            part: Part = {"slot": key, "value": value, "source": "message"}
            kept = _kept_items(value, previous.get(key), alone.get(key))
            if kept:  # "what about IndiSky?": the vendor filter is new, the status filter was kept
                part["kept"] = kept
            parts.append(part)
    for kind, how in refs.items():
        parts.append({"slot": kind, "value": how, "source": "carried", "why": f"'{kind}' = your {how} result"})
    return parts


def with_formats(parts: list[Part], dataset: Any, model: Any = None) -> list[Part]:
    """Each part with the data model's format of what it holds, and a part of several fields (filters,
    where) with each field's: a client writes 50000 as ₹50,000 because the field is money."""
    ds = vocabulary(model).model.datasets.get(str(dataset or "invoices"))
    if ds is None:
        return parts
    for part in parts:
        value = part["value"]
        fields: list[Any] = []
        if part["slot"] == "filters" and isinstance(value, list):
            fields = [f.get("field") for f in value if isinstance(f, dict)]
        elif part["slot"] == "where" and isinstance(value, dict):
            fields = list(value)
        else:
            fmt = param_format(ds, part["slot"])
            if fmt is not None:
                part["format"] = fmt
            continue
        formats = {str(f): fmt for f in fields if (fmt := param_format(ds, str(f))) is not None}
        if formats:
            part["formats"] = formats
    return parts


def query_of(tool: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """The semantic query inside an analyze_data call, else the filter parameters themselves."""
    return dict(params.get("query") or params) if tool == ANALYZE_DATA else dict(params)


def interpret(
    text: str,
    intent: dict[str, Any],
    *,
    rest: str,
    standalone: dict[str, Any] | None,
    previous: dict[str, Any],
    model: Any = None,
    lookups: dict[str, list[str]] | None = None,
) -> Interpretation:
    """The record of what was understood (before references are resolved and the decision is taken)."""
    kind = intent.get("kind") or "clarify"
    tool = intent.get("tool")
    action = tool if kind == "tool" else (intent.get("template") if kind == "template" else kind)
    params = query_of(tool, dict(intent.get("params") or {}))
    interp: Interpretation = {
        "action": str(action or kind),
        "router": str(intent.get("router") or "offline"),
        "model": intent.get("model") or None,
        "fallback": intent.get("fallback") or None,
        "parts": [],
        "unused": [],
        "assumptions": [],
        "choices": [],
    }
    if kind not in ("tool", "template"):
        return interp
    parts = parts_of(params, dict(intent.get("refs") or {}), standalone, previous)
    interp["parts"] = with_formats(parts, params.get("dataset"), model)
    if tool in DATA_TOOLS or kind == "template":
        interp["unused"] = unused_words(rest, params, params.get("dataset"), model, lookups)
    interp["summary"] = summary(interp)
    return interp


_PRONOUN = re.compile(r"\b(?:them|they|their|theirs|it|its)\b")


def _leans_back(text: str, model: Any = None) -> bool:
    """A cue of a follow-up, other than a pronoun for records the message itself named before it
    ("invoices with no GSTIN on them": them are those invoices)."""
    words = vocabulary(model).find(text)
    for m in FOLLOW_CUE.finditer(text):
        if _PRONOUN.fullmatch(m.group(0)) and any(
            h.end <= m.start() and any(t.kind == "dataset" for t in h.terms) for h in words
        ):
            continue
        return True
    return False


def starts_clean(text: str, alone: Any, alone_turn: Any, in_context: Any, model: Any = None) -> bool:
    """A self-contained new question: read alone it is a whole data question (it names what it asks
    about: a dataset or a measure), it leans on nothing before (no pronoun, no "and for ..."), and the
    reading in context differs. Then nothing from the earlier question is carried."""
    if alone.kind != "tool" or alone.tool not in (FILTER_DATA, ANALYZE_DATA):
        return False
    low = alone_turn.core or alone_turn.t
    if _leans_back(low, model) or _leans_back(alone_turn.t, model):
        return False
    named = any(t.kind in ("dataset", "measure") for h in vocabulary(model).find(alone_turn.t) for t in h.terms)
    if not named:
        return False
    return (in_context.kind, in_context.tool, in_context.params, in_context.refs) != (
        alone.kind,
        alone.tool,
        alone.params,
        alone.refs,
    )


def understand(
    text: str,
    pctx: Any,
    proposed: Any = None,
    llm: dict[str, Any] | None = None,
    fallback: str | None = None,
) -> tuple[dict[str, Any], Interpretation]:
    """The `route` node's reading of one message: the intent record (the model's `proposed` Intent when a
    model answered, else the offline parser's), completed from the data model's declarations, and its
    Interpretation (parts with provenance, unused words). `decide` then takes the decision in `plan`."""
    from dataclasses import replace

    from ..parser import parse_turn

    model = pctx.model
    parsed, turn = parse_turn(text, pctx)
    record: dict[str, Any]
    if proposed is not None:
        record = {**proposed.__dict__, **(llm or {"router": "llm", "model": None}), "fallback": None}
    else:
        record = {**parsed.__dict__, "router": "offline", "model": None, "fallback": fallback}
    if turn.slots.params.get("_assumed") and record.get("kind") in ("tool", "template"):
        record["assumed"] = list(turn.slots.params["_assumed"])
    last = pctx.last_result or {}
    previous = {**dict(last.get("params") or {}), **query_of(last.get("tool"), dict(last.get("query") or {}))}
    standalone = None
    if pctx.last_result or pctx.last_ticket_id:
        alone, alone_turn = parse_turn(text, replace(pctx, last_result=None, last_ticket_id=None, last_export_id=None))
        standalone = query_of(alone.tool, alone.params) if alone.kind == "tool" else {}
        if record["router"] == "offline" and starts_clean(text, alone, alone_turn, parsed, model):
            # a self-contained new question: nothing from the earlier one comes along
            record = {**alone.__dict__, "router": "offline", "model": None, "fallback": fallback}
            record["reason"] = f"{alone.reason}; a new question, so nothing is carried from the last one"
            turn, standalone = alone_turn, None
    t = turn.t  # lower case, typos and Hinglish read (graph/parser/turn.py)
    record = with_context_fallback(record, t, pctx.last_result, model)  # "what's their total?"
    record = with_carried_parts(record, t, pctx.last_result, model)  # "how many customers were there?"
    record = with_declared_values(
        record, turn.slots.rest, model, full=t, lookups=pctx.lookups
    )  # "inactive vendors", "Travel vendors"
    record = with_attribute_lookup(record, t, model)  # "GSTIN of Ganga Logistics": the vendor master
    record = with_named_measure_or_dataset(record, t, model)  # "remittances to X", "what was our turnover"
    # the values of the dataset now named (in all the words when the names the parser read were dropped)
    named = json.dumps(record.get("params") or {})
    unnamed = '"vendor"' not in named and '"customer"' not in named
    record = with_declared_values(record, t if unnamed else turn.slots.rest, model, lookups=pctx.lookups)
    record = with_aggregate_condition(record, t, model)  # "customers with sales over 1 crore": per customer
    record = with_ranking_or_share(record, t, model)  # "who was our biggest customer": a ranking of customers
    record = with_unit_condition(record, t, model)  # "sales that had more than 15 units": quantity, not amount
    record = with_measure_named_by(record, t, model)  # "least sold product by units"
    record = with_overall_average(record, t, model)  # "average payment terms across our vendors": one figure
    record = with_most_by_status(record, t, model)  # "which vendor failed the most": failures counted
    record = with_record_ranking(record, t, model)  # "the 5 smallest invoices", "sort them by amount"
    record = with_count_asked(record, t, model)  # "how many of those were completed?": a count, not a value
    record = with_units_asked(record, t, model, pctx.lookups)  # "how many monitors did we sell": units
    record = with_time_dimension(record, t, model)  # "invoices due this month": the due date's period
    record = with_polarity(record, t)
    record = with_previous_filter_in_query(
        record, pctx.last_result
    )  # "sum them up" after a listing  # "the worst failure rate": the highest
    interp = interpret(
        text, record, rest=turn.slots.rest, standalone=standalone, previous=previous, model=model, lookups=pctx.lookups
    )
    return record, interp
