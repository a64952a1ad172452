"""A user an Admin moves from acme to globex reads nothing of acme afterwards: traces, exports and
their downloads, tickets, threads, memory, plans, insights and notifications (tools/rbac.py `mine` /
`readable_by`, memory's (user, workspace) scope, notifications' workspace). Moving him back shows them
again: nothing was deleted, only scoped. A move ends the subscriptions of the old workspace."""

from __future__ import annotations

from sqlalchemy import text


def _new_manager(api, user_id: str):
    r = api.admin.post(
        "/admin/users",
        json={"user_id": user_id, "display_name": user_id.title(), "role": "Manager", "workspace_id": "acme"},
    )
    assert r.status_code == 201, r.text
    return api.with_token(api.admin.post("/admin/tokens", json={"user_id": user_id}).json()["token"])


def _move(api, user_id: str, workspace: str) -> None:
    r = api.admin.post(f"/admin/users/{user_id}/roles", json={"role": "Manager", "workspace_id": workspace})
    assert r.status_code == 200 and r.json()["workspace_id"] == workspace, r.text


def test_a_user_moved_to_another_workspace_reads_nothing_of_the_old_one(api):
    mover = _new_manager(api, "mover")

    body = mover.post(
        "/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "move-1"}
    ).json()
    assert body["data"]["filtered_records"] > 0
    trace_id = body["trace_id"]
    export = mover.post(
        "/execute_tool",
        json={
            "tool_name": "export_report",
            "params": {"vendor": "IndiSky", "period": "last_month", "status": "failed"},
        },
    )
    assert export.status_code == 200, export.text
    export_url = export.json()["data"]["url"]
    ticket_id = mover.post(
        "/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "acme work"}}
    ).json()["data"]["ticket_id"]
    plan = mover.post("/plans/create", json={"template": "monthly_review", "params": {}})
    assert plan.status_code == 200, plan.text
    plan_id = plan.json()["plan_id"]
    r = api.admin.post(
        "/execute_tool",
        json={"tool_name": "update_ticket", "params": {"ticket_id": ticket_id, "status": "in_progress"}},
    )
    assert r.status_code == 200 and "mover" in r.json()["data"]["notified"], r.text

    def reads() -> dict:
        return {
            "traces": [t["trace_id"] for t in mover.get("/traces").json()["traces"]],
            "trace": mover.get(f"/traces/{trace_id}").status_code,
            "exports": [e["url"] for e in mover.get("/exports").json()["exports"]],
            "download": mover.get(export_url).status_code,
            "tickets": [t["ticket_id"] for t in mover.get("/tickets").json()["tickets"]],
            "ticket": mover.get(f"/tickets/{ticket_id}").status_code,
            "threads": [t["thread_id"] for t in mover.get("/threads").json()["threads"]],
            "thread": mover.get("/threads/move-1").status_code,
            "memory": len(mover.get("/memory/search", params={"q": "IndiSky failed invoices"}).json()["results"]),
            "plan": mover.get(f"/plans/{plan_id}/status").status_code,
            "notifications": [n["ticket_id"] for n in mover.get("/notifications").json()["notifications"]],
            "insights": {
                k: len(v)
                for k, v in mover.get("/memory/mover/insights").json()["open_items"].items()
                if k != "awaiting_confirmation"
            },
        }

    before = reads()
    assert trace_id in before["traces"] and before["trace"] == 200
    assert export_url in before["exports"] and before["download"] == 200
    assert ticket_id in before["tickets"] and before["ticket"] == 200
    assert "move-1" in before["threads"] and before["thread"] == 200
    assert before["plan"] == 200
    assert before["notifications"] == [ticket_id]
    assert before["insights"] == {"open_tickets": 1, "unread_notifications": 1}

    _move(api, "mover", "globex")
    assert reads() == {
        "traces": [],
        "trace": 404,
        "exports": [],
        "download": 404,
        "tickets": [],
        "ticket": 404,
        "threads": [],
        "thread": 404,
        "memory": 0,
        "plan": 404,
        "notifications": [],
        "insights": {"open_tickets": 0, "unread_notifications": 0},
    }

    # nothing was deleted: moved back, he reads them again
    _move(api, "mover", "acme")
    again = reads()
    assert again["trace"] == again["download"] == again["ticket"] == again["thread"] == again["plan"] == 200
    assert again["notifications"] == [ticket_id]


def _notifications_in_db(api, user_id: str) -> int:
    with api.services.app.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM notifications WHERE user_id = :u"), {"u": user_id}).scalar_one()


def test_a_moved_manager_no_longer_reads_or_receives_the_old_workspaces_notifications(api):
    nadia = _new_manager(api, "nadia")
    ticket_id = nadia.post(
        "/execute_tool",
        json={"tool_name": "create_ticket", "params": {"title": "acme vendor payouts", "notify_me": True}},
    ).json()["data"]["ticket_id"]

    def admin_updates(comment: str) -> list[str]:
        r = api.admin.post(
            "/execute_tool",
            json={"tool_name": "update_ticket", "params": {"ticket_id": ticket_id, "comment": comment}},
        )
        assert r.status_code == 200, r.text
        return r.json()["data"]["notified"]

    assert admin_updates("looking into it") == ["nadia"]
    assert [n["ticket_id"] for n in nadia.get("/notifications").json()["notifications"]] == [ticket_id]

    _move(api, "nadia", "globex")
    # every way she could read it: the endpoint, the tool, the chat
    assert nadia.get("/notifications").json() == {"notifications": []}
    assert nadia.get("/notifications", params={"unread_only": True}).json() == {"notifications": []}
    tool = nadia.post("/execute_tool", json={"tool_name": "view_notifications", "params": {}})
    assert tool.status_code == 200 and tool.json()["message"] == "No notifications.", tool.text
    chat = nadia.post("/chat", json={"message": "show my notifications", "thread_id": "nadia-globex"}).json()
    assert ticket_id not in chat["agent_response"] and "looking into it" not in chat["agent_response"], chat[
        "agent_response"
    ]
    assert "No notifications" in chat["agent_response"], chat["agent_response"]
    # the subscription ended with the move: later acme updates no longer reach her
    before = _notifications_in_db(api, "nadia")
    assert admin_updates("fixed the payout file") == []
    assert _notifications_in_db(api, "nadia") == before

    # moved back: the old notification is there again (hidden, not deleted), and still unread; the
    # ended subscription stays ended
    _move(api, "nadia", "acme")
    notes = nadia.get("/notifications").json()["notifications"]
    assert [(n["ticket_id"], n["read"]) for n in notes] == [(ticket_id, False)]
    assert admin_updates("one more") == []
