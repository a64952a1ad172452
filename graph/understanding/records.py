"""Rankings of the records themselves: "the 5 smallest invoices from last month" lists those five invoices
(not the smallest amount alone), and "sort them by amount, biggest first" orders the last listing's records
by their amount (not a breakdown by each distinct amount)."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA, FILTER_DATA

from ..parser.vocabulary import vocabulary
from .words import ASCENDING, COUNT_WORDS, PERIOD_KEYS

BIG = r"largest|biggest|highest|costliest|most expensive|top"
SMALL = r"smallest|lowest|cheapest|least expensive|bottom"
SORT = re.compile(r"\b(?:sort|order|rank|arrange)(?:ed)?\b[^.?!]*\bby (?:the )?(?:amount|value|size|total)\b")


def _amount_measure(ds: Any) -> str | None:
    """The dataset's sum of its own amount column (invoices: total value)."""
    if not ds.amount:
        return None
    column = ds.dimensions[ds.amount].column if ds.amount in ds.dimensions else ds.amount
    return next((n for n, m in ds.measures.items() if m.agg == "sum" and m.column == column and not m.filters), None)


def _filters(record: dict[str, Any], query: dict[str, Any], ds: Any) -> list[dict[str, Any]]:
    if record.get("tool") == ANALYZE_DATA:
        return [dict(f) for f in query.get("filters") or [] if f.get("field") != ds.amount or f.get("op")]
    from .shapes import _listing_filters

    return _listing_filters(query, ds)


def with_record_ranking(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    if record.get("kind") != "tool" or record.get("tool") not in (FILTER_DATA, ANALYZE_DATA):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    vocab = vocabulary(model)
    ds_name = str(query.get("dataset") or "invoices")
    ds = vocab.model.datasets.get(ds_name)
    if ds is None or not ds.key or ds.key not in ds.dimensions:
        return record
    low = text.lower()
    words = "|".join(re.escape(w) for w in sorted(vocab.dataset_words(ds_name), key=len, reverse=True))
    counts = "|".join(COUNT_WORDS)
    ranked = re.search(
        rf"\b(\d{{1,3}}|{counts})\s+(?:(?:of\s+)?(?:the|our)\s+)?({BIG}|{SMALL})\s+(?:[a-z]+\s+){{0,2}}?(?:{words})\b",
        low,
    )
    if (
        ranked
        and re.search(r"\b(?:by|per|of|in)\b", ranked.group(0))
        or ranked
        and any(t.kind == "dimension" and t.dataset == ds_name for h in vocab.find(ranked.group(0)) for t in h.terms)
    ):  # "three smallest customers by revenue": a ranking of customers, not of sales
        ranked = None
    ranked = ranked or re.search(rf"\b(?:the\s+)?({BIG}|{SMALL})\s+(\d{{1,3}}|{counts})\s+(?:{words})\b", low)
    sort = SORT.search(low)
    single = re.search(rf"\b({BIG}|{SMALL})\s+(?:single|individual|one)\s+(?:{words})\b", low)
    asked = re.search(r"\b(?:which|what)\s+(\w+)\s+(?:was|is|were|did|made|placed|bought|sent|raised)\b|\bwho\b", low)
    extra: list[str] = []
    if asked and asked.group(1):
        extra = [
            t.name
            for h in vocab.find(asked.group(1))
            for t in h.terms
            if t.kind == "dimension" and t.dataset == ds_name and t.name != ds.key
        ][:1]
    elif asked:  # "who placed the biggest single order": the party of the record
        extra = [str(d) for d in ("customer", "vendor") if d in ds.dimensions][:1]
    if single and (asked or "single" in single.group(0)) and not ranked:
        ranked = single
    if not ranked and not sort:
        return record
    measure = _amount_measure(ds)
    if measure is None:
        return record
    column = ds.measures[measure].column
    named = [  # "the 10 largest payments we made": payments made (type payment), not every transaction
        t.name
        for h in vocab.find(low)
        for t in h.terms
        if t.kind == "measure"
        and t.dataset == ds_name
        and ds.measures[t.name].agg == "sum"
        and ds.measures[t.name].column == column
        and ds.measures[t.name].filters
    ]
    implied = []  # its own conditions become the query's (so "the smallest payments" are payments too)
    if len(set(named)) == 1:
        implied = [
            f.model_dump(exclude_none=True) if hasattr(f, "model_dump") else dict(f)
            for f in ds.measures[named[0]].filters
        ]
    if ranked is single and single is not None:
        limit, descending = 1, re.fullmatch(BIG, single.group(1)) is not None
    elif ranked:
        a, b = ranked.group(1), ranked.group(2)
        n_word, size = (a, b) if re.fullmatch(rf"\d{{1,3}}|{counts}", a) else (b, a)
        limit = int(n_word) if n_word.isdigit() else COUNT_WORDS[n_word]
        descending = re.fullmatch(BIG, size) is not None
    else:
        if record.get("tool") == ANALYZE_DATA and ds.key in (query.get("group_by") or []):
            return record
        limit = 100
        descending = not (ASCENDING.search(low) or re.search(r"\bsmallest first|ascending\b", low))
    new = {
        "dataset": ds_name,
        "measures": [measure],
        "group_by": [ds.key, *extra],
        "order_by": [("-" if descending else "") + measure],
        "limit": limit,
        **{k: v for k, v in query.items() if k in PERIOD_KEYS},
    }
    filters = _filters(record, query, ds)
    filters += [f for f in implied if f.get("field") not in {g.get("field") for g in filters}]
    if filters:
        new["filters"] = filters
    why = f"{'the ' + str(limit) if ranked else 'sorted'} {ds_name} by {measure}"
    return {
        **record,
        "tool": ANALYZE_DATA,
        "params": new,
        "reason": f"{record.get('reason') or ''}; {why}".strip("; "),
    }
