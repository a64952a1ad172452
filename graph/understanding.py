"""Understanding made visible: what the router read in one message, where each part came from, the words
it did not use, and the decision before acting (run, run stating an assumption, ask, or refuse).

The router (offline parser or model) proposes an Intent; `interpret` turns it into an Interpretation
record, and `decide` applies the rules that keep a guess from being acted on:

- a content word nothing used (not filler, not a name, date, amount or a word of the data model that the
  query applied) means the message asked for something the query would silently drop: ask, offering
  the likeliest readings as one-click choices;
- a write or an export needs an explicit verb, and its "these" must be a non-empty result of this
  conversation;
- the caller's role is checked first: a refusal comes before any clarifying question;
- parts taken from an earlier turn or from a default are stated ("No period given, so all dates").

The same decision applies to the offline parser and to a model's tool call. A tool call the client chose
(POST /chat's `tool_call`, router "client") has no words to check: only the role decides.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


from tools.registry import can_run, spec
from tools.rbac import Identity

from .parser.lexicon import COMMON
from .parser.patterns import CREATE, RECORD_REF, TOKEN
from .parser.vocabulary import vocabulary
from .state import Choice, Interpretation, Part

# tools that read business data: a word they did not use changes the answer
DATA_TOOLS = {"filter_data", "analyze_data", "explain_failures", "export_report", "vendor_profile"}
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
    everyone everybody anyone weakest strongest busiest quietest happen happened
    run running ran do doing prepare generate produce
    """.split()
)
# "report" alone is a noun ("a report of revenue from X"): an export needs one of these
EXPORT_VERB = re.compile(
    r"\bexport|\bdownload|\bcsv\b|\bxlsx?\b|\bexcel\b|\bpdf\b|\bspread ?sheets?\b|\bworkbook\b|\bsave\b|"
    r"\bfile\b|\bsend\b|\be-?mail|\bmail\b|\battach|\bfixed report\b|\breport (?:of|for|on) (?:these|those|them|it)\b"
)
WRITE_CUES = {"create_ticket": CREATE, "export_report": EXPORT_VERB}
PERIOD_KEYS = ("period", "date_from", "date_to")


@lru_cache(maxsize=1)
def parser_words() -> frozenset[str]:
    """Every word some rule of the offline parser reads: the literal words of its patterns (and its word
    lists). A word outside these, the data model's vocabulary and the names is one nothing understood."""
    from . import parser
    from .parser import analytics, followups, lexicon, patterns, periods, rules, slots, tickets

    words: set[str] = set(COMMON)
    for module in (parser, analytics, followups, lexicon, patterns, periods, rules, slots, tickets):
        for value in vars(module).values():
            sources = [value] if isinstance(value, re.Pattern) else []
            if isinstance(value, (list, tuple)):
                sources = [v for item in value for v in (item if isinstance(item, tuple) else (item,))]
            for src in sources:
                if isinstance(src, re.Pattern):
                    words.update(re.findall(r"[a-z]{3,}", re.sub(r"\\[a-zA-Z]", " ", src.pattern)))
            if isinstance(value, (set, frozenset, dict)):
                words.update(w for w in value if isinstance(w, str))
    return frozenset(words)


def _flat_words(value: Any) -> set[str]:
    """Every word inside a parameter value (names, statuses, measures, nested filters)."""
    if isinstance(value, dict):
        return set().union(*(_flat_words(k) | _flat_words(v) for k, v in value.items())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_flat_words(v) for v in value)) if value else set()
    if isinstance(value, str):
        return set(TOKEN.findall(value.lower().replace("_", " "))) | {value.lower()}
    return set()


def unused_words(rest: str, params: dict[str, Any], dataset: str | None, model: Any = None) -> list[str]:
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
    for m in TOKEN.finditer(rest):
        w = m.group(0)
        if m.start() in covered or w in parser_words() or w in FILLER or w in used or len(w) < 3 or w.isdigit():
            continue
        if re.fullmatch(r"\d+(?:st|nd|rd|th|k|l|cr|lakh|crore)?", w):
            continue
        out.append(w)
    return list(dict.fromkeys([*dropped, *out]))


def _kept_items(value: Any, previous: Any, alone: Any) -> list[int]:
    """Of a list part (analyze_data's filters, group_by) this message changed: the items the previous
    query had and this message, read alone, did not say (their indices)."""
    if not isinstance(value, list) or not isinstance(previous, list):
        return []
    said = alone if isinstance(alone, list) else []
    return [i for i, v in enumerate(value) if v in previous and v not in said]


def parts_of(
    params: dict[str, Any], refs: dict[str, str], standalone: dict[str, Any] | None, previous: dict[str, Any]
) -> list[Part]:
    """Where each parameter came from: this message (the message read alone gives it), an earlier turn
    (the previous query had it and this message did not say it), or a default."""
    parts: list[Part] = []
    alone = standalone if standalone is not None else params
    for key, value in params.items():
        if key in ("limit", "format") and key not in alone:
            continue
        if key in alone and alone[key] == value or standalone is None:
            parts.append({"slot": key, "value": value, "source": "message"})
        elif previous.get(key) == value:
            parts.append({"slot": key, "value": value, "source": "carried", "why": "kept from your last question"})
        else:
            part: Part = {"slot": key, "value": value, "source": "message"}
            kept = _kept_items(value, previous.get(key), alone.get(key))
            if kept:  # "what about IndiSky?": the vendor filter is new, the status filter was kept
                part["kept"] = kept
            parts.append(part)
    for kind, how in refs.items():
        parts.append({"slot": kind, "value": how, "source": "carried", "why": f"'{kind}' = your {how} result"})
    return parts


