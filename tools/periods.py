"""Named periods ("last_month", "2026-Q2", "last_30_days", ...) -> concrete date ranges.

One grammar for the offline parser, the LLM's tool calls and the HTTP API. Ranges are
half-open: start <= d < end.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

PERIOD_HELP = (
    "today, yesterday, this_week, last_week, this_month, last_month, this_quarter, "
    "last_quarter, this_year, last_year, this_fy, last_fy, last_N_days, last_N_months, "
    "YYYY, YYYY-MM or YYYY-QN"
)


class PeriodError(ValueError):
    pass


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _fy_start(d: date) -> date:  # Indian financial year: April to March
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def resolve_period(period: str, today: date) -> tuple[date, date]:
    try:
        return _resolve(period, today)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # year 0000, 9999-Q4, last_9999_days ...: beyond the calendar
        raise PeriodError(f"'{period}' is outside the dates I can work with (years 0001 to 9998).") from None


def _resolve(period: str, today: date) -> tuple[date, date]:
    p = (
        period.strip().lower().replace(" ", "_").replace("-", "_")
        if not re.match(r"^\d{4}-", period.strip())
        else period.strip().upper()
    )
    month0 = today.replace(day=1)
    simple = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this_week": (today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        "last_week": (today - timedelta(days=today.weekday() + 7), today - timedelta(days=today.weekday())),
        "this_month": (month0, month0 + relativedelta(months=1)),
        "last_month": (month0 - relativedelta(months=1), month0),
        "this_quarter": (_quarter_start(today), _quarter_start(today) + relativedelta(months=3)),
        "last_quarter": (_quarter_start(today) - relativedelta(months=3), _quarter_start(today)),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "ytd": (date(today.year, 1, 1), today + timedelta(days=1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "this_fy": (_fy_start(today), _fy_start(today) + relativedelta(years=1)),
        "last_fy": (_fy_start(today) - relativedelta(years=1), _fy_start(today)),
    }
    if p in simple:
        return simple[p]
    if m := re.fullmatch(r"last_(\d{1,4})_days?", p):
        n = int(m.group(1))
        return today - timedelta(days=n - 1), today + timedelta(days=1)
    if m := re.fullmatch(r"last_(\d{1,3})_months?", p):
        n = int(m.group(1))
        return month0 - relativedelta(months=n), month0
    if m := re.fullmatch(r"(\d{4})-(\d{2})", p):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise PeriodError(f"'{period}' is not a real month (months run 01 to 12).")
        return date(y, mo, 1), date(y, mo, 1) + relativedelta(months=1)
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", p):
        start = date(int(m.group(1)), 3 * (int(m.group(2)) - 1) + 1, 1)
        return start, start + relativedelta(months=3)
    if m := re.fullmatch(r"(\d{4})", p):
        return date(int(m.group(1)), 1, 1), date(int(m.group(1)) + 1, 1, 1)
    raise PeriodError(f"I don't know the period '{period}'. Try one of: {PERIOD_HELP}.")


def date_range(
    period: str | None, date_from: date | None, date_to: date | None, today: date
) -> tuple[date | None, date | None]:
    """Combine a named period with explicit bounds. Returns half-open (start, end)."""
    start = end = None
    if period:
        start, end = resolve_period(period, today)
    if date_from:
        start = max(start, date_from) if start else date_from
    if date_to and date_to < date.max:  # date_to 9999-12-31 means no upper bound
        inclusive_end = date_to + timedelta(days=1)
        end = min(end, inclusive_end) if end else inclusive_end
    if start and end and start >= end:
        raise PeriodError(f"The date range is empty: it starts on {start.isoformat()} but ends before that.")
    return start, end


def describe(start: date | None, end: date | None) -> str:
    if not start and not end:
        return "all dates"
    if start and end:
        return f"{start:%d %b %Y} to {(end - timedelta(days=1)):%d %b %Y}"
    if start:
        return f"from {start:%d %b %Y}"
    assert end is not None  # (neither: "all dates", above)
    return f"up to {(end - timedelta(days=1)):%d %b %Y}"


def period_label(start: date | None, end: date | None) -> str:
    """A period as a report title says it: "October 2026", "Q3 2026", "2026", else describe()."""
    if start and end:
        last = end - timedelta(days=1)
        if start.day == 1 and end.day == 1:
            months = (end.year - start.year) * 12 + end.month - start.month
            if months == 1:
                return f"{start:%B %Y}"
            if months == 3 and start.month % 3 == 1:
                return f"Q{(start.month - 1) // 3 + 1} {start.year}"
            if months == 12 and start.month == 1:
                return str(start.year)
            return f"{start:%B %Y} to {last:%B %Y}" if months > 1 else describe(start, end)
    return describe(start, end)


def same_days(
    current: tuple[date, date], other: tuple[date, date], today: date
) -> tuple[tuple[date, date], tuple[date, date]] | None:
    """Two periods compared fairly: when one of them is not over yet (today falls inside it), both are
    cut to the days of it that have passed, counted on the calendar from each start: this month so far
    (1-7 Dec) against the same days of last month (1-7 Nov), this year so far against the same dates
    a year earlier. None when both periods are over (or neither has begun): compared whole."""
    tomorrow = today + timedelta(days=1)
    for running, rest in ((current, other), (other, current)):
        if running[0] < tomorrow <= running[1]:  # (this_week and ytd already end today)
            span = relativedelta(tomorrow, running[0])
            pair = ((running[0], tomorrow), (rest[0], min(rest[1], rest[0] + span)))
            if pair == (running, rest):
                return None  # its last day: two whole months (years) are compared whole
            return pair if running is current else (pair[1], pair[0])
    return None


def bucket_range(label: str, grain: str) -> tuple[date, date] | None:
    """The half-open dates of a trend's time bucket ('2026-11' -> 1 Nov to 1 Dec 2026); None if unreadable."""
    try:
        if grain in ("day", "week"):
            start = date.fromisoformat(label)
            return start, start + timedelta(days=1 if grain == "day" else 7)
        if grain == "month":
            start = date.fromisoformat(label + "-01")
            return start, start + relativedelta(months=1)
        if grain == "quarter":
            year, q = label.split("-Q")
            start = date(int(year), 3 * (int(q) - 1) + 1, 1)
            return start, start + relativedelta(months=3)
        if grain == "year":
            return date(int(label), 1, 1), date(int(label) + 1, 1, 1)
    except (ValueError, TypeError):
        return None
    return None


def days_words(start: date, end: date, today: date) -> str:
    """A half-open range as people say it: '1–7 Dec', '1 Jan–7 Dec', '25 Dec 2025–7 Jan 2026' (the year
    when it is not today's), '7 Dec' for one day."""
    last = end - timedelta(days=1)
    year = "" if start.year == last.year == today.year else f" {last.year}"
    if start == last:
        return f"{start.day} {start:%b}{year}"
    if start.year != last.year:
        return f"{start.day} {start:%b %Y}–{last.day} {last:%b %Y}"
    if start.month == last.month:
        return f"{start.day}–{last.day} {last:%b}{year}"
    return f"{start.day} {start:%b}–{last.day} {last:%b}{year}"
