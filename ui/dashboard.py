"""The dashboard: this month at a glance. Clicking a figure, bar or point asks the assistant about it."""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from . import charts, figures
from .answers import table
from .api import Api, ApiError
from .format import money, money_short
from .state import api, ask, can, go, me


@st.cache_data(ttl=120, show_spinner=False)
def _figures(base_url: str, token: str, today: date) -> dict:
    """Per user (the token is part of the key) for two minutes: a dozen API calls behind it."""
    client = Api(base_url, token)
    try:
        return figures.all_figures(client, today)
    finally:
        client.close()


def _month_name(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def page() -> None:
    today = date.today()
    head, refresh = st.columns([5, 1], vertical_alignment="bottom")
    head.header("This month at a glance")
    head.caption(f"{today:%B %Y} so far · click a figure, bar or point to ask the assistant about it")
    if refresh.button("Refresh", icon=":material/refresh:", width="stretch"):
        _figures.clear()
    try:
        with st.spinner("Gathering the figures…"):
            figs = _figures(api().base_url, api().token or "", today)
    except ApiError as e:
        st.error(e.message, icon=":material/error:")
        return
    _headline(figs, today)
    _attention()
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Outstanding by vendor")
        st.caption("Unpaid and overdue invoices, all dates")
        if figs["outstanding"]:
            event = st.vega_lite_chart(
                charts.outstanding_by_vendor(figs["outstanding"]),
                width="stretch",
                on_select="rerun",
                selection_mode="pick",
                key="chart-outstanding",
            )
            vendor = charts.picked(event, "vendor")
            if vendor:
                ask(f"unpaid invoices from {vendor}")
        else:
            st.caption("Nothing outstanding.")
    with right:
        this_month = figures.months_back(today, 1)[0]
        st.subheader("Sales by region")
        st.caption(f"{_month_name(this_month)} so far")
        event = st.vega_lite_chart(
            charts.sales_by_region(figs["sales"], this_month),
            width="stretch",
            on_select="rerun",
            selection_mode="pick",
            key="chart-regions",
        )
        region = charts.picked(event, "region")
        if region:
            ask(f"sales in the {region} this month")
    st.subheader("Sales trend")
    st.caption("The last six months by region")
    event = st.vega_lite_chart(
        charts.sales_trend(figs["sales"]), width="stretch", on_select="rerun", selection_mode="pick", key="chart-trend"
    )
    month = charts.picked(event, "month")
    if month:
        ask(f"sales in {_month_name(month)}")
    _tickets(figs["tickets"])


SEVERITY_ICON = {"high": ":red[:material/error:]", "medium": ":orange[:material/warning:]", "low": ":material/info:"}


LISTED = 5  # findings listed on the dashboard (all are counted and summed up)


def _attention() -> None:
    """Needs attention: the open findings of the anomaly detectors (GET /insights), most money first.
    Managers and Admins dismiss (with a reason) or snooze them for a week; anyone asks about one."""
    try:
        found = api().request("GET", "/insights", params={"limit": 1000})
    except ApiError as e:
        st.warning(f"Needs attention: {e.message}", icon=":material/warning:")
        return
    items = found.get("insights") or []
    with st.container(key="needs-attention"):
        st.subheader(f"Needs attention ({len(items)})" if items else "Needs attention")
        if not items:
            st.caption("Nothing unusual found in the books.")
            if st.button("Check now", key="ask-unusual", type="tertiary", icon=":material/search:"):
                ask("anything unusual?")
            return
        more = f" · the {LISTED} with the most money at stake below" if len(items) > LISTED else ""
        st.caption((found.get("summary") or "") + more)
        manage = (me() or {}).get("role") in ("Manager", "Admin")
        for f in items[:LISTED]:
            _finding(f, manage)
        if len(items) > LISTED and st.button(
            f"All {len(items)} in the chat", key="ask-all-insights", type="tertiary", icon=":material/chat:"
        ):
            ask("what needs my attention?")


def _finding(f: dict, manage: bool) -> None:
    with st.container(border=True):
        icon = SEVERITY_ICON.get(f["severity"], "")
        st.markdown(f"{icon} **{f['label'].capitalize()}** · {f['subject']} · {f['amount_text']}")
        st.caption(f["explanation"])
        with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"insight-act-{f['id']}"):
            if st.button("Show me", key=f"insight-show-{f['id']}", type="tertiary", icon=":material/list:"):
                _show_me(f)
            if manage:
                if st.button(
                    "Snooze a week", key=f"insight-snooze-{f['id']}", type="tertiary", icon=":material/snooze:"
                ):
                    _act(f"/insights/{f['id']}/snooze", {"days": 7})
                with st.popover("Dismiss", type="tertiary", icon=":material/close:"):
                    reason = st.text_input("Why is it fine?", key=f"insight-reason-{f['id']}")
                    if st.button("Dismiss", key=f"insight-dismiss-{f['id']}", disabled=not reason.strip()):
                        _act(f"/insights/{f['id']}/dismiss", {"reason": reason})


