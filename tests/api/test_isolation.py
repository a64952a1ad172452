"""Only what I should see: a globex Manager never sees acme's tickets, exports, traces, threads,
memory or data; a Viewer cannot export or open tickets; an Admin sees every ticket and trace."""

from __future__ import annotations

from ..helpers import chat, chat_and_answer, expected_indisky_failed
from ..helpers import execute

NO_EXPORT = "No such export, or it isn't yours to download."
NO_TRACE = "No such trace among yours."


def test_globex_never_sees_acme(api):
    acme_numbers = sorted(expected_indisky_failed(api.services.business))
    # maya (acme) leaves things behind: a thread, a trace, a ticket, an export
    body = chat(api.maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "iso-shared")
    assert sorted(r["invoice_number"] for r in body["data"]["results"]) == acme_numbers
    trace_id = body["trace_id"]
    ticket = chat_and_answer(api.maya, "create a ticket for these", "iso-shared", "yes", asks=True)["data"]["ticket_id"]
    export = execute(api.maya, "export_report", vendor="IndiSky", status="failed", period="last_month").json()["data"]
    assert api.maya.get(export["url"]).status_code == 200

    gita = api.gita
    # tickets
    assert ticket not in {t["ticket_id"] for t in gita.get("/tickets").json()["tickets"]}
    for r in (
        gita.get(f"/tickets/{ticket}"),
        gita.patch(f"/tickets/{ticket}", json={"status": "closed"}),
        execute(gita, "update_ticket", ticket_id=ticket, comment="x"),
    ):
        assert r.status_code == 404 and "among the tickets you can see" in r.json()["detail"]
    assert execute(gita, "view_tickets", ticket_id=ticket).json()["data"]["tickets"] == []
    assert all(n["ticket_id"] != ticket for n in gita.get("/notifications").json()["notifications"])
    assert api.maya.get(f"/tickets/{ticket}").json()["status"] == "open"
    # exports
    assert export["export_id"] not in {e["export_id"] for e in gita.get("/exports").json()["exports"]}
    r = gita.get(export["url"])
    assert (r.status_code, r.json()) == (404, {"detail": NO_EXPORT})
    # traces
    assert all(t["user_id"] == "gita" for t in gita.get("/traces", params={"limit": 200}).json()["traces"])
    r = gita.get(f"/traces/{trace_id}")
    assert (r.status_code, r.json()) == (404, {"detail": NO_TRACE})
    # threads and memory: the same client thread id is a different thread for her
    assert "iso-shared" not in {t["thread_id"] for t in gita.get("/threads").json()["threads"]}
    assert gita.get("/threads/iso-shared").status_code == 404
    assert all(
        h["thread_id"] != "iso-shared"
        for h in gita.get("/memory/search", params={"q": "IndiSky failed invoices"}).json()["results"]
    )
    body = chat(gita, "why did these fail?", "iso-shared")
    assert body["tool_used"] is None  # "these" means nothing in her thread
    # data, whatever she asks
    body = chat(gita, "Filter invoices for last month, vendor=IndiSky, status=failed", "iso-gita")
    assert not {r["invoice_number"] for r in body["data"].get("results", [])} & set(acme_numbers)
    assert body["data"].get("filters", {}).get("workspace_id", "globex") == "globex"
    rows = execute(gita, "filter_data", limit=1000).json()["data"]["results"]
    assert rows and all(r["invoice_number"].startswith("INV-GLO") for r in rows)
    assert execute(gita, "filter_data", invoice_numbers=acme_numbers).json()["data"]["filtered_records"] == 0
    assert execute(gita, "explain_failures", invoice_numbers=acme_numbers).json()["data"].get("failed", 0) == 0
    r = execute(gita, "filter_data", workspace="acme")
    assert (r.status_code, r.json()) == (403, {"detail": "You can only see data in your own workspace (globex)."})
    r = execute(gita, "export_report", invoice_numbers=acme_numbers)
    assert r.status_code == 400 and "nothing to export" in r.json()["detail"]
    r = gita.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": "why did these fail?"}]},
            "config": {"configurable": {"thread_id": "iso-shared"}},
        },
    )
    humans = [m["content"] for m in r.json()["output"]["messages"] if m["type"] == "human"]
    assert "Filter invoices for last month, vendor=IndiSky, status=failed" not in humans  # not maya's checkpoint


