"""Dates and periods as people write them ("last month", "Q1 FY26", "between 1 Dec and 15 Jan"):
`extract_dates` finds them in lower-cased text; impossible dates are reported, never fixed.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from .lexicon import MONTHS, NUMBER_WORDS

# --------------------------------------------------------------------------- dates and periods

MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
DATE = (
    rf"(?:the\s+)?(?:(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})|{_DAY}\s*(?:of\s+)?{MON}{_YEAR}|{MON}\s+{_DAY}(?!\d){_YEAR}"
    r"|(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2}))(?![\d-])"
)
_DATE_GROUPS = 12
RANGE_DATE_RE = re.compile(rf"\b(?:(?:between|from)\s+)?{DATE}\s*(?:and|to|till|until|through|-|–)\s*{DATE}")
ONE_DATE_RE = re.compile(
    rf"\b(?:(since|from|starting|after|beginning|as of|on or after|before|until|till|up to|upto|through|by|on|dated)\s+)?{DATE}"
)
MONTH_RANGE_RE = re.compile(
    rf"\b(?:(?:between|from)\s+)?{MON}\s*(?:and|to|till|until|through|-|–)\s*{MON}(?:\s*,?\s*(\d{{4}}))?\b"
)
MONTH_RE = re.compile(
    rf"\b(?:(in|for|during|of|since|from|after|before|until|till|through)\s+(?:the\s+month\s+of\s+|the\s+(?:start|beginning|end)\s+of\s+)?)?{MON}(?:\s*[-,']?\s*(\d{{4}}|'?\d{{2}}(?!\d)))?\b"
)
ISO_MONTH_RE = re.compile(r"\b(\d{4})-(\d{1,2})\b(?!-\d)")
QUARTER_RE = re.compile(
    r"\b(?:(\d{4})\s*-?\s*)?q([1-4])\b(?:\s*(?:of\s+)?(fy\s*'?)?(\d{4}|'?\d{2}(?!\d)))?|\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter\b(?:\s+(?:of\s+)?(\d{4}))?"
)
FY_RE = re.compile(
    r"\bfy\s*'?(\d{4})\s*[-/]\s*(\d{2,4})\b|\bfy\s*'?(\d{4}|\d{2})\b|\b(?:financial|fiscal) year\s+(\d{4})\s*[-/]\s*(\d{2,4})\b"
)
YEAR_RE = re.compile(r"\b(?:(in|for|during|of|year|since|from|calendar year|cy)\s+)?(20\d\d)\b(?!\s*-\s*\d)")
_N = r"(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|sixty|ninety|a couple of|a few)"
RELATIVE_RE = re.compile(
    rf"\b(?:in\s+the\s+|over\s+the\s+|during\s+the\s+|for\s+the\s+|within\s+the\s+)?(?:last|past|previous|prior|recent)\s+{_N}\s+(days?|weeks?|months?|years?)\b"
)
NAMED_PERIODS = [
    (re.compile(p), v)
    for p, v in [
        (r"\b(?:this|current|the current) (?:fy|financial year|fiscal year|fiscal)\b", "this_fy"),
        (r"\b(?:last|previous|prior|past) (?:fy|financial year|fiscal year|fiscal)\b", "last_fy"),
        (r"\b(?:last|previous|prior|past) month\b|\bprev month\b", "last_month"),
        (r"\b(?:this|current|the current) month\b|\bmonth[ -]to[ -]date\b|\bmtd\b|\bthis month's\b", "this_month"),
        (r"\b(?:last|previous|prior|past) quarter\b|\bprev quarter\b", "last_quarter"),
        (r"\b(?:this|current|the current) quarter\b|\bquarter[ -]to[ -]date\b|\bqtd\b", "this_quarter"),
        (r"\b(?:last|previous|prior) year\b", "last_year"),
        (r"\bpast year\b", "last_12_months"),
        (r"\b(?:this|current|the current) year\b", "this_year"),
        (r"\byear[ -]to[ -]date\b|\bytd\b", "ytd"),
        (r"\b(?:last|previous|prior) week\b", "last_week"),
        (r"\bpast week\b", "last_7_days"),
        (r"\b(?:this|current) week\b", "this_week"),
        (r"\byesterday\b", "yesterday"),
        (r"\btoday\b|\bthis morning\b", "today"),
    ]
]


@dataclass
class Dates:
    period: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    error: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # readings the answer should state ("from November")


def _month(tok: str) -> int:
    return MONTHS[tok.rstrip(".")[:3] if tok.rstrip(".")[:4] != "sept" else "sep"]


def _year(y: str | None) -> int | None:
    if not y:
        return None
    y = y.lstrip("'")
    return int(y) if len(y) == 4 else 2000 + int(y)


class BadDate(ValueError):
    pass


def _mkdate(y: int | None, m: int, d: int, today: date, raw: str) -> date:
    if not 1 <= m <= 12 or not 1 <= d <= (29 if m == 2 else monthrange(2001, m)[1]):
        raise BadDate(f"'{raw.strip()}' is not a real date")
    if y is not None:
        try:
            return date(y, m, d)
        except ValueError:
            raise BadDate(f"'{raw.strip()}' is not a real date ({y} is not a leap year)") from None
    y = today.year
    while True:  # the most recent such day that is not in the future
        try:
            cand = date(y, m, d)
            if cand <= today:
                return cand
        except ValueError:
            pass
        y -= 1


def _date_from_groups(g: tuple, today: date, raw: str) -> date:
    if g[0]:  # ISO
        return _mkdate(int(g[0]), int(g[1]), int(g[2]), today, raw)
    if g[3]:  # 5 March 2026
        return _mkdate(_year(g[5]), _month(g[4]), int(g[3]), today, raw)
    if g[6]:  # March 5, 2026
        return _mkdate(_year(g[8]), _month(g[6]), int(g[7]), today, raw)
    return _mkdate(_year(g[11]), int(g[10]), int(g[9]), today, raw)  # 05/03/2026, day first


def _recent_month(m: int, today: date) -> int:
    return today.year if m <= today.month else today.year - 1


def _fy_end_year(s: str) -> int:
    return 2000 + int(s.lstrip("'")) if len(s.lstrip("'")) <= 2 else int(s)


def extract_dates(t: str, today: date) -> Dates:
    """Find the period or explicit dates in lower-cased text. Impossible dates set .error."""
    out = Dates()

    def taken(m: re.Match) -> bool:
        return any(a < m.end() and m.start() < b for a, b in out.spans)

    def take(m: re.Match) -> None:
        out.spans.append(m.span())

    try:
        for m in RANGE_DATE_RE.finditer(t):
            g = m.groups()
            a, b = (
                _date_from_groups(g[:_DATE_GROUPS], today, m.group(0)),
                _date_from_groups(g[_DATE_GROUPS:], today, m.group(0)),
            )
            if b < a and not (g[_DATE_GROUPS] or g[_DATE_GROUPS + 5] or g[_DATE_GROUPS + 8] or g[_DATE_GROUPS + 11]):
                b = b.replace(year=a.year) if b.replace(year=a.year) >= a else b.replace(year=a.year + 1)
            if b < a and not (g[0] or g[5] or g[8] or g[11]):
                a = a.replace(year=a.year - 1)
            out.date_from, out.date_to = a.isoformat(), b.isoformat()
            take(m)
            break
        if not out.spans:
            for m in ONE_DATE_RE.finditer(t):
                d = _date_from_groups(m.groups()[1:], today, m.group(0)[len(m.group(1) or "") :])
                prep = m.group(1) or "on"
                if prep in ("since", "from", "starting", "beginning", "as of", "on or after"):
                    out.date_from = d.isoformat()
                elif prep == "after":
                    out.date_from = (d + timedelta(days=1)).isoformat()
                elif prep == "before":
                    out.date_to = (d - timedelta(days=1)).isoformat()
                elif prep in ("until", "till", "up to", "upto", "through", "by"):
                    out.date_to = d.isoformat()
                else:
                    out.date_from = out.date_to = d.isoformat()
                take(m)
    except BadDate as e:
        out.error = str(e)
        return out

    for m in MONTH_RANGE_RE.finditer(t):
        if taken(m):
            continue
        ma, mb, y = _month(m.group(1)), _month(m.group(2)), m.group(3)
        ya = int(y) if y else _recent_month(mb, today) - (1 if ma > mb else 0)
        yb = ya + (1 if ma > mb else 0)
        out.date_from = date(ya, ma, 1).isoformat()
        out.date_to = date(yb, mb, monthrange(yb, mb)[1]).isoformat()
        take(m)
    for m in RELATIVE_RE.finditer(t):
        if taken(m):
            continue
        n_raw, unit = m.group(1), m.group(2).rstrip("s")
        n = int(n_raw) if n_raw.isdigit() else NUMBER_WORDS[n_raw.split()[1] if n_raw.startswith("a ") else n_raw]
        out.period = {
            "day": f"last_{n}_days",
            "week": f"last_{7 * n}_days",
            "month": f"last_{n}_months",
            "year": f"last_{12 * n}_months",
        }[unit]
        take(m)
    for rx, value in NAMED_PERIODS:
        for m in rx.finditer(t):
            if not taken(m):
                out.period = out.period or value
                take(m)
    for m in QUARTER_RE.finditer(t):
        if taken(m):
            continue
        if m.group(5):
            q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}[m.group(5)]
            y = int(m.group(6)) if m.group(6) else None
            fy = False
        else:
            q, fy = int(m.group(2)), bool(m.group(3))
            y = int(m.group(1)) if m.group(1) else _year(m.group(4))
        if fy and y:  # Indian FY quarters: Q1 = Apr-Jun of the year before the FY ends
            y, q = (y - 1, q + 1) if q < 4 else (y, 1)
        if y is None:
            y = today.year if date(today.year, 3 * q - 2, 1) <= today else today.year - 1
        out.period = f"{y}-Q{q}"
        take(m)
    for m in FY_RE.finditer(t):
        if taken(m):
            continue
        if m.group(1) or m.group(4):
            end = _fy_end_year(m.group(2) or m.group(5))
            start_y = int(m.group(1) or m.group(4))
            end = end if end > start_y else start_y + 1
        else:
            end = _fy_end_year(m.group(3))
        out.date_from, out.date_to = date(end - 1, 4, 1).isoformat(), date(end, 3, 31).isoformat()
        take(m)
    for m in ISO_MONTH_RE.finditer(t):
        if taken(m) or not 1 <= int(m.group(2)) <= 12:
            if not taken(m) and int(m.group(2)) > 12:
                out.error = f"'{m.group(0)}' is not a real month (months run 01 to 12)"
            continue
        out.period = f"{m.group(1)}-{int(m.group(2)):02d}"
        take(m)
    for m in MONTH_RE.finditer(t):
        if taken(m):
            continue
        prep, tok, y = m.group(1), m.group(2), m.group(3)
        if (
            not prep
            and not y
            and (
                tok == "may"
                or len(tok.rstrip(".")) <= 3
                and tok.rstrip(".") not in ("jan", "feb", "apr", "aug", "oct", "nov", "dec")
            )
        ):
            continue  # bare "may"/"mar"/"jun": too likely an ordinary word
        mo = _month(tok)
        named = _year(y)
        year = named if named is not None else _recent_month(mo, today)
        onwards = re.match(
            r"\s*(?:on(?:wards)?|till (?:date|now|today)|to (?:date|now)|until (?:now|today))\b", t[m.end() :]
        )
        if prep == "from" and not onwards:  # "cancelled sales from November": that month (stated)
            out.period = f"{year}-{mo:02d}"
            out.assumed.append(f"I read “from {tok.capitalize()}” as {date(year, mo, 1):%B %Y} only")
        elif prep in ("since", "from", "after"):
            out.date_from = (
                date(year, mo, 1).isoformat()
                if prep != "after"
                else (date(year, mo, 1) + relativedelta(months=1)).isoformat()
            )
        elif prep in ("before", "until", "till", "through"):
            out.date_to = (
                (date(year, mo, 1) - timedelta(days=1)).isoformat()
                if prep == "before"
                else date(year, mo, monthrange(year, mo)[1]).isoformat()
            )
        else:
            out.period = f"{year}-{mo:02d}"
        take(m)
    for m in YEAR_RE.finditer(t):
        if taken(m):
            continue
        prep = m.group(1)
        if prep in ("since", "from"):
            out.date_from = f"{m.group(2)}-01-01"
        elif prep or re.match(r"\s*(?:invoices?|sales|transactions|bills|payments)\b", t[m.end() :]):
            out.period = m.group(2)
        else:
            continue
        take(m)
    return out