def query_of(tool: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """The semantic query inside an analyze_data call, else the filter parameters themselves."""
    return dict(params.get("query") or params) if tool == "analyze_data" else dict(params)


def interpret(
    text: str,
    intent: dict[str, Any],
    *,
    rest: str,
    standalone: dict[str, Any] | None,
    previous: dict[str, Any],
    model: Any = None,
) -> Interpretation:
    """The record of what was understood (before references are resolved and the decision is taken)."""
    kind = intent.get("kind") or "clarify"
    tool = intent.get("tool")
    action = tool if kind == "tool" else (intent.get("template") if kind == "template" else kind)
    params = query_of(tool, dict(intent.get("params") or {}))
    interp: Interpretation = {
        "action": str(action or kind),
        "router": str(intent.get("router") or "offline"),
        "model": intent.get("model") or None,
        "parts": [],
        "unused": [],
        "assumptions": [],
        "choices": [],
    }
    if kind not in ("tool", "template"):
        return interp
    interp["parts"] = parts_of(params, dict(intent.get("refs") or {}), standalone, previous)
    if tool in DATA_TOOLS or kind == "template":
        interp["unused"] = unused_words(rest, params, params.get("dataset"), model)
    interp["summary"] = summary(interp)
    return interp


def _without(text: str, words: list[str]) -> str:
    out = text
    for w in sorted(words, key=len, reverse=True):
        out = re.sub(rf"(?i)\b(?:not |un|non-?)?{re.escape(w)}\b", " ", out)
    out = re.sub(r"\b(?:whose|which|that|who|where)\s+(?:is|are|was|were)?\s*(?=[,.?!]|$)", " ", out)
    return re.sub(r"\s+", " ", out).strip(" ,")


def wants_a_write_it_may_not(text: str, identity: Identity | None) -> str | None:
    """A write the message clearly asks for ("create a ticket") that the caller's role may not run: its
    name, so the refusal comes before any question about what to write."""
    if identity is None:
        return None
    low = text.lower()
    for tool, cue in WRITE_CUES.items():
        if cue.search(low) and spec(tool) and not can_run(identity, tool):
            return tool
    return None


ACTION_WORDS = {
    "filter_data": "list",
    "analyze_data": "figures",
    "explain_failures": "why they failed",
    "export_report": "export",
    "create_ticket": "new ticket",
    "update_ticket": "ticket update",
    "view_tickets": "tickets",
    "view_notifications": "notifications",
    "vendor_profile": "vendor profile",
}


def summary(interp: Interpretation) -> str:
    """The interpretation in one line of plain words: "list: dataset invoices, vendor IndiSky Airlines (from
    this message), period last month (kept from your last question)"."""
    action = str(interp.get("action") or "")
    bits = []
    for p in interp.get("parts") or []:
        if p["slot"] in ("limit",):
            continue
        where = "" if p["source"] == "message" else f" ({p.get('why') or p['source']})"
        bits.append(f"{p['slot'].replace('_', ' ')} {_show(p['value'])}{where}")
    head = ACTION_WORDS.get(action, action.replace("_", " "))
    return head + (": " + ", ".join(bits) if bits else "")


def decide(
    interp: Interpretation,
    intent: dict[str, Any],
    text: str,
    identity: Identity | None,
    model: Any = None,
) -> Interpretation:
    """Run, run stating the assumption, ask, or refuse: before references are resolved (see referent())."""
    kind = intent.get("kind")
    tool = intent.get("tool")
    blocked = wants_a_write_it_may_not(text, identity)
    if blocked and (kind != "tool" or tool == blocked or tool is None):
        return {**interp, "decision": "refuse", "reason": f"the role may not {blocked}", "action": blocked}
    if kind == "tool" and identity is not None and tool and not can_run(identity, tool):
        return {**interp, "decision": "refuse", "reason": f"the role may not run {tool}"}
    if kind == "clarify":
        return {**interp, "decision": "ask", "reason": intent.get("reason") or "the router asked"}
    if kind != "tool" and kind != "template":
        return {**interp, "decision": "run", "reason": str(kind)}
    if intent.get("router") == "client":  # a tool call the client chose: no words of a message to check
        assumptions = assumptions_of(interp, intent)
        return {
            **interp,
            "decision": "assume" if assumptions else "run",
            "assumptions": assumptions,
            "reason": "chosen in the web app",
        }
    if tool == "export_report" and not EXPORT_VERB.search(text.lower()):
        return {
            **interp,
            "decision": "ask",
            "reason": "an export with no word asking for a file",
            "choices": [
                {"label": "Just show me the figures", "message": re.sub(r"(?i)\breports?\b", "figures", text)},
                {"label": "Download it as Excel", "message": f"{text.rstrip(' ?.!')} as excel"},
            ],
        }
    shape = shape_problem(text, intent, model)
    if shape:
        return {
            **interp,
            "decision": "ask",
            "reason": f"the question asks for {shape}, which this reading does not give",
            "choices": [{"label": "Show me what I can ask", "message": "help"}],
        }
    unused = interp.get("unused") or []
    if unused:
        said = ", ".join(f"“{w}”" for w in unused)
        choices: list[Choice] = []
        cleaned = _without(text, unused)
        if cleaned and cleaned.lower() != text.lower():
            choices.append({"label": f"Run it without {said}", "message": cleaned})
        choices.append({"label": "What can I ask about?", "message": "help"})
        return {**interp, "decision": "ask", "reason": f"words not understood: {unused}", "choices": choices}
    assumptions = assumptions_of(interp, intent)
    return {
        **interp,
        "decision": "assume" if assumptions else "run",
        "assumptions": assumptions,
        "reason": "every word accounted for",
    }


def assumptions_of(interp: Interpretation, intent: dict[str, Any]) -> list[str]:
    """What the answer should say it assumed: filters of the data kept from an earlier question."""
    out: list[str] = []
    if interp.get("action") not in DATA_TOOLS:
        return out
    for p in interp.get("parts") or []:
        if p["source"] == "carried" and p["slot"] not in ("records", "filter", "ticket", "report", "dataset"):
            out.append(f"{p['slot'].replace('_', ' ')}: {_show(p['value'])} (kept from your last question)")
    return out


OPS = {"eq": "", "ne": "not", "gt": "over", "gte": "at least", "lt": "under", "lte": "at most", "in": "in"}


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict) and "field" in value:  # a semantic filter: "status failed", "amount over 50000"
        op = OPS.get(str(value.get("op") or "eq"), str(value.get("op")))
        return " ".join(x for x in (_show(value["field"]), op, _show(value.get("value"))) if x)
    if isinstance(value, dict):
        return ", ".join(f"{_show(k)} {_show(v)}" for k, v in value.items())
    return str(value).replace("_", " ")


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