def test_viewer_cannot_export_or_open_tickets(api):
    tickets_before = len(api.admin.get("/tickets").json()["tickets"])
    v = api.victor
    body = chat(v, "Filter invoices for last month, vendor=IndiSky, status=failed", "iso-viewer")
    assert body["success"] and body["data"]["filtered_records"] == 7  # reading is fine
    body = chat(v, "why did these fail?", "iso-viewer")
    assert body["tool_used"] == "explain_failures" and "7 of 7 failed: GSTIN missing" in body["agent_response"]
    for request, what in (
        ("export these as excel", "export reports"),
        ("export invoices from last month as csv", "export reports"),
        ("create a ticket for these and notify me", "create tickets"),
        ("mark T-00001 as resolved", "update tickets"),
    ):
        body = chat(v, request, "iso-viewer", asks=False)  # refused before any question is asked
        assert (body["success"], body["status"]) == (False, "denied"), request
        assert f"as a Viewer you can't {what}" in body["agent_response"] and body["data"] == {}
    r = v.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": "create a ticket for these"}]},
            "config": {"configurable": {"thread_id": "iso-viewer"}},
        },
    )
    assert r.json()["output"]["result"]["status"] == "denied" and not r.json()["output"].get("pending_confirmation")
    assert v.get("/exports").json()["exports"] == []
    assert len(api.admin.get("/tickets").json()["tickets"]) == tickets_before
    perms = v.get("/user/victor/permissions").json()
    assert not {"export_report", "create_ticket", "update_ticket"} & set(perms["tools"])


def test_admin_sees_every_ticket_and_trace(api):
    maya_t = execute(api.maya, "create_ticket", title="acme: for the admin").json()["data"]["ticket_id"]
    gita_t = execute(api.gita, "create_ticket", title="globex: for the admin").json()["data"]["ticket_id"]
    seen = {t["ticket_id"]: t for t in api.admin.get("/tickets").json()["tickets"]}
    assert {maya_t, gita_t} <= seen.keys()
    assert (seen[maya_t]["workspace_id"], seen[gita_t]["workspace_id"]) == ("acme", "globex")
    assert gita_t not in {t["ticket_id"] for t in api.maya.get("/tickets").json()["tickets"]}
    assert maya_t not in {t["ticket_id"] for t in api.gita.get("/tickets").json()["tickets"]}
    assert api.admin.get(f"/tickets/{gita_t}").json()["created_by"] == "gita"
    r = api.admin.patch(f"/tickets/{gita_t}", json={"status": "resolved", "comment": "fixed from acme"})
    assert r.status_code == 200 and r.json()["notified"] == ["gita"]
    assert any(n["ticket_id"] == gita_t for n in api.gita.get("/notifications").json()["notifications"])

    maya_trace = chat(api.maya, "show my tickets", "iso-admin-maya")["trace_id"]  # a trace in each workspace
    gita_trace = chat(api.gita, "show my tickets", "iso-admin")["trace_id"]
    users = {t["user_id"] for t in api.admin.get("/traces", params={"limit": 200}).json()["traces"]}
    assert {"maya", "gita"} <= users
    assert api.admin.get(f"/traces/{maya_trace}").json()["user_id"] == "maya"
    assert api.admin.get(f"/traces/{gita_trace}").json()["user_id"] == "gita"
    r = execute(api.admin, "filter_data", workspace="globex", vendor="IndiSky")
    assert r.status_code == 200 and all(
        row["invoice_number"].startswith("INV-GLO") for row in r.json()["data"]["results"]
    )


def test_exports_download_for_owner_and_admin_only(api):
    export = execute(
        api.maya, "export_report", vendor="IndiSky", status="failed", period="last_month", format="xlsx"
    ).json()["data"]
    assert api.maya.get(export["url"]).content.startswith(b"PK")
    assert api.admin.get(export["url"]).status_code == 200
    for other in (api.victor, api.gita):  # same workspace or not: not theirs
        r = other.get(export["url"])
        assert (r.status_code, r.json()) == (404, {"detail": NO_EXPORT})
    assert api.anon.get(export["url"]).status_code == 401
    assert export["export_id"] not in {
        e["export_id"] for e in api.admin.get("/exports").json()["exports"]
    }  # own list only
