"""GET /insights, dismiss, snooze, subscription: every role's answer, bad input as a clear 4xx, the
OpenAPI schema, and the proving query running through /execute_tool."""

from __future__ import annotations

import pytest

from .conftest import invalid, no_traceback


@pytest.fixture(scope="module")
def found(api):
    from graph.watch import watch

    result = watch(api.services)
    assert result.ran
    return result


def test_insights_are_scoped_and_summarised(api, found):
    r = api.maya.get("/insights")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["insights"] and {i["workspace_id"] for i in body["insights"]} == {"acme"}
    assert "possible duplicate payment" in body["summary"] and "₹" in body["summary"]
    first = body["insights"][0]
    assert first["amount_text"].startswith("₹") and first["explanation"] and first["status"] == "open"
    # a Viewer reads them too; another workspace's Manager sees only theirs
    assert api.victor.get("/insights").json()["insights"]
    gita = api.gita.get("/insights").json()["insights"]
    assert gita and {i["workspace_id"] for i in gita} == {"globex"}
    assert api.gita.get("/insights", params={"workspace": "acme"}).status_code == 403
    assert api.gita.get(f"/insights/{first['id']}").status_code == 404
    both = api.admin.get("/insights", params={"workspace": "all"}).json()["insights"]
    assert {i["workspace_id"] for i in both} == {"acme", "globex"}
    assert api.anon.get("/insights").status_code == 401


def test_filters(api, found):
    dups = api.maya.get("/insights", params={"detector": "duplicate_payment"}).json()["insights"]
    assert dups and {i["detector"] for i in dups} == {"duplicate_payment"}
    high = api.maya.get("/insights", params={"severity": "high"}).json()["insights"]
    assert all(i["severity"] == "high" for i in high)
    assert api.maya.get("/insights", params={"since": "2100-01-01T00:00:00Z"}).json()["insights"] == []
    r = api.maya.get("/insights", params={"detector": "nonsense"})
    assert r.status_code == 422
    no_traceback(r)


def test_proving_query_runs(api, found):
    finding = api.maya.get("/insights", params={"detector": "unusual_amount"}).json()["insights"][0]
    r = api.maya.post("/execute_tool", json={"tool_name": "analyze_data", "params": finding["query"]})
    assert r.status_code == 200, r.text
    assert finding["record_keys"][0] in r.text
    # every finding's query is one analyze_data runs, and it counts the finding's records
    for f in api.maya.get("/insights", params={"status": "any"}).json()["insights"]:
        r = api.maya.post("/execute_tool", json={"tool_name": "analyze_data", "params": f["query"]})
        assert r.status_code == 200, (f["detector"], r.text)
        if f["record_keys"] and f["detector"] != "overdue_growth":  # (overdue: all of the vendor's overdue)
            data = r.json()["data"]
            assert data["rows"][0][data["columns"].index("invoice_count")] == len(f["record_keys"]), (f, data)


def test_dismiss_and_snooze(api, found):
    items = api.maya.get("/insights", params={"detector": "gstin_mismatch"}).json()["insights"]
    one, two = items[0], items[1]
    assert api.victor.post(f"/insights/{one['id']}/dismiss", json={"reason": "fine"}).status_code == 403
    assert api.gita.post(f"/insights/{one['id']}/dismiss", json={"reason": "fine"}).status_code == 404
    invalid(api.maya.post(f"/insights/{one['id']}/dismiss", json={}), "Invalid request: 'reason' is required.")
    r = api.maya.post(f"/insights/{one['id']}/dismiss", json={"reason": "the vendor changed its GSTIN"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed" and r.json()["status_by"] == "maya"
    assert one["id"] not in {i["id"] for i in api.maya.get("/insights").json()["insights"]}
    assert api.maya.post(f"/insights/{two['id']}/snooze", json={}).status_code == 422
    assert api.maya.post(f"/insights/{two['id']}/snooze", json={"until": "2000-01-01T00:00:00Z"}).status_code == 400
    r = api.maya.post(f"/insights/{two['id']}/snooze", json={"days": 3})
    assert r.status_code == 200 and r.json()["status"] == "snoozed" and r.json()["snoozed_until"]
    snoozed = api.maya.get("/insights", params={"status": "snoozed"}).json()["insights"]
    assert two["id"] in {i["id"] for i in snoozed}
    assert api.maya.post("/insights/999999/dismiss", json={"reason": "x"}).status_code == 404


def test_subscription(api, found):
    assert api.victor.post("/insights/subscription", json={"subscribed": True}).status_code == 403
    r = api.maya.post("/insights/subscription", json={"subscribed": False})
    assert r.status_code == 200 and r.json() == {"subscribed": False}
    assert api.maya.post("/insights/subscription", json={"subscribed": True}).json() == {"subscribed": True}


def test_openapi_documents_insights(api):
    spec = api.anon.get("/openapi.json").json()
    assert "/insights" in spec["paths"] and "/insights/{finding_id}/snooze" in spec["paths"]
    assert "InsightView" in spec["components"]["schemas"]


def test_watch_run_is_traced_for_admins(api, found):
    trace_id = found.workspaces[0].trace_id
    r = api.admin.get(f"/traces/{trace_id}")
    assert r.status_code == 200, r.text
    assert "detect:duplicate_payment" in r.text
    assert api.maya.get(f"/traces/{trace_id}").status_code in (403, 404)
