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

import streamlit as st

from ui import sidebar, signin
from ui.state import PAGES, is_admin, me

st.set_page_config(page_title="FinkraftAI", page_icon=":material/account_balance:", layout="wide",
                   initial_sidebar_state="auto")
st.markdown("""<style>
  .block-container {padding-top: 2.2rem; padding-bottom: 1rem;}
  [data-testid="stSidebarContent"] .stButton button {text-align: left; justify-content: flex-start;}
  [data-testid="stSidebarContent"] .stButton button p {white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
</style>""", unsafe_allow_html=True)

if me() is None:
    st.navigation([st.Page(signin.page, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()

pages = [
    st.Page(PAGES["chat"], title="Chat", icon=":material/chat:", default=True),
    st.Page(PAGES["dashboard"], title="Dashboard", icon=":material/monitoring:"),
    st.Page(PAGES["tickets"], title="Tickets", icon=":material/confirmation_number:"),
]
if is_admin():
    pages.append(st.Page(PAGES["admin"], title="Admin", icon=":material/admin_panel_settings:"))
page = st.navigation(pages)
sidebar.render()
page.run()
