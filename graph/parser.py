"""The offline intent parser: plain language -> Intent, with no model and no network.

The default router whenever no LLM key is set. One pass over the message:

1. normalise (NFKC, quotes, case) and fix cheap keyword typos ("invocies" -> "invoices");
2. meta intents: forget, greeting, help, refusing to delete business data;
3. slots: ticket ids, dates/periods and amounts (graph.parser_lexicon), statuses, region,
   dataset, format, then vendor/customer names found against ParseContext (tools.names, rapidfuzz)
   (unknown names after "from/for/by/vendor" pass through raw so the tool can say
   "I couldn't find a vendor called X");
4. intent: template > ticket > notifications > explain > export > follow-up > filter;
5. references: "these/them" -> {"records": "previous"}, "the same for X" -> {"filter": "previous"},
   "that ticket" -> {"ticket": "previous"}, "the fixed report" -> {"ticket": "fixed"};
   a reference with nothing to refer to becomes a clarifying question.

Quality is measured by tests/parser_eval.yaml (tests/test_parser.py, benchmarks/parser_eval.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from tools.names import NameIndex, find_names, name_index
from tools.periods import PeriodError, resolve_period
from tools.tickets import normalise_ticket_id

from .intent import Intent, ParseContext
from .parser_lexicon import (
    COMMON, INVOICE_STATUS_RE, PAYMENT_RE, REGION_RE, TICKET_STATUS_RE, correct_word, extract_amounts,
    extract_dates,
)

# --------------------------------------------------------------------------- patterns

_C = lambda p: re.compile(p)  # noqa: E731
TOKEN = _C(r"[a-z0-9]+(?:'[a-z]+)?")
POLITE = _C(r"^(?:(?:hey|hi|hello|ok|okay|so|um|please|pls|plz|kindly|can you|could you|would you|will you|can u|"
            r"could u|i want to|i'd like to|i would like to|i need to|i want you to|let's|lets|go ahead and|just|now|"
            r"quickly|also|and|then)\b[\s,!]*)+")
FORGET = _C(r"\bforget (?:me|everything|all|about me|my\b|what i)|\b(?:delete|erase|wipe|clear|remove|purge|reset)\s+"
            r"(?:all\s+)?(?:of\s+)?(?:my|your)\s+(?:\w+\s+)?(?:history|memor(?:y|ies)|conversations?|chats?|messages|"
            r"personal data|data about me|info|information)|right to be forgotten|\bstop remembering\b|\bdon'?t remember me\b")
GREET_WORDS = set("hi hello hey hiya yo howdy namaste good morning afternoon evening day thanks thank you u thx ty "
                  "cheers mate ta appreciate appreciated much night great awesome cool nice perfect ok okay got it bye goodbye see later there team finkraft "
                  "so much a lot again very bot buddy that's all that is wonderful super brilliant".split())
HELP_STRONG = _C(r"what can (?:you|i) (?:do|ask)|what do you do\b|how (?:do|does|can) (?:i|this|you) (?:use|work)|"
                 r"what are (?:your|the) (?:commands|capabilities|features|options)|how does this work|what are you\b|"
                 r"who are you\b|\bcapabilities\b|^\s*(?:help|\?+|menu|commands|options)\s*[.!?]*\s*$|"
                 r"^(?:i need |can you |please )?help(?: me)?(?: please)?\s*[.!?]*$|what should i ask")
DESTROY = _C(r"\b(?:delete|remove|drop|erase|purge|truncate|wipe|destroy)\b(?!.*\bmy\b).*\b(?:invoices?|sales|vendors?|"
             r"transactions?|records|data|table|database|rows)\b")
TICKET_WORD = _C(r"\b(?:tickets?|tkts?)\b")
TICKET_ID = _C(r"\bt-\s?(\d{1,6})\b|\bt(\d{3,6})\b|\b(?:ticket|tkt)\s*(?:no\.?|number|num|id)?\s*[#:]?\s*(\d{1,6})\b|#(\d{1,6})\b")
TICKET_REF = _C(r"\b(?:that|the|this|my|our|same|last|latest|previous|existing) (?:\w+ )?ticket\b|\bit\b|\bthat one\b")
CREATE = _C(r"\b(?:create|raise|file|log|lodge|submit|make|start|put in|opening|generate|need|want)\b[^.?!]{0,30}?\bticket\b|"
            r"\bopen (?:a|an|one|new|another|up a)\b[^.?!]{0,24}\bticket\b|\bopen (?:a )?ticket (?:for|about|on|regarding)\b|"
            r"\bnew ticket\b|\bescalate\b|\breport (?:this|these|them|it) to\b|\bflag (?:these|them|those) (?:to|for)\b")
UPDATE_VERB = _C(r"^(?:mark|set|change|update|move|close|resolve|reopen|re-open|comment|note|add|put|flag|bump|switch|"
                 r"reassign|append)\b|\b(?:mark|set|change|move|switch) (?:\w+ ){0,3}(?:as|to)\b|\badd (?:a |an )?(?:comment|note)|"
                 r"\bmark (?:it|that|this|ticket|t-|as)\b|\bclose (?:it|that|this|the|ticket|t-)|\breopen\b|\bre-open\b|\bresolve (?:it|that|this|the|ticket|t-)|"
                 r"\b(?:comment|note) (?:on|to)\b|\bstart working\b|\bwe(?:'re| are) working on\b")
TICKET_IT = _C(r"^(?:mark|set|close|resolve|reopen|re-open|move)\s+(?:it|that|this|that one|this one)\b")
STATED = _C(r"\b(?:can|should|could|may|must) be (?:closed|resolved|reopened|re-opened|marked)\b|"
            r"^t-?\s?\d+\s+(?:is|has been|was)\s+(?:now\s+)?(?:fixed|resolved|done|closed|sorted)\b(?!.*\?)")
QUESTION = _C(r"^(?:is|are|has|have|was|were|did|does|do|what|what's|whats|which|any|show|list|check|when|where|how|"
              r"view|see|display|get|give|tell|status)\b")
COMMENT = _C(r"(?:add (?:a |an )?(?:comment|note)|comment|note)\s*(?:to|on)?\s*(?:ticket\s*#?\s*\S+|t-?\s?\d+|#\d+|that ticket|"
             r"the ticket|this ticket|it)?\s*(?:[:,\-]|saying|that says|with text|which says)\s*(.+)$", )
NOTIFY_ON = _C(r"\bnotify\b|\bnotif|\blet me know\b|\btell me when\b|\bkeep me (?:posted|updated|informed)\b|\balert me\b|"
               r"\bping me\b|\bupdate me\b|\binform me\b|\bsubscribe\b|\bemail me\b")
NOTIFY_OFF = _C(r"\b(?:don'?t|do not|no need to|without|never) (?:\w+ )?notif|\bno notifications?\b|\bsilently\b")
PRIORITY = [(_C(r"\bhigh(?:est)?[ -]priority\b|\burgent(?:ly)?\b|\basap\b|\bcritical\b|\bp1\b|\bpriority:? high\b"), "high"),
            (_C(r"\blow[ -]priority\b|\bnot urgent\b|\bp3\b|\bpriority:? low\b"), "low"),
            (_C(r"\b(?:medium|normal)[ -]priority\b|\bp2\b|\bpriority:? (?:medium|normal)\b"), "medium")]
TITLE = _C(r"(?:titled|called|named|title|subject)\s*[:=]?\s*[\"'](.+?)[\"']|ticket (?:about|regarding|re|on)\s*[:]?\s*(.+)$")
NOTIFICATIONS = _C(r"\bnotifications?\b|\bnotifs?\b|\balerts?\b|\binbox\b|\bany (?:news|updates?|changes)\b|\bwhat'?s new\b|"
                   r"\bwhat is new\b|\banything (?:new|changed?)\b|\bwhat did i miss\b|\bcatch me up\b|\bupdates?\s*[?!.]*$|"
                   r"\bwhat'?s changed\b|\bheard back\b")
EXPLAIN = _C(r"\bwhy\b|\bexplain|\breasons?\b|\bwhat went wrong\b|\bwent wrong\b|\bwhat(?:'s| is| was| were) (?:wrong|the (?:problem|"
             r"issue|error|cause))|\bcause[sd]?\b|\broot cause\b|\bdiagnos|\bhow come\b|\bwhat happened\b|\bwhat'?s up with\b|"
             r"\bbreak ?down of (?:the )?(?:failures|errors)|\bfailure (?:reasons|analysis|summary|breakdown)\b|"
             r"\bsummar(?:y|ize|ise) (?:of )?(?:the )?(?:failures|errors)|\bwhat(?:'s| is) the (?:problem|issue) with\b")
EXPORT = _C(r"\bexport|\bdownload|\bcsv\b|\bxlsx?\b|\bexcel\b|\bpdf\b|\bspread ?sheet\b|\bsave (?:\w+ )?(?:as|to)\b|"
            r"\b(?:generate|create|make|prepare|build|produce|send|email|mail|get|give|want|need)\b(?: me)?(?: a| an| the)?"
            r"(?: \w+){0,3} report\b|\breport (?:of|for|on) \w|\bfixed report\b")
FORMATS = [(_C(r"\bxlsx?\b|\bexcel\b|\bspread ?sheets?\b|\bsheets?\b|\bworkbook\b"), "xlsx"), (_C(r"\bpdf\b"), "pdf"),
           (_C(r"\bcsv\b|\bcomma[ -]separated\b"), "csv")]
FIXED = _C(r"\b(?:fixed|resolved|corrected|repaired|closed)\b")
RECORD_REF = _C(r"\b(?:these|those|them|they|the same ones|same ones|the same invoices|same invoices|the above|above ones|"
                r"that list|this list|that set|this set|the results?|these results|those results|the ones)\b")
EXPORT_IT = _C(r"\b(?:export|download|save|send|explain) it\b|\bit as\b")
FOLLOW = _C(r"^(?:and |ok |okay |so |now |but |then |hmm )*(?:what about|how about|what of|same for|the same for|"
            r"same thing for|same but for|same with|do the same for|and the same for|repeat (?:that |this |it )?for|"
            r"and for|now for|also for|then for|now show|and now|only|just|now only|now just|but only|and only|"
            r"same again for|again for|and)\b")
TEMPLATE_INVESTIGATE = _C(r"\b(?:investigate|investigation|dig into|dig deeper|look into|deep[ -]dive|get to the bottom of|triage|"
                          r"root cause analysis)\b")
TEMPLATE_VENDOR = _C(r"\bvendor(?:s'?|-wise)? (?:analysis|performance|scorecards?|review|report card|comparison|health)\b|"
                     r"\bsupplier (?:analysis|performance|scorecards?|review)\b|\bhow (?:did|do|are|have|has|were) (?:our |my |the |all )*"
                     r"(?:vendors?|suppliers?)\b|\b(?:analy[sz]e|analysis of|analy[sz]ing|assess|evaluate|compare|rank|benchmark)\b"
                     r"(?: \w+){0,3} (?:vendors?|suppliers?)\b|\bcompare (?:vendors|suppliers)\b")
ANALYZE_ONE = _C(r"\b(?:analy[sz]e|analysis (?:of|for)|assess|evaluate|scorecard for|performance of|how (?:is|was|has|did) \w+(?: \w+)? "
                 r"(?:do|doing|done|perform|performing|performed|been))\b")
TEMPLATE_MONTHLY = _C(r"\bmonth(?:ly|[- ]end)\s+(?:review|close|closing|report|summary|check|reconciliation|recap)\b|"
                      r"\breview (?:of )?(?:the |this |last )?month\b|\bmonthly\b.*\breview\b|\bmonth[- ]end\b")
DATASETS = [("transactions", _C(r"\btransactions?\b|\btxns?\b|\bpayments\b(?! status)|\bpayment history\b|\btransfers?\b|"
                                r"\bbank (?:entries|debits|credits)\b|\bdebits\b|\bcredits\b|\btransaction\b")),
            ("sales", _C(r"\bsales?\b|\brevenue\b|\borders?\b|\bsold\b|\bpurchases\b|\bcustomers?\b|\bbought\b")),
            ("invoices", _C(r"\binvoices?\b|\bbills?\b|\binvoiced\b|\bpayables?\b|\binvoicing\b")),
            ("vendors", _C(r"^(?:show|list|display|get|give|view|see|all|our|my)?\s*(?:me\s+)?(?:all\s+)?(?:the\s+|our\s+|my\s+)?"
                           r"(?:vendors|suppliers)\b|\b(?:list|show|all|display|view|which|how many)\s+(?:of\s+)?(?:the\s+|our\s+|my\s+)?"
                           r"(?:vendors|suppliers)\b|\b(?:vendor|supplier) (?:list|details|info|master|directory|records?|gstins?|contacts?|"
                           r"profiles?|terms)\b|\bvendors'? (?:gstins?|details|contacts)\b"))]
FILTER_VERB = _C(r"\b(?:show|list|filter|find|get|give|pull|fetch|display|search|look up|lookup|how many|count|total|sum|view|"
                 r"see|bring up|open up|what are|which)\b")
EXPLICIT_KEY = re.compile(r"\b(vendor|supplier|customer|client)s?\s*(=|:|\bis\b|\bnamed\b|\bcalled\b)?\s*"
                          r"|\b(?:from|for|by|to)\s+(?=[\"'])", re.I)
EXPLICIT_END = re.compile(r"\s*(?=,|\n|$|\b\w+\s*[=:]|\s(?:and|with|status|for|in|over|under|above|below|last|this|since|"
                          r"between|from|during|that|which|who)\b)", re.I)
PREP_NAME = _C(r"\b(from|by|for|of|vendor|supplier|to|customer|client|with|about)\s+(?:the\s+)?"
               r"(?:(vendor|supplier|customer|client)s?\s+(?:named\s+|called\s+)?)?((?:[a-z0-9&.\-]+\s*){1,4})")
POSSESSIVE = _C(r"((?:[a-z0-9&.\-]+ ){0,2}[a-z0-9&.\-]+)'s\b")
BEFORE_DATASET = _C(r"((?:[a-z0-9&.\-]+ ){0,2}[a-z0-9&.\-]+) (?:invoices?|bills?|sales|transactions|payments|purchases|orders)\b")
LIMIT = _C(r"\b(?:top|first|latest|last|limit(?: to)?|only|just)\s+(\d{1,4})\b(?! ?(?:days?|weeks?|months?|years?|k\b|l\b|lakh|cr))")
INVOICE_NO = _C(r"\binv-[a-z0-9]+-\d{4}-\d{3,6}\b")
WORKSPACE = _C(r"\b(?:in|for|from) (?:the )?([a-z][a-z0-9_-]*) workspace\b|\bworkspace\s*[=:]?\s*([a-z][a-z0-9_-]*)\b")
PERIOD_KV = _C(r"\bperiod\s*[=:]\s*([a-z0-9_\-]+)")
AMOUNT_KV = _C(r"\b(min|max)_amount\s*[=:]\s*(\d[\d,]*(?:\.\d+)?)")
SEP = " | "  # a consumed span; names (tools.names.find_names) never cross it
NAME_COMMON = frozenset(COMMON)  # ordinary words: never a vendor or customer name on their own
# --------------------------------------------------------------------------- helpers


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"), ("\u00a0", " ")):
        t = t.replace(a, b)
    return re.sub(r"\s+", " ", t).strip()


def _correct(low: str, protected: frozenset[str]) -> str:
    return TOKEN.sub(lambda m: m.group(0) if m.group(0) in protected else correct_word(m.group(0)), low)


def _blank(s: str, spans: list[tuple[int, int]]) -> str:
    for a, b in sorted(spans, reverse=True):
        s = s[:a] + SEP + s[b:]
    return s


def _raw(phrase: str, original: str) -> str:
    """The user's own spelling/casing of a lower-cased phrase."""
    m = re.search(r"\s+".join(map(re.escape, phrase.split())), original, re.I)
    return m.group(0) if m else phrase


