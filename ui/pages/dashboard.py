"""The dashboard page (st.navigation runs this file; the page itself is ui/dashboard.py)."""
from ui.dashboard import page

page()
