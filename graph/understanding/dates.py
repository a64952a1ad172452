"""Which date a period applies to: "invoices due this month" and "paid in last month" are about the due and
paid dates, not the invoice date (the data model's other `type: time` dimensions)."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA, FILTER_DATA

from ..parser.vocabulary import vocabulary
from .query import with_query
from .words import PERIOD_KEYS

HOW_MANY = re.compile(r"\b(?:how many|number of|count|kitne)\b")
HOW_MUCH = re.compile(r"\b(?:how much|total|sum|amount|value|kitna|owe|outstanding)\b")
LISTING_KEYS = ("vendor", "status", "payment_status", "region", "customer")
# "due this month", "have a due date in ...", "paid last month", "paid on ... in ..."
_LEAD = r"(?:\s+(?:date|dates|on|in|during|within|for|this|last|next|between)\b)"


def with_time_dimension(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    if record.get("kind") != "tool" or record.get("tool") not in (FILTER_DATA, ANALYZE_DATA):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    ds_name = str(query.get("dataset") or "invoices")
    vocab = vocabulary(model)
    ds = vocab.model.datasets.get(ds_name)
    if ds is None or not any(k in query for k in PERIOD_KEYS):
        return record
    low = text.lower()
    named = []
    for name, d in ds.dimensions.items():
        if d.type != "time" or name == ds.time:
            continue
        words = [name.replace("_", " "), d.label or "", *(d.synonyms or [])]
        for w in sorted({w for w in words if w}, key=len, reverse=True):
            if re.search(rf"\b{re.escape(w)}\b(?={_LEAD}|\s*$)", low) and (" " in w or re.search(_LEAD, low)):
                named.append(name)
                break
    if len(named) != 1:
        return record
    dim = named[0]
    if record.get("tool") == ANALYZE_DATA:
        if query.get("time_dimension") == dim:
            return record
        measures = list(query.get("measures") or [])
        label = (ds.dimensions[dim].label or dim).split()[0]  # "due": a measure read from the date's own word
        if measures and any(label in (ds.measures[m].synonyms or []) for m in measures if m in ds.measures):
            filters = list(query.get("filters") or [])
            if (
                not (HOW_MANY.search(low) or HOW_MUCH.search(low))
                and not query.get("group_by")
                and all(f.get("op", "eq") == "eq" for f in filters)
            ):
                listing = {k: v for k, v in query.items() if k in PERIOD_KEYS} | {"dataset": ds_name, "date_field": dim}
                where = {f["field"]: f["value"] for f in filters if f["field"] not in LISTING_KEYS}
                listing |= {f["field"]: f["value"] for f in filters if f["field"] in LISTING_KEYS}
                listing |= {"where": where} if where else {}
                why = f"{record.get('reason') or ''}; a listing by the {dim}".strip("; ")
                return {**record, "tool": FILTER_DATA, "params": listing, "reason": why}
            counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
            if HOW_MANY.search(low):  # "how many invoices have a due date this month": a count, not what is due
                query["measures"] = counts[:1] or measures
        query["time_dimension"] = dim
    else:
        query["date_field"] = dim
        for key in ("status", "payment_status"):  # "a paid date in ...": the word was the date's, not a status
            if isinstance(query.get(key), str) and query[key] in (ds.dimensions[dim].label or dim).split():
                query.pop(key)
    return with_query(record, params, query, f"the period is of the {dim}")
