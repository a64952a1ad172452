"""The conversations list (GET /threads) and what renaming or deleting one answers; a conversation's
turns are schema/chat.py's ThreadTurns."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .chat import Record


class ThreadSummary(Record):
    thread_id: str
    turns: int
    started_at: str | None
    last_at: str | None
    first_message: str | None
    title: str | None = Field(None, description="the name you gave it (PATCH /threads/{thread_id}); null: none")
    group: str | None = Field(None, description="Today | Yesterday | Previous 7 days | Older (workspace time zone)")


class ThreadList(BaseModel):
    threads: list[ThreadSummary]
    total: int | None = Field(None, description="conversations matching, over all pages")
    next_offset: int | None = Field(None, description="the offset of the next page; null: this is the last")


class ThreadRenamed(BaseModel):
    thread_id: str
    title: str | None = Field(description="the name now shown; null: none (the first message is shown)")


class ThreadDeleted(BaseModel):
    thread_id: str
    deleted: dict[str, int] = Field(description="turns (with their result references), embeddings and index entries")