def _unknown_run(words: list[str], from_end: bool = False) -> list[str]:
    seq = list(reversed(words)) if from_end else words
    run: list[str] = []
    for w in seq:
        if w in COMMON or not re.search(r"[a-z]", w):
            break
        run.append(w)
    return list(reversed(run)) if from_end else run


def _tid(m: re.Match) -> str:
    return normalise_ticket_id(next(g for g in m.groups() if g))


def _clarify(question: str, reason: str, confidence: float = 0.3) -> Intent:
    return Intent("clarify", question=question, confidence=confidence, reason=reason)


EXAMPLE = "for example 'failed IndiSky invoices from last month'"

# --------------------------------------------------------------------------- slots


@dataclass
class Slots:
    params: dict[str, Any]
    dataset: str | None
    ambiguous: list[str] | None
    notes: list[str]
    has_filter: bool


def _explicit_names(original: str) -> tuple[dict[str, str], str]:
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
        if q in "\"'":
            close = next((j for j in range(e + 1, len(original)) if original[j] == q
                          and re.match(r"\s*(?:,|$)|\s+\w", original[j + 1:])), None)
            end = close + 1 if close is not None else len(original)  # unbalanced quote: the rest, as typed
            val = original[e + 1:close] if close is not None else original[e:]
        elif m.group(2):
            end = EXPLICIT_END.search(original, e + 1).start()  # always matches, at worst at the end
            val = original[e:end]
        else:
            continue
        if val.strip():
            found[field] = val.strip()
            cuts.append((e, end))
    return found, _blank(original, cuts)


