"""Save this conversation as PDF ("export a summary of this session as pdf"): a real PDF through the
exports API with each question, its answer and time, and the answer's table."""

from __future__ import annotations

import io

from pypdf import PdfReader

from business_data import clock

from ..helpers import chat, expected_indisky_failed

QUESTIONS = ("failed IndiSky invoices from last month", "why did these fail?", "total sales by region last month")


def _text(api, who, url) -> str:
    r = who.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    assert r.content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)


def test_the_session_as_pdf_from_the_chat(api):
    maya, t = api.maya, "pdf-session"
    for q in QUESTIONS:
        chat(maya, q, t)
    body = chat(maya, "export a summary of this session as pdf", t)
    assert (body["status"], body["tool_used"]) == ("success", "export_conversation")
    assert body["tool_calls"][-1]["params"]["thread_id"] == t
    data = body["data"]
    assert (data["format"], data["rows"], data["url"]) == ("pdf", 3, f"/exports/{data['export_id']}/download")
    assert "/exports/" not in body["agent_response"]
    text = _text(api, maya, data["url"])
    for q in QUESTIONS:
        assert q in text
    assert "export a summary" not in text  # the request itself is not one of the exchanges
    assert text.count("You asked, ") == 3 and clock.now().strftime("%Z") in text and "UTC" not in text
    assert "7 of 7 failed: GSTIN missing" in text
    for number in expected_indisky_failed(api.services.business):
        assert number in text  # the first answer's table
    assert "Region" in text and "North" in text  # the breakdown's table
    assert data["export_id"] in {e["export_id"] for e in maya.get("/exports").json()["exports"]}
    assert api.gita.get(data["url"]).status_code == 404  # a download checks the owner


def test_the_pdf_is_only_the_callers_own_conversation(api):
    chat(api.maya, QUESTIONS[0], "pdf-mine")
    call = {"tool_name": "export_conversation", "params": {"thread_id": "pdf-mine"}}
    r = api.gita.post("/execute_tool", json=call)  # another Manager: not her conversation
    assert r.status_code == 404 and "nothing in this conversation" in r.json()["detail"]
    r = api.victor.post("/execute_tool", json=call)  # a Viewer may not export
    assert r.status_code == 403
    r = api.maya.post("/execute_tool", json=call)
    assert r.status_code == 200, r.text
    assert QUESTIONS[0] in _text(api, api.maya, r.json()["data"]["url"])
    r = api.maya.post("/execute_tool", json={"tool_name": "export_conversation", "params": {"thread_id": ""}})
    assert r.status_code == 400 and r.json()["detail"].startswith("Which conversation?")
