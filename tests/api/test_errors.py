"""From a tool's result to the HTTP answer: unknown tool 404, denied 403, bad parameters 400, unknown
or invisible ticket 404 (the same sentence everywhere), someone else's ticket 403, conflicts 409.
Each refusal writes nothing."""

from __future__ import annotations

import pytest
from ..helpers import execute

VIEWER_EXPORT = "Sorry, as a Viewer you can't export reports; that needs the Manager or Admin role."
NO_TICKET = "I can't find ticket {} among the tickets you can see."


def new_ticket(caller, title: str) -> str:
    r = execute(caller, "create_ticket", title=title)
    assert r.status_code == 200, r.text
    return r.json()["data"]["ticket_id"]


@pytest.mark.parametrize("name", ["rm_rf", "run_template", "FILTER_DATA", ""])
def test_unknown_tool_is_404_and_lists_the_tools(api, name):
    r = execute(api.maya, name)
    assert r.status_code == 404, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"There is no tool called '{name}'. Available: ")
    available = detail.removeprefix(f"There is no tool called '{name}'. Available: ").rstrip(".").split(", ")
    assert {
        "filter_data",
        "explain_failures",
        "export_report",
        "create_ticket",
        "update_ticket",
        "view_tickets",
    } <= set(available)
    assert "run_template" not in available and available == sorted(available)


def test_a_tool_the_role_may_not_run_is_403(api):
    r = execute(api.victor, "export_report", vendor="IndiSky", format="csv")
    assert r.status_code == 403 and r.json()["detail"].startswith(VIEWER_EXPORT)
    assert "You can filter and view data" in r.json()["detail"]
    r = execute(api.victor, "create_ticket", title="x")
    assert r.status_code == 403 and r.json()["detail"].startswith("Sorry, as a Viewer you can't create tickets")
    r = execute(api.victor, "update_ticket", ticket_id="T-99999", status="closed")  # role first: nothing is looked up
    assert r.status_code == 403 and r.json()["detail"].startswith("Sorry, as a Viewer you can't update tickets")
    assert api.victor.get("/exports").json()["exports"] == []
    assert api.victor.get("/tickets").json()["tickets"] == []


def test_the_same_tool_succeeds_for_a_role_that_may_run_it(api):
    r = execute(api.maya, "export_report", vendor="IndiSky", status="failed", period="last_month", format="csv")
    assert r.status_code == 200 and r.json()["data"]["rows"] == 7
    assert api.maya.get(r.json()["data"]["url"]).status_code == 200


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"dataset": "payroll"}, "I can't do that as asked: dataset must be one of"),
        (
            {"date_from": "2026-02-30", "status": "lost", "colour": "red"},
            "I can't do that as asked: date_from '2026-02-30' is not a real date (use YYYY-MM-DD); status must be one of "
            "'pending', 'processed', 'failed' or 'cancelled', not 'lost'; 'colour' is not something I can filter on.",
        ),
        ({"vendor": "Sky"}, "I couldn't find a vendor called 'Sky'. Did you mean IndiSky Airlines or SkyHigh Hotels?"),
        ({"min_amount": -5}, "I can't do that as asked: min_amount"),
        ({"period": "next_decade"}, "I don't know the period 'next_decade'. Try one of: today, yesterday, "),
    ],
)
def test_bad_parameters_are_400_with_the_tools_sentence(api, params, detail):
    r = execute(api.maya, "filter_data", **params)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(detail)
    assert "Traceback" not in r.text


def test_bad_data_for_a_write_is_400_and_writes_nothing(api):
    r = execute(api.maya, "export_report", vendor="IndiSky", period="2019")
    assert r.status_code == 400
    assert (
        r.json()["detail"]
        == "There is nothing to export: no records match. Filter some data first, or widen the filters."
    )
    r = execute(api.maya, "create_ticket")
    assert r.status_code == 400 and r.json()["detail"].startswith("What is the ticket about?")
    acme = [row["invoice_number"] for row in execute(api.maya, "filter_data", limit=3).json()["data"]["results"]]
    r = execute(api.gita, "create_ticket", invoice_numbers=acme)
    assert r.status_code == 400 and r.json()["detail"].startswith("These invoices are not in your workspace")
    assert api.gita.get("/tickets").json()["tickets"] == [] and api.gita.get("/exports").json()["exports"] == []


