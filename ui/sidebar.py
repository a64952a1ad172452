"""The side panel, "Don't make me repeat myself": who you are, what happened since you were last
here, open tickets and notifications (with the unread count), and recent conversations."""

from __future__ import annotations

import streamlit as st

from schema.tickets import Notification

from . import chat, insights_panel, status_line
from .format import ago, short
from .state import api, cached, call, go, invalidate, sign_out, signed_in

OPEN = ("open", "in_progress")


def render() -> None:
    user = signed_in()
    with st.sidebar:
        with st.container(border=True):
            st.markdown(
                f"**{user.display_name}**  \n{user.role} · workspace `{user.workspace_id}`",
                help=f"As a {user.role} you can {user.summary or 'use the assistant'}.",
            )
            if st.button("Sign out", key="signout", icon=":material/logout:", type="tertiary"):
                sign_out()
                st.rerun()
        got = cached("notifications", lambda: api().notifications())
        notes = got or []
        unread = [n for n in notes if not n.read]
        _welcome(unread)
        _tickets()
        if got is not None:  # not read: neither a count nor "nothing yet" would be true
            _notifications(notes, unread)
        _threads()
        insights_panel.render()
        status_line.render()


def _welcome(unread: list[Notification]) -> None:
    """What changed since the user was last here: their unread ticket news, shown until read."""
    if not unread:
        return
    with st.container(border=True, key="welcome_back"):
        st.markdown("**Welcome back** — since you were last here:")
        for n in unread[:3]:
            st.markdown(f"- {n.message} *({ago(n.created_at)})*")
        if st.button("Mark as read", key="mark_read", icon=":material/done_all:", type="tertiary"):
            if call(api().mark_notifications_read) is not None:
                invalidate("notifications")
                st.rerun()


def _tickets() -> None:
    got = cached("tickets", lambda: api().tickets())
    if got is None:  # not read: the count is unknown, so none is shown
        with st.expander("Open tickets", icon=":material/confirmation_number:"):
            st.caption("Can't be counted right now.")
        return
    open_tickets = [t for t in got if t.status in OPEN]
    with st.expander(
        f"Open tickets ({len(open_tickets)})", expanded=bool(open_tickets), icon=":material/confirmation_number:"
    ):
        if not open_tickets:
            st.caption("No open tickets.")
        for t in open_tickets[:6]:
            if st.button(
                f"{t.ticket_id} · {short(t.title, 34)}",
                key=f"side-ticket-{t.ticket_id}",
                help=f"{t.title} ({t.status.replace('_', ' ')})",
                type="tertiary",
            ):
                st.session_state["open_ticket"] = t.ticket_id
                go("tickets")


def _notifications(notes: list[Notification], unread: list[Notification]) -> None:
    label = f"Notifications ({len(unread)} unread)" if unread else "Notifications"
    with st.expander(label, icon=":material/notifications:"):
        if not notes:
            st.caption("Nothing yet. You'll hear here when a ticket you follow changes.")
        for n in notes[:8]:
            dot = "🔵 " if not n.read else ""
            st.markdown(f"{dot}{n.message}  \n*{ago(n.created_at)}*")


GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")
PAGE = 30


def _threads() -> None:
    """Every conversation, newest first, grouped by day (the API groups in the workspace's time zone),
    searched by name and text on the server, 30 more at a time."""
    st.markdown("**Conversations**")
    if st.button("New conversation", key="new-thread", icon=":material/add_comment:", width="stretch"):
        chat.new_thread()
        go("chat")
    q = st.text_input(
        "Search conversations",
        key="thread_search",
        placeholder="Search conversations",
        label_visibility="collapsed",
        icon=":material/search:",
    ).strip()
    shown = st.session_state.get("threads_shown", PAGE)
    found = cached(f"threads:{q}:{shown}", lambda: api().thread_page(q, limit=shown))
    if found is None:
        return
    threads = found.threads
    if not threads:
        st.caption(f"No conversation mentions “{q}”." if q else "No conversations yet: ask something to start one.")
        return
    current = st.session_state.get("thread_id")
    for group in GROUPS:
        members = [t for t in threads if (t.group or "Older") == group]
        if not members:
            continue
        box = st.container(gap="xxsmall", key=f"threads-{group.split()[0].lower()}")
        box.caption(group)
        for t in members:
            title = t.title or t.first_message or t.thread_id
            marker = "▸ " if t.thread_id == current else ""
            if box.button(
                f"{marker}{short(title, 38)}",
                key=f"thread-{t.thread_id}",
                type="tertiary",
                help=f"{title} ({t.turns} messages, last {ago(t.last_at)})",
            ):
                chat.open_thread(t.thread_id, title=t.title)
                go("chat")
    total = found.total or len(threads)
    if found.next_offset is not None:
        if st.button(f"Show more ({total - len(threads)} older)", key="threads-more", type="tertiary"):
            st.session_state["threads_shown"] = shown + PAGE
            st.rerun()
