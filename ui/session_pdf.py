""" "Save this conversation as PDF": the conversation's questions, answers, tables and charts, with their
times, made by the API (the `export_conversation` tool, through POST /execute_tool) and downloaded
through the exports API like any report."""

from __future__ import annotations

import streamlit as st

from .state import api, call, can
from schema.toolnames import EXPORT_CONVERSATION


def button(thread_id: str | None, where) -> None:
    """In the chat's header: a button that makes the PDF, then the download of it."""
    if not thread_id or not can(EXPORT_CONVERSATION):
        return
    made = st.session_state.setdefault("conversation_pdfs", {})
    got = made.get(thread_id)
    if got is not None and got["turns"] == len(st.session_state.get("messages") or []):
        where.download_button(
            "Download PDF",
            data=got["file"].content,
            file_name=got["file"].filename,
            mime="application/pdf",
            key=f"conversation-pdf-{thread_id}",
            icon=":material/download:",
            type="primary",
            on_click="ignore",
            width="stretch",
        )
        return
    if where.button(
        "Save as PDF",
        key="save-conversation-pdf",
        icon=":material/picture_as_pdf:",
        width="stretch",
        help="Save this conversation as PDF: questions, answers, tables and charts, with the time",
    ):
        data = call(api().tool, EXPORT_CONVERSATION, thread_id=thread_id)
        if data is None:
            return
        file = call(api().download, data["url"])
        if file is not None:
            made[thread_id] = {"file": file, "turns": len(st.session_state.get("messages") or [])}
            st.rerun()
