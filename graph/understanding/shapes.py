"""Completion of a reading's shape: conditions on group totals, rankings and shares, how much of a measure, worst and best, follow-ups on the last query."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA, FILTER_DATA

from ..parser.vocabulary import vocabulary

from .decision import _without_names
from .query import query_parts, reading_of, with_query
from .values import declared_values
from .words import FOLLOW_CUE, ASCENDING, COUNT_WORDS, FILTER_FIELDS, PERIOD_KEYS, RANK_WORDS, ROW_MEASURES, SHARE_WORDS

CONDITION = re.compile(
    r"\b(?:with|having|whose|who|that|which)\b[^.?!]{0,40}?\b(?P<op>over|above|more than|greater than|exceeding|"
    r"at least|under|below|less than|at most|exceeded|exceeds|exceed)\b|\b(?P<op2>above|over|below|under)\b"
)
OPS_OF = {"over": "gt", "above": "gt", "more than": "gt", "greater than": "gt", "exceeding": "gt"}
OPS_OF |= {"exceeded": "gt", "exceeds": "gt", "exceed": "gt"}
OPS_OF |= {"at least": "gte", "under": "lt", "below": "lt", "less than": "lt", "at most": "lte"}


def with_aggregate_condition(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "customers with sales over 1.1 crore", "regions above 3 crore in sales": a condition on each group's
    total, not on single rows. The router read the amount as a row filter; read it as a ranking of the
    groups (the dimension named before the condition) filtered on the dataset's default measure."""
    r = reading_of(record, (FILTER_DATA, ANALYZE_DATA), model, default="invoices")
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    if query.get("group_by"):
        return record
    if ds is None or not ds.amount or not ds.default_measure:
        return record
    low = text.lower()
    cond = CONDITION.search(low)
    if not cond:
        return record
    dims = [
        t.name
        for h in vocab.find(low)
        if h.end <= (cond.start("op") if cond.group("op") else cond.start("op2")) + 1
        for t in h.terms
        if t.kind == "dimension" and t.dataset == ds_name and ds.dimensions[t.name].type != "boolean"
    ]
    if not dims:
        return record
    op = OPS_OF[cond.group("op") or cond.group("op2")]
    if record.get("tool") == FILTER_DATA:
        value = params.get("min_amount") if op in ("gt", "gte") else params.get("max_amount")
        rows = {k: v for k, v in params.items() if k not in ("min_amount", "max_amount", "dataset", "limit")}
        kept = [{"field": k, "value": v} for k, v in rows.items() if k in FILTER_FIELDS]
        kept += [{"field": k, "value": v} for k, v in (rows.get("where") or {}).items()]
        period = {k: v for k, v in rows.items() if k in PERIOD_KEYS}
    else:
        bounds = [f for f in query.get("filters") or [] if f.get("field") == ds.amount]
        value = bounds[0].get("value") if bounds else None
        kept = [f for f in query.get("filters") or [] if f.get("field") != ds.amount]
        period = {k: v for k, v in query.items() if k in PERIOD_KEYS}
    measure = ds.default_measure
    counted = re.search(  # "more than 10 failed invoices": a number of rows per group, not an amount
        r"\b(?:more|less|fewer|over|under|above|below|at least|at most)\s+(?:than\s+)?(\d+)"
        r"(?!\s*(?:crores?|cr|lakhs?|lacs?|l|k|thousand|million|mn)\b)\s+(?:\w+\s+){0,2}?"
        r"(?:invoices|bills|sales|orders|transactions|payments)\b",
        low,
    )
    counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
    if counted and counts:
        value, measure = int(counted.group(1)), counts[0]
        kept = [f for f in kept if not (f.get("field") == ds.amount)]
    if value is None:
        return record
    new = {
        "dataset": ds_name,
        "measures": [measure],
        "group_by": [dims[-1]],
        "filters": [*kept, {"field": measure, "op": op, "value": value}],
        "order_by": [f"-{measure}"],
        **period,
    }
    return {
        **record,
        "tool": ANALYZE_DATA,
        "params": new,
        "reason": f"{record.get('reason') or ''}; a condition on each {dims[-1]}'s {measure}".strip("; "),
    }


def _how_many(low: str) -> int:
    m = re.search(
        r"\b(?:top|bottom|best|worst|first|last|which|the)?\s*(\d{1,2}|" + "|".join(COUNT_WORDS) + r")\b"
        r"(?=\s+(?:\w+\s+){0,2}(?:customers?|clients?|vendors?|suppliers?|products?|regions?|methods?|months?))",
        low,
    )
    if not m:
        return 1
    n = m.group(1)
    return int(n) if n.isdigit() else COUNT_WORDS[n]


