"""Slots of one message: names (explicit `vendor=X` and found ones), periods, amounts, statuses, region,
limit and workspace, read from normalised, typo-corrected text; and the helpers they share.

Names go through tools.names (one matcher for the whole product); an unknown name after
"from/for/by/vendor", before "invoices" or possessive passes through raw, so the tool can say
"I couldn't find a vendor called X"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from tools.names import NameIndex, find_names
from tools.tickets import normalise_ticket_id
from tools.periods import PeriodError, resolve_period
from tools import queries as tool_queries  # a module, not the name: the parser's vocabulary reads module values

from ..intent import ParseContext
from .lexicon import COMMON, INVOICE_STATUS_RE, PAYMENT_RE, REGION_RE, correct_word, extract_amounts
from .patterns import (
    AMOUNT_KV,
    BEFORE_DATASET,
    DATASETS,
    EXPLICIT_END,
    EXPLICIT_KEY,
    INVOICE_NO,
    LIMIT,
    PERIOD_KV,
    POSSESSIVE,
    PREP_NAME,
    SEP,
    TICKET_ID,
    TOKEN,
    WORKSPACE,
)
from .periods import extract_dates


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"), ("\u00a0", " ")):
        t = t.replace(a, b)
    return re.sub(r"\s+", " ", t).strip()


def correct(low: str, protected: frozenset[str]) -> str:
    return TOKEN.sub(lambda m: m.group(0) if m.group(0) in protected else correct_word(m.group(0)), low)


def blank(s: str, spans: list[tuple[int, int]]) -> str:
    for a, b in sorted(spans, reverse=True):
        s = s[:a] + SEP + s[b:]
    return s


def raw_spelling(phrase: str, original: str) -> str:
    """The user's own spelling/casing of a lower-cased phrase."""
    m = re.search(r"\s+".join(map(re.escape, phrase.split())), original, re.I)
    return m.group(0) if m else phrase


def unknown_run(words: list[str], from_end: bool = False) -> list[str]:
    """The words of an unknown name: not ordinary words, each with a letter or a symbol a name may have
    (%, _, @, #, anything beyond ASCII such as an emoji); a number alone is not a name."""
    seq = list(reversed(words)) if from_end else words
    run: list[str] = []
    for w in seq:
        if w in COMMON or w.removesuffix("'s") in COMMON or not NAME_WORD.search(w):
            break
        run.append(w)
    while run and run[-1] == "&":  # "Zed's & Co": the run stopped at "co"; no dangling "&"
        run.pop()
    while run and run[0] == "&":
        run.pop(0)
    return list(reversed(run)) if from_end else run


NAME_WORD = re.compile(r"[a-z%_@#&\u0080-\U0010ffff]")


def ticket_id_of(m: re.Match) -> str:
    return normalise_ticket_id(next(g for g in m.groups() if g))


@dataclass
class Slots:
    params: dict[str, Any]
    dataset: str | None
    ambiguous: list[str] | None
    notes: list[str]
    has_filter: bool
    rest: str = ""  # the text with names, dates and amounts blanked (what analytics reads)


def explicit_names(original: str) -> tuple[dict[str, str], str]:
    """vendor=X, vendor: "X", customer is X, from 'X': the value exactly as typed (it may be anything, even
    SQL; it stays a string value) and the text with the value cut out, so nothing else reads it."""
    found: dict[str, str] = {}
    cuts: list[tuple[int, int]] = []
    for m in EXPLICIT_KEY.finditer(original):
        field = "customer" if (m.group(1) or m.group(0)[:2]).lower() in ("customer", "client", "to") else "vendor"
        e = m.end()
        if field in found or e >= len(original) or any(a <= m.start() < b for a, b in cuts):
            continue
        q = original[e]
        if q in "'’" and original[e - 1].isalpha():  # "vendors' invoices": a possessive, not a quoted name
            continue
        if q in "\"'":
            close = next(
                (
                    j
                    for j in range(e + 1, len(original))
                    if original[j] == q and re.match(r"\s*(?:,|$)|\s+\w", original[j + 1 :])
                ),
                None,
            )
            end = close + 1 if close is not None else len(original)  # unbalanced quote: the rest, as typed
            val = original[e + 1 : close] if close is not None else original[e:]
        elif m.group(2):
            stop = EXPLICIT_END.search(original, e + 1)  # always matches, at worst at the end
            end = stop.start() if stop else len(original)
            val = original[e:end]
        else:
            continue
        if val.strip():
            found[field] = val.strip()
            cuts.append((e, end))
    return found, blank(original, cuts)


