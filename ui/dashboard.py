"""The dashboard: this month at a glance. Clicking a figure, bar or point asks the assistant about it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import streamlit as st

from . import charts, figures
from .answers import table
from .api import Api, ApiError
from .format import money, money_short
from .state import api, ask, can, go, me
from schema.insights import InsightView
from schema.tickets import Ticket
from schema.toolnames import ANALYZE_DATA, CREATE_TICKET, FILTER_DATA


@st.cache_data(ttl=120, show_spinner=False)
def _figures(base_url: str, token: str) -> dict:
    """Per user (the token is part of the key) for two minutes: a few analyze_data calls behind it."""
    client = Api(base_url, token)
    try:
        return figures.all_figures(client)
    finally:
        client.close()


def _month_name(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def page() -> None:
    head, refresh = st.columns([5, 1], vertical_alignment="bottom")
    head.header("This month at a glance")
    if refresh.button("Refresh", icon=":material/refresh:", width="stretch"):
        _figures.clear()
    try:
        with st.spinner("Gathering the figures…"):
            figs = _figures(api().base_url, api().token or "")
    except ApiError as e:
        st.error(e.message, icon=":material/error:")
        return
    today: date = figs["as_of"]
    head.caption(
        f"{today:%B %Y} so far (to {today.day} {today:%b}) · click a figure, bar or point to ask the assistant about it"
    )
    _headline(figs)
    _attention()
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Outstanding by vendor")
        st.caption("Unpaid and overdue invoices, all dates, cancelled ones not counted")
        if figs["by_vendor"]:
            event = st.vega_lite_chart(
                charts.outstanding_by_vendor(figs["by_vendor"]),
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
        st.subheader("Sales by region")
        st.caption(f"{today:%B %Y} so far")
        event = st.vega_lite_chart(
            charts.sales_by_region(figs["regions"]),
            width="stretch",
            on_select="rerun",
            selection_mode="pick",
            key="chart-regions",
        )
        region = charts.picked(event, "region")
        if region:
            ask(f"sales in the {region} this month")
    st.subheader("Sales trend")
    partial = figs["trend"]["partial"]
    so_far = (
        f"; {today:%B} so far ({figures.days(next(iter(partial.values())), today)}) is the hollow point off the "
        "line: part of a month, not a fall"
        if partial
        else ""
    )
    st.caption(f"The last {figures.TREND_MONTHS} months by region{so_far}")
    event = st.vega_lite_chart(
        charts.sales_trend(figs["trend"]), width="stretch", on_select="rerun", selection_mode="pick", key="chart-trend"
    )
    point = charts.picked_point(event, "month", "region")
    if point:
        ask(f"sales in the {point['region']} in {_month_name(point['month'])}")
    _tickets(figs["tickets"])


SEVERITY_ICON = {"high": ":red[:material/error:]", "medium": ":orange[:material/warning:]", "low": ":material/info:"}


LISTED = 5  # findings listed on the dashboard (all are counted and summed up)


def _attention() -> None:
    """Needs attention: the open findings of the anomaly detectors (GET /insights), most money first.
    Managers and Admins dismiss (with a reason) or snooze them for a week; anyone asks about one."""
    try:
        found = api().insights(limit=1000)
    except ApiError as e:
        st.warning(f"Needs attention: {e.message}", icon=":material/warning:")
        return
    items = found.insights
    with st.container(key="needs-attention"):
        st.subheader(f"Needs attention ({len(items)})" if items else "Needs attention")
        if not items:
            st.caption("Nothing unusual found in the books.")
            if st.button("Check now", key="ask-unusual", type="tertiary", icon=":material/search:"):
                ask("anything unusual?")
            return
        more = f" · the {LISTED} with the most money at stake below" if len(items) > LISTED else ""
        st.caption(found.summary + more)
        user = me()
        manage = user is not None and user.role in ("Manager", "Admin")
        for f in items[:LISTED]:
            _finding(f, manage)
        if len(items) > LISTED and st.button(
            f"All {len(items)} in the chat", key="ask-all-insights", type="tertiary", icon=":material/chat:"
        ):
            ask("what needs my attention?")


def _finding(f: InsightView, manage: bool) -> None:
    with st.container(border=True):
        icon = SEVERITY_ICON.get(f.severity, "")
        st.markdown(f"{icon} **{f.label.capitalize()}** · {f.subject} · {f.amount_text}")
        st.caption(f.explanation)
        with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"insight-act-{f.id}"):
            if st.button("Show me", key=f"insight-show-{f.id}", type="tertiary", icon=":material/list:"):
                _show_me(f)
            if manage:
                if st.button("Snooze a week", key=f"insight-snooze-{f.id}", type="tertiary", icon=":material/snooze:"):
                    _act(lambda: api().snooze_insight(f.id, days=7))
                with st.popover("Dismiss", type="tertiary", icon=":material/close:"):
                    reason = st.text_input("Why is it fine?", key=f"insight-reason-{f.id}")
                    if st.button("Dismiss", key=f"insight-dismiss-{f.id}", disabled=not reason.strip()):
                        _act(lambda: api().dismiss_insight(f.id, reason))


def _show_me(f: InsightView) -> None:
    """A new conversation that opens on the finding's proving query, already run: its records (so "why
    did these fail?", "export these", "create a ticket" work on them) or, for a region, its figures."""
    keys, query = f.record_keys, f.query
    if keys:
        call = {
            "tool": FILTER_DATA,
            "params": {"dataset": query.get("dataset") or "invoices", "invoice_numbers": keys},
        }
    else:
        call = {"tool": ANALYZE_DATA, "params": query}
    st.session_state.update(thread_id=None, messages=[], thread_title=None, pending_tool_call=call)
    ask(f"Show me the {f.label}: {f.subject}")


