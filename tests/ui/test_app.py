"""The web app's page logic with Streamlit's AppTest, against a real API server on loopback."""

from __future__ import annotations

import pytest

from business_data import clock
from streamlit.testing.v1 import AppTest

from ..conftest import LiveServer, free_port
from .conftest import APP, labels, open_page, press, say, texts

pytestmark = pytest.mark.slow


# -- signing in -------------------------------------------------------------------------------
def test_a_token_signs_in_and_the_role_and_workspace_are_shown(ui_for):
    at = ui_for("maya")
    side = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Maya Menon" in side and "Manager" in side and "acme" in side
    assert "Sign out" in labels(at)
    press(at, "Sign out")
    assert at.title[0].value == "FinkraftAI" and "You signed out." in texts(at)


def test_a_bad_token_is_refused_in_plain_words(ui_for):
    at = ui_for(token="not-a-real-token")
    assert not at.exception
    assert any("not signed in" in e.value and "not valid" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_input(key="token_input") is not None  # still on the sign-in page


def test_demo_users_are_offered_only_in_dev_mode(ui_for, monkeypatch):
    at = ui_for()
    at.selectbox(key="demo_user").select("victor")
    press(at, "Sign in as demo user")
    assert "Victor Varma" in "\n".join(m.value for m in at.sidebar.markdown)
    monkeypatch.setenv("FINKRAFT_ENV", "prod")
    prod = AppTest.from_file(APP, default_timeout=60)
    prod.run()
    assert "Sign in as demo user" not in labels(prod) and prod.text_input(key="token_input") is not None


def test_the_api_being_down_is_a_sentence_not_a_traceback(monkeypatch):
    port = free_port()  # nothing listens here
    monkeypatch.setenv("FINKRAFT_API_URL", f"http://127.0.0.1:{port}")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="token_input").input("dev-maya")
    press(at, "Sign in")
    assert not at.exception
    assert [e.value for e in at.error] == ["The assistant is not reachable right now. Please try again in a moment."]


def test_too_many_requests_is_a_sentence(tmp_path, monkeypatch):
    server = LiveServer(
        tmp_path / "limited", env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_RATE_LIMIT": "5/minute"}
    ).start()
    try:
        monkeypatch.setenv("FINKRAFT_API_URL", server.url)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        at.text_input(key="token_input").input("dev-maya")
        press(at, "Sign in")  # 2 requests to sign in, 3 for the side panel
        say(at, "failed IndiSky invoices from last month")  # the 6th
        assert not at.exception
        errors = [e.value for e in at.error]
        assert any(e.startswith("Too many requests in a short time. Please try again in ") for e in errors), errors
        assert "Maya Menon" in "\n".join(m.value for m in at.sidebar.markdown)  # still signed in
    finally:
        server.stop()


# -- chat ---------------------------------------------------------------------------------------
def test_filter_renders_a_table_and_offers_what_the_role_allows(ui_for, live_server):
    at = say(ui_for("maya"), "Filter invoices for last month, vendor=IndiSky, status=failed")
    table = at.dataframe[0].value
    with live_server.client("maya") as c:
        expected = c.post(
            "/execute_tool",
            json={
                "tool_name": "filter_data",
                "params": {"dataset": "invoices", "period": "last_month", "vendor": "IndiSky", "status": "failed"},
            },
        ).json()["data"]
    assert sorted(table["invoice_number"]) == sorted(r["invoice_number"] for r in expected["results"])
    assert len(table) == expected["filtered_records"] == 7
    assert not any(
        line.startswith("- INV-") for m in at.markdown for line in m.value.splitlines()
    )  # a table, not text lines
    assert {"Why did these fail?", "Create a ticket", "Export as Excel"} <= set(labels(at))

    viewer = say(ui_for("victor"), "Filter invoices for last month, vendor=IndiSky, status=failed")
    assert len(viewer.dataframe[0].value) == 7
    assert "Why did these fail?" in labels(viewer)
    assert not {"Create a ticket", "Export as Excel"} & set(labels(viewer))


