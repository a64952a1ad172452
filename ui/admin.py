"""The Admin page: users and roles, tokens, and everyone's traces (full form)."""

from __future__ import annotations

import streamlit as st

from . import trace_explorer as explorer
from .answers import table
from .format import ago
from .state import api, call, invalidate, is_admin

ROLES = ["Admin", "Manager", "Viewer"]


def page() -> None:
    st.header("Administration")
    if not is_admin():  # the page is only listed for Admins; the API checks again on every call
        st.warning("Only an Admin can see this page.")
        return
    flash = st.session_state.pop("flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    users_tab, tokens_tab, traces_tab = st.tabs(["Users and roles", "Tokens", "Trace explorer"])
    with users_tab:
        _users()
    with tokens_tab:
        _tokens()
    with traces_tab:
        _traces()


def _done(message: str) -> None:
    st.session_state["flash"] = message
    invalidate()
    st.rerun()


def _users() -> None:
    users = call(api().users)
    if users is None:
        return
    table(
        [{k: getattr(u, k) for k in ("user_id", "display_name", "role", "workspace_id", "active")} for u in users],
        "admin-users",
    )
    workspaces = sorted({u.workspace_id for u in users})
    left, right = st.columns(2, gap="large")
    with left.form("change-role"):
        st.markdown("**Change a role**")
        names = {u.user_id: f"{u.display_name} ({u.user_id}, {u.role})" for u in users}
        user_id = st.selectbox("User", list(names), format_func=lambda key: str(names.get(key, key)), key="role_user")
        role = st.selectbox("New role", ROLES, key="role_role")
        workspace = st.selectbox("Workspace", ["(unchanged)", *workspaces], key="role_workspace")
        if st.form_submit_button("Change role", type="primary"):
            done = call(api().change_role, user_id, role, None if workspace == "(unchanged)" else workspace)
            if done is not None:
                _done(f"{done.display_name} is now {done.role} in {done.workspace_id}.")
    with right.form("new-user", clear_on_submit=True):
        st.markdown("**Add a user**")
        user_id = st.text_input("User id", placeholder="e.g. ravi", key="new_user_id")
        name = st.text_input("Display name", key="new_user_name")
        role = st.selectbox("Role", ROLES, index=2, key="new_user_role")
        workspace = st.selectbox("Workspace", workspaces, key="new_user_ws")
        if st.form_submit_button("Add user"):
            done = call(api().create_user, user_id.strip(), name.strip() or user_id.strip(), role, workspace)
            if done is not None:
                _done(f"Added {done.user_id} ({done.role}, {done.workspace_id}). Issue a token for them under Tokens.")


def _tokens() -> None:
    issued = st.session_state.pop("issued_token", None)
    if issued:
        st.success(
            f"Token for **{issued.user_id}** (shown only this once; only its hash is kept):", icon=":material/key:"
        )
        st.code(issued.token, language=None)
    tokens = call(api().tokens)
    users = call(api().users, quiet=True) or []
    if tokens is None:
        return
    table(
        [
            {
                "id": t.token_id,
                "user_id": t.user_id,
                "label": t.label,
                "dev": t.is_dev,
                "created": ago(t.created_at),
                "revoked": t.revoked,
            }
            for t in tokens
        ],
        "admin-tokens",
    )
    left, right = st.columns(2, gap="large")
    with left.form("issue-token", clear_on_submit=True):
        st.markdown("**Issue a token**")
        user_id = st.selectbox("For user", [u.user_id for u in users], key="token_user")
        label = st.text_input("Label", placeholder="e.g. laptop, reporting script", max_chars=100, key="token_label")
        if st.form_submit_button("Issue token", type="primary") and user_id:
            done = call(api().issue_token, user_id, label)
            if done is not None:
                st.session_state["issued_token"] = done
                invalidate()
                st.rerun()
    active = {t.token_id: f"#{t.token_id} {t.user_id} {t.label}".strip() for t in tokens if not t.revoked}
    with right.form("revoke-token"):
        st.markdown("**Revoke a token**")
        token_id = st.selectbox(
            "Token", list(active), format_func=lambda key: str(active.get(key, key)), key="revoke_pick"
        )
        if st.form_submit_button("Revoke") and token_id is not None:
            if call(api().revoke_token, token_id) is not None:
                _done(f"Token #{token_id} is revoked; it stops working at once.")


def _traces() -> None:
    explorer.render()
