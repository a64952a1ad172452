"""Intent rules other than tickets and analytics: meta (forget, greeting, help), refusals, templates,
notifications, explanations, exports, follow-ups on a listing, listings, and the last resort.

Each rule takes a Turn and returns an Intent, or None to let the next rule try; graph/parser/__init__.py
lists them in order.
"""

from __future__ import annotations

import re

from tools.toolnames import EXPLAIN_FAILURES, EXPORT_CONVERSATION, EXPORT_REPORT, FILTER_DATA, VIEW_NOTIFICATIONS

from ..intent import Intent
from .patterns import (
    ALL_VENDORS,
    ANALYZE_ONE,
    DESTROY,
    EXAMPLE,
    EXPLAIN,
    EXPORT,
    FILTER_VERB,
    FIXED,
    FOLLOW,
    FORGET,
    FORMATS,
    GENERIC_DATA_WORDS,
    GREET_WORDS,
    HELP_STRONG,
    NAMED_VENDOR,
    NOTIFICATIONS,
    TEMPLATE_INVESTIGATE,
    TEMPLATE_MONTHLY,
    TEMPLATE_VENDOR,
    TICKET_ID,
    TICKET_WORD,
    TOKEN,
    UNKNOWN_DATA,
)
from .slots import filter_params, ticket_id_of
from .turn import Turn, clarify

CONVERSATION = re.compile(r"\b(?:this|the|our|my|whole|current) (?:session|conversation|chat|thread)\b")


def empty(turn: Turn) -> Intent | None:
    if not re.search(r"[a-z0-9]", turn.original.lower()):
        return clarify(
            "What would you like me to do? For example: 'failed IndiSky invoices from last month'.", "empty message"
        )
    return None


def forget(turn: Turn) -> Intent | None:
    return Intent("forget", confidence=0.95, reason="asked to forget their history") if FORGET.search(turn.t) else None


def greeting(turn: Turn) -> Intent | None:
    words = TOKEN.findall(turn.t)
    return (
        Intent("greeting", confidence=0.95, reason="greeting or thanks")
        if words and all(w in GREET_WORDS for w in words)
        else None
    )


def help_(turn: Turn) -> Intent | None:
    if HELP_STRONG.search(turn.core) or HELP_STRONG.search(turn.t):
        return Intent("help", confidence=0.9, reason="asked what the assistant can do")
    return None


def destroy(turn: Turn) -> Intent | None:
    if DESTROY.search(turn.t) and not TICKET_WORD.search(turn.t):
        return clarify(
            "I can't delete or change business data. I can filter, explain, export it, or open a ticket "
            "for someone to fix it. What would you like?",
            "asked to delete business data",
            0.6,
        )
    return None


def bad_date(turn: Turn) -> Intent | None:
    err = turn.p.get("_date_error")
    if err:
        return clarify(f"{err[0].upper()}{err[1:]}. Which date did you mean?", f"impossible date: {err}", 0.5)
    return None


def ambiguous_name(turn: Turn) -> Intent | None:
    amb = turn.slots.ambiguous
    if amb:
        return clarify(f"Which one do you mean: {' or '.join(amb)}?", f"name matches several: {amb}", 0.5)
    return None


def monthly_review(turn: Turn) -> Intent | None:
    if TEMPLATE_MONTHLY.search(turn.t):
        return Intent(
            "template",
            template="monthly_review",
            params=turn.tpl_params,
            confidence=0.9,
            reason="monthly review template",
        )
    return None


def investigation(turn: Turn) -> Intent | None:
    if TEMPLATE_INVESTIGATE.search(turn.t) and not TICKET_ID.search(turn.t):
        return Intent(
            "template",
            template="invoice_investigation",
            params=turn.tpl_params,
            confidence=0.85,
            reason=turn.reasons("investigation template"),
        )
    return None


def vendor_analysis(turn: Turn) -> Intent | None:
    t = turn.t
    if not (TEMPLATE_VENDOR.search(t) or (ANALYZE_ONE.search(t) and "vendor" in turn.p and not EXPLAIN.search(t))):
        return None
    params = dict(turn.tpl_params)
    named = None if "vendor" in params else NAMED_VENDOR.search(turn.original)
    if named and not ALL_VENDORS.search(named.group(1)):  # a name we don't know: let the tool say "did you mean"
        params["vendor"] = named.group(1).strip()
    return Intent(
        "template",
        template="vendor_analysis",
        params=params,
        confidence=0.85,
        reason=turn.reasons("vendor analysis template"),
    )


def notifications(turn: Turn) -> Intent | None:
    s = turn.slots
    if NOTIFICATIONS.search(turn.t) and not s.dataset and not (set(s.params) - {"period", "date_from", "date_to"}):
        params = {"unread_only": True} if re.search(r"\bunread\b|\bnew ones\b", turn.t) else {}
        return turn.tool(VIEW_NOTIFICATIONS, params, conf=0.9, why="notifications")
    return None


