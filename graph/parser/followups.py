"""Follow-ups in a thread refine the last query: "and by vendor?", "only the North", "same for last year",
"what about SkyHigh?", "sort by amount", "top 5". The thread's last query is ParseContext.last_result["query"]
(graph/nodes.py keeps it in the state, memory keeps it across threads); after a listing, a follow-up that
asks for figures ("and by vendor?", "how much are they worth?") turns its filter into an analysis."""

from __future__ import annotations

import re

from tools.toolnames import ANALYZE_DATA, EXPLAIN_FAILURES, FILTER_DATA

from ..intent import Intent
from .analytics import _choose, _count, _dim, _filters, _period, _words
from .patterns import FOLLOW
from .reading import LISTING_VERB, REF, Reading
from .turn import Turn
from .vocabulary import vocabulary


def follow_up(turn: Turn) -> Intent | None:
    """Refine the thread's last query: "and by vendor?", "only the North", "same for last year", "top 5"."""
    last = turn.ctx.last_result or {}
    r: Reading = turn.reading  # type: ignore[attr-defined]
    prev = dict(last.get("query") or {})
    if not prev or last.get("tool") not in (ANALYZE_DATA, FILTER_DATA, EXPLAIN_FAILURES):
        return None
    hits = _words(turn)
    dataset = prev.get("dataset", "invoices")
    own = [tm.dataset for h in hits for tm in h.of("dataset") if not h.of("measure", dataset)]
    cue = (
        FOLLOW.match(turn.core)
        or FOLLOW.match(turn.t)
        or re.match(r"^(?:make it|sort|by|as a|for)\b", turn.core)
        or REF.search(turn.t)
    )
    if not cue and (own or turn.slots.has_filter):
        return None  # a whole new question ("how much do we owe Metro Cabs?"), not a refinement
    if LISTING_VERB.match(turn.core) and own and not r.shape:
        return None
    b = _choose(turn, r, hits, previous=dataset)
    analytic_before = last.get("tool") == ANALYZE_DATA
    if not analytic_before and not (r.group or r.grain or r.compare or b.strong):
        return None  # a listing refined stays a listing (rules.listing_follow_up)
    s = turn.slots
    changes = r.shape or b.measures or s.has_filter or any(h.of("value", dataset) for h in hits)
    if not changes or (not cue and not analytic_before):
        return None
    if not cue and (own or s.dataset) and not analytic_before:
        return None
    q = {k: v for k, v in prev.items() if k not in ("workspace",)}
    q["dataset"] = dataset
    measures = list(q.get("measures") or [])
    new_measures = b.measures if (b.measures and (b.strong or not measures)) else []
    if r.sort and r.sort.of("measure", dataset) and not new_measures:
        m = r.sort.of("measure", dataset)[0].name
        new_measures = [m] if m not in measures else []
    if new_measures:
        old = measures[0] if measures else None
        measures = new_measures
        q["order_by"] = [
            (o if isinstance(o, str) else ("-" if o.get("direction") == "desc" else "") + o["field"]).replace(
                old or "\0", measures[0]
            )
            for o in q.get("order_by") or []
        ]
    if not measures:
        measures = [_count(dataset)]
    q["measures"] = measures
    group = [d for d in (_dim(dataset, g) for g in r.group) if d]
    if group:
        q["group_by"] = group
    if r.grain:
        q["time_grain"] = r.grain
    f = _filters(turn, dataset, hits)
    filters = [x for x in q.get("filters") or [] if x.get("field") not in f["eq"]]
    if f["bounds"]:
        filters = [x for x in filters if x.get("op") not in ("gte", "lte")]
    q["filters"] = filters + [{"field": k, "value": v} for k, v in f["eq"].items()] + f["bounds"]
    q["group_by"] = [d for d in q.get("group_by") or [] if d not in f["eq"]]
    per = _period(turn, r)
    if any(k in per for k in ("period", "date_from", "date_to")):
        for k in ("period", "date_from", "date_to"):
            q.pop(k, None)
    q.update(per)
    if r.compare and "compare_to" not in per:
        q["compare_to"] = r.compare_to or "previous_period"
    if r.direction:
        q["order_by"] = [("-" if r.direction == "desc" else "") + measures[0]]
        if r.limit:
            q["limit"] = r.limit
    elif r.limit and q.get("order_by"):
        q["limit"] = r.limit
    if r.sort_any and not r.direction:
        q["order_by"] = ["-" + _money_first(dataset, measures)]
    q = {k: v for k, v in q.items() if v not in (None, [], {})}
    return turn.tool(ANALYZE_DATA, q, conf=0.8, why="follow-up on the previous question")


def _money_first(dataset: str, measures: list[str]) -> str:
    ds = vocabulary().model.datasets[dataset]
    return next((m for m in measures if ds.measures[m].format == "money"), measures[0])
