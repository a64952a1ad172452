"""A user an Admin moves from acme to globex reads nothing of acme afterwards: traces, exports and
their downloads, tickets, threads, memory and plans (tools/rbac.py `mine` / `readable_by`, memory's
(user, workspace) scope). Moving him back shows them again: nothing was deleted, only scoped."""

from __future__ import annotations


def test_a_user_moved_to_another_workspace_reads_nothing_of_the_old_one(api):
    r = api.admin.post(
        "/admin/users", json={"user_id": "mover", "display_name": "Mo Ver", "role": "Manager", "workspace_id": "acme"}
    )
    assert r.status_code == 201, r.text
    mover = api.with_token(api.admin.post("/admin/tokens", json={"user_id": "mover"}).json()["token"])

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
        }

    before = reads()
    assert trace_id in before["traces"] and before["trace"] == 200
    assert export_url in before["exports"] and before["download"] == 200
    assert ticket_id in before["tickets"] and before["ticket"] == 200
    assert "move-1" in before["threads"] and before["thread"] == 200
    assert before["plan"] == 200

    r = api.admin.post("/admin/users/mover/roles", json={"role": "Manager", "workspace_id": "globex"})
    assert r.status_code == 200 and r.json()["workspace_id"] == "globex"
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
    }

    # nothing was deleted: moved back, he reads them again
    api.admin.post("/admin/users/mover/roles", json={"role": "Manager", "workspace_id": "acme"})
    again = reads()
    assert again["trace"] == again["download"] == again["ticket"] == again["thread"] == again["plan"] == 200