def test_a_next_step_button_asks_in_the_same_thread(ui_for):
    at = say(ui_for("victor"), "failed IndiSky invoices from last month")
    press(at, "Why did these fail?")
    assert "7 of 7 failed: GSTIN missing" in texts(at)
    assert at.session_state["messages"][-2]["text"] == "Why did these fail?"  # the step's label, its own call


def test_confirmation_buttons_no_then_yes_and_typing_yes(ui_for, live_server):
    with live_server.client("maya") as c:
        before = len(c.get("/tickets").json()["tickets"])
    at = say(ui_for("maya"), "failed IndiSky invoices from last month")
    say(at, "create a ticket and notify me when fixed")
    assert {"Yes", "No"} <= set(labels(at)) and "yes/no" in texts(at)
    press(at, "No")
    assert "Nothing was written" in texts(at) and "Yes" not in labels(at)
    say(at, "create a ticket and notify me when fixed")
    press(at, "Yes")
    assert "Created ticket T-" in texts(at)
    say(at, "create a ticket for these")
    say(at, "yes")  # typing works as well as the button
    with live_server.client("maya") as c:
        assert len(c.get("/tickets").json()["tickets"]) == before + 2


def test_the_steps_are_kept_and_show_your_work_opens_the_trace(ui_for, live_server):
    at = say(ui_for("maya"), "Filter invoices for last month, vendor=IndiSky, status=failed")
    steps = at.session_state["messages"][-1]["steps"]
    assert [s["label"] for s in steps][:4] == [
        "remembering where we left off",
        "understanding your request",
        "planning the steps",
        "checking permissions",
    ]
    at.toggle[0].set_value(True).run()
    panel = {df.value.columns[0]: df.value for df in at.dataframe[1:]}
    assert panel["tool"]["tool"].tolist() == ["filter_data"]
    assert "vendor=IndiSky Airlines" in panel["tool"]["parameters"][0] and panel["tool"]["ms"][0] is not None
    assert panel["table"].to_dict("records")[0]["rows"] == 7
    assert "reading invoices…" in panel["step"]["step"].tolist()
    assert any("offline parser" in m.value for m in at.markdown)
    assert "**Full trace (Admin)**" not in [m.value for m in at.markdown]

    admin = say(ui_for("admin"), "failed IndiSky invoices from last month")
    admin.toggle[0].set_value(True).run()
    assert "**Full trace (Admin)**" in [m.value for m in admin.markdown]


def test_an_export_answer_is_a_download_button(ui_for):
    at = say(ui_for("maya"), "failed IndiSky invoices from last month")
    say(at, "export these as csv")
    if "Yes" in labels(at):  # an API that still asks before an export
        press(at, "Yes")
    buttons = at.get("download_button")
    assert len(buttons) == 1 and buttons[0].proto.label == "Download CSV · 7 rows"


def test_threads_new_resume_and_rename(ui_for):
    at = say(ui_for("victor"), "sales in the North this month")
    first = at.session_state["thread_id"]
    press(at, "New conversation")
    assert at.session_state["thread_id"] is None and not at.session_state["messages"]
    say(at, "failed IndiSky invoices from last month")
    assert at.session_state["thread_id"] != first
    press(at, "sales in the North this month")  # the first conversation, in the side panel
    assert at.session_state["thread_id"] == first
    restored = at.session_state["messages"][-1]["answer"].answer
    assert at.dataframe and len(at.dataframe[0].value) == len(restored.tables[0].rows) > 0  # drawn again
    assert [m.get("text") for m in at.session_state["messages"] if m["role"] == "user"] == [
        "sales in the North this month"
    ]
    at.text_input(key="rename_input").input("North sales check")
    press(at, "Save name")
    assert at.subheader[0].value == "North sales check"
    assert any(label.endswith("North sales check") for label in labels(at))  # the side panel lists it by its new name


