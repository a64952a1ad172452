"""Word lists, compiled patterns and value extractors (dates, amounts) for the offline parser.

Everything here is pure and compiled at import. `graph.parser` decides what a message means;
this module only knows how finance users write periods, amounts, statuses and keywords.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta
from rapidfuzz import process
from rapidfuzz.distance import OSA

# --------------------------------------------------------------------------- vocabulary

# Words the parser understands. They are never vendor/customer candidates, and unknown words
# close to one of KEYWORDS are corrected ("invocies" -> "invoices").
KEYWORDS = """
invoice invoices bill bills sales sale revenue orders purchases vendors vendor suppliers supplier
transactions transaction payments payment transfers customers customer
failed failing failure failures rejected errored erroring bounced unsuccessful declined
processed completed successful posted cleared approved pending awaiting queued unprocessed
cancelled canceled voided paid unpaid partially overdue outstanding
export download report excel spreadsheet explain reason notifications notification updates
ticket tickets create raise comment resolved reopen status priority urgent
quarter month months week weeks year years yesterday today between since until before after
north south east west northern southern eastern western region
show filter list display fetch investigate analysis analyse analyze performance review monthly
""".split()

COMMON = set(KEYWORDS) | set("""
a an the this that these those them they their it its is are was were be been am do does did done
i me my mine we us our you your he she his her please pls plz kindly can could would will shall
should may might must just only also too and or but not no yes ok okay so then now again same
of in on at to for from by with without about as into over under above below than more less
what which who whom whose why how when where there here any anything all every each some
show give get pull fetch find see view check look list tell let know need want see display bring
filter filtered search count total sum many much number numbers how's what's where's there's
hey hi hello thanks thank please help team guys folks dear sir madam
last past previous prior next current recent recently latest this first second third fourth
days day weeks week months month quarters quarter years year fy financial fiscal ytd mtd qtd
data records record rows row ones one entries entry items item list lists details info
high low medium urgent normal critical asap mark set change update updated move close closed
open opened opening new notify notified alert alerts inform remind ping tell fixed fix done
again wrong went happened happen going issue issues problem problems error errors cause causes
amount amounts value worth total totals big biggest largest small smallest top bottom
csv xlsx xls pdf format file files copy version sheet document doc
please kindly quickly asap today tomorrow yesterday morning evening
region regions zone zones area areas side part
dated date dates period periods range time
status statuses state states stage
like such other another else everything anything something nothing
resolve resolving close closing closes reopened reopening cancel cancelling process processing approve approving
export exported exporting download downloaded downloading notify notifying comments commented noted raised raising
created creating filed filing logged logging escalate escalated escalating investigate investigated investigating
analyse analysed analyze analyzed analysing analyzing compare compared comparing review reviewed reviewing
explain explained explaining reasons failing failed fails paying payable payables receivable receivables invoiced
bought buy sold sell selling purchased purchase spent spend spending charged charge charges expense expenses
money cost costs price prices amount worth lakh lakhs crore crores thousand million rupees
still yet already ever never always sometimes often got get gets getting went gone made make makes making
send sent email mail share shared sharing save saved saving print printed generate generated produce
working work works worked started start starting stop stopped waiting wait called call back reply replied
should'nt isn't aren't wasn't weren't don't doesn't didn't haven't hasn't can't won't
ones those these there their them they we're they're it's i'm you're that's what's let's here's
approval approvals gstin gstins missing mismatch mismatched duplicate duplicates tax taxes invalid wrong incorrect
scorecard scorecards comparison health benchmark ranking ranked overview summary snapshot
vendors' suppliers' customer's vendor's supplier's month's quarter's year's week's today's yesterday's
""".split())

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                "thirty": 30, "sixty": 60, "ninety": 90, "a": 1, "an": 1, "couple": 2, "few": 3}

MONTHS = {"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
          "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
          "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12}
COMMON |= set(MONTHS) | set(NUMBER_WORDS)

_TYPO_TARGETS = sorted({w for w in KEYWORDS if len(w) >= 5})


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """A keyword for a misspelt word ("invocies" -> "invoices"), else the word itself."""
    if len(word) < 5 or word in COMMON or not word.isalpha():
        return word
    hit = process.extractOne(word, _TYPO_TARGETS, scorer=OSA.distance, score_cutoff=1 if len(word) < 8 else 2)
    return hit[0] if hit else word


# --------------------------------------------------------------------------- statuses

_INVOICE_STATUS = [
    (r"not (?:yet )?processed|unprocessed|yet to be processed|in[ -]progress|awaiting|waiting|queued|pending|open|on hold|"
     r"(?:for|needing|needs|need) approval", "pending"),
    (r"gstins? (?:is )?(?:missing|mismatch(?:ed)?)|(?:missing|wrong|no) gstins?|duplicate(?: invoice)?(?: numbers?)?|"
     r"tax(?: amount)? mismatch|invalid (?:invoice )?dates?|with errors|unsuccessful|fail(?:ed|ing|ures?|s)?|rejected|rejections?|errored|erroring|errors?|bounced|declined", "failed"),
    (r"processed|completed?|successful(?:ly)?|succeeded|success|posted|cleared|approved|done", "processed"),
    (r"cancell?ed|cancell?ations?|voided|void", "cancelled"),
]
INVOICE_STATUS_RE = [(re.compile(rf"\b(?:{p})\b"), s) for p, s in _INVOICE_STATUS]

PAYMENT_RE = [
    (re.compile(r"\b(?:partial(?:ly)?|part|partly)[ -]?paid\b|\bpartial payments?\b"), "partially_paid"),
    (re.compile(r"\bover ?due\b|\bpast[ -]due\b|\blate(?: payments?)?\b|\bdelayed payments?\b"), "overdue"),
    (re.compile(r"\bun ?paid\b|\bnot (?:yet )?paid\b|\boutstanding\b|\byet to be paid\b"), "unpaid"),
    (re.compile(r"\b(?:fully )?paid\b|\bsettled\b"), "paid"),
]

TICKET_STATUS_RE = [
    (re.compile(r"\bre-?open(?:ed)?\b"), "open"),
    (re.compile(r"\bin[ -_]progress\b|\bworking on (?:it|this|that)\b|\bstart(?:ed)? working\b|\bunder way\b|\bongoing\b"), "in_progress"),
    (re.compile(r"\bresolved?\b|\bfixed\b|\bdone\b|\bsorted\b|\bcompleted?\b"), "resolved"),
    (re.compile(r"\bclosed?\b"), "closed"),
    (re.compile(r"\bopen\b"), "open"),
]

REGION_RE = re.compile(r"\b(north|south|east|west)(?:ern)?\b(?!\s*(?:star|wind|gate|point|end)\b)")

# --------------------------------------------------------------------------- amounts

_UNITS = {"k": 1e3, "thousand": 1e3, "l": 1e5, "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5,
          "cr": 1e7, "crore": 1e7, "crores": 1e7, "m": 1e6, "mn": 1e6, "million": 1e6}
_CUR = r"(?:₹|rs\.?|inr|rupees)"
NUM = (rf"(?:{_CUR}\s*)?(\d{{1,3}}(?:,\d{{2,3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
       r"(?:\s*(thousand|lakhs?|lacs?|crores?|million)\b|(k|l|cr|mn|m)(?![a-z0-9])"
       r"|(?![a-z0-9])(?!\s*(?:invoices?|bills?|days?|weeks?|months?|years?|times|transactions?|sales|records|rows|vendors?|%|percent)))"
       r"(?:\s*(?:rupees|rs\.?|inr)\b)?")
_MIN = r"(?:over|above|more than|greater than|higher than|bigger than|exceeding|exceeds|in excess of|at least|minimum(?: of)?|min\.?|not less than|upwards of|starting (?:from|at)|>=?|≥)"
_MAX = r"(?:under|below|less than|lower than|smaller than|cheaper than|at most|up ?to|not more than|not over|not above|maximum(?: of)?|max\.?|within|<=?|≤)"
_AMT_WORD = r"(?:(?:with |having |of )?(?:an? )?(?:total |invoice |bill )?(?:amount|value|worth|total|valued|priced)s?\s*(?:of|is|=|:)?\s*)?"
RANGE_AMT_RE = re.compile(rf"\b(?:between|from)\s+{_AMT_WORD}{NUM}\s*(?:and|to|-|–)\s*{NUM}|{NUM}\s*(?:-|–|to)\s*{NUM}(?=\s*(?:range|bracket|band)?)")
MIN_AMT_RE = re.compile(rf"{_MIN}\s*{_AMT_WORD}{NUM}|{NUM}\s*(?:\+|and (?:above|over|more)|or (?:more|above|over|higher))")
MAX_AMT_RE = re.compile(rf"{_MAX}\s*{_AMT_WORD}{NUM}|{NUM}\s*(?:and (?:below|under|less)|or (?:less|below|under|lower))")
EXACT_AMT_RE = re.compile(rf"(?:{_CUR}\s*\d[\d,.]*(?:\s*(?:thousand|lakhs?|lacs?|crores?|million)|(?:k|l|cr|mn)\b)?|\b\d[\d,.]*(?:\s*(?:thousand|lakhs?|lacs?|crores?|million)\b|(?:k|l|cr|mn)\b))")


def amount_value(num: str, unit1: str | None, unit2: str | None) -> float:
    return float(num.replace(",", "")) * _UNITS.get(unit1 or unit2 or "", 1)


def _amounts_in(m: re.Match) -> list[float]:
    g = m.groups()
    return [amount_value(g[i], g[i + 1], g[i + 2]) for i in range(0, len(g), 3) if g[i] is not None]


@dataclass
class Amounts:
    min_amount: float | None = None
    max_amount: float | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


def extract_amounts(t: str) -> Amounts:
    out = Amounts()
    for m in RANGE_AMT_RE.finditer(t):
        vals = _amounts_in(m)
        if len(vals) == 2 and (re.search(r"\d[\d,.]*\s*(?:thousand|lakh|lac|crore|million|k|l|cr|mn)|₹|rs|inr", m.group(0)) or max(vals) >= 1000):
            out.min_amount, out.max_amount = min(vals), max(vals)
            out.spans.append(m.span())
    for rx, attr in ((MIN_AMT_RE, "min_amount"), (MAX_AMT_RE, "max_amount")):
        for m in rx.finditer(t):
            if any(a <= m.start() < b for a, b in out.spans):
                continue
            vals = _amounts_in(m)
            if vals and getattr(out, attr) is None:
                setattr(out, attr, vals[0])
                out.spans.append(m.span())
    if out.min_amount is None and out.max_amount is None:
        for m in EXACT_AMT_RE.finditer(t):
            n = re.search(NUM, m.group(0))
            if n:
                v = amount_value(*n.groups())
                out.min_amount = out.max_amount = v
                out.spans.append(m.span())
                break
    return out


# --------------------------------------------------------------------------- dates and periods

MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
DATE = (rf"(?:the\s+)?(?:(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})|{_DAY}\s*(?:of\s+)?{MON}{_YEAR}|{MON}\s+{_DAY}(?!\d){_YEAR}"
        r"|(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2}))(?![\d-])")
_DATE_GROUPS = 12
RANGE_DATE_RE = re.compile(rf"\b(?:(?:between|from)\s+)?{DATE}\s*(?:and|to|till|until|through|-|–)\s*{DATE}")
ONE_DATE_RE = re.compile(rf"\b(?:(since|from|starting|after|beginning|as of|on or after|before|until|till|up to|upto|through|by|on|dated)\s+)?{DATE}")
MONTH_RANGE_RE = re.compile(rf"\b(?:(?:between|from)\s+)?{MON}\s*(?:and|to|till|until|through|-|–)\s*{MON}(?:\s*,?\s*(\d{{4}}))?\b")
MONTH_RE = re.compile(rf"\b(?:(in|for|during|of|since|from|after|before|until|till|through)\s+(?:the\s+month\s+of\s+|the\s+(?:start|beginning|end)\s+of\s+)?)?{MON}(?:\s*[-,']?\s*(\d{{4}}|'?\d{{2}}(?!\d)))?\b")
ISO_MONTH_RE = re.compile(r"\b(\d{4})-(\d{1,2})\b(?!-\d)")
QUARTER_RE = re.compile(r"\b(?:(\d{4})\s*-?\s*)?q([1-4])\b(?:\s*(?:of\s+)?(fy\s*'?)?(\d{4}|'?\d{2}(?!\d)))?|\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter\b(?:\s+(?:of\s+)?(\d{4}))?")
FY_RE = re.compile(r"\bfy\s*'?(\d{4})\s*[-/]\s*(\d{2,4})\b|\bfy\s*'?(\d{4}|\d{2})\b|\b(?:financial|fiscal) year\s+(\d{4})\s*[-/]\s*(\d{2,4})\b")
YEAR_RE = re.compile(r"\b(?:(in|for|during|of|year|since|from|calendar year|cy)\s+)?(20\d\d)\b(?!\s*-\s*\d)")
_N = r"(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|sixty|ninety|a couple of|a few)"
RELATIVE_RE = re.compile(rf"\b(?:in\s+the\s+|over\s+the\s+|during\s+the\s+|for\s+the\s+|within\s+the\s+)?(?:last|past|previous|prior|recent)\s+{_N}\s+(days?|weeks?|months?|years?)\b")
NAMED_PERIODS = [(re.compile(p), v) for p, v in [
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
]]


@dataclass
class Dates:
    period: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    error: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


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
    return _year(s) if len(s.lstrip("'")) <= 2 else int(s)


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
            a, b = _date_from_groups(g[:_DATE_GROUPS], today, m.group(0)), _date_from_groups(g[_DATE_GROUPS:], today, m.group(0))
            if b < a and not (g[_DATE_GROUPS] or g[_DATE_GROUPS + 5] or g[_DATE_GROUPS + 8] or g[_DATE_GROUPS + 11]):
                b = b.replace(year=a.year) if b.replace(year=a.year) >= a else b.replace(year=a.year + 1)
            if b < a and not (g[0] or g[5] or g[8] or g[11]):
                a = a.replace(year=a.year - 1)
            out.date_from, out.date_to = a.isoformat(), b.isoformat()
            take(m)
            break
        if not out.spans:
            for m in ONE_DATE_RE.finditer(t):
                d = _date_from_groups(m.groups()[1:], today, m.group(0)[len(m.group(1) or ""):])
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
        a, b, y = _month(m.group(1)), _month(m.group(2)), m.group(3)
        ya = int(y) if y else _recent_month(b, today) - (1 if a > b else 0)
        yb = ya + (1 if a > b else 0)
        out.date_from = date(ya, a, 1).isoformat()
        out.date_to = date(yb, b, monthrange(yb, b)[1]).isoformat()
        take(m)
    for m in RELATIVE_RE.finditer(t):
        if taken(m):
            continue
        n_raw, unit = m.group(1), m.group(2).rstrip("s")
        n = int(n_raw) if n_raw.isdigit() else NUMBER_WORDS[n_raw.split()[1] if n_raw.startswith("a ") else n_raw]
        out.period = {"day": f"last_{n}_days", "week": f"last_{7 * n}_days",
                      "month": f"last_{n}_months", "year": f"last_{12 * n}_months"}[unit]
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
        if not prep and not y and (tok == "may" or len(tok.rstrip(".")) <= 3 and tok.rstrip(".") not in ("jan", "feb", "apr", "aug", "oct", "nov", "dec")):
            continue  # bare "may"/"mar"/"jun": too likely an ordinary word
        mo = _month(tok)
        year = _year(y) if y else _recent_month(mo, today)
        if prep in ("since", "from", "after"):
            out.date_from = date(year, mo, 1).isoformat() if prep != "after" else (date(year, mo, 1) + relativedelta(months=1)).isoformat()
        elif prep in ("before", "until", "till", "through"):
            out.date_to = (date(year, mo, 1) - timedelta(days=1)).isoformat() if prep == "before" else date(year, mo, monthrange(year, mo)[1]).isoformat()
        else:
            out.period = f"{year}-{mo:02d}"
        take(m)
    for m in YEAR_RE.finditer(t):
        if taken(m):
            continue
        prep = m.group(1)
        if prep in ("since", "from"):
            out.date_from = f"{m.group(2)}-01-01"
        elif prep or re.match(r"\s*(?:invoices?|sales|transactions|bills|payments)\b", t[m.end():]):
            out.period = m.group(2)
        else:
            continue
        take(m)
    return out
