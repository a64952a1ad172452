"""The chat page (st.navigation runs this file; the page itself is ui/chat.py)."""
from ui.chat import page

page()