def _show_me(f: dict) -> None:
    """A new conversation that opens on the finding's proving query, already run: its records (so "why
    did these fail?", "export these", "create a ticket" work on them) or, for a region, its figures."""
    keys = f.get("record_keys") or []
    query = f.get("query") or {}
    if keys:
        call = {
            "tool": "filter_data",
            "params": {"dataset": query.get("dataset") or "invoices", "invoice_numbers": keys},
        }
    else:
        call = {"tool": "analyze_data", "params": query}
    st.session_state.update(thread_id=None, messages=[], thread_title=None, pending_tool_call=call)
    ask(f"Show me the {f['label']}: {f['subject']}")


def _act(path: str, body: dict) -> None:
    try:
        api().request("POST", path, json=body)
    except ApiError as e:
        st.error(e.message, icon=":material/error:")
        return
    st.rerun()


def _headline(figs: dict, today: date) -> None:
    failed = figs["failed"]
    owed = sum(r["amount"] for r in figs["outstanding"])
    sales = [r for r in figs["sales"] if r["month"] == today.strftime("%Y-%m")]
    last = [r for r in figs["sales"] if r["month"] == figures.months_back(today, 2)[0]]
    this_total, last_total = sum(r["amount"] for r in sales), sum(r["amount"] for r in last)
    cols = st.columns(4)
    with cols[0].container(border=True, height="stretch"):
        st.metric(
            "Failed invoices",
            failed["count"],
            delta=f"{failed['count'] - failed['last_month_count']:+d} vs last month",
            delta_color="inverse",
            help=f"This month; last month {failed['last_month_count']}",
        )
        if st.button("Why did they fail?", key="ask-failed", type="tertiary", icon=":material/help:"):
            ask("why did invoices fail this month?")
    with cols[1].container(border=True, height="stretch"):
        st.metric("Value of failed invoices", money_short(failed["value"]), help=money(failed["value"]))
        if st.button("Show them", key="ask-failed-list", type="tertiary", icon=":material/list:"):
            ask("failed invoices this month")
    with cols[2].container(border=True, height="stretch"):
        st.metric("Outstanding", money_short(owed), help=f"{money(owed)} unpaid or overdue")
        if st.button("Overdue invoices", key="ask-overdue", type="tertiary", icon=":material/schedule:"):
            ask("overdue invoices")
    with cols[3].container(border=True, height="stretch"):
        change = (this_total - last_total) / last_total * 100 if last_total else None
        st.metric(
            "Sales this month",
            money_short(this_total),
            delta=f"{change:+.0f}% vs last month" if change is not None else None,
            help=f"{money(this_total)} so far; last month {money(last_total)}",
        )
        if st.button("Show sales", key="ask-sales", type="tertiary", icon=":material/trending_up:"):
            ask("sales this month")


def _tickets(tickets: list[dict]) -> None:
    st.subheader(f"Open tickets ({len(tickets)})")
    if not tickets:
        st.caption("No open tickets." + (" Create one from a chat answer." if can("create_ticket") else ""))
        return
    table(
        [
            {k: t.get(k) for k in ("ticket_id", "title", "status", "priority", "created_by", "updated_at")}
            for t in tickets
        ],
        "dash-tickets",
        height=min(300, 38 + 35 * len(tickets)),
    )
    options = {t["ticket_id"]: f"{t['ticket_id']} · {t['title']}" for t in tickets}
    pick, open_col = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Open a ticket", list(options), format_func=lambda key: str(options.get(key, key)), key="dash-ticket-pick"
    )
    if open_col.button("Open", key="dash-ticket-open", icon=":material/open_in_new:", width="stretch"):
        st.session_state["open_ticket"] = chosen
        go("tickets")