def _percent_measure(query: dict[str, Any], model: Any = None) -> bool:
    ds = vocabulary(model).model.datasets.get(str(query.get("dataset")))
    return ds is not None and any(
        m in ds.measures and ds.measures[m].format == "percent" for m in query.get("measures") or []
    )


def _without_names(low: str, params: dict[str, Any]) -> str:
    """The text without the names the reading filters on (a name may hold '%' or 'top')."""
    query = dict(params.get("query") or params)
    names = [v for k, v in params.items() if k in ("vendor", "customer") and isinstance(v, str)]
    names += [f.get("value") for f in query.get("filters") or [] if f.get("field") in ("vendor", "customer")]
    for name in names:
        if isinstance(name, str) and name:
            low = low.replace(name.lower(), " ")
    return low


def shape_problem(text: str, intent: dict[str, Any], model: Any = None) -> str | None:
    """The question asks for a shape the reading lacks: a share of a total, a ranking of who or which,
    a count of customers, answered with a plain listing or a single figure. Those answers look right and
    are not: ask instead."""
    tool = intent.get("tool")
    if intent.get("kind") != "tool" or tool not in ("filter_data", "analyze_data"):
        return None
    params = dict(intent.get("params") or {})
    low = _without_names(text.lower(), params)
    query = dict(params.get("query") or params)
    grouped = bool(query.get("group_by")) or bool(query.get("time_grain"))
    if SHARE_WORDS.search(low) and not grouped and not _percent_measure(query, model):
        return "a share of a total"
    if RANK_WORDS.search(low) and WHO_WORDS.search(low) and not grouped:
        if tool == "filter_data" or not query.get("group_by"):
            return "a ranking (who or which comes first)"
    m = HOW_MANY_OF.search(low)
    if m and tool == "filter_data":
        return f"a count of {m.group(1)}"
    return None


def ask_text(interp: Interpretation, fallback: str) -> str:
    """The question to show for decision == "ask" (the router's own question, or which words were not used)."""
    unused = interp.get("unused") or []
    reason = interp.get("reason", "")
    if reason.startswith("the question asks for"):
        return (
            f"I'm not sure I read that right: {reason.removeprefix('the question asks for ')}".replace(
                ", which this reading does not give", ""
            )
            + f" is asked for, but I would have answered with {interp.get('summary') or 'something else'}. "
            "I haven't run anything. Could you rephrase, for example 'sales by region last quarter' or "
            "'top 5 customers by sales this year'?"
        )
    if interp.get("reason", "").startswith("an export with no word"):
        return "Do you want a file, or just the figures on screen? I haven't exported anything."
    if unused and interp.get("reason", "").startswith("words not understood"):
        said = ", ".join(f"“{w}”" for w in unused)
        return (
            f"I'm not sure what {said} means here, so I haven't run anything: the answer would have ignored it. "
            "Which did you mean?"
        )
    return fallback


def referent_problem(tool: str | None, resolved: dict[str, Any]) -> str | None:
    """An export or a write must act on records of this conversation, and on at least one of them."""
    s = spec(tool or "")
    if s is None or not (s.writes or tool == "export_report"):
        return None
    found = resolved.get("sources")
    sources: dict[str, Any] = found if isinstance(found, dict) else {}
    source = sources.get("records") or (resolved.get("source") if resolved.get("invoice_numbers") is not None else None)
    if source not in (None, "this conversation", "given"):  # "these" found only in another conversation
        return (
            f"I don't have a result in this conversation to act on (the last one was in {source}). "
            "Tell me which records, for example 'failed IndiSky invoices from last month'."
        )
    if resolved.get("invoice_numbers") == [] or (resolved.get("keys") == [] and "invoice_numbers" in resolved):
        return "The last result here has no records, so there's nothing to act on. Nothing was exported or changed."
    return None