def test_the_welcome_back_summary_shows_once_as_its_own_box(ui_for, live_server):
    at = say(ui_for("maya"), "failed IndiSky invoices from last month")
    say(at, "create a ticket and notify me when fixed")
    press(at, "Yes")
    ticket_id = at.session_state["messages"][-1]["answer"].answer.ticket.ticket_id
    with live_server.client("admin") as admin:
        assert (
            admin.patch(f"/tickets/{ticket_id}", json={"status": "resolved", "comment": "fixed by vendor"}).status_code
            == 200
        )
    back = ui_for("maya")  # a new session
    side = "\n".join(m.value for m in back.sidebar.markdown)
    assert "Welcome back" in side and ticket_id in side and "resolved" in side
    assert any(e.label.startswith("Notifications (") and "unread" in e.label for e in back.sidebar.expander)
    say(back, "any updates on my tickets?")
    welcome = back.session_state["messages"][-1]["answer"].welcome
    assert welcome and ticket_id in welcome and "resolved" in welcome
    assert not back.session_state["messages"][-1]["answer"].agent_response.startswith("Welcome back")
    assert sum(ticket_id in i.value and "resolved" in i.value for i in back.info) == 1
    say(back, "show my tickets")  # shown once per return: not again on the next answer
    assert back.session_state["messages"][-1]["answer"].welcome is None


def test_mark_as_read_marks_the_news_read_for_good(ui_for, live_server):
    ticket_id = _make_ticket(live_server)
    with live_server.client("admin") as admin:
        assert admin.patch(f"/tickets/{ticket_id}", json={"status": "in_progress"}).status_code == 200
    at = ui_for("maya")
    assert ticket_id in "\n".join(m.value for m in at.sidebar.markdown)
    press(at, "Mark as read")  # POST /notifications/read (a GET changes nothing)
    assert not at.exception
    with live_server.client("maya") as maya:
        assert maya.get("/notifications", params={"unread_only": True}).json()["notifications"] == []
    assert "Welcome back" not in "\n".join(m.value for m in ui_for("maya").sidebar.markdown)


# -- tickets --------------------------------------------------------------------------------------
def keyed(widgets, prefix: str):
    """The one widget whose key starts with `prefix` (the ticket form's keys end with the saved version)."""
    found = [w for w in widgets if (w.key or "").startswith(prefix)]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def _make_ticket(live_server, user="maya") -> str:
    with live_server.client(user) as c:
        c.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "t-setup"})
        c.post("/chat", json={"message": "create a ticket", "thread_id": "t-setup"})
        return c.post("/chat", json={"message": "yes", "thread_id": "t-setup"}).json()["data"]["ticket_id"]


def test_tickets_page_opens_a_ticket_with_its_invoices_and_updates_it(ui_for, live_server):
    ticket_id = _make_ticket(live_server)
    at = ui_for("maya")
    open_page(at, "tickets")
    at.selectbox(key="ticket_pick").select(ticket_id).run()
    invoices = at.dataframe[1].value
    with live_server.client("maya") as c:
        ticket = c.get(f"/tickets/{ticket_id}").json()
    assert sorted(invoices["invoice_number"]) == sorted(ticket["record_ids"]) and len(invoices) == 7
    keyed(at.selectbox, f"ticket-status-{ticket_id}").select("in_progress")
    keyed(at.text_area, f"ticket-comment-{ticket_id}").input("chasing the vendor")
    press(at, "Save")
    assert any(f"Saved: {ticket_id} is In progress" in s.value for s in at.success)
    assert keyed(at.selectbox, f"ticket-status-{ticket_id}").value == "in_progress"  # the form shows what is saved
    with live_server.client("maya") as c:
        after = c.get(f"/tickets/{ticket_id}").json()
    assert after["status"] == "in_progress" and after["history"][-1]["comment"] == "chasing the vendor"
    assert "chasing the vendor" in texts(at)
    at.button_group(key="ticket_status").set_value(["in_progress"]).run()  # filter by status
    listed = at.dataframe[0].value
    assert ticket_id in set(listed["ticket_id"]) and set(listed["status"]) == {"In progress"}
    at.text_input(key="ticket_search").input("no such ticket anywhere").run()
    assert "No tickets match these filters." in texts(at)


