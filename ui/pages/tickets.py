"""The tickets page (st.navigation runs this file; the page itself is ui/tickets.py)."""
from ui.tickets import page

page()
