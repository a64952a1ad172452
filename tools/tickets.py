"""Tickets, subscriptions ("notify me when fixed") and notifications, in the application database."""

from __future__ import annotations

import re
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, bindparam, delete, or_, select, true
from sqlalchemy.exc import IntegrityError

from business_data.appdb import Ticket, TicketComment, TicketSubscription
from business_data.db import retry_on_conflict, session_scope

from .base import Source, ToolContext, ToolError, ToolNotFound, ToolResult, ToolSpec
from .fixed_report import record_states
from . import tables
from .money import money
from .rbac import Identity
from .results import TicketData, TicketRecord, TicketsData

TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
NO_TITLE = (
    "What is the ticket about? Give it a title, or filter some invoices first and say 'create a ticket for these'."
)


_TICKET_ID = re.compile(r"#?(?:T-?\s?)?([0-9]{1,10})")  # ASCII digits only: "９" is not ticket 9


def ticket_id_or_none(v: object) -> str | None:
    """The canonical id if `v` names a ticket ("t-00001", " T-1 ", "T1", "#1", "1" -> "T-00001"), else None."""
    m = _TICKET_ID.fullmatch(str(v).strip().upper())
    return f"T-{int(m.group(1)):05d}" if m else None


def normalise_ticket_id(v: object) -> str:
    """The one ticket-id normaliser (tools, memory, parser): the canonical id, or the text stripped and
    upper-cased when it isn't one (a lookup then says "not found")."""
    return ticket_id_or_none(v) or str(v).strip().upper()


class CreateTicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=300, description="short title; generated from the records if omitted")
    description: str | None = Field(None, max_length=5000)
    invoice_numbers: list[str] = Field(
        default_factory=list, max_length=10_000, description="the invoices this ticket is about"
    )
    notify_me: bool = Field(True, description="notify the creator when the ticket is updated or fixed")
    notify_on: Literal["any", "resolved"] = Field(
        "any", description="'resolved': only when it is fixed; 'any': every update"
    )
    priority: Literal["low", "medium", "high"] = "medium"
    request_key: str | None = Field(
        None, max_length=64, description="idempotency key: a repeat returns the first ticket"
    )


class ViewTicketsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: TicketStatus | None = None
    ticket_id: str | None = None


def ticket_dict(t: Ticket | Row[Any]) -> TicketRecord:
    """A ticket (or a row of the tickets table) as the dict answers carry."""
    return {
        "ticket_id": cast(str, t.ticket_id),  # set when the ticket is made: a stored ticket always has one
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": t.priority,
        "workspace_id": t.workspace_id,
        "created_by": t.created_by,
        "record_type": t.record_type,
        "record_ids": list(t.record_ids or []),
        "created_at": t.created_at.isoformat() if t.created_at else None,
        "updated_at": t.updated_at.isoformat() if t.updated_at else None,
        "assignee": t.assignee,
    }


def summarise_records(ctx: ToolContext, numbers: list[str]) -> tuple[str, str, list[str]]:
    """Title and description from the invoices themselves (and check they exist here)."""
    from .runner import run_records  # through the one compiler: the caller's workspace, any data model
    from .semantic import Filter, SemanticQuery

    q = SemanticQuery(dataset="invoices", filters=[Filter(field="invoice_number", op="in", value=list(numbers))])
    with session_scope(ctx.business) as s:
        found_rows = run_records(
            s.connection(),
            ctx.data_model,
            q.but(workspace=None),
            ctx.identity,
            ctx.today,
            limit=max(1, len(numbers)),
            key_cap=max(1, len(numbers)),
        ).rows
    rows = [
        (r["invoice_number"], r.get("vendor"), r.get("status"), r.get("error_message"), r.get("total_amount") or 0)
        for r in found_rows
    ]
    found = {r[0] for r in rows}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise ToolError(
            f"These invoices are not in your workspace: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            + "."
        )
    vendors: list[str] = sorted({r[1] for r in rows if r[1] is not None})
    reasons = sorted({r[3] for r in rows if r[3]})
    failed = sum(1 for r in rows if r[2] == "failed")
    who = vendors[0] if len(vendors) == 1 else f"{len(vendors)} vendors"
    what = f"{len(rows)} invoices failed" if failed == len(rows) else f"{len(rows)} invoices"
    why = (
        f", {' / '.join(reasons)}"
        if reasons and len(reasons) <= 2
        else (f", {len(reasons)} reasons" if reasons else "")
    )
    title = f"{who}: {what}{why}"
    amount = sum(r[4] for r in rows)
    desc = (
        f"{len(rows)} invoice(s) from {', '.join(vendors)} worth {money(amount)}"
        + (f"; reasons: {', '.join(reasons)}" if reasons else "")
        + f". Invoices: {', '.join(sorted(found))}."
    )
    return title, desc, sorted(found)


