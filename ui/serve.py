"""The web app as an ASGI app (`streamlit run ui/serve.py`, what `finkraft ui` runs): ui/app.py plus
the two routes that keep a browser signed in across reloads (ui/browser_session.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # a checkout that is not installed
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from ui.browser_session import ROUTES  # noqa: E402

app = st.App(Path(__file__).resolve().with_name("app.py"), routes=ROUTES)
