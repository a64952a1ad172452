"""Questions about the numbers -> analyze_data's semantic query (tools/semantic.py) (follow-ups that
refine the last query: followups.py).

The words come from the data model (vocabulary.py): a measure is what its name, label or synonyms
say ("owe" -> outstanding), a breakdown is "by/per/each <dimension>", a ranking "top N <dimension>"
or "which <dimension> ... most", a trend "monthly"/"by month", a comparison "compare/vs" with two
periods. Status words stay filters ("failed invoices"); a bare count or total of a listing ("how
many invoices failed") stays a listing, whose answer says both. When the data is unclear ("what's
the average?" with nothing before it) the answer is one short question.
"""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA

from ..intent import Intent
from .lexicon import INVOICE_STATUS_RE, PAYMENT_RE
from .turn import Turn, clarify
from .vocabulary import Hit, vocabulary

from .reading import (
    COUNT_CUE,
    GENERIC,
    RATE,
    REF,
    Reading,
    SUPERLATIVES,
    TOTALISH,
    WEAK,
    _periods_in_order,
    _status_noun,
    _status_word,
    _weak,
)


# --------------------------------------------------------------------------- building the query
class Built:
    def __init__(self, dataset: str | None, measures: list[str], strong: bool, candidates: list[str]):
        self.dataset, self.measures, self.strong, self.candidates = dataset, measures, strong, candidates


def _words(turn: Turn) -> list[Hit]:
    """Measure, dataset and value phrases left once slots took names, dates, amounts (and analytics its cues).
    A measure named "<status> <records>" ("value of failed invoices") is read as a filter plus its other words."""
    text = turn.slots.rest
    kinds = ("dataset", "measure", "value")
    hits = vocabulary().find(text, kinds)
    for h in hits:
        if h.of("measure") and _status_noun(h.phrase):
            m = next(m for rx, _ in INVOICE_STATUS_RE + PAYMENT_RE if (m := rx.search(text, h.start, h.end)))
            text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]
    return vocabulary().find(text, kinds) if text != turn.slots.rest else hits


