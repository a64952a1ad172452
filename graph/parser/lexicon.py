"""Word lists, statuses and amounts for the offline parser: how finance users write keywords,
statuses, regions and money. Pure, compiled at import (dates and periods: periods.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

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
average compare customers quarter value total month year trend percentage region category
""".split()

COMMON = set(KEYWORDS) | set(
    """
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
up out down average avg mean median share percent percentage proportion rate ratio compare compared comparing versus vs
against trend trends trending highest lowest least fewest most best worst bottom by per each breakdown break split
regions category categories method methods state states type types sort sorted order ordered rank ranked wise
monthly weekly quarterly yearly daily annually growth change changed instead sold units spend spent owe owed
""".split()
)

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "sixty": 60,
    "ninety": 90,
    "a": 1,
    "an": 1,
    "couple": 2,
    "few": 3,
}

MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
COMMON |= set(MONTHS) | set(NUMBER_WORDS)

# ordinary words people misspell in questions (beyond the keywords): "numbr", "amout", "wich", "octobr"
_ORDINARY = """
which what number amount amounts average customer customers revenue vendor vendors supplier suppliers quarter
highest lowest largest smallest biggest total value sales bills bill invoice invoices payments method owe
inactive active blocked returned completed category cheque bought sold january february march april june july august
september october november december
""".split()
_TYPO_TARGETS = sorted({w for w in [*KEYWORDS, *_ORDINARY] if len(w) >= 5})
_SHORT_TARGETS = ["month", "year", "week", "show", "total", "value", "sales", "list", "last", "many", "much", "bills"]
_TINY_TARGETS = ["last", "year", "week", "show", "many", "much", "paid", "bill"]  # "lst", "yr": one letter dropped


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """A keyword or ordinary word for a misspelt word ("invocies" -> "invoices", "wich" -> "which"), else the
    word itself. Only a single best match corrects: "lst" is "last" or "list", so it stays (and is asked about)."""
    if len(word) < 3 or word in COMMON or not word.isalpha():
        return word
    if len(word) == 3:
        targets, cutoff = _TINY_TARGETS, 1
    elif len(word) == 4:  # "mnth", "yaer", "shwo", "wich": one slip, against the short words only
        targets, cutoff = [*_SHORT_TARGETS, "which", "what"], 1
    else:
        targets, cutoff = _TYPO_TARGETS, 1 if len(word) < 8 else 2
    hits = process.extract(word, targets, scorer=OSA.distance, score_cutoff=cutoff, limit=3)
    if not hits or len(hits) > 1 and hits[1][1] == hits[0][1]:
        return word
    return hits[0][0]


# Hinglish: the time, question and verb words finance teams mix into English, read as their English
# equivalents before anything else ("pichhle mahine ke failed invoices dikhao" = "last month failed invoices show")
HINGLISH = [
    (re.compile(p), e)
    for p, e in [
        (r"\b(?:yr|yrs)\b", "year"),  # (not Hinglish: the short form people type)
        (r"\bpich+(?:h)?le (?:saal|sal|varsh)\b", "last year"),
        (r"\bis (?:saal|sal|varsh)\b", "this year"),
        (r"\bpich+(?:h)?le (?:mahine|mahina|month)\b", "last month"),
        (r"\bis (?:mahine|mahina)\b", "this month"),
        (r"\bpich+(?:h)?le (?:hafte|hafta|week)\b", "last week"),
        (r"\bis (?:hafte|hafta)\b", "this week"),
        (r"\bpich+(?:h)?le\b", "last"),
        (r"\baaj\b", "today"),
        (r"\bdikhao\b|\bdikha do\b|\bdikhaiye\b|\bbatao\b|\bbata do\b|\bbataiye\b", "show"),
        (
            r"\bkitn[ie]\b(?=\s+(?:\w+\s+)?(?:invoices|bills|sales|orders|customers|vendors|transactions|payments)\b)",
            "how many",
        ),
        (r"\bkitne\b", "how many"),
        (r"\bkitna\b|\bkitni\b", "how much"),
        (r"\bsabse (?:zyada|jyada|zyaada|adhik)\b", "most"),
        (r"\bsabse (?:bada|bade|badi)\b", "biggest"),
        (r"\bfail (?:hua|hue|hui|huye|ho gaye|ho gayi|ho gaya)\b", "failed"),
        (r"\bsabse (?:kam|chhota|chhote|chhoti)\b", "smallest"),
        (r"\bkaun ?sa\b|\bkaun ?si\b|\bkaun\b", "which"),
        (r"\bsirf\b|\bkewal\b", "only"),
        (r"\baur\b", "and"),
        (r"\b(?:dena|dene|chukana) (?:hai|hain|baaki hai|baki hai)\b|\bbaaki hai\b", "owe"),
        (r"\bpay kiya\b|\bpay kiye\b|\bbhugtan kiya\b", "we paid"),
        (r"\b(?:the|thi|tha)\s*\?*\s*$", "were there"),  # "kitne customers the?": how many were there (in that set)
        (
            r"\b(?:ki|ka|ke|ko|hai|hain|tha|thi|the hain|hui|hua|hue|mein|se|wale|wali|waale|kiya|kiye|aaye|aaya|aayi|karo|kar do|hota|hoti|hote|kya)\b",
            " ",
        ),
    ]
]


def hinglish(low: str) -> str:
    """Lower-case text with common Hinglish words in English (a no-op for English text)."""
    for rx, english in HINGLISH:
        low = rx.sub(english, low)
    return re.sub(r"\s+", " ", low).strip() if low else low


