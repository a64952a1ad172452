"""The fixed report: a ticket's invoices as they were when it was raised, next to how they are now.

A ticket keeps its records' state at creation (`tickets.record_snapshot`, written by `record_states`);
`export_report` with a ticket reads the records again and `fixed_rows` puts then and now side by side,
with when and by whom the ticket was resolved (its history, `ticket_comments`), in the workspace's time
zone (business_data/clock.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from business_data import clock
from business_data.appdb import Ticket, TicketComment, User
from business_data.db import session_scope

from .base import ToolContext

FIXED = ("resolved", "closed")
COLUMNS = (
    "invoice_number",
    "vendor",
    "invoice_date",
    "total_amount",
    "status_then",
    "reason_then",
    "status_now",
    "reason_now",
    "fixed_on",
    "fixed_by",
)
NOT_RECORDED = "not recorded"  # a ticket raised before its records' state was kept


def record_states(ctx: ToolContext, numbers: list[str]) -> dict[str, dict[str, Any]]:
    """{invoice_number: {status, error_message}} now, in the caller's workspace: a ticket's "then"."""
    from .runner import run_records
    from .semantic import Filter, SemanticQuery

    if not numbers:
        return {}
    q = SemanticQuery(dataset="invoices", filters=[Filter(field="invoice_number", op="in", value=list(numbers))])
    with ctx.business.connect() as conn:
        rows = run_records(
            conn, ctx.data_model, q, ctx.identity, ctx.today, limit=len(numbers), key_cap=len(numbers)
        ).rows
    return {
        str(r["invoice_number"]): {"status": r.get("status"), "error_message": r.get("error_message")} for r in rows
    }


def local_time(moment: datetime | None) -> str:
    """'07 Dec 2026, 14:32 IST': a moment in the workspace's time zone, as people read it."""
    if moment is None:
        return ""
    return moment.astimezone(clock.zone()).strftime("%d %b %Y, %H:%M %Z")


def fixed_by(ctx: ToolContext, ticket_id: str) -> tuple[datetime | None, str | None]:
    """When the ticket was last marked resolved or closed, and by whom (display name), from its history."""
    with session_scope(ctx.app) as s:
        row = s.execute(
            select(TicketComment.created_at, TicketComment.author, User.display_name)
            .outerjoin(User, User.user_id == TicketComment.author)
            .where(TicketComment.ticket_id == ticket_id, TicketComment.status_to.in_(FIXED))
            .order_by(TicketComment.created_at.desc(), TicketComment.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None, None
    return row.created_at, row.display_name or row.author


def snapshot_of(ctx: ToolContext, ticket_id: str) -> dict[str, dict[str, Any]] | None:
    with session_scope(ctx.app) as s:
        return s.scalar(select(Ticket.record_snapshot).where(Ticket.ticket_id == ticket_id))


def fixed_rows(ctx: ToolContext, ticket: dict, rows: list[dict]) -> list[dict]:
    """Each invoice's state then (the ticket's snapshot) and now (`rows`, read just now), with when and by
    whom the ticket was fixed (empty while it is still open)."""
    then = snapshot_of(ctx, ticket["ticket_id"]) or {}
    when, who = fixed_by(ctx, ticket["ticket_id"]) if ticket["status"] in FIXED else (None, None)
    out = []
    for r in rows:
        before = then.get(str(r.get("invoice_number")))
        out.append(
            {
                "invoice_number": r.get("invoice_number"),
                "vendor": r.get("vendor"),
                "invoice_date": r.get("invoice_date"),
                "total_amount": r.get("total_amount"),
                "status_then": (before or {}).get("status") or (NOT_RECORDED if before is None else ""),
                "reason_then": (before or {}).get("error_message") or "",
                "status_now": r.get("status") or "",
                "reason_now": r.get("error_message") or "",
                "fixed_on": local_time(when),
                "fixed_by": who or "",
            }
        )
    return out


def fixed_title(ticket: dict, rows: list[dict]) -> str:
    """'T-00001 IndiSky Airlines: 7 invoices, fixed report': the ticket, the vendor, how many."""
    vendors = sorted({str(r["vendor"]) for r in rows if r.get("vendor")})
    who = vendors[0] if len(vendors) == 1 else f"{len(vendors)} vendors"
    n = len(rows)
    return f"{ticket['ticket_id']} {who}: {n} invoice{'s' if n != 1 else ''}, fixed report"
