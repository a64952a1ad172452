"""The words of a message: what the parser and the data model know, filler, and the content words nothing used."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


from tools import registry

from ..parser.lexicon import COMMON
from ..parser.patterns import TOKEN
from ..parser.vocabulary import vocabulary


# tools that read business data (declared `reads_data`): a word they did not use changes the answer
DATA_TOOLS = frozenset(name for name, spec in registry.TOOLS.items() if spec.reads_data)
# words that carry no request of their own, beyond the parser's vocabulary
FILLER = set(
    """
    hello hey hi dear thanks thank regards team kindly pls plz please quick quickly asap urgently
    tell know want wanted need needed like love would could might may wonder wondering curious
    get got give us me our ours we i you your yours whose whom which what who where when why how
    there here much many lot lots bit little some any anything something everything everyone
    see show showing shown list listing display pull fetch find look looking check checking
    having have has had being was were been be is are am does did do done doing
    okay ok alright right sure great cool fine good nice
    per cent vs versus via etc also too very really actually basically just only even still
    wise overall altogether together entire whole full complete
    came come comes coming receive received receiving brought bring placed place located based far across
    everyone everybody anyone weakest strongest busiest quietest happen happened because single individual onwards onward fraction proportion
    run running ran do doing prepare generate produce
    """.split()
)
# "report" alone is a noun ("a report of revenue from X"): an export needs one of these
PERIOD_KEYS = ("period", "date_from", "date_to")


@lru_cache(maxsize=1)
def parser_words() -> frozenset[str]:
    """Every word some rule of the offline parser reads: the literal words of its patterns (and its word
    lists). A word outside these, the data model's vocabulary and the names is one nothing understood."""
    from .. import parser
    from ..parser import analytics, declared, followups, lexicon, patterns, periods, reading, rules, slots, tickets

    words: set[str] = set(COMMON)
    for module in (parser, analytics, followups, lexicon, patterns, periods, reading, rules, slots, tickets):
        for value in vars(module).values():
            sources = [value] if isinstance(value, re.Pattern) else []
            if isinstance(value, (list, tuple)):
                sources = [v for item in value for v in (item if isinstance(item, tuple) else (item,))]
            for src in sources:
                if isinstance(src, re.Pattern):
                    words.update(re.findall(r"[a-z]{3,}", re.sub(r"\\[a-zA-Z]", " ", src.pattern)))
            if isinstance(value, (set, frozenset, dict)):
                words.update(w for w in value if isinstance(w, str))
    words.update(w for cue in declared.cues() for run in cue.runs for w in run)  # tools' declared phrases
    return frozenset(words)


def _numbers(value: Any) -> list[float]:
    """Every number inside a parameter value (a limit, a condition's bound)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, str):
        return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", value)]
    return []


def _in_identifier(text: str, m: re.Match[str]) -> bool:
    """A number that is part of a code or id ("ACM-V003", "T-00001", "INV-ACM-2611-00240")."""
    a, b = m.start(), m.end()
    return (a > 0 and (text[a - 1].isalpha() or text[a - 1] in "-_/#")) or (b < len(text) and text[b] in "-_/")


def _flat_words(value: Any) -> set[str]:
    """Every word inside a parameter value (names, statuses, measures, nested filters)."""
    if isinstance(value, dict):
        return set().union(*(_flat_words(k) | _flat_words(v) for k, v in value.items())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_flat_words(v) for v in value)) if value else set()
    if isinstance(value, str):
        return set(TOKEN.findall(value.lower().replace("_", " "))) | {value.lower()}
    return set()


@lru_cache(maxsize=8192)
def _forms(value: str) -> frozenset[str]:
    """How a stored value is written in a question: "Laptop" as laptop or laptops, "Printer paper (box)" as
    printer paper. (Kept: the same stored values are read on every turn.)"""
    base = re.sub(r"\s*\(.*?\)\s*", " ", value.lower()).strip()
    out = {base, value.lower()}
    out |= {f + "s" for f in list(out) if not f.endswith("s")} | {
        f + "es" for f in list(out) if f.endswith(("x", "ch", "sh"))
    }
    return frozenset(f for f in out if len(f) >= 3)


@lru_cache(maxsize=8192)
def form_pattern(form: str) -> re.Pattern[str]:
    """A value's written form as a whole word or words ("laptop", not "laptops" inside "laptopsleeve")."""
    return re.compile(rf"\b{re.escape(form)}\b")


