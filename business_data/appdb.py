"""The application database: every table of it, on one metadata (AppBase).

    workspaces, users, api_tokens                      who may call, and as whom (tools/rbac.py, server/auth.py)
    browser_sessions                                   browsers signed in by cookie (server/sessions.py)
    tickets, ticket_comments, ticket_subscriptions,
    notifications                                      tickets and their updates (tools/tickets.py)
    exports                                            files written by export_report (tools/exports.py)
    traces                                             "show your work", one row per run (graph/tracing.py)
    plans                                              template runs as their own threads (graph/templates/plans.py)
    memory_turns, memory_embeddings                    episodic memory and its vectors (memory/)
    thread_titles                                      names users give their conversations (server/threads.py)

It sits in the lowest layer, so every layer may use it. The schema is built by the Alembic
migrations in `business_data/migrations/versions_app/` (never by create_all); the demo workspaces,
users and dev tokens are in `business_data/demo_users.py`. LangGraph's checkpoint tables live in
the same database but belong to LangGraph (graph/checkpointers.py).
"""

from __future__ import annotations

import hashlib
from typing import cast
from datetime import datetime, UTC

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned in UTC, always timezone-aware (SQLite drops the offset;
    this puts it back, so every API answer reads the same way on SQLite and PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
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
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)  # None: never (`finkraft token --expires 30d`)


class BrowserSession(AppBase):
    """A browser's sign-in (POST /auth/session): its own random id in an HttpOnly cookie, never the
    token. Only the id's hash is kept. It ends when signed out (revoked_at), after `session_idle_hours`
    without a request (last_seen_at), at expires_at (`session_max_days` after sign-in), or when the
    token it was started with is revoked or expires (server/sessions.py)."""

    __tablename__ = "browser_sessions"
    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


def hash_token(token: str) -> str:
    """How a bearer token is stored (api_tokens.token_hash): only its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
    # each record's state when the ticket was raised ({invoice_number: {status, error_message}}): the
    # fixed report's "then" (None: raised before a0010, or about no records)
    record_snapshot: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a user of the ticket's workspace


class TicketComment(AppBase):
    __tablename__ = "ticket_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # an assignment: who had it and who has it now (null: nobody); both null when the assignee did not change
    assignee_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assignee_to: Mapped[str | None] = mapped_column(String(64), nullable=True)


class TicketSubscription(AppBase):
    """A user following a ticket, in the workspace where they subscribed (the ticket's). Moving the user
    to another workspace ends it (tools/tickets.py end_subscriptions_elsewhere)."""

    __tablename__ = "ticket_subscriptions"
    __table_args__ = (
        UniqueConstraint("ticket_id", "user_id"),
        Index("ix_ticket_subscriptions_user_ws", "user_id", "workspace_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(String(64))
    notify_on: Mapped[str] = mapped_column(String(16), default="any")  # any | resolved


class Notification(AppBase):
    """A ticket's news for one user, in the ticket's workspace: a user reads only those of the workspace
    they are in now (tools/tickets.py list_notifications, memory's working context)."""

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
    # for the Admin trace explorer: ok | refused (a role or workspace said no) | failed (a tool failed)
    outcome: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    tools: Mapped[str] = mapped_column(String(300), default="", server_default="")  # " filter_data export_report "
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Plan(AppBase):
    """A business template run as its own checkpointed thread ("plan-<plan_id>"), see graph/templates/plans.py."""

    __tablename__ = "plans"
    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(64))
    goal: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(
        String(32), default="created"
    )  # created|running|awaiting_confirmation|completed|failed|cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- memory (memory/): every user / assistant turn, and one normalised float32 vector per turn, the
# source of truth for the derived FAISS index. Both tables use SQLite AUTOINCREMENT (ids are never reused after a delete), so "embedding rows with
# id > the highest id already indexed" is a safe incremental catch-up for an index in another process.


class MemoryTurn(AppBase):
    __tablename__ = "memory_turns"
    __table_args__ = (
        Index("ix_memory_turns_user_ws_thread", "user_id", "workspace_id", "thread_id", "id"),
        Index("ix_memory_turns_user_ws_id", "user_id", "workspace_id", "id"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(String(64))
    speaker: Mapped[str] = mapped_column(String(16))  # user | assistant
    text: Mapped[str] = mapped_column(Text, default="")
    tool: Mapped[str | None] = mapped_column(String(64), nullable=True)
    params: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # {"tool", "dataset", "keys": [...], "params": {...}, "ticket_id", "export_id"}
    result_ref: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # len(result_ref["keys"]): lets "the last result sets" skip key-less references without parsing JSON
    n_keys: Mapped[int] = mapped_column(Integer, default=0)
    # an assistant turn's typed answer (schema.answer.AnswerPayload, tables cut to what was shown): GET
    # /threads/{id} returns it so a resumed conversation draws its tables and charts again
    answer: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    importance: Mapped[float] = mapped_column(Float, default=0.5)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemoryEmbedding(AppBase):
    __tablename__ = "memory_embeddings"
    __table_args__ = (
        Index("ix_memory_embeddings_user_ws_id", "user_id", "workspace_id", "id"),
        Index("ix_memory_embeddings_user_ws_created", "user_id", "workspace_id", "created_at"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("memory_turns.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadTitle(AppBase):
    """A name a user gave one of their conversations (PATCH /threads/{thread_id}); threads themselves
    are the memory turns and checkpoints that share the id. "Forget me" deletes these too."""

    __tablename__ = "thread_titles"
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Finding(AppBase):
    """An anomaly a detector found (tools/detectors): one row per underlying issue (`fingerprint`),
    updated on every run that sees it again, never repeated."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("workspace_id", "fingerprint", name="uq_findings_fingerprint"),
        Index("ix_findings_ws_status_seen", "workspace_id", "status", "last_seen"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    detector: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # low | medium | high
    subject: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[float] = mapped_column(Float, default=0.0)  # the money at stake
    record_keys: Mapped[list] = mapped_column(JSON, default=list)
    query: Mapped[dict] = mapped_column(JSON, default=dict)  # a semantic query that shows it
    explanation: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | dismissed | snoozed
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)  # no longer seen


class InsightSubscription(AppBase):
    """A Manager or Admin who wants a notification when new findings appear in their workspace."""

    __tablename__ = "insight_subscriptions"
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


MEMORY_TABLES: list[Table] = [cast(Table, MemoryTurn.__table__), cast(Table, MemoryEmbedding.__table__)]
