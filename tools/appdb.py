"""The application database: users, workspaces, tokens, tickets, notifications, exports, traces.

Memory rows live in `memory/models.py` on the same metadata (AppBase), so one schema and one
set of migrations covers the whole application database.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned in UTC, always timezone-aware (SQLite drops the offset;
    this puts it back, so every API answer reads the same way on SQLite and PostgreSQL)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class AppBase(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Workspace(AppBase):
    __tablename__ = "workspaces"
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(AppBase):
    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # Admin | Manager | Viewer
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.workspace_id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(AppBase):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    is_dev: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Ticket(AppBase):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("request_key", name="uq_tickets_request_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    record_type: Mapped[str] = mapped_column(String(32), default="invoices")
    record_ids: Mapped[list] = mapped_column(JSON, default=list)
    # set when the creation was confirmed in a conversation: the same confirmed request never makes two tickets
    request_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketComment(AppBase):
    __tablename__ = "ticket_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketSubscription(AppBase):
    __tablename__ = "ticket_subscriptions"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    notify_on: Mapped[str] = mapped_column(String(16), default="any")  # any | resolved


class Notification(AppBase):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Export(AppBase):
    __tablename__ = "exports"
    export_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    dataset: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(300), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    record_ids: Mapped[list] = mapped_column(JSON, default=list)
    ticket_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Trace(AppBase):
    __tablename__ = "traces"
    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    request: Mapped[str] = mapped_column(Text, default="")
    response: Mapped[str] = mapped_column(Text, default="")
    router: Mapped[str] = mapped_column(String(32), default="offline")
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


DEMO_WORKSPACES = {"acme": "Acme Corp", "globex": "Globex Industries"}
DEMO_USERS = [
    # user_id, display name, role, workspace, dev token
    ("admin", "Asha Admin", "Admin", "acme", "dev-admin"),
    ("maya", "Maya Menon", "Manager", "acme", "dev-maya"),
    ("victor", "Victor Varma", "Viewer", "acme", "dev-victor"),
    ("gita", "Gita Gupta", "Manager", "globex", "dev-gita"),
]
