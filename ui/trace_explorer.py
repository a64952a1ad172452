"""The Admin's trace explorer (GET /admin/traces): every user's requests filtered by user, tool, outcome,
date range and duration, a page at a time; a chosen trace opens in full ("show your work")."""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from . import trace
from .answers import table
from .format import short
from .localtime import local, zone
from .state import api, call, me

OUTCOMES = {"": "any outcome", "ok": "ok", "refused": "refused", "failed": "failed"}
PAGE = 25
EVERYONE = ""


def _today():
    """The workspace's calendar day (the API reads the dates in the same time zone)."""
    return datetime.now(zone()).date()


def render() -> None:
    users = call(api().users, quiet=True) or []
    signed = me()
    tools = sorted(set(signed.tools if signed is not None else []))
    with st.form("trace-filters", border=True):
        a, b, c = st.columns(3)
        user = a.selectbox(
            "User", [EVERYONE, *(u.user_id for u in users)], format_func=lambda u: u or "everyone", key="tx_user"
        )
        tool = b.selectbox("Tool", ["", *tools], format_func=lambda t: t or "any tool", key="tx_tool")
        outcome = c.selectbox("Outcome", list(OUTCOMES), format_func=lambda o: OUTCOMES[o], key="tx_outcome")
        d, e = st.columns([2, 1])
        today = _today()
        dates = d.date_input("Dates", value=(today - timedelta(days=6), today), max_value=today, key="tx_dates")
        min_ms = e.number_input("Slower than (ms)", min_value=0, step=100, value=0, key="tx_min_ms")
        if st.form_submit_button("Search", type="primary", icon=":material/search:"):
            st.session_state["tx_offset"] = 0
    params: dict = {"limit": PAGE, "offset": st.session_state.get("tx_offset", 0)}
    params.update({k: v for k, v in (("user", user), ("tool", tool), ("outcome", outcome)) if v})
    if isinstance(dates, (tuple, list)) and dates:
        params["date_from"] = dates[0].isoformat()
        params["date_to"] = (dates[1] if len(dates) > 1 else dates[0]).isoformat()
    if min_ms:
        params["min_ms"] = min_ms
    page = call(api().trace_page, **params)
    if page is None:
        return
    rows = page.traces
    first = page.offset + 1 if rows else 0
    st.caption(f"{first:,}–{page.offset + len(rows):,} of {page.total:,} requests, newest first")
    if rows:
        table(
            [
                {
                    "when": local(t.created_at),
                    "user": t.user_id,
                    "request": short(t.request, 70),
                    "outcome": t.outcome,
                    "tools": ", ".join(t.tools) or "–",
                    "ms": round(t.duration_ms),
                }
                for t in rows
            ],
            "admin-traces",
            height=min(420, 38 + 35 * len(rows)),
        )
    with st.container(horizontal=True, key="tx-paging"):
        if st.button("Newer", key="tx_prev", icon=":material/chevron_left:", disabled=page.offset == 0):
            st.session_state["tx_offset"] = max(0, page.offset - PAGE)
            st.rerun()
        if st.button("Older", key="tx_next", icon=":material/chevron_right:", disabled=page.next_offset is None):
            st.session_state["tx_offset"] = page.next_offset
            st.rerun()
    names = {t.trace_id: f"{t.user_id}: {short(t.request, 60)} ({local(t.created_at)})" for t in rows}
    chosen = st.selectbox(
        "Open a trace",
        list(names),
        format_func=lambda key: str(names.get(key, key)),
        index=None,
        placeholder="Choose a request…",
        key="admin_trace",
    )
    if chosen:
        trace.panel(chosen)
