"""One assistant answer on the page: its words, its data (sortable tables, charts, a download),
the yes/no buttons of a confirmation, next steps the role allows, and "Show your work"."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from . import trace, understanding
from .format import money
from .state import api, call, can, go

MONEY_COLUMNS = {"amount", "tax_amount", "total_amount", "unit_price", "amount_at_stake", "value", "outstanding"}
FIRST_COLUMNS = [
    "invoice_number",
    "sale_id",
    "reference",
    "name",
    "vendor",
    "customer",
    "invoice_date",
    "sale_date",
    "transaction_date",
    "region",
    "total_amount",
    "amount",
    "status",
    "error_message",
    "payment_status",
]


def escape(text: str) -> str:
    """Plain text for st.markdown: '$' would start LaTeX, and '~' strikes through."""
    return str(text).replace("$", "\\$").replace("~", "\\~")


def render(msg: dict, key: str, latest: bool) -> None:
    if msg.get("error"):
        st.error(msg["error"], icon=":material/error:")
    answer = msg.get("answer")
    if not answer:
        return
    if answer.get("welcome"):
        st.info(escape(answer["welcome"]), icon=":material/waving_hand:")
    understanding.show_chips(answer, key, waiting=_waiting())
    data = answer.get("data") or {}
    st.markdown(escape(_text(answer, data)))
    _data(data, key)
    if latest and answer.get("status") == "awaiting_confirmation":
        _confirm(key)
    elif latest and answer.get("status") == "success":
        _next_steps(answer, data, key)
    elif latest:
        understanding.show_choices(answer, key)
    understanding.caption(answer)
    if answer.get("trace_id"):
        trace.toggle(answer["trace_id"], msg.get("steps") or [], key)


def _waiting() -> bool:
    """The conversation's latest answer is a yes/no question still open."""
    messages = st.session_state.get("messages") or []
    last = (messages[-1].get("answer") or {}) if messages else {}
    return last.get("status") == "awaiting_confirmation"


def _text(answer: dict, data: dict) -> str:
    """The answer's words; the row-by-row lines are left out when the rows are shown as a table."""
    text = answer.get("agent_response") or ""
    if data.get("results"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith(("- ", "(and ")))
    return text


def table(
    rows: list[dict] | pd.DataFrame,
    key: str,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    records: bool = False,
) -> None:
    """A sortable table (click a column header), money columns with thousands separators."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    config = {
        c: st.column_config.NumberColumn(c.replace("_", " "), format="localized")
        for c in df.columns
        if c in MONEY_COLUMNS
    }
    config.update({c: st.column_config.Column(c.replace("_", " ")) for c in df.columns if c not in MONEY_COLUMNS})
    first = FIRST_COLUMNS if records else []  # records: the identifying columns first
    order = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config=config,
        column_order=order,
        key=f"table-{key}",
        height=height,
    )


def _data(data: dict, key: str) -> None:
    if data.get("results"):
        table(data["results"], key, height=min(400, 38 + 35 * len(data["results"])), records=True)
        shown, total = len(data["results"]), data.get("filtered_records")
        note = (
            f"{shown} of {total} {data.get('dataset', 'records')}"
            if total and total > shown
            else f"{shown} {data.get('dataset', 'records')}"
        )
        if data.get("total_amount") is not None:
            note += f" · total {money(data['total_amount'])}"
        st.caption(note + " · click a column to sort")
    if data.get("columns") and data.get("rows") is not None and isinstance(data["rows"], list):
        table(pd.DataFrame(data["rows"], columns=data["columns"]), f"{key}-analysis")
    if isinstance(data.get("chart"), dict):
        st.vega_lite_chart(data["chart"], width="stretch", key=f"chart-{key}")
    if data.get("by_reason"):
        by_reason = [
            {"reason": r["reason"], "invoices": r["count"], "amount": r.get("amount")} for r in data["by_reason"]
        ]
        table(by_reason, f"{key}-reasons")
        if data.get("by_vendor") and len(data["by_vendor"]) > 1:
            table(
                [{"vendor": v["vendor"], "invoices": v["count"], "amount": v.get("amount")} for v in data["by_vendor"]],
                f"{key}-vendors",
            )
    if isinstance(data.get("tickets"), list) and data["tickets"]:
        cols = ["ticket_id", "title", "status", "priority", "created_by", "updated_at"]
        table([{c: t.get(c) for c in cols} for t in data["tickets"]], f"{key}-tickets")
    if isinstance(data.get("notifications"), list) and data["notifications"]:
        table(
            [
                {"ticket": n.get("ticket_id"), "message": n.get("message"), "when": n.get("created_at")}
                for n in data["notifications"]
            ],
            f"{key}-notes",
        )
    if isinstance(data.get("ticket"), dict):
        t = data["ticket"]
        with st.container(border=True):
            st.markdown(
                f"**{t.get('ticket_id')}** · {escape(t.get('title', ''))}  \nstatus **{str(t.get('status', '')).replace('_', ' ')}**"
            )
            if st.button(
                "Open ticket", key=f"open-{key}-{t.get('ticket_id')}", icon=":material/open_in_new:", type="tertiary"
            ):
                st.session_state["open_ticket"] = t.get("ticket_id")
                go("tickets")
    if data.get("url") and data.get("export_id"):
        _download(data, key)


def _download(data: dict, key: str) -> None:
    """The export as a download button (the file is fetched with the user's token, once)."""
    files = st.session_state.setdefault("downloads", {})
    got = files.get(data["export_id"])
    if got is None:
        got = call(api().download, data["url"])
        if got is None:
            return
        files[data["export_id"]] = got
    fmt = (data.get("format") or got.filename.rsplit(".", 1)[-1]).upper()
    rows = f" · {data['rows']} rows" if data.get("rows") is not None else ""
    st.download_button(
        f"Download {fmt}{rows}",
        data=got.content,
        file_name=got.filename,
        mime=got.media_type,
        key=f"download-{key}-{data['export_id']}",
        type="primary",
        icon=":material/download:",
        on_click="ignore",
    )


def _confirm(key: str) -> None:
    with st.container(horizontal=True, vertical_alignment="center", key=f"confirm-{key}"):
        if st.button("Yes", key=f"yes-{key}", type="primary", icon=":material/check:"):
            st.session_state["pending_prompt"] = "yes"
            st.rerun()
        if st.button("No", key=f"no-{key}", icon=":material/close:"):
            st.session_state["pending_prompt"] = "no"
            st.rerun()
        st.caption("…or type yes or no.")


def _next_steps(answer: dict, data: dict, key: str) -> None:
    """Follow-ups offered as buttons, only those the user's role may run."""
    tool = answer.get("tool_used")
    ideas: list[tuple[str, str, str]] = []
    invoices = tool == "filter_data" and data.get("dataset", "invoices") == "invoices" and data.get("results")
    failed = bool((data.get("status_counts") or {}).get("failed"))
    if invoices and failed and can("explain_failures"):
        ideas.append(("Why did these fail?", "why did these fail?", ":material/help:"))
    if can("create_ticket") and ((invoices and failed) or tool == "explain_failures"):
        ideas.append(("Create a ticket", "create a ticket and notify me when fixed", ":material/add_task:"))
    if (tool in ("filter_data", "explain_failures")) and can("export_report"):
        ideas.append(("Export as Excel", "export these as excel", ":material/table_view:"))
    if not ideas:
        return
    with st.container(horizontal=True, key=f"next-steps-{key}"):
        for label, prompt, icon in ideas:
            if st.button(label, key=f"next-{key}-{label}", icon=icon):
                st.session_state["pending_prompt"] = prompt
                st.rerun()
