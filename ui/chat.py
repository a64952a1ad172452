"""The chat page: one conversation (thread) at a time, answers streamed with the graph's steps live."""

from __future__ import annotations

import uuid

import streamlit as st

from . import answers, banner, session_pdf
from schema.answer import AnswerPayload
from schema.chat import ChatResponse, StreamStep

from .api import ApiError
from .format import short
from .state import api, call, can, invalidate, sign_out
from schema.toolnames import RUN_TEMPLATE

PLACEHOLDER = "Ask about invoices, sales, vendors or tickets…"
AVATARS = {"user": ":material/person:", "assistant": ":material/account_balance:"}


def new_thread() -> None:
    st.session_state.update(thread_id=None, messages=[], thread_title=None)


def open_thread(thread_id: str, title: str | None = None) -> None:
    """Resume a conversation from its stored turns: each answer drawn again from its typed payload
    (tables and charts as they were given)."""
    turns = call(api().thread, thread_id)
    if turns is None:
        return
    messages: list[dict] = []
    for t in turns:
        if t.speaker == "user":
            messages.append({"role": "user", "text": t.text})
            continue
        answer = t.answer or AnswerPayload(text=t.text, status="answered", tool=t.tool)
        response = ChatResponse(
            success=True,
            agent_response=t.text,
            tool_used=t.tool,
            tool_calls=[],
            data={},
            status=answer.status,
            welcome=None,
            trace_id=t.trace_id or "",  # "show your work" of a resumed conversation
            thread_id=thread_id,
            interpretation=None,
            answer=answer.model_copy(update={"next_actions": []}),  # a step of then: not offered now
        )
        messages.append({"role": "assistant", "restored": True, "answer": response})
    st.session_state.update(thread_id=thread_id, messages=messages, thread_title=title)


def page() -> None:
    st.session_state.setdefault("messages", [])
    _header()
    messages = st.session_state["messages"]
    for i, msg in enumerate(messages):
        latest = i == len(messages) - 1
        with st.chat_message(msg["role"], avatar=AVATARS[msg["role"]]):
            if msg["role"] == "user":
                st.markdown(answers.escape(msg["text"]))
            else:
                answers.render(msg, key=str(i), latest=latest)
    if not messages:
        _suggestions()
    typed = st.chat_input(PLACEHOLDER, key="chat_input")
    pending, tool_call = st.session_state.pop("pending_prompt", None), st.session_state.pop("pending_tool_call", None)
    prompt = typed or pending
    if prompt:
        _turn(prompt, None if typed else tool_call)  # a chip's ✕: its tool call, described by the prompt
        st.rerun()


def _header() -> None:
    thread_id = st.session_state.get("thread_id")
    title = st.session_state.get("thread_title") or (
        short(st.session_state["messages"][0]["text"], 48) if st.session_state.get("messages") else "New conversation"
    )
    left, right = st.columns([1, 1], vertical_alignment="center")
    left.subheader(title)
    if thread_id and st.session_state.get("messages"):
        tools = right.container(horizontal=True, horizontal_alignment="right", key="thread-tools")
        session_pdf.button(thread_id, tools.container(width="content"))  # as wide as its label
        with tools.popover("Rename", icon=":material/edit:", width="content"):
            new = st.text_input(
                "Conversation name", value=st.session_state.get("thread_title") or "", max_chars=200, key="rename_input"
            )
            if st.button("Save name", key="rename_save", type="primary"):
                saved = call(api().rename_thread, thread_id, new)
                if saved is not None:
                    st.session_state["thread_title"] = saved.title
                    invalidate("threads")
                    st.rerun()
        with tools.popover("Delete", icon=":material/delete:", width="content"):
            st.markdown(
                "Delete this conversation? The assistant also **forgets** it: its messages, the results that "
                "*these* and *that report* point to, and its search entries. Tickets and exports stay. "
                "This can't be undone."
            )
            if st.button("Delete conversation", key="delete_thread", type="primary", icon=":material/delete:"):
                if call(api().delete_thread, thread_id) is not None:
                    new_thread()
                    invalidate("threads")
                    st.session_state["flash_chat"] = f"Deleted “{short(title, 48)}” and forgot it."
                    st.rerun()
    if note := st.session_state.pop("flash_chat", None):
        st.success(note, icon=":material/check:")


def _suggestions() -> None:
    st.markdown("Ask in plain words. For example:")
    ideas = [
        "Failed IndiSky invoices from last month",
        "Why did invoices fail this month?",
        "Show my open tickets",
        "Any updates on my tickets?",
    ]
    if can(RUN_TEMPLATE):
        ideas.append("Investigate the IndiSky failures last month")
    with st.container(horizontal=True, key="suggestions"):
        for idea in ideas:
            if st.button(idea, key=f"idea-{idea}", icon=":material/north_east:"):
                st.session_state["pending_prompt"] = idea
                st.rerun()


def _turn(prompt: str, tool_call: dict | None = None) -> None:
    """Send one message (or, from a chip, a tool call that `prompt` describes); show the graph's steps live
    as they arrive, then keep the answer."""
    thread_id = st.session_state.get("thread_id") or f"ui-{uuid.uuid4().hex[:12]}"
    st.session_state["thread_id"] = thread_id
    messages = st.session_state["messages"]
    messages.append({"role": "user", "text": prompt})
    with st.chat_message("user", avatar=AVATARS["user"]):
        st.markdown(answers.escape(prompt))
    reply: dict = {"role": "assistant", "answer": None, "steps": [], "error": None}
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        status = st.status("Understanding your request…", expanded=True)
        try:
            for _kind, data in api().chat_stream(prompt, thread_id, tool_call=tool_call):
                if isinstance(data, StreamStep):
                    reply["steps"].append(data.model_dump())
                    status.update(label=_sentence(data.label) + "…")
                    status.markdown(
                        f":material/check: {answers.escape(data.label or data.node)}"
                        + (f" — {answers.escape(data.detail)}" if data.detail else "")
                    )
                elif isinstance(data, ChatResponse):
                    reply["answer"] = data
                else:
                    reply["error"] = data.detail or "Something went wrong; nothing was changed."
        except ApiError as e:
            if e.signed_out:
                sign_out(keep_message=True)
                st.session_state["signed_out_note"] = e.message
                st.rerun()
            if e.unreachable:
                banner.note(question_not_sent=True)  # said once, at the top (ui/banner.py)
            reply["error"] = "Not sent." if e.unreachable else e.message
        failed = reply["error"] is not None
        status.update(
            label="Couldn't finish" if failed else "Done", state="error" if failed else "complete", expanded=False
        )
    messages.append(reply)
    invalidate()  # tickets, notifications and threads may have changed


def _sentence(text: str | None) -> str:
    text = (text or "working").rstrip("…")
    return text[:1].upper() + text[1:]
