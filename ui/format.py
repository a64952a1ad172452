"""How the web app writes money, times and long names (Babel for Indian-style money)."""

from __future__ import annotations

from datetime import datetime, UTC

from babel.numbers import format_compact_currency, format_currency


def money(amount: float | int | None) -> str:
    """₹4,49,977 (lakh grouping, whole rupees)."""
    if amount is None:
        return "–"
    return format_currency(round(float(amount)), "INR", locale="en_IN", format="¤#,##,##0", currency_digits=False)


def money_short(amount: float | int | None) -> str:
    """₹4.5L, ₹3.8Cr: for figures at a glance."""
    if amount is None:
        return "–"
    return format_compact_currency(float(amount), "INR", locale="en_IN", fraction_digits=1)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def ago(value: str | None, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '3 hours ago', 'yesterday', '4 days ago', '12 Nov 2026'."""
    dt = parse_time(value)
    if dt is None:
        return "some time ago"
    now = now or datetime.now(UTC)
    seconds = max(0.0, (now - dt).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        n = int(seconds // 60)
        return f"{n} minute{'s' if n != 1 else ''} ago"
    if seconds < 86400:
        n = int(seconds // 3600)
        return f"{n} hour{'s' if n != 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return dt.strftime("%d %b %Y")


def short(text: str | None, limit: int = 40) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
