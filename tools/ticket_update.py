"""update_ticket: change a ticket's status, assignee or add a comment; subscribers (and a new assignee)
are told. A request that changes nothing writes nothing and says so."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, or_, select

from business_data.appdb import Notification, Ticket, TicketComment, TicketSubscription, User, utcnow
from business_data.db import retry_on_conflict, session_scope

from .base import Source, ToolContext, ToolDenied, ToolError, ToolResult, ToolSpec
from .results import TicketUpdateData
from .tickets import TicketStatus, get_visible_ticket, normalise_ticket_id, ticket_dict

STATUS_WORDS = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved", "closed": "Closed"}


class UpdateTicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str = Field(..., description="e.g. T-00001")
    status: TicketStatus | None = None
    comment: str | None = Field(None, max_length=5000)
    assignee: str | None = Field(
        None,
        max_length=200,
        description="assign to this user of the ticket's workspace (user id or name); '' unassigns; left out: no change",
    )

    @field_validator("ticket_id")
    @classmethod
    def _norm(cls, v: str) -> str:
        return normalise_ticket_id(v)


def find_assignee(s, workspace_id: str, who: str) -> User:
    """The active user of `workspace_id` named by `who` (user id, full name or a unique first name)."""
    wanted = " ".join(who.split()).lower()
    users = s.scalars(
        select(User).where(
            User.workspace_id == workspace_id,
            User.active.is_(True),
            or_(func.lower(User.user_id) == wanted, func.lower(User.display_name) == wanted),
        )
    ).all()
    if not users:
        users = [
            u
            for u in s.scalars(select(User).where(User.workspace_id == workspace_id, User.active.is_(True)))
            if u.display_name.lower().split()[:1] == [wanted]
        ]
    if len(users) != 1:
        raise ToolError(
            f"There is no user '{who}' in workspace {workspace_id} to assign the ticket to."
            if not users
            else f"More than one user of workspace {workspace_id} is called '{who}'; give the user id."
        )
    return users[0]


def _check(ctx: ToolContext, p: UpdateTicketParams) -> None:
    if p.status is None and not (p.comment and p.comment.strip()) and p.assignee is None:
        raise ToolError(
            "Tell me what to change on the ticket: a new status (open, in_progress, resolved, closed), "
            "an assignee or a comment."
        )


def _may_change(ctx: ToolContext, t: Ticket) -> None:
    if not ctx.identity.is_admin and t.created_by != ctx.identity.user_id:
        raise ToolDenied(
            f"Ticket {t.ticket_id} belongs to {t.created_by}; as a {ctx.identity.role} you can only update your own tickets."
        )


@retry_on_conflict
def update_ticket(ctx: ToolContext, p: UpdateTicketParams) -> ToolResult:
    _check(ctx, p)
    comment = (p.comment or "").strip()
    with session_scope(ctx.app) as s:
        t = get_visible_ticket(ctx, s, p.ticket_id)
        _may_change(ctx, t)
        old, old_assignee = t.status, t.assignee
        new_assignee = old_assignee
        if p.assignee is not None:
            new_assignee = find_assignee(s, t.workspace_id, p.assignee).user_id if p.assignee.strip() else None
        status_changed = bool(p.status) and p.status != old
        assignee_changed = new_assignee != old_assignee
        if not (status_changed or assignee_changed or comment):
            same = ticket_dict(t)
            unchanged: TicketUpdateData = {
                "ticket": same,
                "ticket_id": same["ticket_id"],
                "notified": [],
                "changed": False,
            }
            return ToolResult(
                status="success",
                message=f"Nothing to change: ticket {t.ticket_id} is already {STATUS_WORDS[old]}"
                + (f" and assigned to {old_assignee}." if old_assignee else " and not assigned to anyone."),
                data=dict(unchanged),
                sources=[Source(table="tickets", filters={"ticket_id": same["ticket_id"]}, rows=1)],
            )
        if status_changed:
            t.status = p.status  # type: ignore[assignment]
        t.assignee = new_assignee
        t.updated_at = utcnow()
        s.add(
            TicketComment(
                ticket_id=t.ticket_id,
                author=ctx.identity.user_id,
                comment=comment,
                status_from=old,
                status_to=p.status if status_changed else None,
                assignee_from=old_assignee if assignee_changed else None,
                assignee_to=new_assignee if assignee_changed else None,
            )
        )
        changes = []
        if status_changed:
            changes.append(f"is now {t.status.replace('_', ' ')}")
        if assignee_changed:
            changes.append(f"is assigned to {new_assignee}" if new_assignee else "is no longer assigned to anyone")
        text = (
            f'Ticket {t.ticket_id} "{t.title}" {" and ".join(changes) or "has a new comment"} (by {ctx.identity.user_id})'
            + (f": {comment}" if comment else ".")
        )
        notified = _notify(ctx, s, t, text, fixed=status_changed and t.status in ("resolved", "closed"))
        if assignee_changed and new_assignee and new_assignee != ctx.identity.user_id:
            _follow(s, t, new_assignee)
            if new_assignee not in notified:
                s.add(
                    Notification(user_id=new_assignee, workspace_id=t.workspace_id, ticket_id=t.ticket_id, message=text)
                )
                notified.append(new_assignee)
        ticket = ticket_dict(t)
    parts = []
    if status_changed:
        parts.append(f"status {old} -> {ticket['status']}")  # the reference scenario's wording
    if assignee_changed:
        parts.append(f"assigned to {new_assignee}" if new_assignee else f"no longer assigned to {old_assignee}")
    msg = (
        f"Updated ticket {ticket['ticket_id']}: {', '.join(parts)}."
        if parts
        else f"Added your comment to ticket {ticket['ticket_id']}."
    )
    if notified:
        msg += f" Notified {', '.join(notified)}."
    data: TicketUpdateData = {"ticket": ticket, "ticket_id": ticket["ticket_id"], "notified": notified, "changed": True}
    return ToolResult(
        status="success",
        message=msg,
        data=dict(data),
        sources=[Source(table="tickets", filters={"ticket_id": ticket["ticket_id"]}, rows=1)],
    )


def _notify(ctx: ToolContext, s, t: Ticket, text: str, *, fixed: bool) -> list[str]:
    """Tell the ticket's subscribers who are still in its workspace (a move ends a subscription; this also
    holds for a user whose workspace was changed some other way); those who want only the fix, on the fix."""
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
    return notified


def _follow(s, t: Ticket, user_id: str) -> None:
    """The assignee follows the ticket: it is among their tickets and they hear about its changes."""
    exists = s.scalar(
        select(TicketSubscription.id).where(
            TicketSubscription.ticket_id == t.ticket_id, TicketSubscription.user_id == user_id
        )
    )
    if exists is None:
        s.add(TicketSubscription(ticket_id=t.ticket_id, user_id=user_id, workspace_id=t.workspace_id, notify_on="any"))


def update_question(ctx: ToolContext, p: UpdateTicketParams) -> str:
    with session_scope(ctx.app) as s:
        t = get_visible_ticket(ctx, s, p.ticket_id)
        title = t.title
        who = None
        if p.assignee:
            user = find_assignee(s, t.workspace_id, p.assignee)
            who = f"{user.display_name} ({user.user_id})"
    change = []
    if p.status:
        change.append(f"set status to {p.status.replace('_', ' ')}")
    if p.assignee is not None:
        change.append(f"assign it to {who}" if who else "unassign it")
    if p.comment and p.comment.strip():
        change.append(f"add the comment '{p.comment.strip()[:80]}'")
    return f"Update ticket {p.ticket_id} '{title}': {' and '.join(change) or 'no change'}, as {ctx.identity.user_id}?"


TOOLS = [
    ToolSpec(
        "update_ticket",
        "Change a ticket's status or assignee, or add a comment; subscribers are notified.",
        UpdateTicketParams,
        update_ticket,
        data_type=TicketUpdateData,
        roles=("Manager", "Admin"),
        action="update tickets",
        topic="ticket updates",
        step="Updated ticket {ticket_id}, {ms}.",
        progress="updating the ticket",
        writes=True,
        confirm=True,
        question=update_question,
        cancelled="update the ticket",
        phrases=(
            "mark T-00001 resolved",
            "add a comment to that ticket: vendor called back",
            "assign T-00001 to victor",
        ),
    ),
]
