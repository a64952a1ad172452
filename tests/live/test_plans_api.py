"""Plans API over HTTP on a real uvicorn server (loopback): create, execute, confirm after a
server restart, cancel, roles (Viewer 403), ownership (others 404)."""

from __future__ import annotations

import pytest

from business_data.db import make_engine
from business_data.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import indisky_last_month

pytestmark = pytest.mark.slow

ENV = {"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "100000/minute"}


def business_reads(data_dir) -> int:
    """How many invoices the investigation reads: IndiSky Airlines' of last month, counted by SQL."""
    return indisky_last_month(make_engine(Settings(FINKRAFT_DATA_DIR=str(data_dir)).business_url))[1]


def test_plan_lifecycle_with_confirmation_across_a_restart(tmp_path):
    server = LiveServer(tmp_path, env=ENV).start()
    try:
        with (
            server.client("maya") as maya,
            server.client("victor") as victor,
            server.client("gita") as gita,
            server.client("admin") as admin,
        ):
            r = victor.post("/plans/create", json={"template": "invoice_investigation"})
            assert r.status_code == 403 and "can't run business templates" in r.json()["detail"]
            r = maya.post("/plans/create", json={"template": "no_such_template"})
            assert r.status_code == 400 and "invoice_investigation" in r.json()["detail"]
            r = maya.post("/plans/create", json={"template": "vendor_analysis", "params": {"period": "2026-13"}})
            assert r.status_code == 400 and "not a real month" in r.json()["detail"]
            r = maya.post("/plans/create", json={"template": "vendor_analysis", "params": {"status": "exploded"}})
            assert r.status_code == 400 and "exploded" in r.json()["detail"]

            r = maya.post(
                "/plans/create",
                json={
                    "template": "invoice_investigation",
                    "goal": "Sort out the IndiSky failures",
                    "params": {"vendor": "IndiSky", "period": "last_month"},
                },
            )
            assert r.status_code == 200, r.text
            plan = r.json()
            pid = plan["plan_id"]
            assert plan["status"] == "created" and plan["template"] == "invoice_investigation"
            assert [s["step"] for s in plan["steps"]] == ["filter", "analyse", "propose", "create_ticket"]
            assert {s["status"] for s in plan["steps"]} == {"pending"}

            for other in (gita, victor):
                assert other.get(f"/plans/{pid}/status").status_code == 404
                assert other.post(f"/plans/{pid}/execute", json={}).status_code == 404

            r = maya.post(f"/plans/{pid}/execute", json={})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "awaiting_confirmation"
            assert (
                body["question"]
                == "Create ticket 'IndiSky Airlines: 7 invoices failed, GSTIN missing' for maya? yes/no"
            )
            assert [(s["step"], s["status"]) for s in body["steps"]] == [
                ("filter", "success"),
                ("analyse", "success"),
                ("propose", "success"),
                ("create_ticket", "pending"),
            ]
            assert maya.get("/tickets").json()["tickets"] == []
            assert admin.get(f"/plans/{pid}/status").json()["status"] == "awaiting_confirmation"
    finally:
        server.stop()

    server = LiveServer(tmp_path, env=ENV).start()  # a new process on the same files
    try:
        with server.client("maya") as maya:
            assert maya.get(f"/plans/{pid}/status").json()["status"] == "awaiting_confirmation"
            body = maya.post(f"/plans/{pid}/execute", json={"resume": "yes"}).json()
            assert body["status"] == "completed", body
            assert [(s["step"], s["status"], s["attempts"]) for s in body["steps"]] == [
                ("filter", "success", 1),
                ("analyse", "success", 1),
                ("propose", "success", 1),
                ("create_ticket", "success", 1),
            ]
            assert body["result"]["figures"]["failed"] == 7
            trace = maya.get(f"/traces/{body['trace_id']}").json()  # plan runs show their work too
            assert trace["status"] == "ok" and trace["thread_id"] == f"plan-{pid}"
            assert [c["tool"] for c in trace["tool_calls"]] == ["filter_data", "explain_failures", "create_ticket"]
            read = business_reads(tmp_path)  # every IndiSky invoice of last month: a figure of the date
            assert any(d["table"] == "invoices" and d["rows"] == read for d in trace["data_consulted"])
            tickets = maya.get("/tickets").json()["tickets"]
            assert [t["title"] for t in tickets] == ["IndiSky Airlines: 7 invoices failed, GSTIN missing"]
            again = maya.post(f"/plans/{pid}/execute", json={"resume": "yes"}).json()
            assert again["status"] == "completed" and len(maya.get("/tickets").json()["tickets"]) == 1

            r = maya.post("/plans/create", json={"template": "monthly_review"})
            pid2 = r.json()["plan_id"]
            body = maya.post(f"/plans/{pid2}/execute").json()  # exports don't ask: the review comes with its files
            assert body["status"] == "completed" and body["result"]["message"].startswith("Monthly review for ")
            assert [s["step"] for s in body["steps"]][-1] == "export" and body["steps"][-1]["status"] == "success"
            files = [p for p in (tmp_path / "exports").rglob("*") if p.is_file()]
            assert len(files) == 2 and len(body["result"]["written"]) == 2
            download = maya.get(body["result"]["written"][0]["url"])
            assert download.status_code == 200 and download.content.startswith(b"invoice_number")
            assert maya.get("/plans/doesnotexist/status").status_code == 404
    finally:
        server.stop()