def has_pronoun(text: str) -> bool:
    return bool(RECORD_REF.search(text.lower()))


# a follow-up leans on the last question: a pronoun, "that month", "and for ...", "only ...", "sort ..."
FOLLOW_CUE = re.compile(
    r"\b(?:these|those|them|they|their|theirs|its|it|same|instead|too|also|again|previous|above|earlier|"
    r"that (?:month|year|quarter|week|period|day|vendor|supplier|customer|client|region|one|list|breakdown)|"
    r"this (?:list|breakdown|one))\b|"
    r"^(?:and|but|then|now|so|ok|okay|only|just|what about|how about|make it|sort|order|by|as a|for|except|"
    r"excluding|without|compare|versus|vs)\b"
)


def starts_clean(text: str, alone: Any, alone_turn: Any, in_context: Any, model: Any = None) -> bool:
    """A self-contained new question: read alone it is a whole data question (it names what it asks
    about: a dataset or a measure), it leans on nothing before (no pronoun, no "and for ..."), and the
    reading in context differs. Then nothing from the earlier question is carried."""
    if alone.kind != "tool" or alone.tool not in ("filter_data", "analyze_data"):
        return False
    low = alone_turn.core or alone_turn.t
    if FOLLOW_CUE.search(low) or FOLLOW_CUE.search(alone_turn.t):
        return False
    named = any(t.kind in ("dataset", "measure") for h in vocabulary(model).find(alone_turn.t) for t in h.terms)
    if not named:
        return False
    return (in_context.kind, in_context.tool, in_context.params, in_context.refs) != (
        alone.kind,
        alone.tool,
        alone.params,
        alone.refs,
    )


def stated(interp: Interpretation) -> str:
    """The first line of an answer that ran on an assumption: "Kept from your last question: period last month." """
    return (
        "Kept from your last question: "
        + "; ".join(a.replace(" (kept from your last question)", "") for a in interp.get("assumptions") or [])
        + "."
    )


NEGATION = re.compile(r"\b(?:not|non|isn't|aren't|wasn't|weren't|without|no)\s+(?:yet\s+|been\s+|be\s+)?$")


def declared_values(text: str, dataset: str | None, model: Any = None) -> dict[str, Any]:
    """Filters that the data model's declarations name in the text, for one dataset: a declared value of a
    categorical dimension ("inactive" -> status inactive on vendors, "UPI" -> method UPI on transactions),
    and a boolean dimension said plainly or negated ("verified" -> true; "not verified", "unverified" -> false)."""
    if not dataset:
        return {}
    vocab = vocabulary(model)
    ds = vocab.model.datasets.get(dataset)
    if ds is None:
        return {}
    out: dict[str, Any] = {}
    for h in vocab.find(text):
        for t in h.terms:
            if t.dataset != dataset or t.name not in ds.dimensions:
                continue
            dim = ds.dimensions[t.name]
            if t.kind == "value" and not any(o.kind != "value" for o in h.terms if o.dataset == dataset):
                out.setdefault(t.name, t.value)
            elif t.kind == "dimension" and dim.type == "boolean":
                before = text[: h.start]
                negated = bool(NEGATION.search(before)) or before.endswith(("un", "non-", "non"))
                out.setdefault(t.name, not negated)
    for m in re.finditer(r"\b(?:un|non-?)([a-z]+)\b", text):  # "unverified": a boolean's synonym, negated
        for h in vocab.find(m.group(1)):
            for t in h.terms:
                if t.dataset == dataset and t.kind == "dimension" and ds.dimensions[t.name].type == "boolean":
                    out[t.name] = False
    return out


FILTER_FIELDS = {"vendor", "status", "payment_status", "region", "customer"}


def _name_is_a_value(record: dict[str, Any], full: str, dataset: str, model: Any) -> dict[str, Any]:
    """ "Travel vendors": the name matcher found "Vayu Travels" through the one word "travel", which is a
    declared value (vendor category Travel). When no other word of the name is in the message, the word
    was the value, not the name."""
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    words = set(TOKEN.findall(full))
    values = declared_values(full, dataset, model)
    found: dict[str, Any] = {}
    for field in ("vendor", "customer"):
        name = (
            params.get(field)
            if record.get("tool") != "analyze_data"
            else next((f.get("value") for f in query.get("filters") or [] if f.get("field") == field), None)
        )
        if not isinstance(name, str):
            continue
        for dim, value in values.items():
            if not isinstance(value, str):
                continue
            said = {w for w in TOKEN.findall(value.lower())}
            said |= {w + "s" for w in said} | {w.rstrip("s") for w in said}
            own = set(TOKEN.findall(name.lower())) - said
            if own and not own & words and said & set(TOKEN.findall(name.lower())):
                found[field] = (dim, value)
    if not found:
        return record
    for field, (dim, value) in found.items():
        if record.get("tool") == "analyze_data":
            filters = [f for f in query.get("filters") or [] if f.get("field") != field]
            query["filters"] = [*filters, {"field": dim, "value": value}]
        else:
            params.pop(field, None)
            params["where"] = {**dict(params.get("where") or {}), dim: value}
    if record.get("tool") == "analyze_data":
        params = {**params, "query": query} if "query" in params else query
    return {**record, "params": params, "reason": f"{record.get('reason') or ''}; a declared value, not a name"}


def _all_values(model: Any) -> set[str]:
    """Every declared value of every dataset, lower case."""
    return {
        v.lower()
        for ds in vocabulary(model).model.datasets.values()
        for d in ds.dimensions.values()
        for v in d.values or []
    }


