"""How analytics answers name their periods: "last month (01 Nov 2026 to 30 Nov 2026)", a comparison's
other period, "this month so far (1–7 Dec)" against "the same days of last month (1–7 Nov)", and a trend's
partly counted bucket, "Dec 2026 (1–7 Dec so far)"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .periods import days_words
from .runner import Answer
from .semantic import SemanticQuery


def period_words(q: SemanticQuery, answer: Answer) -> str:
    c = answer.compiled
    if not (c.start or c.end):
        return ""
    exact = c.period
    if answer.same_days:  # "this month so far (1–7 Dec)", "last month, the same days (1–7 Nov)"
        exact = same_days_words(answer, answer)
        if q.period and not (q.date_from or q.date_to):
            named = q.period.strip().replace("_", " ")
            same = "the same day" if c.start and c.end and (c.end - c.start).days == 1 else "the same days"
            return f"{named} so far ({exact})" if answer.same_days == "current" else f"{named}, {same} ({exact})"
        return f"from {exact}"
    if q.period and not (q.date_from or q.date_to):
        named = q.period.strip().replace("_", " ")
        if named[:1].isdigit():
            return f"in {named} ({exact})"
        if named.startswith("last ") and named.split()[1].isdigit():
            named = "the " + named
        return f"{named} ({exact})"
    return f"from {exact}"


def same_days_words(a: Answer, part: Answer) -> str:
    """One side of a comparison cut to the same days, as people say it: '1–7 Dec' (the year when it is
    not the year of the current period's last day)."""
    c, ref = part.compiled, a.compiled.end
    if not (c.start and c.end and ref):
        return c.period
    return days_words(c.start, c.end, ref - timedelta(days=1))


def bucket_label(value: Any, grain: str | None) -> str:
    text = str(value)
    try:
        if grain == "month":
            return datetime.strptime(text, "%Y-%m").strftime("%b %Y")
        if grain == "week":
            return "week of " + datetime.strptime(text, "%Y-%m-%d").strftime("%d %b %Y")
        if grain == "day":
            return datetime.strptime(text, "%Y-%m-%d").strftime("%d %b %Y")
    except ValueError:
        pass
    return text


def compare_words(q: SemanticQuery, a: Answer) -> str:
    """'last month (01 Oct 2026 to 31 Oct 2026)' for the other period of a comparison."""
    exact = a.previous.compiled.period if a.previous else ""
    c = (q.compare_to or "").strip().lower().replace(" ", "_")
    if a.same_days and a.previous is not None:  # "the same days of last month (1–7 Nov)"
        exact = same_days_words(a, a.previous)
        c0, c1 = a.previous.compiled.start, a.previous.compiled.end
        same = "the same day" if c0 and c1 and (c1 - c0).days == 1 else "the same days"
        if c in ("previous_period", "previous", "prior_period", "period_before"):
            return f"{same} of the period before ({exact})"
        if c in ("previous_year", "same_period_last_year", "last_year_same_period", "year_before"):
            return f"{same} a year earlier ({exact})"
        named = c.replace("_", " ")
        return f"{same} of {named} ({exact})" if a.same_days == "current" else f"{named} so far ({exact})"
    if c in ("previous_period", "previous", "prior_period", "period_before"):
        return f"the period before ({exact})"
    if c in ("previous_year", "same_period_last_year", "last_year_same_period", "year_before"):
        return f"a year earlier ({exact})"
    named = c.replace("_", " ")
    return f"{'in ' if named[:1].isdigit() else ''}{named} ({exact})"


def partial_days(a: Answer) -> dict[str, str]:
    """The days each partly counted trend bucket holds: {'2026-12': '1–7 Dec so far'}."""
    out = {}
    for period, (start, end) in a.partial.items():
        so_far = "so far" if a.as_of and end == a.as_of + timedelta(days=1) else "only"
        out[period] = f"{days_words(start, end, end - timedelta(days=1))} {so_far}"
    return out


def partial_words(a: Answer, grain: str | None) -> dict[str, str]:
    """Each partly counted bucket's name with its days: 'Dec 2026 (1–7 Dec so far)'."""
    return {k: f"{bucket_label(k, grain)} ({days})" for k, days in partial_days(a).items()}


def dates(a: Answer) -> list[str | None]:
    """The first and last day an answer read, ISO (None at an open end)."""
    c = a.compiled
    return [c.start.isoformat() if c.start else None, (c.end - timedelta(days=1)).isoformat() if c.end else None]


def partial_dates(a: Answer) -> dict[str, list[str]]:
    """A trend's partly counted buckets: {"2026-12": ["2026-12-01", "2026-12-07"]} (first and last day read)."""
    return {k: [s.isoformat(), (e - timedelta(days=1)).isoformat()] for k, (s, e) in a.partial.items()}