def explain(turn: Turn) -> Intent | None:
    if not EXPLAIN.search(turn.t):
        return None
    ep = filter_params(turn.slots, dataset=False)
    if ep.get("status") == "failed":
        ep.pop("status")
    ep.pop("limit", None)
    if turn.has_records_ref or not ep:
        if not turn.ctx.last_result:
            return clarify(
                f"Which invoices should I explain? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                "explain with nothing to refer to",
                0.5,
            )
        return turn.tool(
            EXPLAIN_FAILURES,
            {},
            {"records": "previous"},
            0.9 if turn.has_records_ref else 0.75,
            "explain failures of the previous result",
        )
    return turn.tool(EXPLAIN_FAILURES, ep, conf=0.85, why="explain failures")


def export(turn: Turn) -> Intent | None:
    t, s, ref = turn.t, turn.slots, turn.has_records_ref
    if not (EXPORT.search(t) or (FORMATS[0][0].search(t) or FORMATS[1][0].search(t)) and ref):
        return None
    fmt = next((f for rx, f in FORMATS if rx.search(t)), "csv")
    if CONVERSATION.search(t):  # "export a summary of this session as pdf": the conversation, not its last answer
        return turn.tool(EXPORT_CONVERSATION, {"format": "pdf"}, conf=0.9, why="save this conversation as a pdf")
    tid = ticket_id_of(turn.ticket_match) if turn.ticket_match else None
    if re.search(r"\bfixed report\b|\b(?:fixed|resolved|corrected) (?:invoices|ones|records|data|file)\b", t) or (
        FIXED.search(t) and not s.has_filter and not ref
    ):
        return turn.tool(EXPORT_REPORT, {"format": fmt}, {"ticket": "fixed"}, 0.9, "export the fixed ticket's records")
    if tid:
        return turn.tool(EXPORT_REPORT, {"format": fmt, "ticket_id": tid}, conf=0.9, why="export a ticket's records")
    if ref or not (s.has_filter or s.dataset):
        if not turn.ctx.last_result:
            if ref:
                return clarify(
                    f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                    "export of 'these' with nothing to refer to",
                    0.5,
                )
            return clarify(
                f"What should I export? Tell me the records, {EXAMPLE}, as csv, excel or pdf.", "export of nothing", 0.5
            )
        return turn.tool(
            EXPORT_REPORT,
            {"format": fmt},
            {"records": "previous"},
            0.9 if ref else 0.75,
            f"export the previous result as {fmt}",
        )
    ep = {k: v for k, v in turn.fp.items() if k != "limit"}
    return turn.tool(EXPORT_REPORT, {"format": fmt, **ep}, conf=0.85, why=f"export as {fmt}")


def listing_follow_up(turn: Turn) -> Intent | None:
    """ "what about SkyHigh?", "the same for last quarter", "only the failed ones" after a listing."""
    ctx, s = turn.ctx, turn.slots
    if not (
        ctx.last_result
        and (FOLLOW.match(turn.core) or FOLLOW.match(turn.t) or turn.has_records_ref)
        and (s.has_filter or s.dataset)
    ):
        return None
    prev_tool = ctx.last_result.get("tool")
    name = prev_tool if prev_tool in (FILTER_DATA, EXPLAIN_FAILURES) else FILTER_DATA
    over = dict(filter_params(s, dataset=bool(s.dataset)))
    if name == EXPLAIN_FAILURES:
        over.pop("dataset", None)
    return turn.tool(name, over, {"filter": "previous"}, 0.8, "follow-up on the previous filter")


def listing(turn: Turn) -> Intent | None:
    t, s, ctx = turn.t, turn.slots, turn.ctx
    unknown = None if (s.dataset or s.has_filter) else UNKNOWN_DATA.search(t)
    if unknown and unknown.group(1) not in GENERIC_DATA_WORDS:
        return clarify(
            f"I don't have {unknown.group(1)} data. I can filter invoices, sales, vendors or transactions; {EXAMPLE}.",
            f"unknown dataset '{unknown.group(1)}'",
            0.6,
        )
    if s.dataset or s.has_filter or (FILTER_VERB.search(t) and re.search(r"\b(?:data|records|everything|all)\b", t)):
        conf = 0.9 if (s.dataset and (FILTER_VERB.search(t) or s.has_filter)) else 0.7
        if turn.has_records_ref and not ctx.last_result and not s.has_filter:
            return clarify(
                f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                "reference with nothing to refer to",
                0.5,
            )
        return turn.tool(FILTER_DATA, turn.fp, conf=conf, why=f"filter {turn.fp['dataset']}")
    if turn.has_records_ref and ctx.last_result and FILTER_VERB.search(t):
        return turn.tool(FILTER_DATA, {}, {"filter": "previous"}, 0.7, "show the previous result again")
    if turn.has_records_ref and FILTER_VERB.search(t):
        return clarify(
            f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
            "reference with nothing to refer to",
            0.5,
        )
    return None


def last_resort(turn: Turn) -> Intent:
    if re.search(r"\bhelp\b", turn.t):
        return Intent("help", confidence=0.7, reason="asked for help")
    if NOTIFICATIONS.search(turn.t):
        return turn.tool(VIEW_NOTIFICATIONS, {}, conf=0.6, why="notifications")
    return clarify(
        "I'm not sure what you need. I can filter invoices, sales, vendors or transactions, explain failures, "
        f"export reports and manage tickets; {EXAMPLE}.",
        "no intent matched",
        0.2,
    )