def _choose(turn: Turn, r: Reading, hits: list[Hit], previous: str | None = None) -> Built:
    voc = vocabulary()
    model = voc.model
    t = turn.t
    named = [h for h in hits if h.of("dataset")]
    rest = turn.slots.rest
    measure_hits = [
        h
        for h in r.measures + hits
        if h.of("measure")
        and not _status_noun(h.phrase)
        and not re.search(
            rf"\b{re.escape(h.phrase)}\s+(?:more|less|over|above|under|below|greater|higher|lower|at least|at most)\b",
            t,
        )
    ]
    entity_words = {w for d in model.datasets for w in voc.dataset_words(d)}
    measure_hits = [
        h
        for h in measure_hits
        if not (
            h.phrase in entity_words
            and all(
                voc.model.datasets[tm.dataset].measures[tm.name].agg in ("count", "count_distinct")
                for tm in h.of("measure")
            )
            and not COUNT_CUE.search(t)
        )
    ]
    usable = []
    for h in measure_hits:
        if _status_word(h.phrase):
            follows = rest[h.end :].lstrip()
            totalish = TOTALISH.search(rest[: h.start])
            if not totalish or any(follows.startswith(w) for d in model.datasets for w in voc.dataset_words(d)):
                continue  # "failed invoices", "outstanding bills": a filter
            for rx, value in INVOICE_STATUS_RE + PAYMENT_RE:  # "total outstanding": the measure, not also a filter
                if rx.fullmatch(h.phrase):
                    for f in ("status", "payment_status"):
                        if turn.p.get(f) == value:
                            turn.p.pop(f)
        usable.append(h)
    if len([h for h in usable if h.phrase not in SUPERLATIVES]) and any(h.phrase in SUPERLATIVES for h in usable):
        usable = [h for h in usable if h.phrase not in SUPERLATIVES]
    cands = list(dict.fromkeys(tm.dataset for h in named for tm in h.of("dataset")))
    if not cands and turn.slots.dataset and not measure_hits:
        cands = [turn.slots.dataset]

    def group_dims(d: str) -> bool:
        return all(any(tm.dataset == d for tm in g.of("dimension")) or _strip_label(d, g.phrase) for g in r.group)

    pool = cands or [
        d
        for d in model.datasets
        if all(h.of("measure", d) for h in usable if h.phrase not in WEAK) and group_dims(d) and (usable or r.group)
    ]
    if previous and previous in pool:
        pool = [previous]
    fits = [d for d in pool if group_dims(d)] or pool
    if len(fits) > 1 and turn.slots.dataset in fits:
        fits = [turn.slots.dataset]
    if (
        len(fits) > 1
    ):  # a dataset named inside the measure ("number of vendors"), else the first when other words narrowed it
        inside = [d for d in fits if any(w in h.phrase.split() for h in usable for w in voc.dataset_words(d))]
        if len(inside) == 1:
            fits = inside
        elif r.group or turn.slots.has_filter:
            fits = fits[:1]
    if len(fits) != 1:
        return Built(None, [], bool([h for h in usable if h.phrase not in WEAK]), fits)
    ds_name = fits[0]
    ds = model.datasets[ds_name]
    strong: list[Any] = []
    weak: list[Any] = []
    generic: set[Any] = set()
    for h in usable:
        for tm in h.of("measure", ds_name):
            plain = (
                ds.measures[tm.name].agg == "count" and not ds.measures[tm.name].filters
            ) or tm.name == ds.default_measure
            own = {w for p in voc.dataset_words(ds_name) for w in p.split()}
            is_weak = (
                (plain and _weak(h.phrase, ds_name))
                or h.phrase in voc.dataset_words(ds_name)
                or (set(h.phrase.split()) & own and _weak(h.phrase, ds_name))
            )
            (weak if is_weak else strong).append(tm.name)
            if h.phrase in GENERIC:
                generic.add(tm.name)
            break
    if len(set(strong)) > 1 and set(strong) - generic:  # "average invoice value": the average, not also the value
        strong = [m for m in strong if m not in generic]
    status = turn.p.get("status") or turn.p.get("payment_status")
    if not strong and RATE.search(t) and status and not r.group:  # "what percentage of invoices failed"
        for n, m in ds.measures.items():
            if m.derived and m.derived.op == "percent":
                num = ds.measures[m.derived.of[0]]
                if any(f.value == status for f in num.filters):
                    strong = [n]
                    turn.p.pop("status" if turn.p.get("status") == status else "payment_status", None)
    return Built(ds_name, list(dict.fromkeys(strong or weak[:1])), bool(strong), [ds_name])


def _strip_label(dataset: str, phrase: str) -> str | None:
    """'vendor category' said of vendors means their 'category'."""
    ds = vocabulary().model.datasets[dataset]
    for w in (ds.label, ds.words):
        if phrase.startswith(w + " "):
            rest = phrase[len(w) + 1 :]
            hits = [h for h in vocabulary().find(rest, ("dimension",)) if h.phrase == rest]
            if hits and hits[0].of("dimension", dataset):
                return hits[0].of("dimension", dataset)[0].name
    return None


def _dim(dataset: str, h: Hit) -> str | None:
    tms = h.of("dimension", dataset)
    return tms[0].name if tms else _strip_label(dataset, h.phrase)


def _count(dataset: str) -> str | None:
    ds = vocabulary().model.datasets[dataset]
    return next((n for n, m in ds.measures.items() if m.agg == "count" and not m.filters), None)


