"""Ticket intents: view, update (status or comment) and create ("escalate these")."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import CREATE_TICKET, UPDATE_TICKET, VIEW_TICKETS

from ..intent import Intent
from .lexicon import TICKET_STATUS_RE
from .patterns import (
    COMMENT,
    CREATE,
    EXAMPLE,
    EXPORT,
    FIXED,
    NOTIFY_OFF,
    NOTIFY_ON,
    PRIORITY,
    QUESTION,
    RECORD_REF,
    STATED,
    TICKET_IT,
    TICKET_REF,
    TICKET_WORD,
    TITLE,
    UPDATE_VERB,
    WHEN_FIXED,
)
from .slots import ticket_id_of
from .turn import Turn, clarify

IT_OR_THAT = re.compile(r"\b(?:it|this|that)\b")
UNASSIGN = re.compile(r"\b(?:unassign|un-assign|deassign)\b|\bremove (?:the )?assignee\b")
ASSIGN = re.compile(r"\b(?:re-?)?assign(?:ed)?\b.*?\bto\s+(?P<who>[a-z][\w.-]*(?:\s+[a-z][\w.-]*)?)\s*[.!?]*$")


def tickets(turn: Turn) -> Intent | None:
    t, core, ctx, s = turn.t, turn.core, turn.ctx, turn.slots
    tid = ticket_id_of(turn.ticket_match) if turn.ticket_match else None
    if not tid and ctx.last_ticket_id and IT_OR_THAT.search(t) and (ASSIGN.search(t) or UNASSIGN.search(t)):
        return assignment(turn, None)  # "assign it to victor" after a ticket
    if not (TICKET_WORD.search(t) or tid or (TICKET_IT.match(core) and not s.has_filter and not s.dataset)):
        return None
    if EXPORT.search(t) and not CREATE.search(t) and (tid or FIXED.search(t)):
        return None  # "download the fixed report", "export T-00001": an export
    if CREATE.search(t) and not tid:
        return create_ticket(turn)
    if (assigned := assignment(turn, tid)) is not None:
        return assigned
    is_update = bool(UPDATE_VERB.search(core) or STATED.search(core)) and not (
        QUESTION.match(core) and not UPDATE_VERB.match(core)
    )
    ticket_ref = (
        {"ticket": "previous"} if not tid and TICKET_REF.search(t) and (ctx.last_ticket_id or ctx.open_tickets) else {}
    )
    if is_update:
        if not tid and not ticket_ref:
            return clarify(
                "Which ticket? Give me its id, for example 'mark T-00001 as resolved'.",
                "ticket update without a ticket",
                0.5,
            )
        params: dict[str, Any] = {"ticket_id": tid} if tid else {}
        cm = COMMENT.search(turn.original.lower())
        if cm:
            params["comment"] = turn.original[cm.start(1) : cm.end(1)].strip()
        status_text = t[: cm.start()] if cm else t
        for rx, st in TICKET_STATUS_RE:
            if rx.search(status_text.replace("ticket", "")):
                params["status"] = st
                break
        if "status" not in params and "comment" not in params:
            return clarify(
                "What should I change on that ticket: its status (open, in progress, resolved, closed) or a comment?",
                "ticket update without a status or comment",
                0.5,
            )
        return turn.tool(UPDATE_TICKET, params, ticket_ref, 0.9, "update ticket")
    params = {"ticket_id": tid} if tid else {}
    if not tid and not (ticket_ref and not re.search(r"\btickets\b", t)):  # "is my ticket fixed?" is about that one
        ticket_ref = {}
        for rx, st in TICKET_STATUS_RE:
            if rx.search(t):
                params["status"] = st
                break
    return turn.tool(VIEW_TICKETS, params, ticket_ref if not params else {}, 0.9, "view tickets")


def assignment(turn: Turn, tid: str | None) -> Intent | None:
    """ "assign T-00001 to victor", "unassign that ticket": update_ticket with an assignee ('' unassigns)."""
    core = turn.original.strip()
    unassign = UNASSIGN.search(core.lower())
    found = None if unassign else ASSIGN.search(core.lower())
    if not (unassign or found):
        return None
    ctx = turn.ctx
    ticket_ref = {"ticket": "previous"} if not tid and (ctx.last_ticket_id or ctx.open_tickets) else {}
    if not tid and not ticket_ref:
        return clarify(
            "Which ticket? Give me its id, for example 'assign T-00001 to victor'.", "assignment without a ticket", 0.5
        )
    who = "" if unassign or found is None else core[found.start("who") : found.end("who")].strip(" .!?")
    params: dict[str, Any] = {"ticket_id": tid} if tid else {}
    params["assignee"] = who
    return turn.tool(UPDATE_TICKET, params, ticket_ref, 0.9, "unassign ticket" if unassign else "assign ticket")


def escalate(turn: Turn) -> Intent | None:
    """ "escalate these", "raise a ticket": a ticket without the word ticket being the subject."""
    return create_ticket(turn) if CREATE.search(turn.t) else None


def create_ticket(turn: Turn) -> Intent:
    t, original, ctx, has_ref = turn.t, turn.original, turn.ctx, turn.has_records_ref
    params: dict[str, Any] = {}
    if NOTIFY_OFF.search(t):
        params["notify_me"] = False
    elif NOTIFY_ON.search(t):
        params["notify_me"] = True
        if WHEN_FIXED.search(t):  # "tell me when it's fixed": the fix, not every comment
            params["notify_on"] = "resolved"
    for rx, pr in PRIORITY:
        if rx.search(t):
            params["priority"] = pr
            break
    tm = TITLE.search(original.lower())
    title = None
    if tm:
        g = 1 if tm.group(1) else 2
        title = original[tm.start(g) : tm.end(g)].strip(" .")
        title = re.split(r"\s+and (?:notify|let|tell|keep|alert|ping|mark|make)\b", title, flags=re.I)[0]
        if RECORD_REF.fullmatch(title.lower()) or not re.search(r"[a-z]", title.lower()) or len(title) < 3:
            title = None
    if title:
        params["title"] = title
    if has_ref or not title:
        if not ctx.last_result:
            if has_ref:
                return clarify(
                    f"Which invoices do you mean? I don't have an earlier result here; tell me the filter, {EXAMPLE}.",
                    "ticket for 'these' with nothing to refer to",
                    0.5,
                )
            if not title:
                return clarify(
                    "What is the ticket about? Filter the invoices first (for example 'failed IndiSky invoices "
                    "from last month') and say 'create a ticket for these', or give it a title.",
                    "ticket with no subject",
                    0.5,
                )
        else:
            return turn.tool(
                CREATE_TICKET,
                params,
                {"records": "previous"},
                0.9 if has_ref else 0.8,
                "create a ticket for the previous result",
            )
    return turn.tool(CREATE_TICKET, params, conf=0.85, why="create a ticket")
