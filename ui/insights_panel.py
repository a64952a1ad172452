""" "What I ask about": the signed-in user's usage from GET /memory/{user_id}/insights: the requests they
make most (a click asks again), the vendors and data they look at, and what is waiting for them."""

from __future__ import annotations

import streamlit as st

from .format import short
from .localtime import local
from .state import api, ask, cached, signed_in


def render() -> None:
    user = signed_in()
    got = cached("insights", lambda: api().memory_insights(user.user_id), seconds=60)
    with st.expander("What I ask about", icon=":material/insights:"):
        if got is None:
            st.caption("Not available right now.")
            return
        usage = got.usage
        if not usage.requests:
            st.caption("Nothing yet: your most frequent questions will show here.")
            return
        st.caption(
            f"{usage.requests:,} question{'s' if usage.requests != 1 else ''} in "
            f"{usage.threads:,} conversation{'s' if usage.threads != 1 else ''}"
            + (f", the last on {local(usage.last_at)}" if usage.last_at else "")
        )
        for items, label in ((usage.tools, "Most asked for"), (usage.vendors, "Vendors"), (usage.datasets, "Data")):
            if items:
                words = [f"{i.label or i.name} ({i.count})" for i in items[:4]]
                st.markdown(f"**{label}:** " + ", ".join(words))
        frequent = got.frequent_requests
        if frequent:
            st.markdown("**Ask again**")
        for i, f in enumerate(frequent[:4]):
            if st.button(
                short(f.request, 36),
                key=f"ask-again-{i}",
                icon=":material/replay:",
                type="tertiary",
                help=f"{f.request} (asked {f.count} time{'s' if f.count != 1 else ''})",
            ):
                ask(f.request)
