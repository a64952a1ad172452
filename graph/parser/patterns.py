"""The compiled patterns of the offline parser's intents: meta (forget, help), tickets, notifications,
explanations, exports, templates, references and follow-ups. Pure data, compiled at import."""

from __future__ import annotations

import re

from .lexicon import COMMON

_C = lambda p: re.compile(p)  # noqa: E731
TOKEN = _C(r"[a-z0-9]+(?:'[a-z]+)?")
POLITE = _C(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um|please|pls|plz|kindly|can you|could you|would you|will you|can u|"
    r"could u|i want to|i'd like to|i would like to|i need to|i want you to|let's|lets|go ahead and|just|now|"
    r"quickly|also|and|then)\b[\s,!]*)+"
)
FORGET = _C(
    r"\bforget (?:me|everything|all|about me|my\b|what i)|\b(?:delete|erase|wipe|clear|remove|purge|reset)\s+"
    r"(?:all\s+)?(?:of\s+)?(?:my|your)\s+(?:\w+\s+)?(?:history|memor(?:y|ies)|conversations?|chats?|messages|"
    r"personal data|data about me|info|information)|right to be forgotten|\bstop remembering\b|\bdon'?t remember me\b"
)
GREET_WORDS = set(
    "hi hello hey hiya yo howdy namaste good morning afternoon evening day thanks thank you u thx ty "
    "cheers mate ta appreciate appreciated much night great awesome cool nice perfect ok okay got it bye goodbye see later there team finkraft "
    "so much a lot again very bot buddy that's all that is wonderful super brilliant".split()
)
HELP_STRONG = _C(
    r"what can (?:you|i) (?:do|ask)|what do you do\b|how (?:do|does|can) (?:i|this|you) (?:use|work)|"
    r"what are (?:your|the) (?:commands|capabilities|features|options)|how does this work|what are you\b|"
    r"who are you\b|\bcapabilities\b|^\s*(?:help|\?+|menu|commands|options)\s*[.!?]*\s*$|"
    r"^(?:i need |can you |please )?help(?: me)?(?: please)?\s*[.!?]*$|what should i ask"
)
DESTROY = _C(
    r"\b(?:delete|remove|drop|erase|purge|truncate|wipe|destroy)\b(?!.*\bmy\b).*\b(?:invoices?|sales|vendors?|"
    r"transactions?|records|data|table|database|rows)\b"
)
TICKET_WORD = _C(r"\b(?:tickets?|tkts?)\b")
TICKET_ID = _C(
    r"\bt-\s?(\d{1,6})\b|\bt(\d{3,6})\b|\b(?:ticket|tkt)\s*(?:no\.?|number|num|id)?\s*[#:]?\s*(\d{1,6})\b|#(\d{1,6})\b"
)
TICKET_REF = _C(r"\b(?:that|the|this|my|our|same|last|latest|previous|existing) (?:\w+ )?ticket\b|\bit\b|\bthat one\b")
CREATE = _C(
    r"\b(?:create|raise|file|log|lodge|submit|make|start|put in|opening|generate|need|want)\b[^.?!]{0,30}?\bticket\b|"
    r"\bopen (?:a|an|one|new|another|up a)\b[^.?!]{0,24}\bticket\b|\bopen (?:a )?ticket (?:for|about|on|regarding)\b|"
    r"\bnew ticket\b|\bescalate\b|\breport (?:this|these|them|it) to\b|\bflag (?:these|them|those) (?:to|for)\b"
)
UPDATE_VERB = _C(
    r"^(?:mark|set|change|update|move|close|resolve|reopen|re-open|comment|note|add|put|flag|bump|switch|"
    r"reassign|append)\b|\b(?:mark|set|change|move|switch) (?:\w+ ){0,3}(?:as|to)\b|\badd (?:a |an )?(?:comment|note)|"
    r"\bmark (?:it|that|this|ticket|t-|as)\b|\bclose (?:it|that|this|the|ticket|t-)|\breopen\b|\bre-open\b|\bresolve (?:it|that|this|the|ticket|t-)|"
    r"\b(?:comment|note) (?:on|to)\b|\bstart working\b|\bwe(?:'re| are) working on\b"
)
TICKET_IT = _C(r"^(?:mark|set|close|resolve|reopen|re-open|move)\s+(?:it|that|this|that one|this one)\b")
STATED = _C(
    r"\b(?:can|should|could|may|must) be (?:closed|resolved|reopened|re-opened|marked)\b|"
    r"^t-?\s?\d+\s+(?:is|has been|was)\s+(?:now\s+)?(?:fixed|resolved|done|closed|sorted)\b(?!.*\?)"
)
QUESTION = _C(
    r"^(?:is|are|has|have|was|were|did|does|do|what|what's|whats|which|any|show|list|check|when|where|how|"
    r"view|see|display|get|give|tell|status)\b"
)
COMMENT = _C(
    r"(?:add (?:a |an )?(?:comment|note)|comment|note)\s*(?:to|on)?\s*(?:ticket\s*#?\s*\S+|t-?\s?\d+|#\d+|that ticket|"
    r"the ticket|this ticket|it)?\s*(?:[:,\-]|saying|that says|with text|which says)\s*(.+)$",
)
NOTIFY_ON = _C(
    r"\bnotify\b|\bnotif|\blet me know\b|\btell me when\b|\bkeep me (?:posted|updated|informed)\b|\balert me\b|"
    r"\bping me\b|\bupdate me\b|\binform me\b|\bsubscribe\b|\bemail me\b"
)
NOTIFY_OFF = _C(r"\b(?:don'?t|do not|no need to|without|never) (?:\w+ )?notif|\bno notifications?\b|\bsilently\b")
PRIORITY = [
    (_C(r"\bhigh(?:est)?[ -]priority\b|\burgent(?:ly)?\b|\basap\b|\bcritical\b|\bp1\b|\bpriority:? high\b"), "high"),
    (_C(r"\blow[ -]priority\b|\bnot urgent\b|\bp3\b|\bpriority:? low\b"), "low"),
    (_C(r"\b(?:medium|normal)[ -]priority\b|\bp2\b|\bpriority:? (?:medium|normal)\b"), "medium"),
]
TITLE = _C(
    r"(?:titled|called|named|title|subject)\s*[:=]?\s*[\"'](.+?)[\"']|ticket (?:about|regarding|re|on)\s*[:]?\s*(.+)$"
)
NOTIFICATIONS = _C(
    r"\bnotifications?\b|\bnotifs?\b|\balerts?\b|\binbox\b|\bany (?:news|updates?|changes)\b|\bwhat'?s new\b|"
    r"\bwhat is new\b|\banything (?:new|changed?)\b|\bwhat did i miss\b|\bcatch me up\b|\bupdates?\s*[?!.]*$|"
    r"\bwhat'?s changed\b|\bheard back\b"
)
EXPLAIN = _C(
    r"\bwhy\b|\bexplain|\breasons?\b|\bwhat went wrong\b|\bwent wrong\b|\bwhat(?:'s| is| was| were) (?:wrong|the (?:problem|"
    r"issue|error|cause))|\bcause[sd]?\b|\broot cause\b|\bdiagnos|\bhow come\b|\bwhat happened\b|\bwhat'?s up with\b|"
    r"\bbreak ?down of (?:the )?(?:failures|errors)|\bfailure (?:reasons|analysis|summary|breakdown)\b|"
    r"\bsummar(?:y|ize|ise) (?:of )?(?:the )?(?:failures|errors)|\bwhat(?:'s| is) the (?:problem|issue) with\b"
)
EXPORT = _C(
    r"\bexport|\bdownload|\bcsv\b|\bxlsx?\b|\bexcel\b|\bpdf\b|\bspread ?sheet\b|\bsave (?:\w+ )?(?:as|to)\b|"
    r"\b(?:generate|create|make|prepare|build|produce|send|email|mail|get|give|want|need)\b(?: me)?(?: a| an| the)?"
    r"(?: \w+){0,3} report\b|\breport (?:of|for|on) \w|\bfixed report\b"
)
FORMATS = [
    (_C(r"\bxlsx?\b|\bexcel\b|\bspread ?sheets?\b|\bsheets?\b|\bworkbook\b"), "xlsx"),
    (_C(r"\bpdf\b"), "pdf"),
    (_C(r"\bcsv\b|\bcomma[ -]separated\b"), "csv"),
]
FIXED = _C(r"\b(?:fixed|resolved|corrected|repaired|closed)\b")
RECORD_REF = _C(
    r"\b(?:these|those|them|they|the same ones|same ones|the same invoices|same invoices|the above|above ones|"
    r"that list|this list|that set|this set|the results?|these results|those results|the ones)\b"
)
EXPORT_IT = _C(r"\b(?:export|download|save|send|explain) it\b|\bit as\b")
FOLLOW = _C(
    r"^(?:and |ok |okay |so |now |but |then |hmm )*(?:what about|how about|what of|same for|the same for|"
    r"same thing for|same but for|same with|do the same for|and the same for|repeat (?:that |this |it )?for|"
    r"and for|now for|also for|then for|now show|and now|only|just|now only|now just|but only|and only|"
    r"same again for|again for|and)\b"
)
TEMPLATE_INVESTIGATE = _C(
    r"\b(?:investigate|investigation|dig into|dig deeper|look into|deep[ -]dive|get to the bottom of|triage|"
    r"root cause analysis)\b"
)
TEMPLATE_VENDOR = _C(
    r"\bvendor(?:s'?|-wise)? (?:analysis|performance|scorecards?|review|report card|comparison|health)\b|"
    r"\bsupplier (?:analysis|performance|scorecards?|review)\b|\bhow (?:did|do|are|have|has|were) (?:our |my |the |all )*"
    r"(?:vendors?|suppliers?)\b|\b(?:analy[sz]e|analysis of|analy[sz]ing|assess|evaluate|compare|rank|benchmark)\b"
    r"(?: \w+){0,3} (?:vendors?|suppliers?)\b|\bcompare (?:vendors|suppliers)\b"
)
ANALYZE_ONE = _C(
    r"\b(?:analy[sz]e|analysis (?:of|for)|assess|evaluate|scorecard for|performance of|how (?:is|was|has|did) \w+(?: \w+)? "
    r"(?:do|doing|done|perform|performing|performed|been))\b"
)
TEMPLATE_MONTHLY = _C(
    r"\bmonth(?:ly|[- ]end)\s+(?:review|close|closing|report|summary|check|reconciliation|recap)\b|"
    r"\breview (?:of )?(?:the |this |last )?month\b|\bmonthly\b.*\breview\b|\bmonth[- ]end\b"
)
DATASETS = [
    (
        "transactions",
        _C(
            r"\btransactions?\b|\btxns?\b|\bpayments\b(?! status)|\bpayment history\b|\btransfers?\b|"
            r"\bbank (?:entries|debits|credits)\b|\bdebits\b|\bcredits\b|\btransaction\b"
        ),
    ),
    ("sales", _C(r"\bsales?\b|\brevenue\b|\borders?\b|\bsold\b|\bpurchases\b|\bcustomers?\b|\bbought\b")),
    ("invoices", _C(r"\binvoices?\b|\bbills?\b|\binvoiced\b|\bpayables?\b|\binvoicing\b")),
    (
        "vendors",
        _C(
            r"^(?:show|list|display|get|give|view|see|all|our|my)?\s*(?:me\s+)?(?:all\s+)?(?:the\s+|our\s+|my\s+)?"
            r"(?:vendors|suppliers)\b|\b(?:list|show|all|display|view|which|how many)\s+(?:of\s+)?(?:the\s+|our\s+|my\s+)?"
            r"(?:vendors|suppliers)\b|\b(?:vendor|supplier) (?:list|details|info|master|directory|records?|gstins?|contacts?|"
            r"profiles?|terms)\b|\bvendors'? (?:gstins?|details|contacts)\b"
        ),
    ),
]
FILTER_VERB = _C(
    r"\b(?:show|list|filter|find|get|give|pull|fetch|display|search|look up|lookup|how many|count|total|sum|view|"
    r"see|bring up|open up|what are|which)\b"
)
EXPLICIT_KEY = re.compile(
    r"\b(vendor|supplier|customer|client)s?(?!\s+(?:codes?|ids?|category|status|state|gstin|email|terms)\b)"
    r"\s*(=|:|\bis\b|\bnamed\b|\bcalled\b)?\s*"
    r"|\b(?:from|for|by|to)\s+(?=[\"'])",
    re.I,
)
EXPLICIT_END = re.compile(
    r"\s*(?=,|\n|$|\b\w+\s*[=:]|\s(?:and|with|status|for|in|over|under|above|below|last|this|since|"
    r"between|from|during|that|which|who)\b)",
    re.I,
)
# a character of an unknown name passed through as typed: letters, digits, & . - ' % _ @ # and anything
# beyond ASCII (accents, emoji: "🚀 Moon Freight", "Zed's & Co", "%" are names too)
NAME_CHAR = r"[a-z0-9&.\-'%_@#\u0080-\U0010ffff]"
PREP_NAME = _C(
    r"\b(from|by|for|of|vendor|supplier|to|customer|client|with|about)\s+(?:the\s+)?"
    rf"(?:(vendor|supplier|customer|client)s?\s+(?:named\s+|called\s+)?)?((?:{NAME_CHAR}+\s*){{1,4}})"
)
POSSESSIVE = _C(r"((?:[a-z0-9&.\-]+ ){0,2}[a-z0-9&.\-]+)'s\b")
BEFORE_DATASET = _C(
    rf"((?:{NAME_CHAR}+ ){{0,2}}{NAME_CHAR}+) (?:invoices?|bills?|sales|transactions|payments|purchases|orders)\b"
)
LIMIT = _C(
    r"\b(?:top|first|latest|last|limit(?: to)?|only|just)\s+(\d{1,4})\b(?! ?(?:days?|weeks?|months?|years?|k\b|l\b|lakh|cr))"
)
INVOICE_NO = _C(r"\binv-[a-z0-9]+-\d{4}-\d{3,6}\b")
WORKSPACE = _C(r"\b(?:in|for|from) (?:the )?([a-z][a-z0-9_-]*) workspace\b|\bworkspace\s*[=:]?\s*([a-z][a-z0-9_-]*)\b")
PERIOD_KV = _C(r"\bperiod\s*[=:]\s*([a-z0-9_\-]+)")
AMOUNT_KV = _C(r"\b(min|max)_amount\s*[=:]\s*(\d[\d,]*(?:\.\d+)?)")
SEP = " | "  # a consumed span; names (tools.names.find_names) never cross it
NAME_COMMON = frozenset(COMMON)  # ordinary words: never a vendor or customer name on their own

