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
from datetime import date
from functools import lru_cache
from typing import Any

from tools.toolnames import ANALYZE_DATA

from ..intent import Intent
from .lexicon import INVOICE_STATUS_RE, MONTHS, NUMBER_WORDS, PAYMENT_RE
from .periods import NAMED_PERIODS, RELATIVE_RE
from .turn import Turn, clarify
from .vocabulary import Hit, Vocabulary, vocabulary

_C = re.compile
GRAINS = [
    (
        _C(
            r"\b(?:monthly|month[- ]wise|month by month|month on month|(?:by|per|each|every|a) month)\b(?!\s+(?:ago|earlier|before|back|later))"
        ),
        "month",
    ),
    (_C(r"\b(?:weekly|week[- ]wise|(?:by|per|each|every|a) week)\b(?!\s+(?:ago|earlier|before|back|later))"), "week"),
    (
        _C(
            r"\b(?:quarterly|quarter[- ]wise|(?:by|per|each|every|a) quarter)\b(?!\s+(?:ago|earlier|before|back|later))"
        ),
        "quarter",
    ),
    (
        _C(
            r"\b(?:yearly|annually|year[- ]wise|(?:by|per|each|every|a) year)\b(?!\s+(?:ago|earlier|before|back|later))"
        ),
        "year",
    ),
    (_C(r"\b(?:daily|day[- ]wise|(?:by|per|each|every|a) day)\b(?!\s+(?:ago|earlier|before|back|later))"), "day"),
    (_C(r"\b(?:trends?|trending|over time)\b"), "month"),
]
GROUP_CUE = r"(?:by|per|for each|for every|each|every|across|across all|split by|grouped by|broken down by|wise)\s+(?:the\s+|our\s+)?"
WHICH_CUE = r"(?:which|what|whichever)\s+"
TOP_N = _C(
    r"\b(top|bottom|best|worst|highest|lowest)\s+(\d{1,3}|" + "|".join(w for w in NUMBER_WORDS if len(w) > 2) + r")\b"
)
SORT = _C(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:it\s+|them\s+|this\s+)?by\s+")
DESC = _C(r"\b(?:most|highest|largest|biggest|max(?:imum)?|top|best|greatest)\b")
ASC = _C(r"\b(?:least|fewest|lowest|smallest|min(?:imum)?|bottom|worst)\b")
SUPERLATIVES = {
    "most",
    "highest",
    "largest",
    "biggest",
    "max",
    "maximum",
    "least",
    "lowest",
    "smallest",
    "min",
    "minimum",
}
COMPARE = _C(
    r"\b(?:compare[ds]?|comparing|comparison|versus|vs\.?)\b|\bagainst (?:the )?(?:last|previous|prior|this|same|\d{4}\b)|\bhow (?:did|has|have|does|do)\b.*\b(?:change[ds]?|grow|grown|move[ds]?)\b"
)
PREVIOUS = [
    (_C(r"\b(?:previous|prior|preceding) period\b|\bperiod before\b"), "previous_period"),
    (
        _C(
            r"\bsame (?:period|quarter|month|week|time) (?:last|a) year\b|\bsame (?:period|quarter|month|week) of (?:the )?(?:last|previous) year\b|\ba year (?:earlier|before|ago)\b|\bprevious year's\b"
        ),
        "previous_year",
    ),
]
RATE = _C(r"\b(?:percent(?:age)?|proportion|share|rate|ratio)\b|%")
WEAK = {"total", "count", "how", "many", "number", "sum", "much", "amount", "totals", "counts", "of", "the", "made"}
GENERIC = {"value", "amount", "total", "worth", "sum", "how much", "total amount", "spend", "spent", "total value"}
TOTALISH = _C(r"\b(?:total|how much|sum|overall)\b")
# a count asked for: "vendors" alone names whose records ("invoices from Travel vendors"), not a count of them
COUNT_CUE = _C(r"\b(?:how many|number of|no\.? of|count(?:s|ing)?|kitne|kitni|kitna|distinct|unique)\b")
REF = _C(r"\b(?:it|these|those|them|they)\b")
LISTING_VERB = _C(r"^(?:show|list|display|give|get|find|fetch|pull|bring|look)\b")


def _status_word(phrase: str) -> bool:
    return any(rx.fullmatch(phrase) for rx, _ in INVOICE_STATUS_RE + PAYMENT_RE)


def _has_status_word(phrase: str) -> bool:
    return any(rx.search(phrase) for rx, _ in INVOICE_STATUS_RE + PAYMENT_RE)


@lru_cache(maxsize=4)
def _status_noun_rx(voc: Vocabulary) -> re.Pattern:
    words = {w for d in voc.model.datasets for w in voc.dataset_words(d)}
    statuses = "|".join(f"(?:{rx.pattern})" for rx, _ in INVOICE_STATUS_RE + PAYMENT_RE)
    return re.compile(rf"(?:{statuses}) (?:{'|'.join(map(re.escape, sorted(words)))})\b")


@lru_cache(maxsize=1024)
def _status_noun(phrase: str) -> bool:
    """'failed invoices', 'value of failed invoices': a status said of records, i.e. a filter."""
    return bool(_status_noun_rx(vocabulary()).search(phrase))


