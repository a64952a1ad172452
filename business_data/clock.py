"""What day it is for the business: the calendar of the workspace's time zone, not the server's.

Finance periods ("last month", "this financial year", "this week") turn over at midnight where the
people work. A server on UTC would otherwise still say 31 March at 05:00 on 1 April in India, and put
the first five and a half hours of every month, quarter and financial year in the previous one.
One setting, FINKRAFT_TIMEZONE (an IANA name, default Asia/Kolkata), is the time zone of every
workspace; `today()` is the one place that turns "now" into a business date.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Kolkata"


def zone(name: str | None = None) -> ZoneInfo:
    """The time zone called `name`, else the configured one (FINKRAFT_TIMEZONE)."""
    if name is None:
        from .settings import get_settings

        name = get_settings().timezone
    return ZoneInfo(name)


def now(tz: str | None = None) -> datetime:
    """This moment in the business's time zone (timezone-aware)."""
    return datetime.now(zone(tz))


def today(tz: str | None = None) -> date:
    """The business date now: the calendar day in the business's time zone, wherever the server runs."""
    return now(tz).date()


def valid_timezone(name: str) -> str:
    """`name` if it is a time zone this machine knows (settings validation), else a plain ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone I know; use an IANA name such as Asia/Kolkata or UTC") from None
    return name
