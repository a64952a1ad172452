"""FinkraftAI for finance teams: sign in, then chat, dashboard, tickets and (Admins) administration.

Run with `finkraft ui` (this app alone, against FINKRAFT_API_URL) or `make serve` (API and app).
An ordinary HTTP client of the API: every figure and action goes through it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402 (after the path set-up above)

from ui import admin, banner, chat, dashboard, sidebar, signin, tickets  # noqa: E402
from ui.state import PAGES, browser_cookie_step, is_admin, me, resume  # noqa: E402

st.set_page_config(
    page_title="FinkraftAI", page_icon=":material/account_balance:", layout="wide", initial_sidebar_state="auto"
)
st.markdown(
    """<style>
  .block-container {padding-top: 3rem; padding-bottom: 1rem;}
  [data-testid="stSidebarContent"] .stButton button {text-align: left; justify-content: flex-start;}
  [data-testid="stSidebarContent"] .stButton button p {white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
  [class*="st-key-chips-"] .stButton button {min-height: 1.75rem; padding: 0 0.7rem; border-radius: 1rem;}
  [class*="st-key-chips-"] .stButton button p {font-size: 0.875rem;}
  [class*="st-key-chippair-"] {border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 1rem; padding: 0 0.1rem;}
  [class*="st-key-chippair-"] button {min-height: 1.75rem; padding: 0 0.45rem; border: none; background: transparent;}
  [class*="st-key-chippair-"] button p {font-size: 0.875rem;}
  [class*="st-key-chippair-"] .stButton button {padding: 0 0.5rem 0 0.2rem; color: rgba(49, 51, 63, 0.6);}
</style>""",
    unsafe_allow_html=True,
)

banner_place = banner.slot()  # one "not reachable" banner at the top, filled at the end of the run
if me() is None and not resume():  # a reload signs in again with the browser's session cookie
    browser_cookie_step()
    signin.page()
    st.stop()
browser_cookie_step()

# One page at a time, chosen in the bar at the top (it stays visible on a phone, where the side
# panel folds away); the page is also in the address (?page=tickets), so it survives a reload.
RUN = {"chat": chat.page, "dashboard": dashboard.page, "tickets": tickets.page, "admin": admin.page}
allowed = [p for p in PAGES if p != "admin" or is_admin()]
wanted = st.session_state.pop("nav_to", None) or (
    st.query_params.get("page") if "page" not in st.session_state else None
)
if wanted in allowed:
    st.session_state["page"] = wanted
if st.session_state.get("page") not in allowed:  # clicking the selected tab unselects it: it stays selected
    last = st.session_state.get("last_page")
    st.session_state["page"] = last if last in allowed else "chat"


def _keep_selected() -> None:
    if st.session_state.get("page") is None:  # the selected tab clicked again: it stays selected
        st.session_state["page"] = st.session_state.get("last_page") or "chat"


sidebar.render()
st.segmented_control(
    "Page",
    allowed,
    format_func=lambda p: PAGES[p],
    key="page",
    label_visibility="collapsed",
    on_change=_keep_selected,
)
page = st.session_state.get("page") or st.session_state.get("last_page") or "chat"
st.session_state["last_page"] = page
st.query_params["page"] = page
RUN[page]()
banner.show(banner_place)
