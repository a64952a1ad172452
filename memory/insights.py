"""What memory knows about a user's habits: usage patterns, frequent requests and open items.

`GET /memory/{user_id}/insights` (server/per_user.py) shows it. Usage patterns are the working
context's (memory/context.py `usage`); frequent requests group the user's past requests by the tool
and parameters they ran with, so "failed IndiSky invoices last month" and "Filter invoices for last
month, vendor=IndiSky, status=failed" count as one; open items are the tickets the user follows that
are not closed, and their unread notifications.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from business_data.appdb import MemoryTurn, Notification, Ticket
from business_data.db import session_scope
from tools.rbac import Identity
from tools.tickets import followed_by, ticket_dict

from .context import usage
from .episodic import EpisodicMemory
from .narrate import iso

SCAN = 500  # recent requests read for the frequent-requests count


def frequent_requests(episodic: EpisodicMemory, identity: Identity, top: int = 5, scan: int = SCAN) -> list[dict]:
    """The user's most repeated requests (same tool, same parameters), most frequent first; each with
    the latest wording, how often and when last."""
    T = MemoryTurn
    with session_scope(episodic.engine) as s:
        rows = s.execute(
            select(T.text, T.tool, T.params, T.created_at)
            .where(
                T.user_id == identity.user_id,
                T.workspace_id == identity.workspace_id,
                T.speaker == "user",
                T.tool.is_not(None),
            )
            .order_by(T.id.desc())
            .limit(scan)
        ).all()
    counts: Counter = Counter()
    latest: dict[str, Any] = {}
    for r in rows:  # newest first: the first row of a group is its latest wording
        key = f"{r.tool} {json.dumps(r.params or {}, sort_keys=True, default=str)}"
        counts[key] += 1
        latest.setdefault(key, r)
    return [
        {
            "request": latest[k].text,
            "tool": latest[k].tool,
            "params": latest[k].params or {},
            "count": n,
            "last_at": iso(latest[k].created_at),
        }
        for k, n in counts.most_common(top)
    ]


def open_items(episodic: EpisodicMemory, identity: Identity, limit: int = 50) -> dict:
    """Tickets the user created or follows that are not closed (newest change first), and unread notifications."""
    with session_scope(episodic.engine) as s:
        tickets = [
            ticket_dict(t)
            for t in s.scalars(
                select(Ticket)
                .where(followed_by(identity), Ticket.status != "closed")
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                .limit(limit)
            )
        ]
        notes = [
            {"id": n.id, "ticket_id": n.ticket_id, "message": n.message, "created_at": iso(n.created_at)}
            for n in s.scalars(
                select(Notification)
                .where(
                    Notification.user_id == identity.user_id,
                    Notification.workspace_id == identity.workspace_id,
                    Notification.read_at.is_(None),
                )
                .order_by(Notification.id.desc())
                .limit(limit)
            )
        ]
    return {"open_tickets": tickets, "unread_notifications": notes}


def insights(episodic: EpisodicMemory, identity: Identity) -> dict:
    """Usage patterns, frequent requests and open items of one user in their current workspace."""
    use = usage(episodic, identity)
    use.pop("_last_seen", None)
    use.pop("history_elsewhere", None)
    T = MemoryTurn
    with session_scope(episodic.engine) as s:
        threads, requests, first, last = s.execute(
            select(
                func.count(func.distinct(T.thread_id)), func.count(), func.min(T.created_at), func.max(T.created_at)
            ).where(T.user_id == identity.user_id, T.workspace_id == identity.workspace_id, T.speaker == "user")
        ).one()
    return {
        "user_id": identity.user_id,
        "workspace_id": identity.workspace_id,
        "usage": {**use, "threads": threads, "requests": requests, "first_at": iso(first), "last_at": iso(last)},
        "frequent_requests": frequent_requests(episodic, identity),
        "open_items": open_items(episodic, identity),
    }
