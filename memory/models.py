"""Memory tables, on the application database's declarative base (one schema, one migration set).

memory_turns       episodic memory: every user / assistant turn, with a compact reference to what a tool returned
memory_embeddings  one normalised float32 vector per turn: the source of truth for the (derived) FAISS index

Both tables use SQLite AUTOINCREMENT (ids are never reused after a delete), so "embedding rows with
id > the highest id already indexed" is a safe incremental catch-up for an index in another process.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tools.appdb import AppBase, utcnow


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


MEMORY_TABLES = [MemoryTurn.__table__, MemoryEmbedding.__table__]
