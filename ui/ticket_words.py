"""A ticket's history in words ("Maya Menon moved it from Open to In progress · 7 Dec, 14:05"), in
the workspace's local time (FINKRAFT_TIMEZONE, default Asia/Kolkata, as on the API)."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .format import parse_time
from schema.tickets import TicketEvent

LABEL = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved", "closed": "Closed"}


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(os.environ.get("FINKRAFT_TIMEZONE") or "Asia/Kolkata")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Kolkata")


def local_time(value: str | None) -> str:
    """'7 Dec 2026, 14:05' in the workspace's time zone (no seconds, no offset)."""
    dt = parse_time(value)
    if dt is None:
        return "at an unknown time"
    local = dt.astimezone(zone())
    return f"{local.day} {local:%b %Y, %H:%M}"


def status_change(who: str, old: str | None, new: str) -> str:
    if old is None:
        return f"{who} opened the ticket"
    if new == "closed":
        return f"{who} closed it"
    if new == "resolved":
        return f"{who} marked it resolved"
    if new == "open" and old in ("resolved", "closed"):
        return f"{who} reopened it"
    return f"{who} moved it from {LABEL.get(old, old)} to {LABEL.get(new, new)}"


def assignment(who: str, h: TicketEvent) -> str:
    before = h.assignee_from_name or h.assignee_from
    after = h.assignee_to_name or h.assignee_to
    if after and before:
        return f"{who} reassigned it from {before} to {after}"
    if after:
        return f"{who} assigned it to {after}"
    return f"{who} unassigned {before}"


def event(h: TicketEvent) -> str:
    """One history entry as a sentence (markdown-free; the caller escapes and styles it)."""
    who = h.author_name or h.author or "Someone"
    parts = []
    if h.status_to:
        parts.append(status_change(who, h.status_from, h.status_to))
    if h.assignee_from != h.assignee_to:
        parts.append(assignment(who if not parts else "", h).strip())
    comment = (h.comment or "").strip()
    opened = bool(h.status_to) and not h.status_from
    if comment and not opened:
        parts.append(f"wrote: “{comment}”" if parts else f"{who} wrote: “{comment}”")
    return " and ".join(parts) if parts else f"{who} updated it"
