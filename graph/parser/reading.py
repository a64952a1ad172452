"""How an analytics question is read before its query is built (analytics.py builds it): the cues of a
breakdown, trend, ranking, sort or comparison, the status words, and `prescan`, which marks what a message
says about the numbers (a `Reading`) before the slots are read; the periods of a comparison in order."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache


from .lexicon import INVOICE_STATUS_RE, MONTHS, NUMBER_WORDS, PAYMENT_RE
from .periods import NAMED_PERIODS, RELATIVE_RE
from .turn import Turn
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
