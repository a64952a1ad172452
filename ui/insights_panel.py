""" "What I ask about": the signed-in user's usage from GET /memory/{user_id}/insights: the requests they
make most (a click asks again), the vendors and data they look at, and what is waiting for them."""

from __future__ import annotations

import streamlit as st

from .format import short
from .localtime import local
from .state import api, ask, cached, signed_in

TOOL_WORDS = {
    "filter_data": "lists of records",
    "explain_failures": "why invoices failed",
    "analyze_data": "totals, breakdowns and trends",
    "export_report": "exports",
    "export_conversation": "conversation PDFs",
    "create_ticket": "new tickets",
    "update_ticket": "ticket updates",
    "view_tickets": "your tickets",
    "view_notifications": "ticket news",
    "vendor_profile": "vendor profiles",
    "view_insights": "unusual items",
    "run_template": "investigations and reviews",
}


def render() -> None:
    user = signed_in()
    got = cached("insights", lambda: api().request("GET", f"/memory/{user['user_id']}/insights"), seconds=60)
    with st.expander("What I ask about", icon=":material/insights:"):
        if got is None:
            st.caption("Not available right now.")
            return
        usage = got.get("usage") or {}
        if not usage.get("requests"):
            st.caption("Nothing yet: your most frequent questions will show here.")
            return
        st.caption(
            f"{usage['requests']:,} question{'s' if usage['requests'] != 1 else ''} in "
            f"{usage.get('threads', 0):,} conversation{'s' if usage.get('threads') != 1 else ''}"
            + (f", the last on {local(usage['last_at'])}" if usage.get("last_at") else "")
        )
        for kind, label in (("tools", "Most asked for"), ("vendors", "Vendors"), ("datasets", "Data")):
            items = usage.get(kind) or []
            if items:
                words = [
                    f"{TOOL_WORDS.get(i['name'], i['name'].replace('_', ' ')) if kind == 'tools' else i['name']} ({i['count']})"
                    for i in items[:4]
                ]
                st.markdown(f"**{label}:** " + ", ".join(words))
        frequent = got.get("frequent_requests") or []
        if frequent:
            st.markdown("**Ask again**")
        for i, f in enumerate(frequent[:4]):
            if st.button(
                short(f["request"], 36),
                key=f"ask-again-{i}",
                icon=":material/replay:",
                type="tertiary",
                help=f"{f['request']} (asked {f['count']} time{'s' if f['count'] != 1 else ''})",
            ):
                ask(f["request"])
