"""The decision before acting: run, run stating what was kept, ask (with choices), or refuse first."""

from __future__ import annotations

import re
from typing import Any

from memory.references import Resolution
from tools.registry import can_run, spec
from tools.rbac import Identity
from tools.toolnames import (
    ANALYZE_DATA,
    CREATE_TICKET,
    EXPLAIN_FAILURES,
    EXPORT_REPORT,
    FILTER_DATA,
    UPDATE_TICKET,
    VENDOR_PROFILE,
    VIEW_NOTIFICATIONS,
    VIEW_TICKETS,
)

from ..parser.patterns import CREATE
from ..parser.vocabulary import vocabulary
from ..state import Choice, Interpretation

from .words import DATA_TOOLS, HOW_MANY_OF, RANK_WORDS, SHARE_WORDS, WHO_WORDS, _without

EXPORT_VERB = re.compile(
    r"\bexport|\bdownload|\bcsv\b|\bxlsx?\b|\bexcel\b|\bpdf\b|\bspread ?sheets?\b|\bworkbook\b|\bsave\b|"
    r"\bfile\b|\bsend\b|\be-?mail|\bmail\b|\battach|\bfixed report\b|\breport (?:of|for|on) (?:these|those|them|it)\b"
)
WRITE_CUES = {CREATE_TICKET: CREATE, EXPORT_REPORT: EXPORT_VERB}


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
    FILTER_DATA: "list",
    ANALYZE_DATA: "figures",
    EXPLAIN_FAILURES: "why they failed",
    EXPORT_REPORT: "export",
    CREATE_TICKET: "new ticket",
    UPDATE_TICKET: "ticket update",
    VIEW_TICKETS: "tickets",
    VIEW_NOTIFICATIONS: "notifications",
    VENDOR_PROFILE: "vendor profile",
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
    if tool == EXPORT_REPORT and not EXPORT_VERB.search(text.lower()):
        return {
            **interp,
            "decision": "ask",
            "reason": "an export with no word asking for a file",
            "choices": [
                {"label": "Just show me the figures", "message": re.sub(r"(?i)\breports?\b", "figures", text)},
                {"label": "Download it as Excel", "message": f"{text.rstrip(' ?.!')} as excel"},
            ],
        }
    if re.fullmatch(r"\s*(?:please\s+)?compare\s+(?:them|these|those|it|this|that)\s*[?.!]*\s*", text.lower()):
        return {  # compare them with what: the period before, or with each other?
            **interp,
            "decision": "ask",
            "reason": "a comparison with nothing named to compare against",
            "choices": [
                {"label": "With the period before", "message": "compare them with the previous period"},
                {"label": "Month by month", "message": "show them by month"},
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
    out: list[str] = list(intent.get("assumed") or [])
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
    if intent.get("kind") != "tool" or tool not in (FILTER_DATA, ANALYZE_DATA):
        return None
    params = dict(intent.get("params") or {})
    low = _without_names(text.lower(), params)
    query = dict(params.get("query") or params)
    grouped = bool(query.get("group_by")) or bool(query.get("time_grain"))
    if SHARE_WORDS.search(low) and not grouped and not _percent_measure(query, model):
        return "a share of a total"
    if RANK_WORDS.search(low) and WHO_WORDS.search(low) and not grouped:
        if tool == FILTER_DATA or not query.get("group_by"):
            return "a ranking (who or which comes first)"
    m = HOW_MANY_OF.search(low)
    if m and tool == FILTER_DATA:
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
    if reason.startswith("a comparison with nothing named"):
        return "Compare them with what: the period before, or month by month? I haven't run anything."
    if interp.get("reason", "").startswith("an export with no word"):
        return "Do you want a file, or just the figures on screen? I haven't exported anything."
    if unused and interp.get("reason", "").startswith("words not understood"):
        said = ", ".join(f"“{w}”" for w in unused)
        return (
            f"I'm not sure what {said} means here, so I haven't run anything: the answer would have ignored it. "
            "Which did you mean?"
        )
    return fallback


def referent_problem(tool: str | None, resolved: Resolution) -> str | None:
    """An export or a write must act on records of this conversation, and on at least one of them."""
    s = spec(tool or "")
    if s is None or not (s.writes or tool == EXPORT_REPORT):
        return None
    source = resolved.sources.get("records") or (resolved.source if resolved.invoice_numbers is not None else None)
    if source not in (None, "this conversation", "given"):  # "these" found only in another conversation
        return (
            f"I don't have a result in this conversation to act on (the last one was in {source}). "
            "Tell me which records, for example 'failed IndiSky invoices from last month'."
        )
    if resolved.invoice_numbers == [] or (resolved.keys == [] and resolved.invoice_numbers is not None):
        return "The last result here has no records, so there's nothing to act on. Nothing was exported or changed."
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


# a follow-up leans on the last question: a pronoun, "that month", "and for ...", "only ...", "sort ..."
def stated(interp: Interpretation) -> str:
    """The first line of an answer that ran on an assumption: "Kept from your last question: period last month." """
    said = list(interp.get("assumptions") or [])
    kept = [
        a.replace(" (kept from your last question)", "") for a in said if a.endswith("(kept from your last question)")
    ]
    read = [a for a in said if not a.endswith("(kept from your last question)")]
    lines = ([f"Kept from your last question: {'; '.join(kept)}."] if kept else []) + [f"{r}." for r in read]
    return " ".join(lines)
