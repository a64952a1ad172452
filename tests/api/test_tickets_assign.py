"""Tickets as a daily tool: assign to a user of the ticket's workspace (PATCH /tickets/{id} with
`assignee`, from the API and from the chat, which asks first), unassign, close, reopen; a Save that
changes nothing writes nothing; the history names who did what."""

from __future__ import annotations

from sqlalchemy import func, select

from business_data.appdb import Notification, Ticket, TicketComment, User
from business_data.db import session_scope

from ..helpers import chat, chat_and_answer


def new_ticket(api, title: str) -> str:
    r = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": title}})
    assert r.status_code == 200, r.text
    return r.json()["data"]["ticket_id"]


def row(api, ticket_id: str) -> Ticket:
    with session_scope(api.services.app) as s:
        t = s.scalars(select(Ticket).where(Ticket.ticket_id == ticket_id)).one()
        s.expunge(t)
        return t


def history_rows(api, ticket_id: str) -> int:
    with session_scope(api.services.app) as s:
        return s.scalar(select(func.count()).select_from(TicketComment).where(TicketComment.ticket_id == ticket_id))


def test_assign_unassign_close_reopen(api):
    tid = new_ticket(api, "Assign me: GSTIN follow-up")
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": "victor"})
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == "victor" and row(api, tid).assignee == "victor"
    assert "victor" in r.json()["notified"]
    # the assignee now sees it among his tickets and was told
    assert tid in {t["ticket_id"] for t in api.victor.get("/tickets").json()["tickets"]}
    with session_scope(api.services.app) as s:
        told = s.scalars(
            select(Notification.message).where(Notification.user_id == "victor", Notification.ticket_id == tid)
        )
        assert any("assigned to victor" in m for m in told)
    r = api.maya.patch(f"/tickets/{tid}", json={"status": "closed"})
    assert r.json()["status"] == "closed" and row(api, tid).status == "closed"
    r = api.maya.patch(f"/tickets/{tid}", json={"status": "open"})
    assert r.json()["status"] == "open"
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": None})
    assert r.status_code == 200 and r.json()["assignee"] is None and row(api, tid).assignee is None
    history = api.maya.get(f"/tickets/{tid}").json()["history"]
    assigned = [h for h in history if h["assignee_to"] == "victor"]
    assert len(assigned) == 1 and assigned[0]["author_name"] == "Maya Menon"
    assert assigned[0]["assignee_to_name"] == "Victor Varma" and assigned[0]["assignee_from"] is None
    unassigned = history[-1]
    assert (unassigned["assignee_from"], unassigned["assignee_to"]) == ("victor", None)
    assert [(h["status_from"], h["status_to"]) for h in history if h["status_to"]][1:] == [
        ("open", "closed"),
        ("closed", "open"),
    ]


def test_nothing_changed_writes_nothing(api):
    tid = new_ticket(api, "Nothing to change")
    before, updated = history_rows(api, tid), row(api, tid).updated_at
    r = api.maya.patch(f"/tickets/{tid}", json={"status": "open"})
    assert r.status_code == 200 and r.json()["message"].startswith("Nothing to change")
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": None})
    assert r.status_code == 200 and r.json()["message"].startswith("Nothing to change")
    assert history_rows(api, tid) == before and row(api, tid).updated_at == updated


def test_assignee_must_be_a_user_of_the_tickets_workspace(api):
    tid = new_ticket(api, "Only acme people")
    before = history_rows(api, tid)
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": "gita"})  # globex
    assert (
        r.status_code == 400
        and r.json()["detail"] == "There is no user 'gita' in workspace acme to assign the ticket to."
    )
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": "nobody"})
    assert r.status_code == 400 and "no user 'nobody'" in r.json()["detail"]
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": "  "})
    assert r.status_code == 422 and "null to unassign" in r.text
    r = api.maya.patch(f"/tickets/{tid}", json={"assignee": "x" * 65})
    assert r.status_code == 422
    assert row(api, tid).assignee is None and history_rows(api, tid) == before


def test_who_may_assign(api):
    tid = new_ticket(api, "Maya's own ticket")
    r = api.victor.patch(f"/tickets/{tid}", json={"assignee": "victor"})  # a Viewer
    assert r.status_code == 403
    r = api.gita.patch(f"/tickets/{tid}", json={"assignee": "gita"})  # another workspace: as if it did not exist
    assert r.status_code == 404 and tid in r.json()["detail"]
    r = api.admin.patch(f"/tickets/{tid}", json={"assignee": "admin"})
    assert r.status_code == 200 and row(api, tid).assignee == "admin"


def test_assignees_are_the_tickets_workspace(api):
    tid = new_ticket(api, "Who can take it")
    r = api.maya.get(f"/tickets/{tid}/assignees")
    assert r.status_code == 200
    with session_scope(api.services.app) as s:
        acme = set(s.scalars(select(User.user_id).where(User.workspace_id == "acme", User.active.is_(True))))
    assert {u["user_id"] for u in r.json()["users"]} == acme
    assert api.gita.get(f"/tickets/{tid}/assignees").status_code == 404
    assert api.maya.get("/tickets/T-99999/assignees").status_code == 404
    assert api.maya.get("/tickets/not-a-ticket/assignees").status_code == 404


def test_assign_from_the_chat_asks_first(api):
    tid = new_ticket(api, "Chat assignment")
    body = chat(api.maya, f"assign {tid} to victor", "assign-chat-1", asks=True)
    assert "Victor Varma" in body["agent_response"] and row(api, tid).assignee is None
    chat(api.maya, "no", "assign-chat-1")
    assert row(api, tid).assignee is None
    chat_and_answer(api.maya, f"assign {tid} to victor", "assign-chat-2", "yes", asks=True)
    assert row(api, tid).assignee == "victor"
    chat_and_answer(api.maya, f"unassign {tid}", "assign-chat-3", "yes", asks=True)
    assert row(api, tid).assignee is None
    body = chat(api.victor, f"assign {tid} to victor", "assign-chat-4")  # a Viewer: refused, nothing asked
    assert row(api, tid).assignee is None and body["status"] != "awaiting_confirmation"