def _weak(phrase: str, dataset: str) -> bool:
    """'total', 'how many', 'number of invoices', 'total sales': a count or total of the listing itself."""
    own = {w for p in vocabulary().dataset_words(dataset) for w in p.split()}
    return all(w in WEAK or w in own for w in phrase.split())


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


# --------------------------------------------------------------------------- reading
class Reading:
    """What a message says about the numbers (before the dataset is chosen)."""

    def __init__(self) -> None:
        self.group: list[Hit] = []  # dimension phrases to break down by
        self.grain: str | None = None
        self.direction: str | None = None  # desc | asc (a ranking)
        self.limit: int | None = None
        self.sort: Hit | None = None
        self.sort_any = False
        self.compare = False
        self.compare_to: str | None = None
        self.spans: list[tuple[int, int]] = []
        self.measures: list[Hit] = []  # status-bearing measure phrases read before slots ("failure rate")

    @property
    def shape(self) -> bool:
        return bool(self.group or self.grain or self.compare or self.limit or self.sort_any)


def prescan(turn: Turn) -> None:
    """Read breakdowns, trends, rankings and status-bearing measures before the slots, and mark their
    spans so slots don't take "each vendor" for a vendor or "failure rate" for failed invoices."""
    t, voc, r = turn.t, vocabulary(), Reading()
    m: re.Match[str] | None
    for rx, grain in GRAINS:
        for m in rx.finditer(t):
            r.grain = r.grain if r.grain and grain == "month" and "trend" in m.group(0) else grain
            r.spans.append(m.span())
    dims = [h for h in voc.find(t, ("dimension", "dataset")) if h.of("dimension")]
    longer = [(m.start, m.end) for m in voc.find(t, ("measure",)) if len(m.phrase.split()) > 1]
    for h in dims:
        if any(a < h.end and h.start < b for a, b in r.spans + longer):
            continue
        before = t[: h.start]
        if m := re.search(SORT.pattern + r"(?:the\s+)?$", before):
            r.sort, r.sort_any = h, True
            r.spans.append((m.start(), h.end))
            continue
        cue = re.search(r"\b" + GROUP_CUE + r"$", before) or (
            (DESC.search(t) or ASC.search(t)) and re.search(r"\b" + WHICH_CUE + r"$", before)
        )
        top = re.search(TOP_N.pattern + r"\s+$", before)
        categorical = any(
            voc.model.datasets[tm.dataset].dimensions[tm.name].type == "string" for tm in h.of("dimension")
        )
        if categorical and (cue or top):
            r.group.append(h)
            r.spans.append(((cue.start() if cue else h.start), h.end))
            if cue and re.match(WHICH_CUE, cue.group(0)):
                r.limit = r.limit or 1
    if m := TOP_N.search(t):
        r.direction = "asc" if m.group(1) in ("bottom", "worst", "lowest") else "desc"
        r.limit = _number(m.group(2))
    elif r.limit == 1:  # "which vendor ... most"
        r.direction = "asc" if ASC.search(t) else "desc"
        if not (DESC.search(t) or ASC.search(t)):
            r.limit, r.direction = None, None
    if m := SORT.search(t):
        r.sort_any = True
        r.spans.append(m.span())
    if COMPARE.search(t):
        r.compare = True
    for rx, value in PREVIOUS:
        if m := rx.search(t):
            r.compare, r.compare_to = True, value
            r.spans.append(m.span())
    for h in voc.find(t, ("measure",)):
        if _status_word(h.phrase) or _status_noun(h.phrase):
            continue
        if len(h.phrase.split()) > 1 and _has_status_word(h.phrase) or h.phrase in ("owe", "owed", "we owe"):
            if not any(a < h.end and h.start < b for a, b in r.spans):
                r.measures.append(h)
                r.spans.append((h.start, h.end))
    turn.prescanned = r.spans
    turn.reading = r  # type: ignore[attr-defined]
    return None


_MONTH_NAME = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b"
)


def _month_names(t: str, today: date | None) -> list[tuple[int, str]]:
    """Month names in the text as the latest such month that has begun ("November" on 7 Dec 2026: 2026-11)."""
    if today is None:
        return []
    out = []
    for m in _MONTH_NAME.finditer(t):
        month = MONTHS.get(m.group(1))
        if month:
            year = today.year if month <= today.month else today.year - 1
            out.append((m.start(), f"{year}-{month:02d}"))
    return out


def _periods_in_order(t: str, today: date | None = None) -> list[str]:
    found = _month_names(t, today)
    for m in RELATIVE_RE.finditer(t):
        n_raw, unit = m.group(1), m.group(2).rstrip("s")
        n = int(n_raw) if n_raw.isdigit() else NUMBER_WORDS.get(n_raw.split()[-1], 1)
        found.append(
            (
                m.start(),
                {
                    "day": f"last_{n}_days",
                    "week": f"last_{7 * n}_days",
                    "month": f"last_{n}_months",
                    "year": f"last_{12 * n}_months",
                }[unit],
            )
        )
    for rx, value in NAMED_PERIODS:
        found += [(m.start(), value) for m in rx.finditer(t)]
    return [v for _, v in sorted(found)]


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
