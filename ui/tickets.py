"""The tickets page: filter (status, assignee, vendor, words), open one, see its invoices and its
history in words, and, where the role allows (Managers their own tickets, Admins all), assign,
unassign, close, reopen, change the status or comment. Each role sees only what it may do."""

from __future__ import annotations

import re

import streamlit as st

from .answers import escape, table
from .format import ago, money
from .state import api, ask, cached, call, can, invalidate, is_admin, signed_in
from .ticket_words import LABEL, event, local_time
from schema.tickets import Ticket, TicketDetail, TicketEvent, TicketUpdated
from schema.toolnames import CREATE_TICKET, FILTER_DATA, UPDATE_TICKET

STATUSES = ["open", "in_progress", "resolved", "closed"]
COLOUR = {"open": "orange", "in_progress": "blue", "resolved": "green", "closed": "gray"}
ANYONE, NOBODY, ME = "__anyone__", "__nobody__", "__me__"
VENDORS = re.compile(r"invoice\(s\) from (.+?) worth")  # the description a ticket about invoices gets


def may_update(ticket: Ticket) -> bool:
    """What PATCH /tickets/{id} allows: update_ticket permission, and a Manager only on their own tickets."""
    return can(UPDATE_TICKET) and (is_admin() or ticket.created_by == signed_in().user_id)


def vendors_of(t: Ticket) -> list[str]:
    found = VENDORS.search(t.description or "")
    return [v.strip() for v in found.group(1).split(",")] if found else []


def _scope() -> str:
    if is_admin():
        return "every workspace"
    if can(CREATE_TICKET):
        return "yours: tickets you created, follow or are assigned"
    return "tickets you follow or are assigned"


def _empty() -> str:
    if is_admin():
        return "No tickets in any workspace yet."
    if can(CREATE_TICKET):
        return "No tickets yet. Ask the assistant to create one from a chat answer, for example “create a ticket for these”."
    return "No tickets yet. Tickets you follow or that are assigned to you will appear here."


def page() -> None:
    st.header("Tickets")
    flash = st.session_state.pop("flash", None)
    if flash:
        (st.info if flash.startswith("Nothing") else st.success)(flash, icon=":material/check:")
    tickets = cached("tickets", lambda: api().tickets())
    if tickets is None:
        return
    st.caption(f"{len(tickets)} ticket{'s' if len(tickets) != 1 else ''} ({_scope()})")
    if not tickets:
        st.info(_empty(), icon=":material/info:")
        return
    shown = _filtered(tickets)
    if not shown:
        st.caption("No tickets match these filters.")
        return
    table(
        [
            {
                "ticket_id": t.ticket_id,
                "title": t.title,
                "status": LABEL[t.status],
                "assignee": t.assignee or "–",
                "priority": t.priority,
                "invoices": len(t.record_ids),
                "created_by": t.created_by,
                "updated": ago(t.updated_at),
            }
            for t in shown
        ],
        "tickets-list",
        height=min(320, 38 + 35 * len(shown)),
    )
    ids = [t.ticket_id for t in shown]
    wanted_id = st.session_state.pop("open_ticket", None)
    if wanted_id in ids:
        st.session_state["ticket_pick"] = wanted_id
    names = {t.ticket_id: f"{t.ticket_id} · {t.title}" for t in shown}
    chosen = st.selectbox("Open a ticket", ids, format_func=lambda key: str(names.get(key, key)), key="ticket_pick")
    if chosen:
        detail(chosen)


def _filtered(tickets: list[Ticket]) -> list[Ticket]:
    me = signed_in().user_id
    wanted = st.pills(
        "Status",
        STATUSES,
        selection_mode="multi",
        default=None,
        format_func=lambda key: str(LABEL.get(key, key)),
        key="ticket_status",
    )
    people = sorted({t.assignee for t in tickets if t.assignee} - {me})
    vendors = sorted({v for t in tickets for v in vendors_of(t)})
    left, middle, right = st.columns(3)
    who = left.selectbox(
        "Assignee",
        [ANYONE, ME, NOBODY, *people],
        format_func=lambda k: {ANYONE: "Anyone", ME: "Assigned to me", NOBODY: "Unassigned"}.get(k, k),
        key="ticket_assignee_filter",
    )
    vendor = middle.selectbox("Vendor", ["", *vendors], format_func=lambda v: v or "Any vendor", key="ticket_vendor")
    text = right.text_input("Search", placeholder="title, ticket id, invoice number…", key="ticket_search")
    text = text.strip().lower()
    assignee = {ANYONE: None, ME: me, NOBODY: ""}.get(who, who)
    return [
        t
        for t in tickets
        if (not wanted or t.status in wanted)
        and (assignee is None or (t.assignee or "") == assignee)
        and (not vendor or vendor in vendors_of(t))
        and (not text or _matches(t, text))
    ]


def _matches(t: Ticket, text: str) -> bool:
    hay = " ".join([t.ticket_id, t.title, t.description, " ".join(t.record_ids)])
    return text in hay.lower()