# --------------------------------------------------------------------------- statuses

_INVOICE_STATUS = [
    (
        r"not (?:yet )?processed|unprocessed|yet to be processed|in[ -]progress|awaiting|waiting|queued|pending|open|on hold|"
        r"(?:for|needing|needs|need) approval",
        "pending",
    ),
    (
        r"gstins? (?:is )?(?:missing|mismatch(?:ed)?)|(?:missing|wrong|no) gstins?|duplicate(?: invoice)?(?: numbers?)?|"
        r"tax(?: amount)? mismatch|invalid (?:invoice )?dates?|with errors|unsuccessful|fail(?:ed|ing|ures?|s)?|rejected|rejections?|errored|erroring|errors?|bounced|declined",
        "failed",
    ),
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
    (
        re.compile(
            r"\bin[ -_]progress\b|\bworking on (?:it|this|that)\b|\bstart(?:ed)? working\b|\bunder way\b|\bongoing\b"
        ),
        "in_progress",
    ),
    (re.compile(r"\bresolved?\b|\bfixed\b|\bdone\b|\bsorted\b|\bcompleted?\b"), "resolved"),
    (re.compile(r"\bclosed?\b"), "closed"),
    (re.compile(r"\bopen\b"), "open"),
]

REGION_RE = re.compile(r"\b(north|south|east|west)(?:ern)?\b(?!\s*(?:star|wind|gate|point|end)\b)")

# --------------------------------------------------------------------------- amounts

_UNITS = {
    "k": 1e3,
    "thousand": 1e3,
    "l": 1e5,
    "lakh": 1e5,
    "lakhs": 1e5,
    "lac": 1e5,
    "lacs": 1e5,
    "cr": 1e7,
    "crore": 1e7,
    "crores": 1e7,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
}
_CUR = r"(?:₹|rs\.?|inr|rupees)"
NUM = (
    rf"(?:{_CUR}\s*)?(\d{{1,3}}(?:,\d{{2,3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(thousand|lakhs?|lacs?|crores?|million)\b|(k|l|cr|mn|m)(?![a-z0-9])"
    r"|(?![a-z0-9])(?!\s*(?:invoices?|bills?|days?|weeks?|months?|years?|times|transactions?|sales|records|rows|vendors?|%|percent)))"
    r"(?:\s*(?:rupees|rs\.?|inr)\b)?"
)
_MIN = r"(?:over|above|more than|greater than|higher than|bigger than|exceeding|exceeds|exceeded|exceed|in excess of|at least|minimum(?: of)?|min\.?|not less than|upwards of|starting (?:from|at)|>=?|≥)"
_MAX = r"(?:under|below|less than|lower than|smaller than|cheaper than|at most|up ?to|not more than|not over|not above|maximum(?: of)?|max\.?|within|<=?|≤)"
_AMT_WORD = r"(?:(?:with |having |of )?(?:an? )?(?:total |invoice |bill )?(?:amount|value|worth|total|valued|priced)s?\s*(?:of|is|=|:)?\s*)?"
RANGE_AMT_RE = re.compile(
    rf"\b(?:between|from)\s+{_AMT_WORD}{NUM}\s*(?:and|to|-|–)\s*{NUM}|{NUM}\s*(?:-|–|to)\s*{NUM}(?=\s*(?:range|bracket|band)?)"
)
MIN_AMT_RE = re.compile(
    rf"{_MIN}\s*{_AMT_WORD}{NUM}|{NUM}\s*(?:\+|and (?:above|over|more)|or (?:more|above|over|higher))"
)
MAX_AMT_RE = re.compile(
    rf"{_MAX}\s*{_AMT_WORD}{NUM}|{NUM}\s*(?:and (?:below|under|less)|or (?:less|below|under|lower))"
)
EXACT_AMT_RE = re.compile(
    rf"(?:{_CUR}\s*\d[\d,.]*(?:\s*(?:thousand|lakhs?|lacs?|crores?|million)|(?:k|l|cr|mn)\b)?|\b\d[\d,.]*(?:\s*(?:thousand|lakhs?|lacs?|crores?|million)\b|(?:k|l|cr|mn)\b))"
)


def amount_value(num: str, unit1: str | None, unit2: str | None) -> float:
    return float(num.replace(",", "")) * _UNITS.get(unit1 or unit2 or "", 1)


def _amounts_in(m: re.Match) -> list[float]:
    g = m.groups()
    found = [(g[i], g[i + 1], g[i + 2]) for i in range(0, len(g), 3) if g[i] is not None]
    if len(found) == 2 and not (found[0][1] or found[0][2]) and (found[1][1] or found[1][2]):
        shared = (found[0][0], found[1][1], found[1][2])  # "between 2 and 3 lakh": the unit is both ends'
        if amount_value(*shared) <= amount_value(*found[1]):  # (not "between 50000 and 2 lakh")
            found[0] = shared
    return [amount_value(*f) for f in found]


@dataclass
class Amounts:
    min_amount: float | None = None
    max_amount: float | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


def extract_amounts(t: str) -> Amounts:
    out = Amounts()
    for m in RANGE_AMT_RE.finditer(t):
        vals = _amounts_in(m)
        if len(vals) == 2 and (
            re.search(r"\d[\d,.]*\s*(?:thousand|lakh|lac|crore|million|k|l|cr|mn)|₹|rs|inr", m.group(0))
            or max(vals) >= 1000
        ):
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