def _slots(t: str, original: str, ctx: ParseContext, vidx: NameIndex, cidx: NameIndex | None,
           explicit: dict[str, str]) -> Slots:
    p: dict[str, Any] = {}
    notes: list[str] = []
    rest = t

    notes: list[str] = []
    rest = t
    if m := PERIOD_KV.search(rest):  # period=last_month: the grammar's own names, checked, else passed through
        try:
            resolve_period(m.group(1), ctx.today)
            p["period"] = m.group(1)
        except PeriodError:
            p["period"] = m.group(1)
            notes.append(f"unknown period {m.group(1)!r} passed through")
        rest = _blank(rest, [m.span()])
    for m in AMOUNT_KV.finditer(rest):
        p[f"{m.group(1)}_amount"] = float(m.group(2).replace(",", ""))
    rest = AMOUNT_KV.sub(SEP, rest)
    dates = extract_dates(rest, ctx.today)
    for k in ("period", "date_from", "date_to"):
        if getattr(dates, k):
            p[k] = getattr(dates, k)
    if dates.error:
        p["_date_error"] = dates.error
    rest = _blank(rest, dates.spans)
    rest = INVOICE_NO.sub(lambda m: p.setdefault("invoice_numbers", []).append(m.group(0).upper()) or SEP, rest)
    rest = TICKET_ID.sub(SEP, rest)
    amounts = extract_amounts(rest)
    if amounts.min_amount is not None:
        p["min_amount"] = amounts.min_amount
    if amounts.max_amount is not None:
        p["max_amount"] = amounts.max_amount
    rest = _blank(rest, amounts.spans)
    # names before status words: "Metro Cabs" must not lose a word to a keyword
    vhits = find_names(rest, vidx)
    chits = find_names(rest, cidx) if cidx else []
    dataset = _dataset(t)
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
            notes.append(f"{field} '{rest[hits[0].start:hits[0].end]}' -> {p[field]} ({hits[0].how})")
        elif hits:
            cands = sorted({n for h in hits for n in h.names})
            if len(names) == 1 or len(cands) > 1:
                ambiguous = cands
            else:
                p[field] = cands[0]
        rest = _blank(rest, [(h.start, h.end) for h in hits])
    for field, val in explicit.items():
        idx = vidx if field == "vendor" else cidx
        hits = find_names(val.lower(), idx) if idx else []
        p[field] = hits[0].names[0] if len(hits) == 1 and len(hits[0].names) == 1 else val
        notes.append(f"{field}={val!r}" + (f" -> {p[field]}" if p[field] != val else ""))
    # statuses, payment status, region, limit
    for rx, value in PAYMENT_RE:
        if m := rx.search(rest):
            p["payment_status"] = value
            rest = _blank(rest, [m.span()])
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
            run = _unknown_run(m.group(3).split())
            prep = m.group(2) or m.group(1)
            if run and (prep != "to" or dataset in ("sales", "transactions")) and prep not in ("with", "about"):
                cand = " ".join(run)
                break
        if not cand:
            for rx in (POSSESSIVE, BEFORE_DATASET):
                if m := rx.search(rest):
                    run = _unknown_run(m.group(1).split(), from_end=True)
                    if run:
                        cand, prep = " ".join(run), ""
                        break
        if cand and len(cand) >= 2:
            field = "customer" if dataset == "sales" or prep in ("to", "customer", "client") else "vendor"
            p[field] = _raw(cand, original)
            notes.append(f"unresolved {field} {p[field]!r} passed through")
    has_filter = any(k in p for k in ("period", "date_from", "date_to", "vendor", "status", "payment_status", "min_amount",
                                      "max_amount", "region", "customer", "invoice_numbers", "_date_error"))
    return Slots(p, dataset, ambiguous, notes, has_filter)


