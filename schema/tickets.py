"""Tickets, their history and assignees, notifications and exports, as the API answers them (GET /tickets,
/tickets/{id}, /notifications, /exports) and the web app reads them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .chat import Record


class Ticket(Record):
    ticket_id: str
    title: str
    description: str
    status: str = Field(description="open | in_progress | resolved | closed")
    priority: str
    workspace_id: str
    created_by: str
    record_type: str
    record_ids: list[str]
    created_at: str | None
    updated_at: str | None
    assignee: str | None = Field(None, description="the user id it is assigned to; null: nobody")


class TicketEvent(BaseModel):
    author: str
    author_name: str | None = None
    comment: str
    status_from: str | None = Field(description="null when the ticket was opened")
    status_to: str | None
    assignee_from: str | None = Field(None, description="an assignment: who had it (null: nobody)")
    assignee_to: str | None = Field(None, description="an assignment: who has it now (null: nobody)")
    assignee_from_name: str | None = None
    assignee_to_name: str | None = None
    created_at: str


class TicketDetail(Ticket):
    """GET /tickets/{id}: the ticket and its history."""

    history: list[TicketEvent] = Field(description="its opening, comments and status changes, oldest first")


class TicketList(BaseModel):
    tickets: list[Ticket]


class Assignee(BaseModel):
    user_id: str
    display_name: str
    role: str


class Assignees(BaseModel):
    """GET /tickets/{id}/assignees: who the ticket can be assigned to (active users of its workspace)."""

    ticket_id: str
    assignee: str | None
    users: list[Assignee]


class TicketUpdated(Ticket):
    notified: list[str] = Field(description="users told about the change")
    message: str


class Notification(Record):
    id: int
    ticket_id: str | None
    message: str
    created_at: str
    read: bool


class NotificationList(BaseModel):
    notifications: list[Notification]


class MarkedRead(BaseModel):
    marked_read: int = Field(description="how many unread notifications were marked read")


class ExportItem(BaseModel):
    export_id: str
    format: str
    rows: int
    title: str
    created_at: str
    url: str = Field(description="downloads the file with the same bearer token")


class ExportList(BaseModel):
    exports: list[ExportItem]
