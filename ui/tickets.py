"""The tickets page: list and filter, open one, see its invoices and history, comment and change its
status where the role allows (Managers their own tickets, Admins all)."""

from __future__ import annotations

import streamlit as st

from .answers import escape, table
from .format import ago, money
from .state import api, ask, cached, call, can, invalidate, is_admin, signed_in

STATUSES = ["open", "in_progress", "resolved", "closed"]
LABEL = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved", "closed": "Closed"}
COLOUR = {"open": "orange", "in_progress": "blue", "resolved": "green", "closed": "gray"}


def may_update(ticket: dict) -> bool:
    """What PATCH /tickets/{id} allows: update_ticket permission, and a Manager only on their own tickets."""
    return can("update_ticket") and (is_admin() or ticket.get("created_by") == signed_in()["user_id"])


def page() -> None:
    st.header("Tickets")
    flash = st.session_state.pop("flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    tickets = cached("tickets", lambda: api().tickets())
    if tickets is None:
        return
    scope = "every workspace" if is_admin() else "yours: tickets you created or follow"
    st.caption(f"{len(tickets)} ticket{'s' if len(tickets) != 1 else ''} ({scope})")
    wanted = st.pills(
        "Status",
        STATUSES,
        selection_mode="multi",
        default=None,
        format_func=lambda key: str(LABEL.get(key, key)),
        key="ticket_status",
    )
    text = st.text_input("Search", placeholder="title, ticket id, invoice number…", key="ticket_search").strip().lower()
    shown = [t for t in tickets if (not wanted or t["status"] in wanted) and (not text or _matches(t, text))]
    if shown:
        table(
            [
                {
                    "ticket_id": t["ticket_id"],
                    "title": t["title"],
                    "status": LABEL[t["status"]],
                    "priority": t.get("priority"),
                    "invoices": len(t.get("record_ids") or []),
                    "created_by": t.get("created_by"),
                    "updated": ago(t.get("updated_at")),
                }
                for t in shown
            ],
            "tickets-list",
            height=min(320, 38 + 35 * len(shown)),
        )
    else:
        st.caption(
            "No tickets match." if tickets else "No tickets yet. Ask the assistant to create one from a chat answer."
        )
        return
    ids = [t["ticket_id"] for t in shown]
    wanted_id = st.session_state.pop("open_ticket", None)
    if wanted_id in ids:
        st.session_state["ticket_pick"] = wanted_id
    names = {t["ticket_id"]: f"{t['ticket_id']} · {t['title']}" for t in shown}
    chosen = st.selectbox("Open a ticket", ids, format_func=lambda key: str(names.get(key, key)), key="ticket_pick")
    if chosen:
        detail(chosen)


def _matches(t: dict, text: str) -> bool:
    hay = " ".join(
        [t["ticket_id"], t.get("title") or "", t.get("description") or "", " ".join(t.get("record_ids") or [])]
    )
    return text in hay.lower()


def detail(ticket_id: str) -> None:
    t = call(api().ticket, ticket_id)
    if t is None:
        return
    with st.container(border=True, key="ticket-detail"):
        st.subheader(f"{t['ticket_id']} · {t['title']}")
        st.markdown(
            f":{COLOUR[t['status']]}-badge[{LABEL[t['status']]}] :gray-badge[priority {t.get('priority', 'medium')}] "
            f":gray-badge[by {t.get('created_by')}] :gray-badge[workspace {t.get('workspace_id')}]"
        )
        st.caption(f"Opened {ago(t.get('created_at'))} · updated {ago(t.get('updated_at'))}")
        if t.get("description"):
            st.markdown(escape(t["description"]))
        _invoices(t)
        _history(t.get("history") or [])
        if may_update(t):
            _update_form(t)
        if st.button("Ask the assistant about this ticket", key="ask-ticket", icon=":material/chat:"):
            ask(f"show ticket {t['ticket_id']}")


def _invoices(t: dict) -> None:
    numbers = t.get("record_ids") or []
    if not numbers or t.get("record_type", "invoices") != "invoices":
        return
    params = {"dataset": "invoices", "invoice_numbers": numbers, "limit": min(1000, len(numbers))}
    if is_admin() and t.get("workspace_id") != signed_in()["workspace_id"]:
        params["workspace"] = t["workspace_id"]  # an Admin reading another workspace's ticket
    data = cached(f"ticket-invoices:{t['ticket_id']}", lambda: api().tool("filter_data", **params), seconds=60)
    st.markdown(f"**Invoices ({len(numbers)})**")
    if data is None:
        return
    cols = ["invoice_number", "vendor", "invoice_date", "total_amount", "status", "error_message", "payment_status"]
    table([{c: r.get(c) for c in cols} for r in data.get("results") or []], f"ticket-invoices-{t['ticket_id']}")
    if data.get("total_amount") is not None:
        st.caption(f"Total {money(data['total_amount'])}")


def _history(history: list[dict]) -> None:
    if not history:
        return
    st.markdown("**History**")
    for h in history:
        if h.get("status_to") and not h.get("status_from"):
            change = "opened the ticket"
        elif h.get("status_to") and h["status_to"] != h["status_from"]:
            change = f"changed the status from **{LABEL.get(h['status_from'], h['status_from'])}** to **{LABEL.get(h['status_to'], h['status_to'])}**"
        else:
            change = "commented"
        st.markdown(
            f"- **{h['author']}** {change} · *{ago(h.get('created_at'))}*"
            + (f"  \n  {escape(h['comment'])}" if h.get("comment") and change != "opened the ticket" else "")
        )


def _update_form(t: dict) -> None:
    with st.form(f"update-{t['ticket_id']}", clear_on_submit=True, border=False):
        st.markdown("**Update**")
        status = st.selectbox(
            "Status",
            STATUSES,
            index=STATUSES.index(t["status"]),
            format_func=lambda key: str(LABEL.get(key, key)),
            key=f"ticket-status-{t['ticket_id']}",
        )
        comment = st.text_area(
            "Comment",
            placeholder="What changed? Subscribers are notified.",
            max_chars=5000,
            key=f"ticket-comment-{t['ticket_id']}",
        )
        if st.form_submit_button("Save", type="primary", icon=":material/save:"):
            change = status if status != t["status"] else None
            if not change and not comment.strip():
                st.warning("Change the status or write a comment first.")
                return
            done = call(api().update_ticket, t["ticket_id"], status=change, comment=comment.strip() or None)
            if done is not None:
                invalidate("tickets", "notifications")
                st.session_state["flash"] = done.get("message") or "Saved."
                st.session_state["open_ticket"] = t["ticket_id"]
                st.rerun()
