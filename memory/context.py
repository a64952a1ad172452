"""The working context of one turn: what the router and the answer may need to know about this user.

Recent turns and result sets (episodic), related earlier turns (semantic), the user's open tickets
and unread notifications, simple usage patterns, and a "welcome back" line for a returning user.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta, UTC

from typing import Any, TypedDict, cast

from sqlalchemy import Table, bindparam, func, select

from business_data.appdb import Notification, Ticket
from tools.detectors.store import list_findings, summarise
from tools.rbac import Identity
from tools.registry import spec
from tools.results import TicketRecord
from tools.tickets import followed_by, ticket_dict
from tools.toolnames import EXPLAIN_FAILURES, EXPORT_REPORT, FILTER_DATA

from .episodic import OWN_TURNS, EpisodicMemory, ResultRef, caller_params
from business_data.appdb import MemoryTurn
from .narrate import aware, iso, welcome_line, when
from .semantic import SemanticIndex

log = logging.getLogger(__name__)

RELATED_MIN_SCORE = 0.35  # cosine similarity below which a memory is not "related"
RETURN_AFTER = timedelta(minutes=30)  # a new thread after this long away is a return: it gets a welcome


# the queries every turn makes, built once (building them cost more than running them); their bind
# parameters are the caller's user_id and workspace_id ("your tickets": own or followed, even for an Admin)
_TICKETS = cast(Table, Ticket.__table__)
_OPEN_TICKETS = (
    select(_TICKETS)
    .where(followed_by(), Ticket.status != "closed")
    .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    .limit(50)
)
_NOTED_TICKETS = select(_TICKETS).where(followed_by(), Ticket.ticket_id.in_(bindparam("noted", expanding=True)))
_N = cast(Table, Notification.__table__).c
_UNREAD = (
    select(_N.id, _N.ticket_id, _N.message, _N.created_at)
    .where(_N.user_id == bindparam("user_id"), _N.workspace_id == bindparam("workspace_id"), _N.read_at.is_(None))
    .order_by(_N.id.desc())
    .limit(20)
)


class Notice(TypedDict):
    """An unread notification."""

    id: int
    ticket_id: str | None
    message: str
    created_at: str | None  # ISO 8601, UTC


class WorkingContext(TypedDict):
    """Everything a turn may need to know about this user (`working_context`)."""

    recent_turns: list[dict[str, Any]]  # this thread's latest turns (episodic turn_dict), newest first
    last_results: list[ResultRef]  # the newest result sets, across threads
    related: list[dict[str, Any]]  # related earlier turns (semantic search: text, thread_id, score, ...)
    open_tickets: list[TicketRecord]  # the caller's own or followed tickets, not closed (tools.tickets.ticket_dict)
    unread_notifications: list[Notice]
    usage: dict[str, Any]  # most-used tools, vendors, datasets (`usage`)
    welcome: str | None  # the "welcome back" line, once per return


def findings_since(engine, identity: Identity, since: datetime, now: datetime | None = None) -> str | None:
    """'Since yesterday: 2 possible duplicate payments, ₹3.4 lakh.' (open findings first seen since)."""
    try:
        rows = list_findings(engine, identity, since=since)
    except Exception:  # memory must never break a turn
        log.exception("findings for the welcome line")
        return None
    if not rows:
        return None
    day = when(since, now)
    phrase = {"today": "Since you were last here", "yesterday": "Since yesterday"}.get(day, f"Since {day[3:]}")
    return f"{phrase}: {summarise(rows)}."


def working_context(
    episodic: EpisodicMemory,
    semantic: SemanticIndex,
    identity: Identity,
    thread_id: str,
    text: str = "",
    *,
    is_new_thread: bool = False,
    now: datetime | None = None,
    light: bool = False,
) -> WorkingContext:
    """Everything a turn may need. `light` (a continuing thread whose router doesn't read them)
    skips the related-memory search, usage patterns, recent turns and result sets (the
    checkpoint has the thread's own; the graph asks last_result_sets when it needs older ones)."""
    full = is_new_thread or not light
    recent = episodic.recent_turns(identity, thread_id, limit=10) if full else []
    last_results = episodic.last_result_sets(identity, limit=5) if full else []
    related: list[dict] = []
    if text and text.strip() and full:
        try:
            related = semantic.search(
                identity,
                text,
                k=3,
                exclude_thread=thread_id,
                min_score=RELATED_MIN_SCORE if semantic.enabled else None,
                wait_for_model=False,
            )
        except Exception:  # memory must never break a turn
            log.exception("related-memory search failed")
    caller = caller_params(identity)
    # plain rows on one connection (no ORM session: this runs on every turn); ticket_dict reads a row as it reads a Ticket
    with episodic.engine.connect() as conn:
        open_tickets = [ticket_dict(t) for t in conn.execute(_OPEN_TICKETS, caller)]
        rows = conn.execute(_UNREAD, caller).all()
        unread: list[Notice] = [
            {"id": n.id, "ticket_id": n.ticket_id, "message": n.message, "created_at": iso(n.created_at)} for n in rows
        ]
        noted = {n["ticket_id"] for n in unread if n["ticket_id"]}
        note_tickets = (
            {str(t.ticket_id): ticket_dict(t) for t in conn.execute(_NOTED_TICKETS, {**caller, "noted": list(noted)})}
            if noted
            else {}
        )
    use = usage(episodic, identity, str(thread_id)) if full else {}
    welcome = None
    last_seen = aware(use.pop("_last_seen", None)) if use else None
    away = last_seen is not None and (aware(now) or datetime.now(UTC)) - last_seen >= RETURN_AFTER
    # once per return: news not yet told, or the first new thread after a break (not every new thread)
    if is_new_thread and (note_tickets or away):
        lr = [{**r, "_created_at": datetime.fromisoformat(str(r["created_at"]))} for r in last_results]
        notes = [{**n, "_created_at": r.created_at} for n, r in zip(unread, rows)]
        welcome = welcome_line(
            notifications=notes, tickets=note_tickets, open_tickets=open_tickets, last_results=lr, now=now
        )
    if is_new_thread and away and last_seen is not None:
        found = findings_since(episodic.engine, identity, last_seen, now)
        if found:
            welcome = f"{welcome} {found}" if welcome else found
    return {
        "recent_turns": recent,
        "last_results": last_results,
        "related": related,
        "open_tickets": open_tickets,
        "unread_notifications": unread,
        "usage": use,
        "welcome": welcome,
    }


_T = cast(Table, MemoryTurn.__table__).c
_EXCHANGES = (
    select(
        _T.id,
        _T.tool,
        _T.params["vendor"].as_string().label("vendor"),
        _T.params["dataset"].as_string().label("dataset"),
    )
    .where(*OWN_TURNS, _T.speaker == "assistant", _T.tool.is_not(None))
    .order_by(_T.id.desc())
    .limit(bindparam("scan"))
    .subquery()
)
# the last `scan` tool exchanges grouped in the database (no JSON parsed in Python), newest group first
_USAGE = (
    select(_EXCHANGES.c.tool, _EXCHANGES.c.vendor, _EXCHANGES.c.dataset, func.count(), func.max(_EXCHANGES.c.id))
    .group_by(_EXCHANGES.c.tool, _EXCHANGES.c.vendor, _EXCHANGES.c.dataset)
    .order_by(func.max(_EXCHANGES.c.id).desc())
)
# is there any history outside this thread? (an indexed probe, not a count of everything)
_ELSEWHERE = (
    select(_T.id, _T.created_at)
    .where(*OWN_TURNS, _T.thread_id != bindparam("thread_id"))
    .order_by(_T.id.desc())
    .limit(1)
)


def _topic(tool: str) -> str:
    """A tool as "What I ask about" lists it: its declared topic ("lists of records")."""
    declared = spec(tool)
    return declared.topic if declared is not None and declared.topic else tool.replace("_", " ")


def usage(episodic: EpisodicMemory, identity: Identity, thread_id: str | None = None, scan: int = 200) -> dict:
    """Simple patterns over the user's last `scan` tool exchanges: most-used tools, vendors, datasets
    (ties: the most recently used first)."""
    caller = caller_params(identity)
    with episodic.engine.connect() as conn:
        groups = conn.execute(_USAGE, {**caller, "scan": scan}).all()
        elsewhere = conn.execute(_ELSEWHERE, {**caller, "thread_id": str(thread_id)}).first()
    tools: Counter[str] = Counter()
    vendors: Counter[str] = Counter()
    datasets: Counter[str] = Counter()
    for tool, vendor, dataset, n, _newest in groups:
        tools[tool] += n
        if vendor:
            vendors[vendor] += n
        ds = dataset or ("invoices" if tool in (FILTER_DATA, EXPLAIN_FAILURES, EXPORT_REPORT) else None)
        if ds:
            datasets[ds] += n
    top = lambda c: [{"name": k, "count": v} for k, v in c.most_common(3)]  # noqa: E731
    return {
        "tools": [{**t, "label": _topic(t["name"])} for t in top(tools)],
        "vendors": top(vendors),
        "datasets": top(datasets),
        "exchanges": sum(tools.values()),
        "history_elsewhere": elsewhere is not None,
        "_last_seen": elsewhere.created_at if elsewhere else None,
    }