def test_ticket_actions_follow_the_role(ui_for, live_server):
    maya_ticket = _make_ticket(live_server, "maya")
    viewer = ui_for("victor")  # a Viewer has no tickets of their own and no way to change one
    open_page(viewer, "tickets")
    assert "Save" not in labels(viewer) and not viewer.text_area and "No tickets yet" in texts(viewer)
    assert "create" not in texts(viewer).lower()  # he can't, so he isn't told to
    for user in ("maya", "admin"):  # the creator, and an Admin, may update it
        at = ui_for(user)
        open_page(at, "tickets")
        at.selectbox(key="ticket_pick").select(maya_ticket).run()
        assert "Save" in labels(at), user


def test_a_403_from_a_changed_role_is_shown_plainly(ui_for, live_server):
    ticket_id = _make_ticket(live_server)
    at = ui_for("maya")
    open_page(at, "tickets")
    at.selectbox(key="ticket_pick").select(ticket_id).run()
    with live_server.client("admin") as admin:
        assert admin.post("/admin/users/maya/roles", json={"role": "Viewer"}).status_code == 200
    try:
        keyed(at.text_area, f"ticket-comment-{ticket_id}").input("one more thing")
        press(at, "Save")
        assert not at.exception
        assert any("Viewer" in e.value for e in at.error), [e.value for e in at.error]
    finally:
        with live_server.client("admin") as admin:
            admin.post("/admin/users/maya/roles", json={"role": "Manager"})