def _already_created(ctx: ToolContext, request_key: str) -> ToolResult | None:
    """The ticket this confirmed request already made (a resume after a crash, or a concurrent repeat)."""
    with session_scope(ctx.app) as s:
        existing = s.scalars(
            select(Ticket).where(Ticket.request_key == request_key, Ticket.created_by == ctx.identity.user_id)
        ).one_or_none()
        if existing is None:
            return None
        ticket = ticket_dict(existing)
    data: TicketData = {"ticket": ticket, "ticket_id": ticket["ticket_id"], "repeated": True}
    return ToolResult(
        status="success",
        message=f'Created ticket {ticket["ticket_id"]}: "{ticket["title"]}".',
        data=dict(data),
        sources=[Source(table="tickets", filters={"ticket_id": ticket["ticket_id"]}, rows=1)],
    )


def _insert_ticket(
    ctx: ToolContext, p: CreateTicketParams, title: str, desc: str | None, numbers: list[str]
) -> TicketRecord:
    with session_scope(ctx.app) as s:
        t = Ticket(
            request_key=p.request_key,
            workspace_id=ctx.identity.workspace_id,
            created_by=ctx.identity.user_id,
            title=title.strip(),
            description=(desc or "").strip(),
            status="open",
            priority=p.priority,
            record_type="invoices",
            record_ids=numbers,
            record_snapshot=record_states(ctx, numbers) or None,  # the fixed report's "then"
        )
        s.add(t)
        s.flush()  # the database assigns the id: unique across processes
        t.ticket_id = normalise_ticket_id(t.id)
        s.flush()
        if p.notify_me:
            s.add(
                TicketSubscription(
                    ticket_id=t.ticket_id,
                    user_id=ctx.identity.user_id,
                    workspace_id=t.workspace_id,
                    notify_on=p.notify_on,
                )
            )
        s.add(
            TicketComment(
                ticket_id=t.ticket_id, author=ctx.identity.user_id, comment="Ticket created", status_to="open"
            )
        )
        data = ticket_dict(t)
    return data


@retry_on_conflict  # one transaction, no side effect outside it: safe to run again on a deadlock
def create_ticket(ctx: ToolContext, p: CreateTicketParams) -> ToolResult:
    numbers = list(dict.fromkeys(n.strip() for n in p.invoice_numbers if n.strip()))
    title, desc = p.title, p.description
    if numbers:
        auto_title, auto_desc, numbers = summarise_records(ctx, numbers)
        title = title or auto_title
        desc = desc or auto_desc
    if not title:
        raise ToolError(NO_TITLE)
    if p.request_key and (done := _already_created(ctx, p.request_key)) is not None:
        return done
    try:
        ticket = _insert_ticket(ctx, p, title, desc, numbers)
    except IntegrityError:
        # a concurrent create with the same request_key won the race: answer with its ticket
        if p.request_key and (done := _already_created(ctx, p.request_key)) is not None:
            return done
        raise
    ticket["subscribed"] = p.notify_me
    msg = f'Created ticket {ticket["ticket_id"]}: "{ticket["title"]}"'
    if numbers:
        msg += f", covering {len(numbers)} invoice{'s' if len(numbers) != 1 else ''}"
    msg += "." + (
        (
            " I'll notify you when it is fixed."
            if p.notify_on == "resolved"
            else " I'll notify you when it is updated or fixed."
        )
        if p.notify_me
        else ""
    )
    data: TicketData = {"ticket": ticket, "ticket_id": ticket["ticket_id"]}
    return ToolResult(
        status="success",
        message=msg,
        data=dict(data),
        sources=[Source(table="tickets", filters={"ticket_id": ticket["ticket_id"]}, rows=1)],
    )


