"""The admin page (st.navigation runs this file; the page itself is ui/admin.py)."""
from ui.admin import page

page()