# -- admin ------------------------------------------------------------------------------------------
def test_admin_page_only_for_admins_users_roles_tokens_traces(ui_for, live_server):
    victor = ui_for("victor", page="admin")  # asking for it by address doesn't show it
    assert "admin" not in victor.segmented_control(key="page").options
    assert "Administration" not in [t.value for t in victor.header] and victor.chat_input(key="chat_input")
    assert ui_for("maya", page="tickets").header[0].value == "Tickets"  # the address names the page

    at = ui_for("admin")
    open_page(at, "admin")
    assert at.header[0].value == "Administration"
    users = at.dataframe[0].value
    assert set(users["user_id"]) >= {"admin", "maya", "victor", "gita"}
    # a token, shown once, that works
    at.selectbox(key="token_user").select("victor")
    at.text_input(key="token_label").input("apptest")
    press(at, "Issue token")
    token = at.code[0].value
    assert token.startswith("fk_")
    with live_server.client() as c:
        assert c.get("/notifications", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # a role change reaches the API
    at.selectbox(key="role_user").select("gita")
    at.selectbox(key="role_role").select("Viewer")
    press(at, "Change role")
    assert any("Gita Gupta is now Viewer" in s.value for s in at.success)
    with live_server.client("gita") as gita:
        assert "export_report" not in gita.get("/user/gita/permissions").json()["tools"]
    with live_server.client("admin") as admin:
        admin.post("/admin/users/gita/roles", json={"role": "Manager"})
    # everyone's traces, opened in full
    traces = at.dataframe[2].value
    assert {"when", "user", "request", "outcome", "tools", "ms"} <= set(traces.columns) and "maya" in set(
        traces["user"]
    )
    at.selectbox(key="admin_trace").select_index(0).run()
    assert "**Full trace (Admin)**" in [m.value for m in at.markdown]


def test_a_revoked_token_signs_the_session_out_with_the_reason(ui_for, live_server):
    with live_server.client("admin") as admin:
        issued = admin.post("/admin/tokens", json={"user_id": "victor", "label": "revoke-me"}).json()
    at = ui_for(token=issued["token"])
    assert "Victor Varma" in "\n".join(m.value for m in at.sidebar.markdown)
    with live_server.client("admin") as admin:
        assert admin.delete(f"/admin/tokens/{issued['token_id']}").status_code == 200
    say(at, "failed IndiSky invoices from last month")
    assert at.title[0].value == "FinkraftAI" and "not signed in any more" in texts(at)


# -- needs attention ------------------------------------------------------------------------------
def test_the_dashboard_shows_what_needs_attention_and_a_manager_dismisses_one(ui_for, live_server):
    with live_server.client("maya") as c:  # asking in chat runs the detectors on a workspace not yet scanned
        assert c.post("/chat", json={"message": "anything unusual?", "thread_id": "ui-unusual"}).status_code == 200
        open_ids = [i["id"] for i in c.get("/insights", params={"limit": 5}).json()["insights"]]
    at = open_page(ui_for("maya"), "dashboard")
    page = texts(at)
    assert any(m.value.startswith("Needs attention (") for m in at.subheader), [m.value for m in at.subheader]
    assert "possible duplicate payment" in page.lower() and "₹" in page
    first = open_ids[0]
    at.text_input(key=f"insight-reason-{first}").input("checked with the vendor").run()
    press(at, "Dismiss", key=f"insight-dismiss-{first}")
    assert not at.exception
    with live_server.client("maya") as c:
        assert first not in [i["id"] for i in c.get("/insights").json()["insights"]]
    viewer = open_page(ui_for("victor"), "dashboard")
    assert "Snooze a week" not in labels(viewer) and "Show me" in labels(viewer)


def test_the_dashboard_headline_says_what_the_chat_says(ui_for, live_server):
    """The headline's figures are the chat's answers to the same questions (the data model's measures:
    outstanding without cancelled invoices; sales this month so far against the same days of last month)."""
    from ui import figures
    from ui.format import money_short

    def answer(question: str) -> dict:
        with live_server.client("maya") as c:
            data = c.post("/chat", json={"message": question, "thread_id": f"ui-{abs(hash(question))}"}).json()["data"]
        return {**data, "row": dict(zip(data["columns"], data["rows"][0]))}

    owed = answer("total outstanding amount")["row"]["outstanding"]
    sales = answer("compare sales this month with last month")
    at = open_page(ui_for("maya"), "dashboard")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Outstanding"].value == money_short(owed)
    assert metrics["Sales this month"].value == money_short(sales["row"]["sales_value"])
    vs = f"vs {figures.days(sales['previous']['dates'], clock.today())}" if sales["same_days"] else "vs last month"
    assert metrics["Sales this month"].delta == f"{sales['row']['sales_value_change_pct']:+.0f}% {vs}"


def test_chips_under_the_question_remove_a_part_and_ask_again(ui_for):
    at = say(ui_for("maya"), "total value of failed invoices last month")
    say(at, "what about IndiSky?")
    chips = [p.proto.popover.label for p in at.get("popover") if "chipedit-" in p.proto.popover.id]
    assert ["status: failed · kept", "vendor: IndiSky Airlines", "period: last month · kept"] == chips[-3:]
    assert "Understood by the offline parser" in texts(at)
    press(at, "✕", help="Remove vendor: IndiSky Airlines and ask again.")
    messages = at.session_state["messages"]
    assert messages[-2]["text"] == "Same, without vendor: IndiSky Airlines"
    answer = messages[-1]["answer"].model_dump()
    assert answer["interpretation"]["router"] == "client" and answer["status"] == "success"
    assert [f["field"] for f in answer["tool_calls"][-1]["params"]["filters"]] == ["status"]
    # every vendor again: the total of all failed invoices (who accounts for most depends on the date's data)
    assert (
        answer["agent_response"].startswith("Failed invoices last month")
        and "IndiSky" not in answer["agent_response"].split(";")[0]
    )
    assert "Run as you chose it in the web app (nothing was parsed)" in texts(at)


def test_a_clarifying_question_offers_its_readings_as_buttons(ui_for):
    at = say(ui_for("victor"), "invoices whose frobnication is pending")
    assert "haven't run anything" in texts(at)
    press(at, "Run it without “frobnication”")
    answer = at.session_state["messages"][-1]["answer"].model_dump()
    assert answer["tool_used"] == "filter_data" and answer["interpretation"]["decision"] in ("run", "assume")
