"""Per-browser-session state: the API client, who is signed in and what they may do, a short cache,
and one way to call the API that turns every failure into a message on the page."""

from __future__ import annotations

import os
import time
from typing import Any, TypeVar
from collections.abc import Callable

import streamlit as st

from . import banner
from .api import Api, ApiError, api_url_from_env
from .browser_session import COOKIE, END_SCRIPT, claim_script, hand_off
from schema.accounts import Permissions

T = TypeVar("T")
CACHE_SECONDS = 20.0
# The demo users of the embedded setup (their dev tokens work only when the API runs with FINKRAFT_ENV=dev)
DEMO_USERS = [
    ("maya", "Maya Menon", "Manager", "dev-maya"),
    ("victor", "Victor Varma", "Viewer", "dev-victor"),
    ("admin", "Asha Admin", "Admin", "dev-admin"),
    ("gita", "Gita Gupta", "Manager", "dev-gita"),
]


def dev_mode() -> bool:
    return os.environ.get("FINKRAFT_ENV", "dev").lower() == "dev"


def api() -> Api:
    """This session's client (the signed-in user's token, the configured API URL)."""
    client = st.session_state.get("api")
    if client is None:
        client = st.session_state["api"] = Api(api_url_from_env())
    return client


def me() -> Permissions | None:
    """The signed-in user: user_id, display_name, role, workspace_id, tools, summary."""
    return st.session_state.get("me")


def signed_in() -> Permissions:
    """The signed-in user, on a page only signed-in users reach (the app shows the sign-in page otherwise)."""
    found = me()
    if found is None:
        raise RuntimeError("no one is signed in")
    return found


def can(tool: str) -> bool:
    """Whether the signed-in user's role may run `tool` (from GET /user/{id}/permissions)."""
    user = me()
    return user is not None and tool in user.tools


def is_admin() -> bool:
    found = me()
    return found is not None and found.role == "Admin"


def sign_in(token: str) -> bool:
    """Sign in with a token: the API starts a browser session, which this app uses from now on and
    hands to the browser as an HttpOnly cookie (ui/browser_session.py), so a reload stays signed in."""
    token = token.strip()
    if not token:
        st.error("Paste a token first.")
        return False
    client = Api(api_url_from_env(), token)
    try:
        user = client.whoami()
        session_id, max_age = client.start_browser_session()
    except ApiError as e:
        st.error(e.message)
        return False
    finally:
        client.close()
    sign_out(keep_message=True)
    st.session_state.pop("clear_cookie", None)  # the new cookie replaces the old one
    st.session_state.update(
        api=Api(api_url_from_env(), session=session_id),
        me=user,
        thread_id=None,
        messages=[],
        cache={},
        welcome_seen=False,
        handoff=hand_off(session_id, max_age),
    )
    return True


def resume() -> bool:
    """A reload (or a new tab): sign in again with the browser's session cookie, if it is still alive
    on the API. A session that ended (signed out, idle, expired, token revoked) shows the sign-in page."""
    session_id = st.context.cookies.get(COOKIE)
    if not session_id or session_id in st.session_state.get("ended_sessions", ()):
        return False
    client = Api(api_url_from_env(), session=session_id)
    try:
        user = client.whoami()
    except ApiError as e:
        client.close()
        st.session_state.setdefault("ended_sessions", set()).add(session_id)
        if e.signed_out:
            st.session_state["signed_out_note"] = "Your session has ended. Please sign in again."
            st.session_state["clear_cookie"] = True
        else:
            st.session_state["signed_out_note"] = e.message
        return False
    st.session_state.update(api=client, me=user, thread_id=None, messages=[], cache={}, welcome_seen=False)
    return True


def browser_cookie_step() -> None:
    """Give the browser its session cookie after a sign-in, or clear it after a sign-out (one request
    from the page to this app's own /ui-session routes)."""
    code = st.session_state.pop("handoff", None)
    if code:
        st.html(claim_script(code), unsafe_allow_javascript=True)
    if st.session_state.pop("clear_cookie", False):
        st.html(END_SCRIPT, unsafe_allow_javascript=True)


def sign_out(keep_message: bool = False) -> None:
    """Forget who is signed in here; the API session ends too (and the browser's cookie is cleared)."""
    client = st.session_state.get("api")
    ended = set(st.session_state.get("ended_sessions", ()))
    if client is not None:
        if client.session:
            ended.add(client.session)
            try:
                client.end_browser_session()
            except ApiError:
                pass  # already ended, or the API is down: the session still ends at its idle limit
        client.close()
    ended.update({st.context.cookies.get(COOKIE)} - {None})
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state["ended_sessions"] = ended
    st.session_state["clear_cookie"] = bool(ended)
    if not keep_message:
        st.session_state["signed_out_note"] = "You signed out."


def call(fn: Callable[..., T], *args, quiet: bool = False, **kw) -> T | None:
    """Run an API call; on failure show its plain message (never a traceback) and return None.
    A 401 signs the session out, so the next run shows the sign-in page with the reason."""
    try:
        return fn(*args, **kw)
    except ApiError as e:
        if e.signed_out:
            sign_out(keep_message=True)
            st.session_state["signed_out_note"] = e.message
            st.rerun()
        if e.unreachable:
            banner.note()  # one banner for the page, however many calls failed
        elif not quiet:
            st.error(e.message, icon=":material/error:")
        return None


def cached(key: str, fn: Callable[[], T], seconds: float = CACHE_SECONDS) -> T | None:
    """A short-lived per-session cache for side-panel reads, so reruns don't repeat requests."""
    cache: dict[str, tuple[float, Any]] = st.session_state.setdefault("cache", {})
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < seconds:
        return hit[1]
    value = call(fn)
    if value is not None:
        cache[key] = (time.monotonic(), value)
    return value


def invalidate(*prefixes: str) -> None:
    """Forget cached reads (all, or those whose key starts with one of `prefixes`) after a change."""
    cache = st.session_state.setdefault("cache", {})
    for key in list(cache):
        if not prefixes or key.startswith(prefixes):
            del cache[key]


def go(page: str) -> None:
    """Show another page (one of PAGES) from now on."""
    st.session_state["nav_to"] = page
    st.rerun()


def ask(prompt: str) -> None:
    """Ask the assistant `prompt` in the current conversation (from the dashboard, tickets, buttons)."""
    st.session_state["pending_prompt"] = prompt
    go("chat")


PAGES = {
    "chat": ":material/chat: Chat",
    "dashboard": ":material/monitoring: Dashboard",
    "tickets": ":material/confirmation_number: Tickets",
    "admin": ":material/admin_panel_settings: Admin",
}
