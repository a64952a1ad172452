"""One assistant answer on the page, drawn from its typed payload (schema.answer.AnswerPayload) alone: its
words, its tables and chart in their declared formats (₹ lakh/crore, %, DD MMM YYYY), a download, the
yes/no buttons of a confirmation, the next steps the payload says the role allows, and "Show your work".
Nothing here reads the answer's text to decide anything."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from schema.answer import AnswerPayload, ExportFile, NextAction, Table
from schema.chat import ChatResponse
from schema.formats import cell

from . import plots, trace, understanding
from .state import api, call, go

FIRST_COLUMNS = ["ticket_id", "user_id", "name", "vendor", "customer", "region", "status"]
ICONS = {
    "explain": ":material/help:",
    "ticket": ":material/add_task:",
    "export": ":material/table_view:",
    "drill_down": ":material/zoom_in:",
    "trend": ":material/show_chart:",
}


def escape(text: str) -> str:
    """Plain text for st.markdown: '$' would start LaTeX, and '~' strikes through."""
    return str(text).replace("$", "\\$").replace("~", "\\~")


def render(msg: dict, key: str, latest: bool) -> None:
    if msg.get("error"):
        st.error(msg["error"], icon=":material/error:")
    response: ChatResponse | None = msg.get("answer")
    if response is None:
        return
    if response.welcome:
        st.info(escape(response.welcome), icon=":material/waving_hand:")
    plain = response.model_dump(mode="json")
    understanding.show_chips(plain, key, waiting=_waiting())
    answer = response.answer or AnswerPayload(text=response.agent_response, status=response.status)
    st.markdown(escape(answer.text))
    for i, t in enumerate(answer.tables):
        typed_table(t, f"{key}-{i}")
    if answer.chart is not None:
        st.vega_lite_chart(plots.spec(answer.chart), width="stretch", key=f"chart-{key}")
    if answer.ticket is not None:
        _ticket(answer, key)
    if answer.export is not None:
        _download(answer.export, key)
    if latest and answer.status == "awaiting_confirmation":
        _confirm(key)
    elif latest and answer.status == "success":
        _next_steps(answer.next_actions, key)
    elif latest:
        understanding.show_choices(plain, key)
    understanding.caption(plain)
    if response.trace_id:
        trace.toggle(response.trace_id, msg.get("steps") or [], key)


def _waiting() -> bool:
    """The conversation's latest answer is a yes/no question still open."""
    messages = st.session_state.get("messages") or []
    last = messages[-1].get("answer") if messages else None
    return isinstance(last, ChatResponse) and last.status == "awaiting_confirmation"


def typed_table(t: Table, key: str) -> None:
    """A sortable table (click a column header), each column written in its declared format."""
    df = pd.DataFrame(t.rows, columns=[c.name for c in t.columns])
    styled = df.style.format({c.name: (lambda v, c=c: cell(v, c.format, c.grain)) for c in t.columns})
    config = {c.name: st.column_config.Column(c.label) for c in t.columns}
    if t.title:
        st.caption(escape(t.title))
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        column_config=config,
        key=f"table-{key}",
        height=min(400, 38 + 35 * len(t.rows)) if len(t.rows) > 10 else "auto",
    )
    if t.total_rows is not None and t.total_rows > len(t.rows):
        st.caption(f"the first {len(t.rows)} of {cell(t.total_rows, 'count')} · click a column to sort")


def table(
    rows: list[dict] | pd.DataFrame,
    key: str,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    records: bool = False,
) -> None:
    """A sortable table of plain rows (the pages' own lists: tickets, users, tokens)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    config = {c: st.column_config.Column(c.replace("_", " ")) for c in df.columns}
    first = FIRST_COLUMNS if records else []
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


def _ticket(answer: AnswerPayload, key: str) -> None:
    t = answer.ticket
    assert t is not None
    with st.container(border=True):
        st.markdown(f"**{t.ticket_id}** · {escape(t.title)}  \nstatus **{t.status.replace('_', ' ')}**")
        if st.button("Open ticket", key=f"open-{key}-{t.ticket_id}", icon=":material/open_in_new:", type="tertiary"):
            st.session_state["open_ticket"] = t.ticket_id
            go("tickets")


def _download(export: ExportFile, key: str) -> None:
    """The export as a download button (the file is fetched with the user's token, once)."""
    files = st.session_state.setdefault("downloads", {})
    got = files.get(export.export_id)
    if got is None:
        got = call(api().download, export.url)
        if got is None:
            return
        files[export.export_id] = got
    fmt = (export.format or got.filename.rsplit(".", 1)[-1]).upper()
    rows = f" · {cell(export.rows, 'count')} rows" if export.rows is not None else ""
    st.download_button(
        f"Download {fmt}{rows}",
        data=got.content,
        file_name=got.filename,
        mime=got.media_type,
        key=f"download-{key}-{export.export_id}",
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


def _next_steps(actions: list[NextAction], key: str) -> None:
    """The next steps the answer offers, as buttons: only those the user's role allows. A click sends
    the step's own tool call (POST /chat's `tool_call`), described by its label."""
    shown = [a for a in actions if a.allowed]
    if not shown:
        return
    with st.container(horizontal=True, key=f"next-steps-{key}"):
        for i, a in enumerate(shown):
            if st.button(a.label, key=f"next-{key}-{i}", icon=ICONS.get(a.kind, ":material/arrow_forward:")):
                st.session_state["pending_prompt"] = a.label
                st.session_state["pending_tool_call"] = a.tool_call.model_dump()
                st.rerun()