def _act(change: Callable[[], InsightView]) -> None:
    try:
        change()
    except ApiError as e:
        st.error(e.message, icon=":material/error:")
        return
    st.rerun()


def _vs(fig: dict, today: date) -> str:
    """'vs 1–7 Nov' when the month so far is compared with the same days of last month, else 'vs last month'."""
    return f"vs {figures.days(fig['previous_dates'], today)}" if fig["same_days"] else "vs last month"


def _headline(figs: dict) -> None:
    today: date = figs["as_of"]
    failed, owed, sales = figs["failed"], figs["outstanding"], figs["sales"]
    now, before = figures.days(failed["dates"], today), figures.days(failed["previous_dates"], today)
    cols = st.columns(4)
    with cols[0].container(border=True, height="stretch"):
        diff = failed["failed_count_change"]
        st.metric(
            "Failed invoices",
            failed["failed_count"],
            delta=f"{diff:+.0f} {_vs(failed, today)}" if diff is not None else None,
            delta_color="inverse",
            help=f"{now}: {failed['failed_count']}; {before}: {failed['failed_count_previous']}",
        )
        if st.button("Why did they fail?", key="ask-failed", type="tertiary", icon=":material/help:"):
            ask("why did invoices fail this month?")
    with cols[1].container(border=True, height="stretch"):
        value, prev = failed["failed_value"], failed["failed_value_previous"]
        st.metric(
            "Value of failed invoices",
            money_short(value),
            help=f"{now}: {money(value)}; {before}: {money(prev)}",
        )
        if st.button("Show them", key="ask-failed-list", type="tertiary", icon=":material/list:"):
            ask("failed invoices this month")
    with cols[2].container(border=True, height="stretch"):
        total = owed["outstanding"]
        parts = ", ".join(f"{label} {money(v)}" for label, v in owed["parts"])
        st.metric("Outstanding", money_short(total), help=f"{money(total)} ({parts}); cancelled invoices not counted")
        if st.button("Overdue invoices", key="ask-overdue", type="tertiary", icon=":material/schedule:"):
            ask("overdue invoices")
    with cols[3].container(border=True, height="stretch"):
        change = sales["sales_value_change_pct"]
        st.metric(
            "Sales this month",
            money_short(sales["sales_value"]),
            delta=f"{change:+.0f}% {_vs(sales, today)}" if change is not None else None,
            help=f"{figures.days(sales['dates'], today)}: {money(sales['sales_value'])}; "
            f"{figures.days(sales['previous_dates'], today)}: {money(sales['sales_value_previous'])}",
        )
        if st.button("Show sales", key="ask-sales", type="tertiary", icon=":material/trending_up:"):
            ask("compare sales this month with last month")


def _tickets(tickets: list[Ticket]) -> None:
    st.subheader(f"Open tickets ({len(tickets)})")
    if not tickets:
        st.caption("No open tickets." + (" Create one from a chat answer." if can(CREATE_TICKET) else ""))
        return
    table(
        [
            {k: getattr(t, k) for k in ("ticket_id", "title", "status", "priority", "created_by", "updated_at")}
            for t in tickets
        ],
        "dash-tickets",
        height=min(300, 38 + 35 * len(tickets)),
    )
    options = {t.ticket_id: f"{t.ticket_id} · {t.title}" for t in tickets}
    pick, open_col = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Open a ticket", list(options), format_func=lambda key: str(options.get(key, key)), key="dash-ticket-pick"
    )
    if open_col.button("Open", key="dash-ticket-open", icon=":material/open_in_new:", width="stretch"):
        st.session_state["open_ticket"] = chosen
        go("tickets")
