"""The side panel's status line and "What I ask about", "show your work" in plain words with the
technical view one click deeper, the Admin trace explorer, and one plain banner when the API is down
(AppTest against a real API on loopback)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import LiveServer, TOKENS, free_port
from .conftest import APP, labels, open_page, press, say, texts

pytestmark = pytest.mark.slow


def _side(at: AppTest) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])


def test_status_line_names_the_understanding(ui_for):
    at = ui_for("maya")
    assert "Understanding: the offline parser (no model configured)" in _side(at)
    say(at, "failed IndiSky invoices from last month")
    assert "Answered by the offline parser" in _side(at)


def test_what_i_ask_about_comes_from_insights(ui_for, live_server):
    at = ui_for("gita")
    say(at, "failed IndiSky invoices from last month")
    with live_server.client("gita") as c:
        usage = c.get("/memory/gita/insights").json()
    frequent = usage["frequent_requests"][0]["request"]
    at.run()
    panel = next(e for e in at.sidebar.expander if e.label == "What I ask about")
    words = "\n".join(m.value for m in panel.markdown) + "\n".join(c.value for c in panel.caption)
    assert f"{usage['usage']['requests']} question" in words and "IndiSky Airlines (" in words
    # each tool in the words its ToolSpec declares (topic), as the API labels it
    assert usage["usage"]["tools"][0] == {"name": "filter_data", "count": 1, "label": "lists of records"}
    assert "**Most asked for:** lists of records (1)" in words
    asked = len(at.session_state["messages"])
    again = at.button(key="ask-again-0")
    assert frequent.startswith(again.label.rstrip("…"))
    again.click().run()
    assert len(at.session_state["messages"]) == asked + 2  # asked again, answered


def test_show_your_work_in_plain_words_then_technical(ui_for):
    at = say(ui_for("maya"), "Filter invoices for last month, vendor=IndiSky, status=failed")
    toggle = next(t for t in at.toggle if t.label == "Show your work")
    toggle.set_value(True).run()
    panel = texts(at)
    assert "Read IndiSky Airlines invoices from " in panel and "(status failed)" in panel and "found 7." in panel
    details = next(e for e in at.expander if e.label.startswith("Technical details"))
    inner = "\n".join(m.value for m in details.markdown) + "\n".join(c.value for c in details.caption)
    assert "filter_data" in inner and "Trace id " in inner
    assert " IST" in inner and "UTC" not in inner  # the workspace's time zone, not UTC


def test_admin_trace_explorer_filters(ui_for, live_server):
    say(ui_for("victor"), "export these as csv")  # refused for a Viewer
    at = open_page(ui_for("admin"), "admin")
    with live_server.client("admin") as c:
        total = c.get("/admin/traces", params={"outcome": "refused"}).json()["total"]
    at.selectbox(key="tx_outcome").select("refused")
    press(at, "Search")
    assert not at.exception
    assert any(f"of {total:,} requests" in c.value for c in at.caption), [c.value for c in at.caption]
    assert total >= 1


def test_one_plain_banner_when_the_api_is_down(tmp_path, monkeypatch):
    port = free_port()
    server = LiveServer(tmp_path / "srv", env={"FINKRAFT_SEMANTIC_MEMORY": "false"}, port=port).start()
    try:
        monkeypatch.setenv("FINKRAFT_API_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=90)
        at.run()
        at.text_input(key="token_input").input(TOKENS["maya"])
        press(at, "Sign in")
        assert any(e.label.startswith("Open tickets (") for e in at.sidebar.expander)
        server.stop()
        at.session_state["cache"] = {}  # the side panel reads again
        say(at, "failed IndiSky invoices from last month")
        errors = [e.value for e in at.error]
        banner = [e for e in errors if "not reachable" in e]
        assert len(banner) == 1 and banner[0].startswith(
            "The assistant is not reachable right now; your question was not sent."
        ), errors
        assert "make serve" not in "\n".join(errors) and "Traceback" not in "\n".join(errors)
        assert not any(e.label.startswith("Open tickets (") for e in at.sidebar.expander)  # the count is unknown
        assert "Try again" in labels(at)
        server.start()
        press(at, "Try again")
        assert not [e.value for e in at.error if "not reachable" in e.value]
        assert any(e.label.startswith("Open tickets (") for e in at.sidebar.expander)
        say(at, "failed IndiSky invoices from last month")
        assert "Found 7 invoices" in texts(at)
    finally:
        server.stop()


def test_save_this_conversation_as_pdf(ui_for, live_server):
    import io

    from pypdf import PdfReader

    question = "total sales by region last month"
    at = say(ui_for("maya"), question)
    press(at, "Save as PDF")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Download PDF" in [b.label for b in at.get("download_button")]
    with live_server.client("maya") as c:
        newest = c.get("/exports").json()["exports"][0]
        assert newest["title"] == f"Conversation: {question}" and newest["format"] == "pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(c.get(newest["url"]).content)).pages)
    assert question in text and "North" in text
    assert "Save as PDF" not in labels(say(ui_for("victor"), question))  # a Viewer may not export