def followed_by(identity: Identity | None = None):
    """The user's own tickets: created by them or followed ("notify me"), in their workspace, whatever their
    role (the working context's open tickets and the welcome line speak of these). Without `identity`:
    the same condition on the bind parameters `user_id` and `workspace_id`, for a statement built once."""
    user = identity.user_id if identity else bindparam("user_id")
    workspace = identity.workspace_id if identity else bindparam("workspace_id")
    subscribed = select(TicketSubscription.ticket_id).where(
        TicketSubscription.user_id == user, TicketSubscription.workspace_id == workspace
    )
    return (
        (Ticket.workspace_id == workspace)
        & Ticket.ticket_id.is_not(None)
        & or_(Ticket.created_by == user, Ticket.ticket_id.in_(subscribed))
    )


def visible_to(identity: Identity):
    """The tickets a user may see: every ticket for an Admin, their own (followed_by) for anyone else.
    view_tickets, update_ticket, export_report and memory's "that ticket" all use this one rule."""
    return true() if identity.is_admin else followed_by(identity)


def find_visible_ticket(s, identity: Identity, ticket_id: str) -> Ticket | None:
    return s.scalars(select(Ticket).where(Ticket.ticket_id == ticket_id, visible_to(identity))).one_or_none()


def get_visible_ticket(ctx: ToolContext, s, ticket_id: str) -> Ticket:
    t = find_visible_ticket(s, ctx.identity, ticket_id)
    if t is None:
        raise ToolNotFound(f"I can't find ticket {ticket_id} among the tickets you can see.")
    return t


def view_tickets(ctx: ToolContext, p: ViewTicketsParams) -> ToolResult:
    with session_scope(ctx.app) as s:
        q = select(Ticket).where(visible_to(ctx.identity), Ticket.ticket_id.is_not(None))
        if p.status:
            q = q.where(Ticket.status == p.status)
        if p.ticket_id:
            q = q.where(Ticket.ticket_id == normalise_ticket_id(p.ticket_id))
        tickets = [ticket_dict(t) for t in s.scalars(q.order_by(Ticket.id.desc()).limit(200))]
    if not tickets:
        msg = "You have no tickets" + (f" with status {p.status}" if p.status else "") + "."
    else:
        lines = [f"{t['ticket_id']} [{t['status']}] {t['title']}" for t in tickets[:10]]
        msg = (
            f"{len(tickets)} ticket{'s' if len(tickets) != 1 else ''}: "
            + "; ".join(lines)
            + ("; ..." if len(tickets) > 10 else "")
        )
    data: TicketsData = {"tickets": tickets, "count": len(tickets), "table": tables.tickets_table(tickets)}
    return ToolResult(
        status="success",
        message=msg,
        data=dict(data),
        sources=[Source(table="tickets", filters={"status": p.status} if p.status else {}, rows=len(tickets))],
    )


def end_subscriptions_elsewhere(session, user_id: str, workspace_id: str) -> int:
    """A user moved to `workspace_id` stops following the tickets of every other workspace (in
    `session`'s transaction, with the move). Their notifications stay, read only in their workspace."""
    return session.execute(
        delete(TicketSubscription).where(
            TicketSubscription.user_id == user_id, TicketSubscription.workspace_id != workspace_id
        )
    ).rowcount


# -- declarations ----------------------------------------------------------------------------
def create_question(ctx: ToolContext, p: CreateTicketParams) -> str:
    title = p.title
    if not title and p.invoice_numbers:
        title, _, _ = summarise_records(ctx, list(p.invoice_numbers))
    if not title:
        raise ToolError(NO_TITLE)
    return f"Create ticket '{title}' for {ctx.identity.user_id}?"


EVERYONE = ("Viewer", "Manager", "Admin")
TOOLS = [
    ToolSpec(
        "create_ticket",
        "Open a ticket about a set of records, optionally notifying you when it is updated or fixed.",
        CreateTicketParams,
        create_ticket,
        data_type=TicketData,
        roles=("Manager", "Admin"),
        action="create tickets",
        topic="new tickets",
        step="Created ticket {ticket_id}, {ms}.",
        progress="creating the ticket",
        writes=True,
        confirm=True,
        question=create_question,
        cancelled="create the ticket",
        phrases=("create a ticket and notify me when fixed", "raise a high-priority ticket for these"),
        takes_records=True,
        records_by_default=True,
    ),
    ToolSpec(
        "view_tickets",
        "List tickets (your own; an Admin sees all).",
        ViewTicketsParams,
        view_tickets,
        data_type=TicketsData,
        roles=EVERYONE,
        action="view tickets",
        topic="your tickets",
        step="Looked up your tickets, {ms}; found {rows}.",
        progress="reading your tickets",
        phrases=("show my tickets", "is T-00001 fixed yet?"),
    ),
]