NAMED_VENDOR = re.compile(
    r"\b(?:analysis|analyse|analyze|performance|review|scorecard|report)\s+(?:for|of|on)\s+"
    r"(?!(?:the\s+)?(?:last|this|next|past|previous|q[1-4]|fy|\d))([A-Za-z][\w&.' -]{1,60}?)\s*[?.!]*$",
    re.I,
)
ALL_VENDORS = re.compile(r"\b(?:all|every|our|each)\b|\bvendors\b", re.I)
UNKNOWN_DATA = _C(r"\b([a-z]+)\s+(?:data|records|figures|numbers|details|info|report)\b")
GENERIC_DATA_WORDS = {
    "the",
    "all",
    "my",
    "our",
    "your",
    "this",
    "that",
    "these",
    "those",
    "any",
    "some",
    "full",
    "business",
    "finance",
    "financial",
    "company",
    "demo",
    "raw",
    "latest",
    "recent",
    "new",
    "old",
    "fixed",
    "same",
    "a",
    "me",
    "of",
    "more",
    "whole",
    "entire",
    "monthly",
    "weekly",
    "yearly",
    "current",
    "previous",
}


WHEN_FIXED = re.compile(
    r"\bwhen(?:ever)?\s+(?:it\s+is\s+|it'?s\s+|they\s+are\s+|they'?re\s+|this\s+is\s+)?"
    r"(?:been\s+)?(?:fixed|resolved|done|sorted|closed|corrected)\b"
)


EXAMPLE = "for example 'failed IndiSky invoices from last month'"
