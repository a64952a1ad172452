"""The page logic of the daily tools (AppTest against a live API): conversations grouped, searched
and deleted from the side panel and the chat header; tickets assigned and filtered; a Save that
changes nothing writes nothing; the selected tab stays selected."""

from __future__ import annotations

from .conftest import labels, open_page, press, say, texts
from .test_app import _make_ticket, keyed


def thread_buttons(at) -> list[str]:
    return [b.label for b in at.sidebar.button if (b.key or "").startswith("thread-")]


def test_conversations_grouped_searched_and_deleted(ui_for, live_server):
    at = say(ui_for("maya"), "sales in the North this month")
    doomed = at.session_state["thread_id"]
    press(at, "New conversation")
    say(at, "failed IndiSky invoices from last month")
    assert "Today" in [c.value for c in at.sidebar.caption]
    assert any("sales in the North" in b for b in thread_buttons(at))
    at.sidebar.text_input(key="thread_search").input("north this month").run()  # the server searches the text
    assert [b for b in thread_buttons(at)] and all("North" in b for b in thread_buttons(at))
    at.sidebar.text_input(key="thread_search").input("no conversation says this").run()
    assert thread_buttons(at) == [] and "No conversation mentions" in "\n".join(c.value for c in at.sidebar.caption)
    at.sidebar.text_input(key="thread_search").input("").run()
    press(at, next(b for b in thread_buttons(at) if "sales in the North" in b))
    assert at.session_state["thread_id"] == doomed
    assert "The assistant also **forgets** it" in texts(at)  # said before anything is deleted
    press(at, "Delete conversation")
    assert not at.exception and at.session_state["thread_id"] is None
    assert any("and forgot it" in s.value for s in at.success)
    with live_server.client("maya") as c:
        assert c.get(f"/threads/{doomed}").status_code == 404
        assert doomed not in {t["thread_id"] for t in c.get("/threads").json()["threads"]}
    assert not any("sales in the North" in b for b in thread_buttons(at))


def test_assign_from_the_tickets_page_and_nothing_to_save(ui_for, live_server):
    ticket_id = _make_ticket(live_server)
    at = ui_for("maya")
    open_page(at, "tickets")
    at.selectbox(key="ticket_pick").select(ticket_id).run()
    with live_server.client("maya") as c:
        before = len(c.get(f"/tickets/{ticket_id}").json()["history"])
    press(at, "Save")  # nothing changed
    assert any(i.value == "Nothing changed, so nothing was saved." for i in at.info)
    with live_server.client("maya") as c:
        assert len(c.get(f"/tickets/{ticket_id}").json()["history"]) == before
    keyed(at.selectbox, f"ticket-assignee-{ticket_id}").select("victor")
    press(at, "Save")
    assert any(s.value == f"Saved: {ticket_id} is Open and assigned to victor. Notified victor." for s in at.success)
    with live_server.client("maya") as c:
        assert c.get(f"/tickets/{ticket_id}").json()["assignee"] == "victor"
    assert "Maya Menon assigned it to Victor Varma" in texts(at)
    assert keyed(at.selectbox, f"ticket-assignee-{ticket_id}").value == "victor"  # the form shows the saved state
    # filters: by assignee, by vendor
    at.selectbox(key="ticket_assignee_filter").select("victor").run()
    assert set(at.dataframe[0].value["assignee"]) == {"victor"}
    at.selectbox(key="ticket_vendor").select("IndiSky Airlines").run()
    assert ticket_id in set(at.dataframe[0].value["ticket_id"])
    at.selectbox(key="ticket_assignee_filter").select("__nobody__").run()
    unassigned = set(at.dataframe[0].value["ticket_id"]) if at.dataframe else set()
    assert ticket_id not in unassigned
    at.selectbox(key="ticket_assignee_filter").select("__anyone__").run()
    at.selectbox(key="ticket_pick").select(ticket_id).run()
    press(at, "Close")
    with live_server.client("maya") as c:
        assert c.get(f"/tickets/{ticket_id}").json()["status"] == "closed"
    assert "Maya Menon closed it" in texts(at)
    press(at, "Reopen")
    press(at, "Unassign victor")
    with live_server.client("maya") as c:
        saved = c.get(f"/tickets/{ticket_id}").json()
    assert (saved["status"], saved["assignee"]) == ("open", None)
    assert "Maya Menon reopened it" in texts(at) and "Maya Menon unassigned Victor Varma" in texts(at)


def test_the_selected_tab_stays_selected(ui_for):
    at = ui_for("maya", page="tickets")
    assert at.segmented_control(key="page").value == "tickets"
    at.segmented_control(key="page").set_value(None).run()  # what clicking the selected tab sends
    assert at.segmented_control(key="page").value == "tickets" and at.header[0].value == "Tickets"
    assert "Sign out" in labels(at)


def test_every_conversation_is_reachable_30_at_a_time(ui_for, live_server):
    with live_server.client("gita") as c:
        for n in range(32):
            r = c.post("/chat", json={"message": f"show my tickets ({n})", "thread_id": f"many-{n}"})
            assert r.status_code == 200
        total = c.get("/threads").json()["total"]
    assert total >= 32
    at = ui_for("gita")
    assert len(thread_buttons(at)) == 30
    press(at, f"Show more ({total - 30} older)")
    assert len(thread_buttons(at)) == total
    assert any("show my tickets (0)" in b for b in thread_buttons(at))  # the oldest one too
    assert not [b for b in labels(at) if b.startswith("Show more")]
