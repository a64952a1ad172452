"""Counts asked for: "how many of those were completed?" counts records (not their value), and "what
percent of last year's invoices had an unverified GSTIN?" is a share of the invoices' count."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA, FILTER_DATA

from .query import reading_of, with_query
from .words import PERIOD_KEYS, SHARE_WORDS, _forms

HOW_MANY = re.compile(r"\b(?:how many|number of|no\.? of|count of|kitne|kitni)\b")
HOW_MUCH = re.compile(r"\b(?:how much|total|sum|value|worth|amount|kitna)\b")


def _count_measure(ds: Any, low: str, vocab: Any, ds_name: str) -> str | None:
    """The count the words ask for: of an entity they name ("how many customers"), else of the records."""
    for h in vocab.find(low):
        for tm in h.terms:
            if (
                tm.kind == "measure"
                and tm.dataset == ds_name
                and ds.measures[tm.name].agg in ("count", "count_distinct")
            ):
                return str(tm.name)
    plain = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
    return plain[0] if plain else None


def with_count_asked(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """An analytics reading whose measure is an amount while the words ask how many (or for the share of
    the records themselves) measures the count instead."""
    r = reading_of(record, (ANALYZE_DATA,), model)
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    measures = list(query.get("measures") or [])
    if ds is None or len(measures) != 1 or measures[0] not in ds.measures:
        return record
    low = text.lower()
    current = ds.measures[measures[0]]
    if current.format != "money" or HOW_MUCH.search(low):
        return record
    words = "|".join(re.escape(w) for w in vocab.dataset_words(ds_name))
    share_of_records = SHARE_WORDS.search(low) and re.search(
        rf"\b(?:percent(?:age)?|share|proportion|fraction)\s+of\s+(?:the\s+|our\s+|all\s+)?(?:[\w']+\s+){{0,2}}?(?:{words})\b",
        low,
    )
    money_word = any(
        tm.kind == "measure" and ds.measures[tm.name].format == "money"
        for h in vocab.find(low)
        for tm in h.terms
        if tm.dataset == ds_name
    )
    if not (HOW_MANY.search(low) or share_of_records) or money_word:
        return record
    count = _count_measure(ds, low, vocab, ds_name)
    if not count or count == measures[0]:
        return record
    query["measures"] = [count]
    query["order_by"] = [str(o).replace(measures[0], count) for o in query.get("order_by") or []] or None
    if query["order_by"] is None:
        query.pop("order_by")
    return with_query(record, params, query, f"how many: {count}")


def with_units_asked(
    record: dict[str, Any], text: str, model: Any = None, lookups: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """ "how many monitors did we sell": the units of that product, not the number of sales lines (when the
    dataset has a units measure and the words count a stored value of one of its lookups)."""
    r = reading_of(record, (FILTER_DATA, ANALYZE_DATA), model)
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    low = text.lower()
    m = re.search(
        r"\bhow many ([a-z][\w ]{2,40}?)(?= (?:did|do|does|have|has|were|was|are|is|we|in|last|this)\b|[?]|$)", low
    )
    if ds is None or not m or not lookups:
        return record
    units = next(
        (n for n, ms in ds.measures.items() if ms.agg == "sum" and {"units", "quantity"} & set(ms.synonyms or [])), None
    )
    named = m.group(1).strip()
    value = next(
        (
            (key.partition(".")[2], v)
            for key, values in lookups.items()
            if key.partition(".")[0] == ds_name
            for v in values
            if named in _forms(v)
        ),
        None,
    )
    if units is None or value is None:
        return record
    if record.get("tool") == ANALYZE_DATA:
        filters = [dict(f) for f in query.get("filters") or []]
    else:
        filters = [{"field": k, "value": v} for k, v in dict(query.get("where") or {}).items()]
        filters += [{"field": k, "value": v} for k, v in query.items() if k in ("region", "customer", "status")]
    if not any(f.get("field") == value[0] for f in filters):
        filters.append({"field": value[0], "value": value[1]})
    new = {"dataset": ds_name, "measures": [units], "filters": filters}
    new |= {k: v for k, v in query.items() if k in PERIOD_KEYS}
    return {
        **record,
        "tool": ANALYZE_DATA,
        "params": new,
        "reason": f"{record.get('reason') or ''}; how many {named}: units",
    }


OPS = {"more than": "gt", "over": "gt", "above": "gt", "at least": "gte", "less than": "lt", "fewer than": "lt"}
OPS |= {"under": "lt", "below": "lt", "at most": "lte"}


def with_unit_condition(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "sales that had more than 15 units": a condition on a number column that is not money (quantity),
    which the router read as an amount; "how many sales ..." then counts them."""
    r = reading_of(record, (FILTER_DATA, ANALYZE_DATA), model)
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    if ds is None:
        return record
    low = text.lower()
    numeric = {
        w: name
        for name, d in ds.dimensions.items()
        if d.type == "number" and d.format not in ("money",)
        for w in [name.replace("_", " "), d.label or name, *(d.synonyms or [])]
    }
    if not numeric:
        return record
    words = "|".join(re.escape(w) for w in sorted(numeric, key=len, reverse=True))
    m = re.search(rf"\b({'|'.join(OPS)})\s+(\d+(?:\.\d+)?)\s+({words})\b", low)
    exact = re.search(rf"\b(\d+)[- ]days?[- ]+({words})\b", low)  # "on 15-day payment terms"
    if m:
        op, number, dim = OPS[m.group(1)], float(m.group(2)), numeric[m.group(3)]
    elif exact and ds.dimensions[numeric[exact.group(2)]].format == "days":
        op, number, dim = "eq", float(exact.group(1)), numeric[exact.group(2)]
        query = {k: v for k, v in query.items() if k not in PERIOD_KEYS or ds.time}  # "15-day" was no period
    else:
        return record
    if record.get("tool") == ANALYZE_DATA:
        filters = [
            dict(f)
            for f in query.get("filters") or []
            if not (f.get("field") == ds.amount and f.get("value") == number)
        ]
        measures = list(query.get("measures") or [])
    else:
        from .shapes import _listing_filters

        plain = {k: v for k, v in query.items() if k not in ("min_amount", "max_amount")}
        filters = _listing_filters(plain, ds)
        measures = []
    filters.append({"field": dim, "op": op, "value": number})
    count = _count_measure(ds, "", vocab, ds_name)
    if HOW_MANY.search(low) and count:
        measures = [count]
    listing = not measures
    if listing:  # a listing of those records: one row per record
        measures = [count] if count else []
    new = {"dataset": ds_name, "measures": measures, "filters": filters}
    if listing and ds.key in ds.dimensions:
        new["group_by"] = [ds.key]
    new |= {k: v for k, v in query.items() if k in PERIOD_KEYS or k in ("group_by", "order_by", "limit")}
    return {
        **record,
        "tool": ANALYZE_DATA,
        "params": new,
        "reason": f"{record.get('reason') or ''}; {dim} {op} {number:g}".strip("; "),
    }


