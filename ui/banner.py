"""One error banner for the whole page when the API can't be reached: said once, in plain words, at
the top, however many parts of the page failed to load; gone on the first run that reaches the API.

`slot()` reserves its place at the top of a run; API calls that can't reach the server `note()` it
instead of each showing its own error; `show()` fills the place at the end of the run."""

from __future__ import annotations

import streamlit as st

UNREACHABLE = "The assistant is not reachable right now."
NOT_SENT = "The assistant is not reachable right now; your question was not sent."
KEY = "_unreachable_this_run"
NEXT = "_unreachable_next_run"


def slot():
    """The banner's place at the top of the page; forgets what the last run noted (except a question
    not sent, which the run that failed to send it could not show before it reran)."""
    st.session_state[KEY] = st.session_state.pop(NEXT, None)
    return st.empty()


def note(question_not_sent: bool = False) -> None:
    """The API could not be reached during this run (a question was not sent: say so)."""
    if question_not_sent:
        st.session_state[KEY] = st.session_state[NEXT] = NOT_SENT
    elif st.session_state.get(KEY) is None:
        st.session_state[KEY] = UNREACHABLE


def down() -> bool:
    """The API could not be reached during this run: counts read in this run are unknown."""
    return st.session_state.get(KEY) is not None


def show(place) -> None:
    message = st.session_state.get(KEY)
    if message is None:
        return
    with place.container(key="api-banner"):
        st.error(
            f"{message} What you see may be out of date. It usually comes back within a minute.",
            icon=":material/cloud_off:",
        )
        if st.button("Try again", key="banner-retry", icon=":material/refresh:"):
            st.session_state.pop("cache", None)
            st.rerun()