def _filters(turn: Turn, dataset: str, hits: list[Hit]) -> dict[str, Any]:
    ds = vocabulary().model.datasets[dataset]
    p = turn.p
    out: dict[str, Any] = {}
    for f in ("vendor", "customer", "status", "payment_status", "region"):
        dim = ds.dimensions.get(f)
        if f in p and dim is not None and (not dim.values or p[f] in dim.values):
            out[f] = p[f]
    for h in hits:
        if h.of("dataset"):
            continue  # "payments" names the data, not type = payment
        for tm in h.of("value", dataset):
            if tm.name not in ("status", "payment_status", "region"):
                out[tm.name] = tm.value
    bounds = []
    if ds.amount:
        if "min_amount" in p:
            bounds.append({"field": ds.amount, "op": "gte", "value": p["min_amount"]})
        if "max_amount" in p:
            bounds.append({"field": ds.amount, "op": "lte", "value": p["max_amount"]})
    return {"eq": out, "bounds": bounds}


def _period(turn: Turn, r: Reading) -> dict[str, Any]:
    p = turn.p
    out: dict[str, Any] = {k: p[k] for k in ("period", "date_from", "date_to") if k in p}
    if r.compare:
        seq = _periods_in_order(turn.t, turn.ctx.today)
        if r.compare_to and "period" in out:  # "the same month last year": the year before, not all of last year
            out["period"], out["compare_to"] = seq[0] if seq else out["period"], r.compare_to
        elif len(seq) >= 2 and "period" in out:
            out["period"], out["compare_to"] = seq[0], seq[1]
        elif out.get("period") or out.get("date_from") or out.get("date_to"):
            out["compare_to"] = r.compare_to or "previous_period"
    return out


def _order(r: Reading, measure: str | None) -> dict[str, Any]:
    if not measure or not r.direction:
        return {}
    out: dict[str, Any] = {"order_by": [("-" if r.direction == "desc" else "") + measure]}
    if r.limit:
        out["limit"] = r.limit
    return out


def _query(
    dataset: str, measures: list[str], group: list[str], f: dict, period: dict, grain: str | None, order: dict
) -> dict:
    q: dict[str, Any] = {"dataset": dataset, "measures": measures}
    if group:
        q["group_by"] = group
    filters = [{"field": k, "value": v} for k, v in f["eq"].items()] + f["bounds"]
    if filters:
        q["filters"] = filters
    q.update(period)
    if grain:
        q["time_grain"] = grain
    q.update(order)
    return q


# --------------------------------------------------------------------------- rules
def question(turn: Turn) -> Intent | None:
    """A fresh question about the numbers."""
    r: Reading = turn.reading  # type: ignore[attr-defined]
    hits = _words(turn)
    b = _choose(turn, r, hits)
    analytic = r.shape or b.strong or (r.direction and r.group)
    if not analytic:
        return None
    if b.dataset is None:
        what = ", ".join(b.candidates[:4]) if b.candidates else "invoices, sales, vendors or transactions"
        return clarify(
            f"Which figures do you mean, about {what}? For example 'top 5 vendors by invoice value this year'?",
            "analytics question without a dataset",
            0.4,
        )
    if REF.search(turn.t) and not (b.strong or hits) and not turn.slots.has_filter:
        return clarify(
            "What should I break down? For example 'failed invoices by vendor last month'?",
            "reference with nothing to refer to",
            0.4,
        )
    ds = b.dataset
    group = [d for d in (_dim(ds, g) for g in r.group) if d]
    default = _count(ds)
    if r.direction and not any(h.of("dataset", ds) for h in hits) and vocabulary().model.datasets[ds].default_measure:
        default = vocabulary().model.datasets[ds].default_measure  # "which customer bought the most": the value
    measures = b.measures or ([default] if default else [])
    if r.sort and not b.strong:
        measures = [m.name for m in r.sort.of("measure", ds)][:1] or measures
    if r.compare and not (turn.p.get("period") or turn.p.get("date_from")):
        return clarify(
            "Which periods should I compare? For example 'compare sales this month with last month'?",
            "comparison without a period",
            0.4,
        )
    q = _query(
        ds,
        measures,
        group,
        _filters(turn, ds, hits),
        _period(turn, r),
        r.grain,
        _order(r, measures[0] if measures else None),
    )
    return turn.tool(ANALYZE_DATA, q, conf=0.85, why=f"analyse {ds}")