def with_measure_named_by(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "least sold product by units": a ranking by the measure the words name after "by", not the default."""
    r = reading_of(record, (ANALYZE_DATA,), model)
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    measures = list(query.get("measures") or [])
    if ds is None or len(measures) != 1 or not query.get("order_by"):
        return record
    low = text.lower()
    for h in vocab.find(low):
        if not re.search(r"\bby\s+(?:the\s+)?(?:total\s+)?$", low[: h.start]):
            continue
        named = [tm.name for tm in h.terms if tm.kind == "measure" and tm.dataset == ds_name]
        if (
            len(named) == 1
            and named[0] != measures[0]
            and not any(
                tm.kind == "dimension" and tm.dataset == ds_name and ds.dimensions[tm.name].type != "number"
                for tm in h.terms
            )
        ):
            old, new = measures[0], named[0]
            query["measures"] = [new]
            query["order_by"] = [str(o).replace(old, new) for o in query["order_by"]]
            query["filters"] = (
                [{**f, "field": new} if f.get("field") == old else f for f in query.get("filters") or []]
                or query.pop("filters", None)
                or []
            )
            if not query["filters"]:
                query.pop("filters")
            return with_query(record, params, query, f"by {new}")
    return record


def with_overall_average(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "average payment terms across our vendors": one average over them all, not one per vendor ("by",
    "per", "each", "which" still break it down)."""
    r = reading_of(record, (ANALYZE_DATA,), model)
    if r is None:
        return record
    params, query, vocab, _, ds = r
    measures = list(query.get("measures") or [])
    groups = list(query.get("group_by") or [])
    if ds is None or len(groups) != 1 or len(measures) != 1 or measures[0] not in ds.measures:
        return record
    low = text.lower()
    if ds.measures[measures[0]].agg != "avg" or not re.search(r"\bacross (?:all|our|the|every)\b", low):
        return record
    if re.search(r"\b(?:by|per|each|every|which|wise|split|broken|grouped|top|bottom)\b", low) or query.get("limit"):
        return record
    query.pop("group_by")
    query.pop("order_by", None)
    return with_query(record, params, query, "one average across them all")


STATUS_MOST = re.compile(
    r"\b(?:fail(?:ed|s)?|cancel(?:l?ed|s)?|return(?:ed|s)?|reject(?:ed|s)?|bounced?)\s+(?:the\s+)?(?:most|least|more|less)\b"
)


def with_most_by_status(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "which vendor failed the most": the most failures (a count), not the biggest failed value."""
    r = reading_of(record, (ANALYZE_DATA,), model)
    if r is None:
        return record
    params, query, vocab, ds_name, ds = r
    measures = list(query.get("measures") or [])
    low = text.lower()
    if ds is None or len(measures) != 1 or not query.get("group_by") or not STATUS_MOST.search(low):
        return record
    if HOW_MUCH.search(low) or measures[0] not in ds.measures or ds.measures[measures[0]].format != "money":
        return record
    count = _count_measure(ds, "", vocab, ds_name)
    if not count:
        return record
    query["measures"] = [count]
    query["order_by"] = [str(o).replace(measures[0], count) for o in query.get("order_by") or []]
    return with_query(record, params, query, "the most of them: a count")