def with_declared_values(
    record: dict[str, Any], text: str, model: Any = None, full: str | None = None
) -> dict[str, Any]:
    """The router's tool call, completed with the filters the data model's values name in the message and
    the call does not have yet (a listing of vendors asked for "inactive" ones filters on it). A message no
    rule read that names one dataset and some of its declared values is a listing of them."""
    if record.get("kind") == "clarify" and record.get("reason") == "no intent matched":
        named = {t.dataset for h in vocabulary(model).find(text) for t in h.terms if t.kind == "dataset"}
        if len(named) == 1 and declared_values(text, next(iter(named)), model):
            record = {
                **record,
                "kind": "tool",
                "tool": "filter_data",
                "params": {"dataset": next(iter(named))},
                "question": None,
                "confidence": 0.6,
                "reason": "a dataset and its declared values",
            }
    tool = record.get("tool")
    if record.get("kind") != "tool" or tool not in ("filter_data", "export_report", "analyze_data"):
        return record
    if full:
        first = dict(record.get("params") or {})
        record = _name_is_a_value(
            record, full, str(dict(first.get("query") or first).get("dataset") or "invoices"), model
        )
    params = dict(record.get("params") or {})
    for field in ("vendor", "customer"):  # "paid by cheque": a value of another dataset, not a vendor 'cheque'
        name = params.get(field)
        if tool != "analyze_data" and isinstance(name, str) and name.lower() in _all_values(model):
            params.pop(field)
            record = {**record, "params": params}
    if tool == "analyze_data":
        query = dict(params.get("query") or params)
        have = {f.get("field") for f in query.get("filters") or [] if isinstance(f, dict)}
        have |= set(query.get("group_by") or [])
        extra = {k: v for k, v in declared_values(text, query.get("dataset"), model).items() if k not in have}
        if not extra:
            return record
        query["filters"] = [*(query.get("filters") or []), *({"field": k, "value": v} for k, v in extra.items())]
        params = {**params, "query": query} if "query" in params else query
    else:
        dataset = params.get("dataset") or "invoices"
        where = dict(params.get("where") or {})
        taken = set(params) | set(where)
        extra = {k: v for k, v in declared_values(text, dataset, model).items() if k not in taken}
        if not extra:
            return record
        for k, v in extra.items():
            if k in FILTER_FIELDS and k not in ("status",) or (k == "status" and dataset in ("invoices",)):
                params[k] = v
            else:
                where[k] = v
        said = {str(v).lower() for v in extra.values()}
        for field in ("vendor", "customer"):  # a name passed through that is really a declared value ("by UPI")
            if isinstance(params.get(field), str) and params[field].lower() in said:
                params.pop(field)
        params = {**params, "where": where} if where else params
    return {**record, "params": params, "reason": f"{record.get('reason') or ''}; declared values {extra}".strip("; ")}


CONDITION = re.compile(
    r"\b(?:with|having|whose|who|that|which)\b[^.?!]{0,40}?\b(?P<op>over|above|more than|greater than|exceeding|"
    r"at least|under|below|less than|at most)\b|\b(?P<op2>above|over|below|under)\b"
)
OPS_OF = {"over": "gt", "above": "gt", "more than": "gt", "greater than": "gt", "exceeding": "gt"}
OPS_OF |= {"at least": "gte", "under": "lt", "below": "lt", "less than": "lt", "at most": "lte"}


