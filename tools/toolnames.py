"""Tool names as constants (kept in schema/toolnames.py, which the web app imports too): the graph, memory
and the server import them from here."""

from __future__ import annotations

from schema.toolnames import (
    ANALYZE_DATA,
    CREATE_TICKET,
    EXPLAIN_FAILURES,
    EXPORT_CONVERSATION,
    EXPORT_REPORT,
    FILTER_DATA,
    RUN_TEMPLATE,
    UPDATE_TICKET,
    VENDOR_PROFILE,
    VIEW_INSIGHTS,
    VIEW_NOTIFICATIONS,
    VIEW_TICKETS,
)

__all__ = [
    "ANALYZE_DATA",
    "CREATE_TICKET",
    "EXPLAIN_FAILURES",
    "EXPORT_CONVERSATION",
    "EXPORT_REPORT",
    "FILTER_DATA",
    "RUN_TEMPLATE",
    "UPDATE_TICKET",
    "VENDOR_PROFILE",
    "VIEW_INSIGHTS",
    "VIEW_NOTIFICATIONS",
    "VIEW_TICKETS",
]
