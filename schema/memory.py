"""What the API remembers about a user, as GET /memory/{user_id}/insights answers it: the requests they make
most, the vendors and data they look at, and what is waiting for them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .tickets import Ticket


class CountedName(BaseModel):
    name: str
    count: int
    label: str | None = Field(None, description="tools: what the tool is asked for, in words (its declared topic)")


class UsagePatterns(BaseModel):
    tools: list[CountedName] = Field(description="most used tools over the last 200 answers")
    vendors: list[CountedName]
    datasets: list[CountedName]
    exchanges: int = Field(description="answers that ran a tool, of the last 200")
    threads: int
    requests: int = Field(description="all requests remembered")
    first_at: str | None
    last_at: str | None


class FrequentRequest(BaseModel):
    request: str = Field(description="the latest wording")
    tool: str
    params: dict[str, Any]
    count: int
    last_at: str | None


class UnreadNotification(BaseModel):
    id: int
    ticket_id: str | None
    message: str
    created_at: str | None


class PendingQuestion(BaseModel):
    thread_id: str
    question: str


class OpenItems(BaseModel):
    open_tickets: list[Ticket] = Field(description="tickets the user created or follows that are not closed")
    unread_notifications: list[UnreadNotification]
    awaiting_confirmation: list[PendingQuestion] = Field(
        description="questions waiting for yes or no in the user's recent threads"
    )


class MemoryInsights(BaseModel):
    """GET /memory/{user_id}/insights."""

    user_id: str
    workspace_id: str
    usage: UsagePatterns
    frequent_requests: list[FrequentRequest] = Field(
        description="the same tool with the same parameters, most often first"
    )
    open_items: OpenItems
