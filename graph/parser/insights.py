"""One rule for the anomaly findings (tools/insights.py view_insights), kept apart from the other rules:
"anything unusual this week?", "what needs my attention?", "why is this flagged?", and "show me" after
an insights answer (the finding's records through filter_data, or its proving query through analyze_data)."""

from __future__ import annotations

import re

from tools.toolnames import ANALYZE_DATA, FILTER_DATA, VIEW_INSIGHTS

from ..intent import Intent
from .turn import Turn

UNUSUAL = re.compile(
    r"\b(?:anything|something|what(?:'s| is)?|any)\b[\w\s']{0,20}\b(?:unusual|odd|strange|suspicious|fishy|off)\b"
    r"|\banomal(?:y|ies|ous)\b|\bneeds? (?:my |our )?attention\b"
    r"|\b(?:any|new|open|show(?: me)?(?: the)?)\s+(?:insights?|findings?|alerts?|red flags?)\b"
)
WHY_FLAGGED = re.compile(r"\bwhy\b[\w\s']{0,30}\b(?:flagged|flag|unusual|suspicious)\b")
SHOW_ME = re.compile(
    r"^(?:ok(?:ay)?[, ]+)?(?:please )?(?:show|let me see|see)(?: me)?(?: (?:it|them|those|these|that))?[.!?]*$"
)
DAYS = (
    (re.compile(r"\btoday\b"), 1),
    (re.compile(r"\bthis week\b|\blast 7 days\b"), 7),
    (re.compile(r"\bthis month\b"), 31),
)


def insights(turn: Turn) -> Intent | None:
    t = turn.t.strip()
    last = turn.ctx.last_result or {}
    after_insights = last.get("tool") == VIEW_INSIGHTS
    if WHY_FLAGGED.search(t):
        keys = [str(k) for k in last.get("keys") or []][:1000]
        days = (last.get("params") or {}).get("days") if after_insights else None
        params = {"about": keys} if keys else {"first": True, **({"days": days} if days else {})}
        return turn.tool(VIEW_INSIGHTS, params, conf=0.9, why="asked why something is flagged")
    if after_insights and SHOW_ME.match(t):
        keys = [str(k) for k in last.get("keys") or []]
        if keys and last.get("dataset") == "invoices":
            return turn.tool(
                FILTER_DATA, {"dataset": "invoices", "invoice_numbers": keys}, why="show the flagged records"
            )
        if last.get("query"):
            return turn.tool(ANALYZE_DATA, dict(last["query"]), why="show the finding's figures")
    if UNUSUAL.search(t):
        days = next((n for pat, n in DAYS if pat.search(t)), None)
        return turn.tool(VIEW_INSIGHTS, {"days": days} if days else {}, conf=0.9, why="asked what looks unusual")
    return None
