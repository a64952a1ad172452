"""Tool names as constants, for every module outside the tools' own declarations (the graph, memory, the
server, the web app): a misspelt name is then an import error, and a search finds every use. They live in
schema/ because the web app, an HTTP client, imports only schema/; tools/toolnames.py re-exports them.
tests/unit/test_toolnames.py checks these against the registry, and counts the modules that still quote a name."""

from __future__ import annotations

from typing import Final

ANALYZE_DATA: Final = "analyze_data"
CREATE_TICKET: Final = "create_ticket"
EXPLAIN_FAILURES: Final = "explain_failures"
EXPORT_CONVERSATION: Final = "export_conversation"
EXPORT_REPORT: Final = "export_report"
FILTER_DATA: Final = "filter_data"
RUN_TEMPLATE: Final = "run_template"
UPDATE_TICKET: Final = "update_ticket"
VENDOR_PROFILE: Final = "vendor_profile"
VIEW_INSIGHTS: Final = "view_insights"
VIEW_NOTIFICATIONS: Final = "view_notifications"
VIEW_TICKETS: Final = "view_tickets"