# "vendor analysis for <Name>": the name as typed when it matched no vendor (and isn't a period)
NAMED_VENDOR = re.compile(r"\b(?:analysis|analyse|analyze|performance|review|scorecard|report)\s+(?:for|of|on)\s+"
                          r"(?!(?:the\s+)?(?:last|this|next|past|previous|q[1-4]|fy|\d))([A-Za-z][\w&.' -]{1,60}?)\s*[?.!]*$", re.I)
ALL_VENDORS = re.compile(r"\b(?:all|every|our|each)\b|\bvendors\b", re.I)
UNKNOWN_DATA = _C(r"\b([a-z]+)\s+(?:data|records|figures|numbers|details|info|report)\b")
GENERIC_DATA_WORDS = {"the", "all", "my", "our", "your", "this", "that", "these", "those", "any", "some", "full", "business",
                      "finance", "financial", "company", "demo", "raw", "latest", "recent", "new", "old", "fixed", "same",
                      "a", "me", "of", "more", "whole", "entire", "monthly", "weekly", "yearly", "current", "previous"}


def _dataset(t: str) -> str | None:
    """Which table: an explicit "transactions" beats "invoices", which beats "sales" and "payments"."""
    found = {d for d, rx in DATASETS if rx.search(t)}
    if re.search(r"\btransactions?\b|\btxns?\b", t):
        return "transactions"
    for d in ("invoices", "sales", "transactions", "vendors"):
        if d in found:
            return d
    return None


