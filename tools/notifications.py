"""Notifications: a ticket's updates, read by the people who follow it (`view_notifications`), and marked
read when listed, when the welcome line has told them, or all at once (POST /notifications/read). They are
written by the ticket tools (tools/tickets.py) and carry the workspace they were made in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from business_data.appdb import Notification, utcnow
from business_data.db import retry_on_conflict, session_scope

from . import tables
from .base import Source, ToolContext, ToolResult, ToolSpec
from .results import NotificationItem, NotificationsData


class ViewNotificationsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread_only: bool = False
    mark_read: bool = False


@retry_on_conflict
def list_notifications(ctx: ToolContext, unread_only: bool = False, mark_read: bool = False) -> list[NotificationItem]:
    with session_scope(ctx.app) as s:
        q = select(Notification).where(
            Notification.user_id == ctx.identity.user_id, Notification.workspace_id == ctx.identity.workspace_id
        )
        if unread_only:
            q = q.where(Notification.read_at.is_(None))
        items = list(s.scalars(q.order_by(Notification.id.desc()).limit(200)))
        out: list[NotificationItem] = [
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
    data: NotificationsData = {"notifications": items, "unread": unread, "table": tables.notifications_table(items)}
    return ToolResult(
        status="success",
        message=msg,
        data=dict(data),
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


TOOLS = [
    ToolSpec(
        "view_notifications",
        "List your notifications (ticket updates).",
        ViewNotificationsParams,
        view_notifications,
        data_type=NotificationsData,
        roles=("Viewer", "Manager", "Admin"),
        action="view notifications",
        topic="ticket news",
        step="Read your notifications, {ms}; {rows} in all.",
        progress="reading your notifications",
        phrases=("any updates?",),
    ),
]