def unused_words(
    rest: str,
    params: dict[str, Any],
    dataset: str | None,
    model: Any = None,
    lookups: dict[str, list[str]] | None = None,
) -> list[str]:
    """Content words of `rest` (the message with names, dates and amounts already blanked out) that nothing
    used: not filler, not the parser's vocabulary, not a value the query applies. A data-model value that
    the query does not apply ("inactive" in a listing of every vendor) counts as unused too."""
    used = _flat_words(params)
    vocab = vocabulary(model)
    hits = vocab.find(rest)
    covered: set[int] = set()
    dropped: list[str] = []
    for h in hits:
        covered.update(range(h.start, h.end))
        values = [t for t in h.terms if t.kind == "value"]
        mine = [t for t in values if dataset is None or t.dataset == dataset]
        others = [t for t in h.terms if t.kind != "value"]
        grouped = set(params.get("group_by") or [])  # "the East's share": every region is shown, the East too
        if (
            values
            and not others
            and not any((t.value or "").lower() in used or t.name in grouped for t in mine or values)
        ):
            dropped.append(h.phrase)  # a declared value the query does not apply (or another dataset's)
    out: list[str] = []
    grouped = set(params.get("group_by") or [])
    numbers = {f"{n:g}" for n in _numbers(params)}
    for m in TOKEN.finditer(rest):
        w = m.group(0)
        if w.isdigit() and w not in numbers and not _in_identifier(rest, m):  # "15-day terms": a number nothing used
            out.append(w)
            continue
        if m.start() in covered or w in parser_words() or w in FILLER or w in used or len(w) < 3 or w.isdigit():
            continue
        if re.fullmatch(r"\d+(?:st|nd|rd|th|k|l|cr|lakh|crore)?", w):
            continue
        if len(w) > 3 and (w[:-1] in used or (w.endswith("es") and w[:-2] in used)):  # "laptops": Laptop applied
            continue
        if any(  # "revenue from laptops, in percent": every product is shown, Laptop too
            key.partition(".")[2] in grouped and any(w in _forms(v) for v in values)
            for key, values in (lookups or {}).items()
            if key.partition(".")[0] == dataset
        ):
            continue
        negated = re.match(r"(?:un|non-?)(\w{3,})$", w)  # "unverified": the negated boolean value applied
        if negated and negated.group(1) in used:
            continue
        out.append(w)
    return list(dict.fromkeys([*dropped, *out]))


def _without(text: str, words: list[str]) -> str:
    out = text
    for w in sorted(words, key=len, reverse=True):
        out = re.sub(rf"(?i)\b(?:not |un|non-?)?{re.escape(w)}\b", " ", out)
    out = re.sub(r"\b(?:whose|which|that|who|where)\s+(?:is|are|was|were)?\s*(?=[,.?!]|$)", " ", out)
    return re.sub(r"\s+", " ", out).strip(" ,")


SHARE_WORDS = re.compile(r"\b(?:share|percent(?:age)?|proportion|fraction|what part)\b|%")
RANK_WORDS = re.compile(
    r"\b(?:biggest|largest|highest|most|least|lowest|smallest|best|worst|top|bottom|fewest|maximum|minimum)\b"
)
WHO_WORDS = re.compile(
    r"\b(?:who|whom)\b|\bwhich (?:\w+ )?(?:customers?|clients?|vendors?|suppliers?|products?|regions?|months?|"
    r"methods?|categor(?:y|ies)|states?)\b|\b(?:customers?|clients?|vendors?|suppliers?|products?|regions?|methods?)\b"
)
# a count of something other than the listed rows (the vendors dataset lists vendors: its count is right)
HOW_MANY_OF = re.compile(r"\bhow many (?:different |distinct |unique )?(customers?|clients?|products?)\b")

FILTER_FIELDS = {"vendor", "status", "payment_status", "region", "customer"}

ASCENDING = re.compile(r"\b(?:least|lowest|smallest|weakest|bottom|fewest|minimum)\b")
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
COUNT_WORDS |= {"ten": 10}
ROW_MEASURES = re.compile(r"^(?:largest|smallest|biggest|max|min)_|_count$")


# a follow-up leans on the last question: a pronoun, "that month", "and for ...", "only ...", "sort ..."
FOLLOW_CUE = re.compile(
    r"\b(?:these|those|them|they|their|theirs|its|it|same|instead|too|also|again|previous|above|earlier|"
    r"that (?:month|year|quarter|week|period|day|vendor|supplier|customer|client|region|one|list|breakdown)|"
    r"this (?:list|breakdown|one))\b|\b(?:were|was) there\s*[?.!]*\s*$|^how (?:many|much) (?:were|was|are|is|of)\b|"
    r"^(?:and|but|then|now|so|ok|okay|only|just|what about|how about|make it|sort|order|by|as a|for|except|"
    r"excluding|without|compare|versus|vs)\b"
)