def _filter_params(s: Slots, *, dataset: bool = True) -> dict[str, Any]:
    p = {k: v for k, v in s.params.items() if not k.startswith("_")}
    if dataset:
        ds = s.dataset or ("sales" if "customer" in p else "invoices")
        p = {"dataset": ds, **p}
        if ds == "sales":
            p.pop("status", None)
            p.pop("payment_status", None)
    return p


# --------------------------------------------------------------------------- parse


def parse(text: str, ctx: ParseContext) -> Intent:
    original = _normalise(text or "")[:2000]
    explicit, without_values = _explicit_names(original)
    low = without_values.lower()
    if not re.search(r"[a-z0-9]", original.lower()):
        return _clarify(f"What would you like me to do? For example: 'failed IndiSky invoices from last month'.", "empty message")
    vidx = name_index(tuple(ctx.vendors), NAME_COMMON)
    cidx = name_index(tuple(ctx.customers), NAME_COMMON) if ctx.customers else None
    protected = vidx.tokens | (cidx.tokens if cidx else frozenset())
    t = _correct(low, protected)
    core = POLITE.sub("", t).strip(" ,.!?")
    fixed_typos = [w for w, c in zip(TOKEN.findall(low), TOKEN.findall(t)) if w != c]
    typo_note = f" (read {', '.join(fixed_typos)} as keyword)" if fixed_typos else ""

    if FORGET.search(t):
        return Intent("forget", confidence=0.95, reason="asked to forget their history")
    words = TOKEN.findall(t)
    if words and all(w in GREET_WORDS for w in words):
        return Intent("greeting", confidence=0.95, reason="greeting or thanks")
    if HELP_STRONG.search(core) or HELP_STRONG.search(t):
        return Intent("help", confidence=0.9, reason="asked what the assistant can do")

    s = _slots(t, original, ctx, vidx, cidx, explicit)
    p = s.params
    reason_bits = s.notes[:]

    def tool(name: str, params: dict, refs: dict | None = None, conf: float = 0.9, why: str = "") -> Intent:
        bits = [why] + [b for b in reason_bits if b]
        return Intent("tool", name, params=params, refs=refs or {}, confidence=conf, reason="; ".join(bits) + typo_note)

    if DESTROY.search(t) and not TICKET_WORD.search(t):
        return _clarify("I can't delete or change business data. I can filter, explain, export it, or open a ticket "
                        "for someone to fix it. What would you like?", "asked to delete business data", 0.6)
    if p.get("_date_error"):
        return _clarify(f"{p['_date_error'][0].upper()}{p['_date_error'][1:]}. Which date did you mean?",
                        f"impossible date: {p['_date_error']}", 0.5)
    if s.ambiguous:
        return _clarify(f"Which one do you mean: {' or '.join(s.ambiguous)}?", f"name matches several: {s.ambiguous}", 0.5)
    has_records_ref = bool(RECORD_REF.search(t)) or bool(EXPORT_IT.search(t))
    fp = _filter_params(s)
    tpl_params = {k: fp[k] for k in ("vendor", "period", "date_from", "date_to") if k in fp}

    # ---- business templates (multi-step)
    if TEMPLATE_MONTHLY.search(t):
        return Intent("template", template="monthly_review", params=tpl_params, confidence=0.9, reason="monthly review template")
    if TEMPLATE_INVESTIGATE.search(t) and not TICKET_ID.search(t):
        return Intent("template", template="invoice_investigation", params=tpl_params, confidence=0.85,
                      reason="investigation template" + (": " + "; ".join(reason_bits) if reason_bits else ""))
    if TEMPLATE_VENDOR.search(t) or (ANALYZE_ONE.search(t) and "vendor" in p and not EXPLAIN.search(t)):
        named = None if "vendor" in tpl_params else NAMED_VENDOR.search(original)
        if named and not ALL_VENDORS.search(named.group(1)):  # a name we don't know: let the tool say "did you mean"
            tpl_params["vendor"] = named.group(1).strip()
        return Intent("template", template="vendor_analysis", params=tpl_params, confidence=0.85,
                      reason="vendor analysis template" + (": " + "; ".join(reason_bits) if reason_bits else ""))

    # ---- tickets
    tid_m = TICKET_ID.search(t) if (TICKET_WORD.search(t) or re.search(r"\bt-?\s?\d", t)) else None
    tid = _tid(tid_m) if tid_m else None
    if (TICKET_WORD.search(t) or tid or (TICKET_IT.match(core) and not s.has_filter and not s.dataset)) and not (EXPORT.search(t) and not CREATE.search(t) and (tid or FIXED.search(t))):
        if CREATE.search(t) and not tid:
            return _create_ticket(t, original, ctx, has_records_ref, tool)
        is_update = bool(UPDATE_VERB.search(core) or STATED.search(core)) and not (QUESTION.match(core) and not UPDATE_VERB.match(core))
        ticket_ref = {"ticket": "previous"} if not tid and TICKET_REF.search(t) and (ctx.last_ticket_id or ctx.open_tickets) else {}
        if is_update:
            if not tid and not ticket_ref:
                return _clarify("Which ticket? Give me its id, for example 'mark T-00001 as resolved'.", "ticket update without a ticket", 0.5)
            params: dict[str, Any] = {"ticket_id": tid} if tid else {}
            cm = COMMENT.search(original.lower())
            if cm:
                params["comment"] = original[cm.start(1):cm.end(1)].strip()
            status_text = t[:cm.start()] if cm else t
            for rx, st in TICKET_STATUS_RE:
                if rx.search(status_text.replace("ticket", "")):
                    params["status"] = st
                    break
            if "status" not in params and "comment" not in params:
                return _clarify("What should I change on that ticket: its status (open, in progress, resolved, closed) or a comment?",
                                "ticket update without a status or comment", 0.5)
            return tool("update_ticket", params, ticket_ref, 0.9, "update ticket")
        params = {"ticket_id": tid} if tid else {}
        if not tid and not (ticket_ref and not re.search(r"\btickets\b", t)):  # "is my ticket fixed?" is about that one
            ticket_ref = {}
            for rx, st in TICKET_STATUS_RE:
                if rx.search(t):
                    params["status"] = st
                    break
        return tool("view_tickets", params, ticket_ref if not params else {}, 0.9, "view tickets")
    if CREATE.search(t):  # "escalate these"
        return _create_ticket(t, original, ctx, has_records_ref, tool)

    # ---- notifications
    if NOTIFICATIONS.search(t) and not s.dataset and not (set(p) - {"period", "date_from", "date_to"}):
        params = {"unread_only": True} if re.search(r"\bunread\b|\bnew ones\b", t) else {}
        return tool("view_notifications", params, conf=0.9, why="notifications")

    # ---- explain
    if EXPLAIN.search(t):
        ep = _filter_params(s, dataset=False)
        if ep.get("status") == "failed":
            ep.pop("status")
        ep.pop("limit", None)
        if has_records_ref or not ep:
            if not ctx.last_result:
                return _clarify(f"Which invoices should I explain? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                                "explain with nothing to refer to", 0.5)
            return tool("explain_failures", {}, {"records": "previous"}, 0.9 if has_records_ref else 0.75,
                        "explain failures of the previous result")
        return tool("explain_failures", ep, conf=0.85, why="explain failures")

    # ---- export
    if EXPORT.search(t) or (FORMATS[0][0].search(t) or FORMATS[1][0].search(t)) and has_records_ref:
        fmt = next((f for rx, f in FORMATS if rx.search(t)), "csv")
        if re.search(r"\bfixed report\b|\b(?:fixed|resolved|corrected) (?:invoices|ones|records|data|file)\b", t) or \
                (FIXED.search(t) and not s.has_filter and not has_records_ref):
            return tool("export_report", {"format": fmt}, {"ticket": "fixed"}, 0.9, "export the fixed ticket's records")
        if tid:
            return tool("export_report", {"format": fmt, "ticket_id": tid}, conf=0.9, why="export a ticket's records")
        if has_records_ref or not (s.has_filter or s.dataset):
            if not ctx.last_result:
                if has_records_ref:
                    return _clarify(f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                                    "export of 'these' with nothing to refer to", 0.5)
                return _clarify(f"What should I export? Tell me the records, {EXAMPLE}, as csv, excel or pdf.", "export of nothing", 0.5)
            return tool("export_report", {"format": fmt}, {"records": "previous"}, 0.9 if has_records_ref else 0.75,
                        f"export the previous result as {fmt}")
        ep = {k: v for k, v in fp.items() if k != "limit"}
        return tool("export_report", {"format": fmt, **ep}, conf=0.85, why=f"export as {fmt}")

    # ---- follow-ups: "what about SkyHigh?", "the same for last quarter", "only the failed ones"
    if ctx.last_result and (FOLLOW.match(core) or FOLLOW.match(t) or has_records_ref) and (s.has_filter or s.dataset):
        prev_tool = ctx.last_result.get("tool")
        name = prev_tool if prev_tool in ("filter_data", "explain_failures") else "filter_data"
        over = {k: v for k, v in _filter_params(s, dataset=bool(s.dataset)).items()}
        if name == "explain_failures":
            over.pop("dataset", None)
        return tool(name, over, {"filter": "previous"}, 0.8, "follow-up on the previous filter")

    # ---- filter
    unknown = None if (s.dataset or s.has_filter) else UNKNOWN_DATA.search(t)
    if unknown and unknown.group(1) not in GENERIC_DATA_WORDS:
        return _clarify(f"I don't have {unknown.group(1)} data. I can filter invoices, sales, vendors or transactions; "
                        f"{EXAMPLE}.", f"unknown dataset '{unknown.group(1)}'", 0.6)
    if s.dataset or s.has_filter or (FILTER_VERB.search(t) and re.search(r"\b(?:data|records|everything|all)\b", t)):
        conf = 0.9 if (s.dataset and (FILTER_VERB.search(t) or s.has_filter)) else 0.7
        if has_records_ref and not ctx.last_result and not s.has_filter:
            return _clarify(f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                            "reference with nothing to refer to", 0.5)
        return tool("filter_data", fp, conf=conf, why=f"filter {fp['dataset']}")
    if has_records_ref and ctx.last_result and FILTER_VERB.search(t):
        return tool("filter_data", {}, {"filter": "previous"}, 0.7, "show the previous result again")
    if has_records_ref and FILTER_VERB.search(t):
        return _clarify(f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                        "reference with nothing to refer to", 0.5)
    if re.search(r"\bhelp\b", t):
        return Intent("help", confidence=0.7, reason="asked for help")
    if NOTIFICATIONS.search(t):
        return tool("view_notifications", {}, conf=0.6, why="notifications")
    return _clarify("I'm not sure what you need. I can filter invoices, sales, vendors or transactions, explain failures, "
                    f"export reports and manage tickets; {EXAMPLE}.", "no intent matched", 0.2)


WHEN_FIXED = re.compile(r"\bwhen(?:ever)?\s+(?:it\s+is\s+|it'?s\s+|they\s+are\s+|they'?re\s+|this\s+is\s+)?"
                        r"(?:been\s+)?(?:fixed|resolved|done|sorted|closed|corrected)\b")


def _create_ticket(t: str, original: str, ctx: ParseContext, has_ref: bool, tool) -> Intent:
    params: dict[str, Any] = {}
    if NOTIFY_OFF.search(t):
        params["notify_me"] = False
    elif NOTIFY_ON.search(t):
        params["notify_me"] = True
        if WHEN_FIXED.search(t):  # "tell me when it's fixed": the fix, not every comment
            params["notify_on"] = "resolved"
    for rx, pr in PRIORITY:
        if rx.search(t):
            params["priority"] = pr
            break
    tm = TITLE.search(original.lower())
    title = None
    if tm:
        g = 1 if tm.group(1) else 2
        title = original[tm.start(g):tm.end(g)].strip(" .")
        title = re.split(r"\s+and (?:notify|let|tell|keep|alert|ping|mark|make)\b", title, flags=re.I)[0]
        if RECORD_REF.fullmatch(title.lower()) or not re.search(r"[a-z]", title.lower()) or len(title) < 3:
            title = None
    if title:
        params["title"] = title
    if has_ref or not title:
        if not ctx.last_result:
            if has_ref:
                return _clarify(f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                                "ticket for 'these' with nothing to refer to", 0.5)
            if not title:
                return _clarify("What is the ticket about? Filter the invoices first (for example 'failed IndiSky invoices "
                                "from last month') and say 'create a ticket for these', or give it a title.",
                                "ticket with no subject", 0.5)
        else:
            return tool("create_ticket", params, {"records": "previous"}, 0.9 if has_ref else 0.8,
                        "create a ticket for the previous result")
    return tool("create_ticket", params, conf=0.85, why="create a ticket")