def test_unknown_ticket_is_404_with_the_same_sentence_everywhere(api):
    expected = NO_TICKET.format("T-99999")
    answers = [
        execute(api.maya, "update_ticket", ticket_id="T-99999", status="closed"),
        api.maya.get("/tickets/T-99999"),
        api.maya.patch("/tickets/T-99999", json={"status": "closed"}),
        api.maya.patch("/tickets/t-99999", json={"comment": "hello"}),  # one id normaliser
        api.admin.get("/tickets/T-99999"),
    ]
    for r in answers:
        assert (r.status_code, r.json()) == (404, {"detail": expected}), r.request.url


def test_unknown_ticket_404_names_the_normalised_id_on_get(api):
    r = api.maya.get("/tickets/99999")
    assert r.json() == {"detail": NO_TICKET.format("T-99999")}


def test_ticket_ids_are_normalised_on_the_ticket_routes(api):
    tid = new_ticket(api.maya, "normalise me")
    number = int(tid.removeprefix("T-"))
    for alias in (tid.lower(), str(number)):
        assert api.maya.get(f"/tickets/{alias}").json()["ticket_id"] == tid
    r = api.maya.patch(f"/tickets/{number}", json={"status": "in_progress"})
    assert r.status_code == 200 and (r.json()["ticket_id"], r.json()["status"]) == (tid, "in_progress")


def test_someone_elses_ticket(api):
    mine = new_ticket(api.maya, "maya's own")
    admins = new_ticket(api.admin, "admin's own")
    # a Viewer may not update any ticket: 403, whatever the body claims
    r = api.victor.patch(f"/tickets/{mine}", json={"status": "closed"})
    assert r.status_code == 403 and r.json()["detail"].startswith("Sorry, as a Viewer you can't update tickets")
    # a Manager cannot see (so cannot update) a ticket she neither created nor follows: the same 404
    # as a ticket that does not exist, so its existence does not leak
    r = api.maya.patch(f"/tickets/{admins}", json={"status": "closed"})
    assert (r.status_code, r.json()) == (404, {"detail": NO_TICKET.format(admins)})
    r = execute(api.maya, "update_ticket", ticket_id=admins, comment="mine now?")
    assert r.status_code == 404
    # another workspace's Manager: the same
    r = api.gita.patch(f"/tickets/{mine}", json={"status": "closed"})
    assert (r.status_code, r.json()) == (404, {"detail": NO_TICKET.format(mine)})
    # nothing changed; the owner and an Admin may update
    assert api.admin.get(f"/tickets/{admins}").json()["status"] == "open"
    assert api.maya.get(f"/tickets/{mine}").json()["status"] == "open"
    assert api.maya.patch(f"/tickets/{mine}", json={"comment": "on it"}).status_code == 200
    r = api.admin.patch(f"/tickets/{mine}", json={"status": "closed"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["notified"] == ["maya"]


def test_conflicts_are_409(api):
    r = api.admin.post(
        "/admin/users", json={"user_id": "maya", "display_name": "Maya again", "role": "Viewer", "workspace_id": "acme"}
    )
    assert r.status_code == 409 and r.json()["detail"] == "User 'maya' already exists."
    assert api.maya.get("/user/maya/permissions").json()["role"] == "Manager"
    r = api.admin.post("/admin/users/admin/roles", json={"role": "Viewer"})
    assert r.status_code == 409 and r.json()["detail"] == "You can't remove your own Admin role; ask another Admin."


def test_admin_and_owner_only_endpoints_are_403_for_others(api):
    for r in (api.maya.get("/admin/users"), api.victor.get("/metrics"), api.gita.get("/admin/tokens")):
        assert r.status_code == 403 and r.json()["detail"].startswith(
            "Only an Admin can do this; you are signed in as a"
        )
    r = api.maya.get("/user/admin/permissions")
    assert r.status_code == 403 and r.json()["detail"] == "You can only see your own permissions."
    assert api.admin.get("/user/maya/permissions").json()["user_id"] == "maya"
    r = api.admin.get("/user/nobody/permissions")
    assert r.status_code == 404 and r.json()["detail"] == "No user 'nobody'."


def test_plans_errors(api):
    r = api.victor.post("/plans/create", json={"template": "monthly_review"})
    assert r.status_code == 403 and r.json()["detail"].startswith("Sorry, as a Viewer you can't run business templates")
    r = api.maya.post("/plans/create", json={"template": "nope"})
    assert r.status_code == 400 and r.json()["detail"].startswith("There is no template called 'nope'. Choose one of: ")
    r = api.maya.get("/plans/nope/status")
    assert r.status_code == 404 and r.json()["detail"] == "There is no plan 'nope' that you can see."
    plan = api.maya.post("/plans/create", json={"template": "monthly_review"}).json()["plan_id"]
    assert api.gita.get(f"/plans/{plan}/status").status_code == 404
    assert api.admin.get(f"/plans/{plan}/status").json()["status"] == "created"
