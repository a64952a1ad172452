"""Times as people read them, in the workspace's time zone (FINKRAFT_TIMEZONE, default Asia/Kolkata,
the same setting the API uses): '07 Dec 2026, 17:42 IST', never UTC ISO with microseconds."""

from __future__ import annotations

import os
from datetime import datetime, UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Kolkata"


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(os.environ.get("FINKRAFT_TIMEZONE") or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def moment(value: str | datetime | None) -> datetime | None:
    """An API time (ISO, UTC when it names no zone) in the workspace's time zone; None if it is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone())


def local(value: str | datetime | None, with_seconds: bool = False) -> str:
    """'07 Dec 2026, 17:42 IST' ('' for no time)."""
    m = moment(value)
    if m is None:
        return ""
    return m.strftime("%d %b %Y, %H:%M:%S %Z" if with_seconds else "%d %b %Y, %H:%M %Z")
