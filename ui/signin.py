"""The sign-in page: paste a token, or (FINKRAFT_ENV=dev) pick one of the demo users."""

from __future__ import annotations

import streamlit as st

from .state import DEMO_USERS, api, dev_mode, sign_in


def page() -> None:
    st.title("FinkraftAI")
    st.caption("Your finance-operations assistant: ask in plain words, see exactly what ran.")
    note = st.session_state.pop("signed_out_note", None)
    if note:
        st.info(note, icon=":material/info:")
    left, right = st.columns([3, 2], gap="large")
    with left:
        with st.form("token-form", border=True):
            st.subheader("Sign in with your token")
            token = st.text_input(
                "API token",
                type="password",
                key="token_input",
                placeholder="fk_… (ask an Admin, or run `finkraft token <user>`)",
            )
            if st.form_submit_button("Sign in", type="primary", icon=":material/login:") and sign_in(token):
                st.rerun()
        if dev_mode():
            with st.container(border=True):
                st.subheader("Or try a demo user")
                st.caption(
                    "Development mode: the demo users' tokens work only while the API runs with FINKRAFT_ENV=dev."
                )
                labels = {u: f"{name} · {role}" for u, name, role, _t in DEMO_USERS}
                choice = st.selectbox(
                    "Demo user", list(labels), format_func=lambda key: str(labels.get(key, key)), key="demo_user"
                )
                if st.button("Sign in as demo user", key="demo_signin", icon=":material/person:"):
                    token = next(t for u, _n, _r, t in DEMO_USERS if u == choice)
                    if sign_in(token):
                        st.rerun()
    with right:
        st.markdown(
            "**What you can do here**\n\n"
            "- Ask: *failed IndiSky invoices from last month*, *why did these fail?*\n"
            "- Act: create a ticket, get notified when it's fixed, download reports\n"
            "- Check: every answer has **Show your work** with the plan, tool calls, data read and timings\n"
        )
        st.caption(f"API: {api().base_url}")
