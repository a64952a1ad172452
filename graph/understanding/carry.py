"""A follow-up keeps every earlier part it does not replace: "how many customers were there?" after "and
South?" (sales, last month, region South) counts the customers of that set, not of all time."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA

from .query import with_query
from .words import PERIOD_KEYS

# leaning on the last question's set (not only its shape, as "compare ..." or "by month" do)
CARRY_CUE = re.compile(
    r"\b(?:these|those|them|they|their|it|same|too|also|instead|that (?:month|year|quarter|week|period|set|list))\b|"
    r"\b(?:were|was) there\s*[?.!]*\s*$|^(?:and|but|only|just|what about|how about)\b|^how (?:many|much) (?:were|was|are|is|of)\b"
)


def with_carried_parts(
    record: dict[str, Any], text: str, last: dict[str, Any] | None, model: Any = None
) -> dict[str, Any]:
    """An analytics reading of a follow-up (it leans on the last question) over the last query's dataset
    that dropped the last query's filters or period: they come along unless this message replaces them."""
    if record.get("kind") != "tool" or record.get("tool") != ANALYZE_DATA or not last or not last.get("query"):
        return record
    if not CARRY_CUE.search(text.lower()):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    before = dict(last["query"])
    if query.get("dataset") != before.get("dataset"):
        return record
    filters = [dict(f) for f in query.get("filters") or []]
    have = {f.get("field") for f in filters}
    carried = [dict(f) for f in before.get("filters") or [] if f.get("field") not in have]
    period = {} if any(k in query for k in PERIOD_KEYS) else {k: v for k, v in before.items() if k in PERIOD_KEYS}
    if not carried and not period:
        return record
    query = {**query, **period, "filters": filters + carried}
    return with_query(record, params, query, "the rest kept from the last question")


def with_previous_filter_in_query(record: dict[str, Any], last: dict[str, Any] | None) -> dict[str, Any]:
    """An analysis of "the previous filter" ("sum them up" after a listing): the last query's filters and
    period written into the semantic query (a listing's parameters are not an analysis's)."""
    refs = dict(record.get("refs") or {})
    if record.get("kind") != "tool" or record.get("tool") != ANALYZE_DATA or refs.get("filter") != "previous":
        return record
    if not last or not last.get("query"):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    before = dict(last["query"])
    if query.get("dataset") not in (None, before.get("dataset")):
        return record
    filters = [dict(f) for f in query.get("filters") or []]
    have = {f.get("field") for f in filters}
    filters += [dict(f) for f in before.get("filters") or [] if f.get("field") not in have]
    period = {} if any(k in query for k in PERIOD_KEYS) else {k: v for k, v in before.items() if k in PERIOD_KEYS}
    query = {**query, **period, "dataset": before.get("dataset"), **({"filters": filters} if filters else {})}
    params = {**params, "query": query} if "query" in params else query
    refs.pop("filter")
    return {**record, "params": params, "refs": refs, "reason": f"{record.get('reason') or ''}; of the last result"}
