"""The offline intent parser: plain language -> Intent, with no model and no network.

The default router whenever no LLM key is set. A message becomes a `Turn` (turn.py): normalised,
typos in ordinary words corrected (lexicon.py, rapidfuzz), then its slots read (slots.py: names
through tools.names, periods.py, amounts, statuses, region). The intent is the first of RULES
that answers; each rule is a function of the Turn, so a new intent is one more entry here.

  lexicon.py     keywords, typo correction, statuses, amounts
  periods.py     dates and named periods
  patterns.py    the compiled patterns of the intents
  vocabulary.py  datasets, measures, dimensions and values, from the data model's synonyms
  analytics.py   questions about the numbers -> analyze_data's semantic query
  reading.py     how such a question is read first (breakdowns, rankings, comparisons: `prescan`)
  followups.py   follow-ups that refine the thread's last query
  tickets.py     view, update and create tickets
  rules.py       meta, templates, notifications, explain, export, listings
  declared.py    tools reached by their own declared phrases (ToolSpec.phrases + slots)

References: "these/them" -> {"records": "previous"}, "the same for X" after a listing ->
{"filter": "previous"}, "that ticket" -> {"ticket": "previous"}; an analytics follow-up carries the
refined query itself (the thread's last query is in ParseContext.last_result["query"]). A reference
with nothing to refer to, or a question that could mean several things, becomes one short question.

Quality: tests/unit/parser_eval.yaml and tests/unit/analytics_eval.yaml (benchmarks/parser_eval.py,
benchmarks/analytics_eval.py).
"""

from __future__ import annotations

from collections.abc import Callable

from ..intent import Intent, ParseContext
from . import analytics, declared, followups, insights, reading, rules, tickets
from .turn import Turn
from .vocabulary import ACTIVE_MODEL

Rule = Callable[[Turn], "Intent | None"]

# The order is the precedence: the first rule that answers decides.
RULES: list[Rule] = [
    rules.empty,
    rules.forget,
    rules.greeting,
    rules.help_,
    reading.prescan,  # marks "by vendor", "monthly"... before slots are read; never answers
    rules.destroy,
    rules.bad_date,
    rules.ambiguous_name,
    insights.insights,  # anomaly findings: "anything unusual?", "why is this flagged?", "show me" after them
    rules.monthly_review,
    rules.investigation,
    rules.vendor_analysis,
    tickets.tickets,
    tickets.escalate,
    rules.notifications,
    rules.explain,
    rules.export,
    declared.declared,  # tools routed by their declared phrases and slots (ToolSpec.slots)
    followups.follow_up,
    analytics.question,
    rules.listing_follow_up,
    rules.listing,
    rules.last_resort,
]


def parse(text: str, ctx: ParseContext) -> Intent:
    return parse_turn(text, ctx)[0]


def parse_turn(text: str, ctx: ParseContext) -> tuple[Intent, Turn]:
    """The intent, and the parsed message it came from (graph/understanding/ reads what was left over).
    The vocabulary is the context's data model's for the whole parse (vocabulary.ACTIVE_MODEL)."""
    token = ACTIVE_MODEL.set(ctx.model) if ctx.model is not None else None
    try:
        turn = Turn.of(text, ctx)
        for rule in RULES:
            intent = rule(turn)
            if intent is not None:
                return intent, turn
    finally:
        if token is not None:
            ACTIVE_MODEL.reset(token)
    raise AssertionError("the last rule always answers")  # pragma: no cover