def with_ranking_or_share(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "who was our biggest customer", "the product that brought in the most revenue", "our five best
    customers by revenue", "which 3 suppliers did we spend the least with", "best month for sales": a
    ranking of the groups the question names; "what share of sales did the East make": the breakdown by
    that dimension, where each group's share of the total is shown. Only when the router's reading has no
    groups at all: a reading with groups is the router's own ranking."""
    r = reading_of(record, (FILTER_DATA, ANALYZE_DATA), model, default="invoices")
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    if ds is None or not ds.default_measure:
        return record
    often = re.search(r"\b(?:most often|how often|most frequently|least often|number of times)\b", text.lower())
    if (query.get("group_by") or query.get("time_grain")) and often and record.get("tool") == ANALYZE_DATA:
        counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
        old = (query.get("measures") or [None])[0]
        if counts and old and old != counts[0]:  # "which method do we use most often": a count, not a value
            query["measures"] = [counts[0]]
            query["order_by"] = [str(o).replace(old, counts[0]) for o in query.get("order_by") or []]
            return with_query(record, params, query, "how often: a count")
    if query.get("group_by") or query.get("time_grain"):
        return record
    low = _without_names(text.lower(), params)  # "50% Off Mart" is a name, not a share
    hits = vocab.find(low)
    named = [tm.name for h in hits for tm in h.terms if tm.kind == "measure" and tm.dataset == ds_name]
    measures = [m for m in named if not ROW_MEASURES.search(m)] or [ds.default_measure]
    if re.search(r"\b(?:most often|how often|most frequently|number of times|most orders|fewest orders)\b", low):
        counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
        measures = counts[:1] or measures
    if record.get("tool") == ANALYZE_DATA:
        filters = [dict(f) for f in query.get("filters") or []]
    else:
        filters = _listing_filters(params, ds)
    period = {k: v for k, v in query.items() if k in PERIOD_KEYS}
    new: dict[str, Any] | None = None
    if SHARE_WORDS.search(low):
        eq = [f for f in filters if f.get("op", "eq") == "eq" and f.get("field") in ds.dimensions]
        if len(eq) == 1:
            dim = eq[0]["field"]
            rest = [f for f in filters if f is not eq[0]]
            new = {"dataset": ds_name, "measures": measures[:1], "group_by": [dim], "filters": rest, **period}
            why = f"a share of the total: {ds_name} by {dim}"
    elif RANK_WORDS.search(low) or ASCENDING.search(low):
        dims = [
            tm.name
            for h in hits
            for tm in h.terms
            if tm.kind == "dimension" and tm.dataset == ds_name and ds.dimensions[tm.name].type != "boolean"
        ]
        month = re.search(
            r"\b(?:best|worst|biggest|highest|lowest|strongest|weakest|busiest|quietest) months?\b|\bwhich months?\b",
            low,
        )
        if dims or month:
            direction = "" if ASCENDING.search(low) else "-"
            new = {"dataset": ds_name, "measures": measures[:1], "filters": filters, **period}
            if dims:
                new["group_by"] = [dims[0]]
            else:
                new["time_grain"] = "month"
            new["order_by"] = [f"{direction}{measures[0]}"]
            new["limit"] = _how_many(low)
            why = f"a ranking of {dims[0] if dims else 'months'} by {measures[0]}"
    if new is None:
        return record
    if not new.get("filters"):
        new.pop("filters", None)
    return {
        **record,
        "tool": ANALYZE_DATA,
        "params": new,
        "reason": f"{record.get('reason') or ''}; {why}".strip("; "),
    }


TOTAL_WORDS = re.compile(r"\b(?:total|sum|worth|how much|value|amount)\b")
COUNT_ASK = re.compile(r"\b(?:how many|count|number of)\b")


def with_context_fallback(
    record: dict[str, Any], text: str, last: dict[str, Any] | None, model: Any = None
) -> dict[str, Any]:
    """A follow-up no rule read ("what's their total?", "only those with an unverified GSTIN", "how many
    of those?") about the thread's last result: the last query, with what the follow-up asks for."""
    if record.get("kind") != "clarify" or not last or not last.get("query"):
        return record
    low = text.lower()
    if not FOLLOW_CUE.search(low):
        return record
    query = {k: v for k, v in dict(last["query"]).items() if k not in ("workspace", "limit", "order_by")}
    ds_name = str(query.get("dataset") or "invoices")
    ds = vocabulary(model).model.datasets.get(ds_name)
    if ds is None:
        return record
    values = declared_values(low, ds_name, model)
    filters = [dict(f) for f in query.get("filters") or []]
    have = {f.get("field") for f in filters}
    filters += [{"field": k, "value": v} for k, v in values.items() if k not in have]
    counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
    if COUNT_ASK.search(low) and counts:
        measures = counts[:1]
    elif TOTAL_WORDS.search(low) and ds.default_measure:
        measures = [ds.default_measure]
    elif values and last.get("tool") == ANALYZE_DATA:
        measures = list(query.get("measures") or [])
    elif values:  # a listing refined by a declared value
        params = {k: v for k, v in dict(last.get("params") or {}).items() if k != "invoice_numbers"}
        where = {**dict(params.get("where") or {}), **{k: v for k, v in values.items() if k not in params}}
        return {
            **record,
            "kind": "tool",
            "tool": FILTER_DATA,
            "params": {**params, "where": where},
            "question": None,
            "reason": "a follow-up on the last listing, with the data model's values",
        }
    else:
        return record
    new = {**query, "measures": measures, "filters": filters}
    new.pop("group_by", None) if not query.get("group_by") else None
    return {
        **record,
        "kind": "tool",
        "tool": ANALYZE_DATA,
        "params": {k: v for k, v in new.items() if v not in (None, [], {})},
        "question": None,
        "reason": "a follow-up about the last result",
    }


HOW_MUCH = re.compile(r"\b(?:how much|what (?:was|is|were|are)|total|sum|tell me)\b")
BAD_IS_HIGH = re.compile(r"fail|overdue|outstanding|unpaid|error|cancel|return|refund")


def with_named_measure_or_dataset(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """A listing where the words name another dataset ("remittances to Ganga Logistics": transactions), or
    ask how much of a measure ("what was our turnover last year?": the sales value): read what they name."""
    if record.get("kind") != "tool" or record.get("tool") != FILTER_DATA:
        return record
    params = dict(record.get("params") or {})
    current = str(params.get("dataset") or "invoices")
    vocab = vocabulary(model)
    hits = vocab.find(text)
    cur = vocab.model.datasets.get(current)
    # a dataset's word that is also a dimension of the listed one ("vendors" of invoices) names the dimension
    datasets = {
        t.dataset
        for h in hits
        if not (cur and any(o.kind == "dimension" and o.dataset == current for o in h.terms))
        for t in h.terms
        if t.kind == "dataset"
    }
    if len(datasets) > 1:  # "top selling product": sales, whose product is a dimension, not the products list
        holds = [
            d
            for d in datasets
            if all(
                any(t.kind == "dimension" and t.dataset == d for t in h.terms)
                for h in hits
                if any(t.kind == "dataset" and t.dataset != d for t in h.terms)
            )
        ]
        datasets = set(holds) if len(holds) == 1 else datasets
    measures = {(t.dataset, t.name) for h in hits for t in h.terms if t.kind == "measure"}
    period = {k: v for k, v in params.items() if k in PERIOD_KEYS}
    if len(datasets) == 1 and current not in datasets:
        new = next(iter(datasets))
        ds = vocab.model.datasets[new]
        if period and not ds.time:  # master data has no dates: the period says it is about the listed data
            return record
        kept = {k: v for k, v in params.items() if k in PERIOD_KEYS or k in ds.dimensions or k == "limit"}
        record = {
            **record,
            "params": {**kept, "dataset": new},
            "reason": f"{record.get('reason')}; the words name {new}",
        }
        params, current = dict(record["params"]), new
    if HOW_MUCH.search(text) and not datasets - {current}:
        own = sorted(m for d, m in measures if d == current and not ROW_MEASURES.search(m))
        others = sorted({(d, m) for d, m in measures if d != current})
        if len(own) == 1:  # "what was our turnover": the figure, not a listing of the rows behind it
            query = {"dataset": current, "measures": own, **period}
            filters = _listing_filters(params, vocab.model.datasets[current])
            query |= {"filters": filters} if filters else {}
            return {**record, "tool": ANALYZE_DATA, "params": query, "reason": f"{record.get('reason')}; how much"}
        if not own and len({d for d, _ in others}) == 1 and len(others) == 1:
            dataset, measure = others[0]
            query = {"dataset": dataset, "measures": [measure], **period}
            return {
                **record,
                "tool": ANALYZE_DATA,
                "params": query,
                "reason": f"{record.get('reason')}; how much {measure}",
            }
    return record


def _listing_filters(params: dict[str, Any], ds: Any) -> list[dict[str, Any]]:
    """A filter_data call's filters as a semantic query's."""
    filters = [{"field": k, "value": v} for k, v in params.items() if k in FILTER_FIELDS]
    filters += [{"field": k, "value": v} for k, v in (params.get("where") or {}).items()]
    if params.get("min_amount") is not None and ds.amount:
        filters.append({"field": ds.amount, "op": "gte", "value": params["min_amount"]})
    if params.get("max_amount") is not None and ds.amount:
        filters.append({"field": ds.amount, "op": "lte", "value": params["max_amount"]})
    return filters


def with_polarity(record: dict[str, Any], text: str) -> dict[str, Any]:
    """ "the worst failure rate": for a measure where more is worse (failures, overdue, unpaid), worst is the
    highest and best the lowest."""
    if record.get("kind") != "tool" or record.get("tool") != ANALYZE_DATA:
        return record
    params, query = query_parts(record)
    measures = list(query.get("measures") or [])
    worst, best = re.search(r"\bworst\b", text), re.search(r"\bbest\b", text)
    if not measures or not (worst or best) or not BAD_IS_HIGH.search(measures[0]):
        return record
    want = f"-{measures[0]}" if worst else measures[0]
    if query.get("order_by") == [want]:
        return record
    query["order_by"] = [want]
    return with_query(record, params, query, f"{'worst' if worst else 'best'} {measures[0]}")