def with_aggregate_condition(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "customers with sales over 1.1 crore", "regions above 3 crore in sales": a condition on each group's
    total, not on single rows. The router read the amount as a row filter; read it as a ranking of the
    groups (the dimension named before the condition) filtered on the dataset's default measure."""
    if record.get("kind") != "tool" or record.get("tool") not in ("filter_data", "analyze_data"):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    if query.get("group_by"):
        return record
    vocab = vocabulary(model)
    ds_name = str(query.get("dataset") or "invoices")
    ds = vocab.model.datasets.get(ds_name)
    if ds is None or not ds.amount or not ds.default_measure:
        return record
    low = text.lower()
    cond = CONDITION.search(low)
    if not cond:
        return record
    dims = [
        t.name
        for h in vocab.find(low)
        if h.end <= cond.start() + 1
        for t in h.terms
        if t.kind == "dimension" and t.dataset == ds_name and ds.dimensions[t.name].type != "boolean"
    ]
    if not dims:
        return record
    op = OPS_OF[cond.group("op") or cond.group("op2")]
    if record.get("tool") == "filter_data":
        value = params.get("min_amount") if op in ("gt", "gte") else params.get("max_amount")
        rows = {k: v for k, v in params.items() if k not in ("min_amount", "max_amount", "dataset", "limit")}
        kept = [{"field": k, "value": v} for k, v in rows.items() if k in FILTER_FIELDS]
        kept += [{"field": k, "value": v} for k, v in (rows.get("where") or {}).items()]
        period = {k: v for k, v in rows.items() if k in PERIOD_KEYS}
    else:
        bounds = [f for f in query.get("filters") or [] if f.get("field") == ds.amount]
        value = bounds[0].get("value") if bounds else None
        kept = [f for f in query.get("filters") or [] if f.get("field") != ds.amount]
        period = {k: v for k, v in query.items() if k in PERIOD_KEYS}
    measure = ds.default_measure
    counted = re.search(  # "more than 10 failed invoices": a number of rows per group, not an amount
        r"\b(?:more|less|fewer|over|under|above|below|at least|at most)\s+(?:than\s+)?(\d+)\s+(?:\w+\s+){0,2}?"
        r"(?:invoices|bills|sales|orders|transactions|payments)\b",
        low,
    )
    counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
    if counted and counts:
        value, measure = int(counted.group(1)), counts[0]
        kept = [f for f in kept if not (f.get("field") == ds.amount)]
    if value is None:
        return record
    new = {
        "dataset": ds_name,
        "measures": [measure],
        "group_by": [dims[-1]],
        "filters": [*kept, {"field": measure, "op": op, "value": value}],
        "order_by": [f"-{measure}"],
        **period,
    }
    return {
        **record,
        "tool": "analyze_data",
        "params": new,
        "reason": f"{record.get('reason') or ''}; a condition on each {dims[-1]}'s {measure}".strip("; "),
    }


ASCENDING = re.compile(r"\b(?:least|lowest|smallest|weakest|bottom|fewest|minimum)\b")
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
COUNT_WORDS |= {"ten": 10}
ROW_MEASURES = re.compile(r"^(?:largest|smallest|biggest|max|min)_|_count$")


def _how_many(low: str) -> int:
    m = re.search(
        r"\b(?:top|bottom|best|worst|first|last|which|the)?\s*(\d{1,2}|" + "|".join(COUNT_WORDS) + r")\b"
        r"(?=\s+(?:\w+\s+){0,2}(?:customers?|clients?|vendors?|suppliers?|products?|regions?|methods?|months?))",
        low,
    )
    if not m:
        return 1
    n = m.group(1)
    return int(n) if n.isdigit() else COUNT_WORDS[n]


def with_ranking_or_share(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "who was our biggest customer", "the product that brought in the most revenue", "our five best
    customers by revenue", "which 3 suppliers did we spend the least with", "best month for sales": a
    ranking of the groups the question names; "what share of sales did the East make": the breakdown by
    that dimension, where each group's share of the total is shown. Only when the router's reading has no
    groups at all: a reading with groups is the router's own ranking."""
    if record.get("kind") != "tool" or record.get("tool") not in ("filter_data", "analyze_data"):
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    vocab = vocabulary(model)
    ds_name = str(query.get("dataset") or "invoices")
    ds = vocab.model.datasets.get(ds_name)
    if ds is None or not ds.default_measure:
        return record
    often = re.search(r"\b(?:most often|how often|most frequently|least often|number of times)\b", text.lower())
    if (query.get("group_by") or query.get("time_grain")) and often and record.get("tool") == "analyze_data":
        counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
        old = (query.get("measures") or [None])[0]
        if counts and old and old != counts[0]:  # "which method do we use most often": a count, not a value
            query["measures"] = [counts[0]]
            query["order_by"] = [str(o).replace(old, counts[0]) for o in query.get("order_by") or []]
            params = {**params, "query": query} if "query" in params else query
            return {**record, "params": params, "reason": f"{record.get('reason') or ''}; how often: a count"}
    if query.get("group_by") or query.get("time_grain"):
        return record
    low = _without_names(text.lower(), params)  # "50% Off Mart" is a name, not a share
    hits = vocab.find(low)
    named = [tm.name for h in hits for tm in h.terms if tm.kind == "measure" and tm.dataset == ds_name]
    measures = [m for m in named if not ROW_MEASURES.search(m)] or [ds.default_measure]
    if re.search(r"\b(?:most often|how often|most frequently|number of times|most orders|fewest orders)\b", low):
        counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
        measures = counts[:1] or measures
    if record.get("tool") == "analyze_data":
        filters = [dict(f) for f in query.get("filters") or []]
    else:
        filters = [{"field": k, "value": v} for k, v in params.items() if k in FILTER_FIELDS]
        filters += [{"field": k, "value": v} for k, v in (params.get("where") or {}).items()]
        if params.get("min_amount") is not None and ds.amount:
            filters.append({"field": ds.amount, "op": "gte", "value": params["min_amount"]})
        if params.get("max_amount") is not None and ds.amount:
            filters.append({"field": ds.amount, "op": "lte", "value": params["max_amount"]})
    period = {k: v for k, v in query.items() if k in PERIOD_KEYS}
    new: dict[str, Any] | None = None
    if SHARE_WORDS.search(low):
        eq = [f for f in filters if f.get("op", "eq") == "eq" and f.get("field") in ds.dimensions]
        if len(eq) == 1:
            dim = eq[0]["field"]
            rest = [f for f in filters if f is not eq[0]]
            new = {"dataset": ds_name, "measures": measures[:1], "group_by": [dim], "filters": rest, **period}
            why = f"a share of the total: {ds_name} by {dim}"
    elif RANK_WORDS.search(low) or ASCENDING.search(low):
        dims = [
            tm.name
            for h in hits
            for tm in h.terms
            if tm.kind == "dimension" and tm.dataset == ds_name and ds.dimensions[tm.name].type != "boolean"
        ]
        month = re.search(
            r"\b(?:best|worst|biggest|highest|lowest|strongest|weakest|busiest|quietest) months?\b|\bwhich months?\b",
            low,
        )
        if dims or month:
            direction = "" if ASCENDING.search(low) else "-"
            new = {"dataset": ds_name, "measures": measures[:1], "filters": filters, **period}
            if dims:
                new["group_by"] = [dims[0]]
            else:
                new["time_grain"] = "month"
            new["order_by"] = [f"{direction}{measures[0]}"]
            new["limit"] = _how_many(low)
            why = f"a ranking of {dims[0] if dims else 'months'} by {measures[0]}"
    if new is None:
        return record
    if not new.get("filters"):
        new.pop("filters", None)
    return {
        **record,
        "tool": "analyze_data",
        "params": new,
        "reason": f"{record.get('reason') or ''}; {why}".strip("; "),
    }


TOTAL_WORDS = re.compile(r"\b(?:total|sum|worth|how much|value|amount)\b")
COUNT_ASK = re.compile(r"\b(?:how many|count|number of)\b")


def with_context_fallback(
    record: dict[str, Any], text: str, last: dict[str, Any] | None, model: Any = None
) -> dict[str, Any]:
    """A follow-up no rule read ("what's their total?", "only those with an unverified GSTIN", "how many
    of those?") about the thread's last result: the last query, with what the follow-up asks for."""
    if record.get("kind") != "clarify" or not last or not last.get("query"):
        return record
    low = text.lower()
    if not FOLLOW_CUE.search(low):
        return record
    query = {k: v for k, v in dict(last["query"]).items() if k not in ("workspace", "limit", "order_by")}
    ds_name = str(query.get("dataset") or "invoices")
    ds = vocabulary(model).model.datasets.get(ds_name)
    if ds is None:
        return record
    values = declared_values(low, ds_name, model)
    filters = [dict(f) for f in query.get("filters") or []]
    have = {f.get("field") for f in filters}
    filters += [{"field": k, "value": v} for k, v in values.items() if k not in have]
    counts = [n for n, m in ds.measures.items() if m.agg == "count" and not m.filters]
    if COUNT_ASK.search(low) and counts:
        measures = counts[:1]
    elif TOTAL_WORDS.search(low) and ds.default_measure:
        measures = [ds.default_measure]
    elif values and last.get("tool") == "analyze_data":
        measures = list(query.get("measures") or [])
    elif values:  # a listing refined by a declared value
        params = {k: v for k, v in dict(last.get("params") or {}).items() if k != "invoice_numbers"}
        where = {**dict(params.get("where") or {}), **{k: v for k, v in values.items() if k not in params}}
        return {
            **record,
            "kind": "tool",
            "tool": "filter_data",
            "params": {**params, "where": where},
            "question": None,
            "reason": "a follow-up on the last listing, with the data model's values",
        }
    else:
        return record
    new = {**query, "measures": measures, "filters": filters}
    new.pop("group_by", None) if not query.get("group_by") else None
    return {
        **record,
        "kind": "tool",
        "tool": "analyze_data",
        "params": {k: v for k, v in new.items() if v not in (None, [], {})},
        "question": None,
        "reason": "a follow-up about the last result",
    }


VENDOR_ATTRIBUTES = re.compile(
    r"\b(?:vendor code|supplier code|code|gstin|gst number|gst no|contact email|email|e-mail|payment terms|"
    r"credit days|terms|state|location|category)\b"
)


def with_attribute_lookup(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "what is the vendor code for Konark Caterers?", "GSTIN of Ganga Logistics?": an attribute of one
    vendor is on the vendor master (the vendors dataset lists code, GSTIN, email, terms), not in a listing
    of its invoices."""
    if record.get("kind") != "tool" or record.get("tool") != "filter_data":
        return record
    params = dict(record.get("params") or {})
    if params.get("dataset", "invoices") == "vendors" or not params.get("vendor"):
        return record
    if set(params) - {"dataset", "vendor", "limit"}:
        return record  # a period, a status, an amount: it is about invoices
    vendors = vocabulary(model).model.datasets.get("vendors")
    if vendors is None or not VENDOR_ATTRIBUTES.search(text.lower()):
        return record
    return {
        **record,
        "params": {"dataset": "vendors", "vendor": params["vendor"]},
        "reason": f"{record.get('reason') or ''}; an attribute of the vendor: the vendor master",
    }


def understand(
    text: str,
    pctx: Any,
    proposed: Any = None,
    llm: dict[str, Any] | None = None,
    fallback: str | None = None,
) -> tuple[dict[str, Any], Interpretation]:
    """The `route` node's reading of one message: the intent record (the model's `proposed` Intent when a
    model answered, else the offline parser's), completed from the data model's declarations, and its
    Interpretation (parts with provenance, unused words). `decide` then takes the decision in `plan`."""
    from dataclasses import replace

    from .parser import parse_turn

    model = pctx.model
    parsed, turn = parse_turn(text, pctx)
    record: dict[str, Any]
    if proposed is not None:
        record = {**proposed.__dict__, **(llm or {"router": "llm", "model": None}), "fallback": None}
    else:
        record = {**parsed.__dict__, "router": "offline", "model": None, "fallback": fallback}
    last = pctx.last_result or {}
    previous = {**dict(last.get("params") or {}), **query_of(last.get("tool"), dict(last.get("query") or {}))}
    standalone = None
    if pctx.last_result or pctx.last_ticket_id:
        alone, alone_turn = parse_turn(text, replace(pctx, last_result=None, last_ticket_id=None, last_export_id=None))
        standalone = query_of(alone.tool, alone.params) if alone.kind == "tool" else {}
        if record["router"] == "offline" and starts_clean(text, alone, alone_turn, parsed, model):
            # a self-contained new question: nothing from the earlier one comes along
            record = {**alone.__dict__, "router": "offline", "model": None, "fallback": fallback}
            record["reason"] = f"{alone.reason}; a new question, so nothing is carried from the last one"
            turn, standalone = alone_turn, None
    t = turn.t  # lower case, typos and Hinglish read (graph/parser/turn.py)
    record = with_context_fallback(record, t, pctx.last_result, model)  # "what's their total?"
    record = with_declared_values(record, turn.slots.rest, model, full=t)  # "inactive vendors", "Travel vendors"
    record = with_attribute_lookup(record, t, model)  # "GSTIN of Ganga Logistics": the vendor master
    record = with_named_measure_or_dataset(record, t, model)  # "remittances to X", "what was our turnover"
    record = with_aggregate_condition(record, t, model)  # "customers with sales over 1 crore": per customer
    record = with_ranking_or_share(record, t, model)  # "who was our biggest customer": a ranking of customers
    record = with_polarity(record, t)  # "the worst failure rate": the highest
    interp = interpret(text, record, rest=turn.slots.rest, standalone=standalone, previous=previous, model=model)
    return record, interp


HOW_MUCH = re.compile(r"\b(?:how much|what (?:was|is|were|are)|total|sum|tell me)\b")
BAD_IS_HIGH = re.compile(r"fail|overdue|outstanding|unpaid|error|cancel|return|refund")


def with_named_measure_or_dataset(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """A listing where the words name another dataset ("remittances to Ganga Logistics": transactions), or
    ask how much of a measure ("what was our turnover last year?": the sales value): read what they name."""
    if record.get("kind") != "tool" or record.get("tool") != "filter_data":
        return record
    params = dict(record.get("params") or {})
    current = str(params.get("dataset") or "invoices")
    vocab = vocabulary(model)
    hits = vocab.find(text)
    cur = vocab.model.datasets.get(current)
    # a dataset's word that is also a dimension of the listed one ("vendors" of invoices) names the dimension
    datasets = {
        t.dataset
        for h in hits
        if not (cur and any(o.kind == "dimension" and o.dataset == current for o in h.terms))
        for t in h.terms
        if t.kind == "dataset"
    }
    measures = {(t.dataset, t.name) for h in hits for t in h.terms if t.kind == "measure"}
    period = {k: v for k, v in params.items() if k in PERIOD_KEYS}
    if len(datasets) == 1 and current not in datasets:
        new = next(iter(datasets))
        ds = vocab.model.datasets[new]
        if period and not ds.time:  # master data has no dates: the period says it is about the listed data
            return record
        kept = {k: v for k, v in params.items() if k in PERIOD_KEYS or k in ds.dimensions or k == "limit"}
        record = {
            **record,
            "params": {**kept, "dataset": new},
            "reason": f"{record.get('reason')}; the words name {new}",
        }
        params, current = dict(record["params"]), new
    if HOW_MUCH.search(text) and not datasets - {current}:
        own = sorted(m for d, m in measures if d == current and not ROW_MEASURES.search(m))
        others = sorted({(d, m) for d, m in measures if d != current})
        if len(own) == 1:  # "what was our turnover": the figure, not a listing of the rows behind it
            query = {"dataset": current, "measures": own, **period}
            filters = _listing_filters(params, vocab.model.datasets[current])
            query |= {"filters": filters} if filters else {}
            return {**record, "tool": "analyze_data", "params": query, "reason": f"{record.get('reason')}; how much"}
        if not own and len({d for d, _ in others}) == 1 and len(others) == 1:
            dataset, measure = others[0]
            query = {"dataset": dataset, "measures": [measure], **period}
            return {
                **record,
                "tool": "analyze_data",
                "params": query,
                "reason": f"{record.get('reason')}; how much {measure}",
            }
    return record


def _listing_filters(params: dict[str, Any], ds: Any) -> list[dict[str, Any]]:
    """A filter_data call's filters as a semantic query's."""
    filters = [{"field": k, "value": v} for k, v in params.items() if k in FILTER_FIELDS]
    filters += [{"field": k, "value": v} for k, v in (params.get("where") or {}).items()]
    if params.get("min_amount") is not None and ds.amount:
        filters.append({"field": ds.amount, "op": "gte", "value": params["min_amount"]})
    if params.get("max_amount") is not None and ds.amount:
        filters.append({"field": ds.amount, "op": "lte", "value": params["max_amount"]})
    return filters


def with_polarity(record: dict[str, Any], text: str) -> dict[str, Any]:
    """ "the worst failure rate": for a measure where more is worse (failures, overdue, unpaid), worst is the
    highest and best the lowest."""
    if record.get("kind") != "tool" or record.get("tool") != "analyze_data":
        return record
    params = dict(record.get("params") or {})
    query = dict(params.get("query") or params)
    measures = list(query.get("measures") or [])
    worst, best = re.search(r"\bworst\b", text), re.search(r"\bbest\b", text)
    if not measures or not (worst or best) or not BAD_IS_HIGH.search(measures[0]):
        return record
    want = f"-{measures[0]}" if worst else measures[0]
    if query.get("order_by") == [want]:
        return record
    query["order_by"] = [want]
    params = {**params, "query": query} if "query" in params else query
    return {
        **record,
        "params": params,
        "reason": f"{record.get('reason')}; {'worst' if worst else 'best'} {measures[0]}",
    }