def read_slots(
    t: str, original: str, ctx: ParseContext, vidx: NameIndex, cidx: NameIndex | None, explicit: dict[str, str]
) -> Slots:
    p: dict[str, Any] = {}
    notes: list[str] = []
    rest = t
    if m := PERIOD_KV.search(rest):  # period=last_month: the grammar's own names, checked, else passed through
        try:
            resolve_period(m.group(1), ctx.today)
            p["period"] = m.group(1)
        except PeriodError:
            p["period"] = m.group(1)
            notes.append(f"unknown period {m.group(1)!r} passed through")
        rest = blank(rest, [m.span()])
    for m in AMOUNT_KV.finditer(rest):
        p[f"{m.group(1)}_amount"] = float(m.group(2).replace(",", ""))
    rest = AMOUNT_KV.sub(SEP, rest)
    dates = extract_dates(rest, ctx.today)
    for k in ("period", "date_from", "date_to"):
        if getattr(dates, k):
            p[k] = getattr(dates, k)
    if dates.error:
        p["_date_error"] = dates.error
    if dates.assumed:
        p["_assumed"] = list(dates.assumed)
    rest = blank(rest, dates.spans)
    rest = INVOICE_NO.sub(lambda m: p.setdefault("invoice_numbers", []).append(m.group(0).upper()) or SEP, rest)
    rest = TICKET_ID.sub(SEP, rest)
    amounts = extract_amounts(rest)
    if amounts.min_amount is not None:
        p["min_amount"] = amounts.min_amount
    if amounts.max_amount is not None:
        p["max_amount"] = amounts.max_amount
    rest = blank(rest, amounts.spans)
    # names before status words: "Metro Cabs" must not lose a word to a keyword
    vhits = find_names(rest, vidx)
    chits = find_names(rest, cidx) if cidx else []
    dataset = dataset_of(t)
    if chits and not vhits and dataset in (None, "sales"):
        dataset = "sales"
    ambiguous = None
    if dataset == "sales" and chits:
        vhits = []
    elif dataset in ("invoices", "transactions", "vendors"):
        chits = []
    elif vhits:
        chits = [h for h in chits if not any(v.start < h.end and h.start < v.end for v in vhits)]
    for field, hits in (("vendor", vhits), ("customer", chits)):
        if field in explicit:
            continue
        names = {tuple(h.names) for h in hits}
        if len(hits) == 1 and len(hits[0].names) == 1:
            p[field] = hits[0].names[0]
            notes.append(f"{field} '{rest[hits[0].start : hits[0].end]}' -> {p[field]} ({hits[0].how})")
        elif hits:
            cands = sorted({n for h in hits for n in h.names})
            if len(names) == 1 or len(cands) > 1:
                ambiguous = cands
            else:
                p[field] = cands[0]
        rest = blank(rest, [(h.start, h.end) for h in hits])
    for field, val in explicit.items():
        idx = vidx if field == "vendor" else cidx
        hits = find_names(val.lower(), idx) if idx else []
        p[field] = hits[0].names[0] if len(hits) == 1 and len(hits[0].names) == 1 else val
        notes.append(f"{field}={val!r}" + (f" -> {p[field]}" if p[field] != val else ""))
    # statuses, payment status, region, limit
    before_status = rest
    for rx, value in PAYMENT_RE:
        if m := rx.search(rest):
            p["payment_status"] = value
            rest = blank(rest, [m.span()])
            break
    for rx, value in INVOICE_STATUS_RE:
        if m := rx.search(rest):
            p["status"] = value
            break
    if m := REGION_RE.search(rest):
        p["region"] = m.group(1).capitalize()
    if m := LIMIT.search(rest):
        p["limit"] = min(int(m.group(1)), 1000)
    if m := WORKSPACE.search(rest):
        p["workspace"] = m.group(1) or m.group(2)
    # an unresolved name after "from/for/by/vendor", before "invoices", or possessive: pass it through raw
    if "vendor" not in p and "customer" not in p and not ambiguous:
        cand = None
        for m in PREP_NAME.finditer(rest):
            run = unknown_run(m.group(3).split())
            prep = m.group(2) or m.group(1)
            if run and (prep != "to" or dataset in ("sales", "transactions")) and prep not in ("with", "about"):
                cand = " ".join(run)
                break
        if not cand:
            for rx in (POSSESSIVE, BEFORE_DATASET):
                if m := rx.search(rest):
                    run = unknown_run(m.group(1).split(), from_end=True)
                    if run:
                        cand, prep = " ".join(run), ""
                        break
        if cand and re.fullmatch(r"'s|'|s'", cand):  # the possessive left of "yesterday's invoices": no name
            cand = None
        if cand and (len(cand) >= 2 or not cand.isascii() or not cand.isalnum()):  # "%" or "☕", not "a"
            field = "customer" if dataset == "sales" or prep in ("to", "customer", "client") else "vendor"
            p[field] = raw_spelling(cand, original)
            notes.append(f"unresolved {field} {p[field]!r} passed through")
    has_filter = any(k in p for k in tool_queries.FILTER_KEYS) or "_date_error" in p
    return Slots(p, dataset, ambiguous, notes, has_filter, before_status)


def dataset_of(t: str) -> str | None:
    """Which table: an explicit "transactions" beats "invoices", which beats "sales" and "payments"."""
    found = {d for d, rx in DATASETS if rx.search(t)}
    if re.search(r"\btransactions?\b|\btxns?\b", t):
        return "transactions"
    for d in ("invoices", "sales", "transactions", "vendors"):
        if d in found:
            return d
    return None


def filter_params(s: Slots, *, dataset: bool = True) -> dict[str, Any]:
    p = {k: v for k, v in s.params.items() if not k.startswith("_")}
    if dataset:
        ds = s.dataset or ("sales" if "customer" in p else "invoices")
        p = {"dataset": ds, **p}
        if ds == "sales":
            p.pop("status", None)
            p.pop("payment_status", None)
    return p
