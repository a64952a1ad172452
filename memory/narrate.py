"""Plain-language bits for the working context: humanised dates, what a ticket is about, the welcome line."""

from __future__ import annotations

import re
from datetime import datetime, UTC

from business_data import clock
from tools.results import TicketRecord

_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def iso(dt: datetime | None) -> str | None:
    dt = aware(dt)
    return dt.isoformat() if dt else None


def when(dt: datetime | None, now: datetime | None = None) -> str:
    """'today', 'yesterday', 'on Monday', 'on 3 March': calendar days in the business's time zone
    (FINKRAFT_TIMEZONE), not the server's."""
    dt = aware(dt)
    if dt is None:
        return "recently"
    now = aware(now) or datetime.now(UTC)
    local_now = now.astimezone(clock.zone())
    local = dt.astimezone(local_now.tzinfo)
    days = (local_now.date() - local.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {_WEEKDAYS[local.weekday()]}"
    text = f"on {local.day} {_MONTHS[local.month - 1]}"
    return text + (f" {local.year}" if local.year != local_now.year else "")


_FAILED = re.compile(r"^(?P<who>.+?): (?P<n>\d+) invoices? failed", re.I)
_PLAIN = re.compile(r"^(?P<who>.+?): (?P<n>\d+) invoices?\b", re.I)


def ticket_about(title: str, record_ids: list | None = None) -> str:
    """'the 7 failed IndiSky Airlines invoices' from the titles tools.tickets generates; else the quoted title."""
    title = (title or "").strip()
    m = _FAILED.match(title)
    if m:
        n = int(m["n"])
        return f"the {n} failed {m['who']} invoice{'s' if n != 1 else ''}"
    m = _PLAIN.match(title)
    if m:
        n = int(m["n"])
        return f"the {n} {m['who']} invoice{'s' if n != 1 else ''}"
    if title:
        return f'"{title}"'
    n = len(record_ids or [])
    return f"{n} invoice{'s' if n != 1 else ''}" if n else "your request"


def describe_result(res: dict) -> str:
    """'7 failed invoices from IndiSky Airlines (last month)' from a result reference."""
    keys = res.get("keys") or []
    params = res.get("params") or {}
    dataset = res.get("dataset") or "records"
    n = len(keys)
    noun = dataset if n != 1 else dataset.rstrip("s")
    status = params.get("status")
    text = f"{n} {status + ' ' if status else ''}{noun}"
    if params.get("vendor"):
        text += f" from {params['vendor']}"
    if params.get("period"):
        text += f" ({str(params['period']).replace('_', ' ')})"
    return text


_STATUS_WORDS = {
    "resolved": "was resolved",
    "closed": "was closed",
    "in_progress": "is now in progress",
    "open": "was reopened",
}


def welcome_line(
    *,
    notifications: list[dict],
    tickets: dict[str, TicketRecord],
    open_tickets: list[TicketRecord],
    last_results: list[dict],
    now: datetime | None = None,
) -> str | None:
    """One or two short facts for a returning user, most important first. None when there is nothing to say."""
    parts: list[str] = []
    seen: set[str] = set()
    for n in notifications:  # newest first
        tid = n.get("ticket_id")
        if not tid or tid in seen or tid not in tickets:
            continue
        seen.add(tid)
        t = tickets[tid]
        about = ticket_about(t.get("title", ""), t.get("record_ids"))
        happened = when(n.get("_created_at"), now)
        verb = _STATUS_WORDS.get(str(t.get("status")), "has an update")
        if verb == "has an update":
            parts.append(f"your ticket {tid} about {about} has an update ({happened})")
        else:
            parts.append(f"your ticket {tid} about {about} {verb} {happened}")
        if len(parts) == 2:
            break
    still_open = [t for t in open_tickets if t.get("status") in ("open", "in_progress") and t["ticket_id"] not in seen]
    if still_open and len(parts) < 2:
        if len(still_open) == 1:
            t = still_open[0]
            parts.append(
                f"ticket {t['ticket_id']} about {ticket_about(t.get('title', ''), t.get('record_ids'))} is still {t['status'].replace('_', ' ')}"
            )
        else:
            ids = ", ".join(t["ticket_id"] for t in still_open[:3]) + (" and more" if len(still_open) > 3 else "")
            parts.append(f"you have {len(still_open)} open tickets ({ids})")
    if not parts and last_results:
        r = last_results[0]
        for older in last_results[1:]:  # "why did these fail" carries no filter: borrow it from the same records
            if older.get("keys") == r.get("keys") and len(older.get("params") or {}) > len(r.get("params") or {}):
                r = {**r, "params": older["params"]}
                break
        parts.append(f"last time ({when(r.get('_created_at'), now)}) you were looking at {describe_result(r)}")
    if not parts:
        return None
    return "Welcome back - " + "; ".join(parts) + "."
