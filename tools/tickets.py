"""Tickets, subscriptions ("notify me when fixed") and notifications, in the application database."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row, bindparam, delete, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from business_data.appdb import Notification, Ticket, TicketComment, TicketSubscription, User, utcnow
from business_data.db import retry_on_conflict, session_scope

from .base import Source, ToolContext, ToolDenied, ToolError, ToolNotFound, ToolResult, ToolSpec
from . import tables
from .money import money
from .rbac import Identity

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


class UpdateTicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str = Field(..., description="e.g. T-00001")
    status: TicketStatus | None = None
    comment: str | None = Field(None, max_length=5000)

    @field_validator("ticket_id")
    @classmethod
    def _norm(cls, v: str) -> str:
        return normalise_ticket_id(v)


class ViewTicketsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: TicketStatus | None = None
    ticket_id: str | None = None


class ViewNotificationsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread_only: bool = False
    mark_read: bool = False


def ticket_dict(t: Ticket | Row[Any]) -> dict:
    """A ticket (or a row of the tickets table) as the dict answers carry."""
    return {
        "ticket_id": t.ticket_id,
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
        data = ticket_dict(existing)
    return ToolResult(
        status="success",
        message=f'Created ticket {data["ticket_id"]}: "{data["title"]}".',
        data={"ticket": data, "ticket_id": data["ticket_id"], "repeated": True},
        sources=[Source(table="tickets", filters={"ticket_id": data["ticket_id"]}, rows=1)],
    )


def _insert_ticket(ctx: ToolContext, p: CreateTicketParams, title: str, desc: str | None, numbers: list[str]) -> dict:
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
        data = _insert_ticket(ctx, p, title, desc, numbers)
    except IntegrityError:
        # a concurrent create with the same request_key won the race: answer with its ticket
        if p.request_key and (done := _already_created(ctx, p.request_key)) is not None:
            return done
        raise
    data["subscribed"] = p.notify_me
    msg = f'Created ticket {data["ticket_id"]}: "{data["title"]}"'
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
    return ToolResult(
        status="success",
        message=msg,
        data={"ticket": data, "ticket_id": data["ticket_id"]},
        sources=[Source(table="tickets", filters={"ticket_id": data["ticket_id"]}, rows=1)],
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


@retry_on_conflict
def update_ticket(ctx: ToolContext, p: UpdateTicketParams) -> ToolResult:
    if p.status is None and not (p.comment and p.comment.strip()):
        raise ToolError(
            "Tell me what to change on the ticket: a new status (open, in_progress, resolved, closed) or a comment."
        )
    with session_scope(ctx.app) as s:
        t = get_visible_ticket(ctx, s, p.ticket_id)
        if not ctx.identity.is_admin and t.created_by != ctx.identity.user_id:
            raise ToolDenied(
                f"Ticket {t.ticket_id} belongs to {t.created_by}; as a {ctx.identity.role} you can only update your own tickets."
            )
        old = t.status
        if p.status:
            t.status = p.status
        t.updated_at = utcnow()
        s.add(
            TicketComment(
                ticket_id=t.ticket_id,
                author=ctx.identity.user_id,
                comment=(p.comment or "").strip(),
                status_from=old,
                status_to=p.status,
            )
        )
        change = f"is now {t.status.replace('_', ' ')}" if p.status and p.status != old else "has a new comment"
        text = f'Ticket {t.ticket_id} "{t.title}" {change} (by {ctx.identity.user_id})' + (
            f": {p.comment.strip()}" if p.comment and p.comment.strip() else "."
        )
        fixed = p.status in ("resolved", "closed") and p.status != old
        # subscribers in the ticket's workspace who are still there (a move ends a subscription; this
        # also holds for a user whose workspace was changed some other way)
        subscribers = s.execute(
            select(TicketSubscription.user_id, TicketSubscription.notify_on)
            .join(User, User.user_id == TicketSubscription.user_id)
            .where(
                TicketSubscription.ticket_id == t.ticket_id,
                TicketSubscription.workspace_id == t.workspace_id,
                User.workspace_id == t.workspace_id,
                User.active.is_(True),
            )
        ).all()
        notified = [u for u, on in subscribers if u != ctx.identity.user_id and (on != "resolved" or fixed)]
        for u in notified:
            s.add(Notification(user_id=u, workspace_id=t.workspace_id, ticket_id=t.ticket_id, message=text))
        data = ticket_dict(t)
    msg = (
        f"Updated ticket {data['ticket_id']}: status {old} -> {data['status']}."
        if p.status and p.status != old
        else f"Added your comment to ticket {data['ticket_id']}."
    )
    if notified:
        msg += f" Notified {', '.join(notified)}."
    return ToolResult(
        status="success",
        message=msg,
        data={"ticket": data, "ticket_id": data["ticket_id"], "notified": notified},
        sources=[Source(table="tickets", filters={"ticket_id": data["ticket_id"]}, rows=1)],
    )


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
    return ToolResult(
        status="success",
        message=msg,
        data={"tickets": tickets, "count": len(tickets), "table": tables.tickets_table(tickets)},
        sources=[Source(table="tickets", filters={"status": p.status} if p.status else {}, rows=len(tickets))],
    )


@retry_on_conflict
def list_notifications(ctx: ToolContext, unread_only: bool = False, mark_read: bool = False) -> list[dict]:
    with session_scope(ctx.app) as s:
        q = select(Notification).where(
            Notification.user_id == ctx.identity.user_id, Notification.workspace_id == ctx.identity.workspace_id
        )
        if unread_only:
            q = q.where(Notification.read_at.is_(None))
        items = list(s.scalars(q.order_by(Notification.id.desc()).limit(200)))
        out = [
            {
                "id": n.id,
                "ticket_id": n.ticket_id,
                "message": n.message,
                "created_at": n.created_at.isoformat(),
                "read": n.read_at is not None,
            }
            for n in items
        ]
        if mark_read and items:
            s.execute(
                update(Notification)
                .where(Notification.id.in_([n.id for n in items]), Notification.read_at.is_(None))
                .values(read_at=utcnow())
            )
    return out


def mark_all_read(ctx: ToolContext) -> int:
    """Mark every unread notification of the caller read (POST /notifications/read); how many."""
    with session_scope(ctx.app) as s:
        done = s.execute(
            update(Notification)
            .where(Notification.user_id == ctx.identity.user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(getattr(done, "rowcount", 0) or 0)


def view_notifications(ctx: ToolContext, p: ViewNotificationsParams) -> ToolResult:
    items = list_notifications(ctx, p.unread_only, p.mark_read)
    unread = sum(1 for n in items if not n["read"])
    msg = (
        "No notifications."
        if not items
        else f"{len(items)} notification{'s' if len(items) != 1 else ''} ({unread} unread): "
        + "; ".join(n["message"] for n in items[:5])
    )
    return ToolResult(
        status="success",
        message=msg,
        data={"notifications": items, "unread": unread, "table": tables.notifications_table(items)},
        sources=[Source(table="notifications", rows=len(items))],
    )


def mark_notifications_read(ctx: ToolContext, ids: list[int], session=None) -> int:
    """Mark the caller's own notifications as read (e.g. once the welcome line has told them), in
    `session`'s transaction when given."""
    if not ids:
        return 0
    if session is None:
        with session_scope(ctx.app) as s:
            return mark_notifications_read(ctx, ids, s)
    return session.execute(
        update(Notification)
        .where(
            Notification.id.in_(ids),
            Notification.user_id == ctx.identity.user_id,
            Notification.workspace_id == ctx.identity.workspace_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    ).rowcount


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


def update_question(ctx: ToolContext, p: UpdateTicketParams) -> str:
    with session_scope(ctx.app) as s:
        title = get_visible_ticket(ctx, s, p.ticket_id).title
    change = []
    if p.status:
        change.append(f"set status to {p.status.replace('_', ' ')}")
    if p.comment and p.comment.strip():
        change.append(f"add the comment '{p.comment.strip()[:80]}'")
    return f"Update ticket {p.ticket_id} '{title}': {' and '.join(change) or 'no change'}, as {ctx.identity.user_id}?"


EVERYONE = ("Viewer", "Manager", "Admin")
TOOLS = [
    ToolSpec(
        "create_ticket",
        "Open a ticket about a set of records, optionally notifying you when it is updated or fixed.",
        CreateTicketParams,
        create_ticket,
        roles=("Manager", "Admin"),
        action="create tickets",
        step="creating the ticket",
        writes=True,
        confirm=True,
        question=create_question,
        cancelled="create the ticket",
        phrases=("create a ticket and notify me when fixed", "raise a high-priority ticket for these"),
        takes_records=True,
        records_by_default=True,
    ),
    ToolSpec(
        "update_ticket",
        "Change a ticket's status or add a comment; subscribers are notified.",
        UpdateTicketParams,
        update_ticket,
        roles=("Manager", "Admin"),
        action="update tickets",
        step="updating the ticket",
        writes=True,
        confirm=True,
        question=update_question,
        cancelled="update the ticket",
        phrases=("mark T-00001 resolved", "add a comment to that ticket: vendor called back"),
    ),
    ToolSpec(
        "view_tickets",
        "List tickets (your own; an Admin sees all).",
        ViewTicketsParams,
        view_tickets,
        roles=EVERYONE,
        action="view tickets",
        step="reading your tickets",
        phrases=("show my tickets", "is T-00001 fixed yet?"),
    ),
    ToolSpec(
        "view_notifications",
        "List your notifications (ticket updates).",
        ViewNotificationsParams,
        view_notifications,
        roles=EVERYONE,
        action="view notifications",
        step="reading your notifications",
        phrases=("any updates?",),
    ),
]
