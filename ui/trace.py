""" "Show your work": the plan, each tool call with its parameters, the data read with row counts, and
timings, from GET /traces/{id}. Admins get the full trace (every node's output) as well."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from .format import parse_time
from .state import api, call


OUTCOMES = {"ok": ("done", "green"), "paused": ("waiting for your answer", "orange"), "error": ("failed", "red")}


def toggle(trace_id: str, steps: list[dict], key: str) -> None:
    """A switch under an answer; the trace is fetched only when it is switched on."""
    if st.toggle("Show your work", key=f"work-{key}-{trace_id}"):
        panel(trace_id, steps)


def fetch(trace_id: str) -> dict | None:
    traces = st.session_state.setdefault("traces", {})  # a finished trace never changes
    if trace_id not in traces:
        got = call(api().trace, trace_id)
        if got is None:
            return None
        traces[trace_id] = got
    return traces[trace_id]


def panel(trace_id: str, live_steps: list[dict] | None = None) -> None:
    t = fetch(trace_id)
    if t is None:
        return
    with st.container(border=True, key=f"trace-panel-{trace_id}"):
        calls = t.get("tool_calls") or []
        outcome, colour = OUTCOMES.get(str(t.get("status")), (t.get("status") or "unknown", "gray"))
        st.markdown(
            f"**Show your work** &nbsp; :{colour}-badge[{outcome}] :gray-badge[{t.get('duration_ms') or 0:,.0f} ms in all] "
            f":gray-badge[{len(calls)} tool call{'s' if len(calls) != 1 else ''}]"
        )
        st.markdown("**Plan** — how your request was read and what was decided")
        for line in t.get("summary") or ["No tool was needed for this answer."]:
            st.markdown(f"- {_plain(line)}")
        if calls:
            st.markdown("**Tool calls**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "tool": x.get("tool"),
                            "parameters": _params(x.get("params")),
                            "outcome": x.get("status"),
                            "ms": x.get("duration_ms"),
                        }
                        for x in calls
                    ]
                ),
                hide_index=True,
                width="stretch",
                key=f"trace-calls-{trace_id}",
            )
        consulted = t.get("data_consulted") or []
        if consulted:
            st.markdown("**Data read**")
            st.dataframe(
                pd.DataFrame(
                    [{"table": d.get("table"), "rows": d.get("rows"), "filters": d.get("filters")} for d in consulted]
                ),
                hide_index=True,
                width="stretch",
                key=f"trace-data-{trace_id}",
            )
        steps = _steps(t, live_steps)
        if steps:
            st.markdown("**Steps and timings**")
            st.dataframe(pd.DataFrame(steps), hide_index=True, width="stretch", key=f"trace-steps-{trace_id}")
        when = parse_time(t.get("created_at"))
        st.caption(
            f"Trace {trace_id}"
            + (f" · {when:%d %b %Y %H:%M:%S} UTC" if when else "")
            + (f" · user {t['user_id']}" if t.get("user_id") else "")
        )
        if "steps" in t:  # the full form: Admins only
            with st.expander("Full trace (Admin)", icon=":material/data_object:"):
                st.json({k: t.get(k) for k in ("user_id", "workspace_id", "router", "plan", "steps")}, expanded=False)


def _steps(t: dict, live: list[dict] | None) -> list[dict]:
    """Each graph step with its time: from the live stream, or (Admins) from the stored trace."""
    if live:
        return [
            {"step": s.get("label"), "node": s.get("node"), "ms": s.get("duration_ms"), "detail": s.get("detail") or ""}
            for s in live
        ]
    return [
        {"step": s.get("node"), "status": s.get("status"), "ms": s.get("duration_ms")}
        for s in t.get("steps") or []
        if s.get("node") and not str(s["node"]).startswith("_")
    ]


def _params(params) -> str:
    if not params:
        return ""
    out = []
    for k, v in params.items():
        if isinstance(v, list):
            v = f"{len(v)} items"
        out.append(f"{k}={v}")
    return ", ".join(out) if len(", ".join(out)) < 300 else json.dumps(params)[:300] + "…"


def _plain(line: str) -> str:
    return str(line).replace("$", "\\$")