def detail(ticket_id: str) -> None:
    t = call(api().ticket, ticket_id)
    if t is None:
        return
    with st.container(border=True, key="ticket-detail"):
        st.subheader(f"{t.ticket_id} · {t.title}")
        who = t.assignee
        st.markdown(
            f":{COLOUR[t.status]}-badge[{LABEL[t.status]}] :gray-badge[priority {t.priority}] "
            + (f":violet-badge[assigned to {who}] " if who else ":gray-badge[unassigned] ")
            + f":gray-badge[by {t.created_by}] :gray-badge[workspace {t.workspace_id}]"
        )
        st.caption(f"Opened {local_time(t.created_at)} · updated {ago(t.updated_at)}")
        if t.description:
            st.markdown(escape(t.description))
        _invoices(t)
        _history(t.history)
        if may_update(t):
            _actions(t)
        elif can(UPDATE_TICKET):
            st.caption(f"Only {t.created_by} or an Admin can change this ticket; you can follow it here.")
        else:
            st.caption("You can follow this ticket here; a Manager or an Admin changes it.")
        if st.button("Ask the assistant about this ticket", key="ask-ticket", icon=":material/chat:"):
            ask(f"show ticket {t.ticket_id}")


def _invoices(t: TicketDetail) -> None:
    numbers = t.record_ids
    if not numbers or t.record_type != "invoices":
        return
    params = {"dataset": "invoices", "invoice_numbers": numbers, "limit": min(1000, len(numbers))}
    if is_admin() and t.workspace_id != signed_in().workspace_id:
        params["workspace"] = t.workspace_id  # an Admin reading another workspace's ticket
    data = cached(f"ticket-invoices:{t.ticket_id}", lambda: api().tool(FILTER_DATA, **params), seconds=60)
    st.markdown(f"**Invoices ({len(numbers)})**")
    if data is None:
        return
    cols = ["invoice_number", "vendor", "invoice_date", "total_amount", "status", "error_message", "payment_status"]
    table([{c: r.get(c) for c in cols} for r in data.get("results") or []], f"ticket-invoices-{t.ticket_id}")
    if data.get("total_amount") is not None:
        st.caption(f"Total {money(data['total_amount'])}")


def _history(history: list[TicketEvent]) -> None:
    if not history:
        return
    st.markdown("**History**")
    for h in history:
        st.markdown(f"- {escape(event(h))} · *{local_time(h.created_at)}*")


def _save(t: Ticket, changes: dict) -> None:
    done = call(api().change_ticket, t.ticket_id, **changes)
    if done is not None:
        invalidate("tickets", "notifications")
        st.session_state["flash"] = saved_note(done)
        st.session_state["open_ticket"] = t.ticket_id
        st.rerun()


def saved_note(done: TicketUpdated) -> str:
    """What a Save did, in words: 'Saved: T-00001 is Closed and assigned to victor. Notified victor.'"""
    if done.message.startswith("Nothing"):
        return done.message
    who = done.assignee
    note = f"Saved: {done.ticket_id} is {LABEL.get(done.status, done.status)}"
    note += f" and assigned to {who}." if who else " and not assigned to anyone."
    if done.notified:
        note += f" Notified {', '.join(done.notified)}."
    return note


def _actions(t: Ticket) -> None:
    tid, status, who = t.ticket_id, t.status, t.assignee
    with st.container(horizontal=True, key=f"ticket-quick-{tid}"):
        if status != "closed" and st.button("Close", key=f"close-{tid}", icon=":material/task_alt:"):
            _save(t, {"status": "closed"})
        if status in ("resolved", "closed") and st.button("Reopen", key=f"reopen-{tid}", icon=":material/replay:"):
            _save(t, {"status": "open"})
        if who and st.button(f"Unassign {who}", key=f"unassign-{tid}", icon=":material/person_remove:"):
            _save(t, {"assignee": None})
    found = cached(f"assignees:{tid}", lambda: api().assignees(tid), seconds=120)
    people = found.users if found is not None else []
    names = {u.user_id: f"{u.display_name} ({u.role})" for u in people}
    options = ["", *names] if not who or who in names else ["", who, *names]
    # keyed by the saved state: after a Save the form starts from what is saved now, never the old values
    version = t.updated_at or ""
    with st.form(f"update-{tid}-{version}", border=False):
        st.markdown("**Update**")
        left, right = st.columns(2)
        new_status = left.selectbox(
            "Status",
            STATUSES,
            index=STATUSES.index(status),
            format_func=lambda key: str(LABEL.get(key, key)),
            key=f"ticket-status-{tid}-{version}",
        )
        new_who = right.selectbox(
            "Assigned to",
            options,
            index=options.index(who or ""),
            format_func=lambda key: names.get(key, key) if key else "Nobody",
            key=f"ticket-assignee-{tid}-{version}",
        )
        comment = st.text_area(
            "Comment",
            placeholder="What changed? Followers are notified.",
            max_chars=5000,
            key=f"ticket-comment-{tid}-{version}",
        )
        if st.form_submit_button("Save", type="primary", icon=":material/save:"):
            changes: dict = {}
            if new_status != status:
                changes["status"] = new_status
            if (new_who or None) != who:
                changes["assignee"] = new_who or None
            if comment.strip():
                changes["comment"] = comment.strip()
            if not changes:
                st.info("Nothing changed, so nothing was saved.", icon=":material/info:")
                return
            _save(t, changes)
