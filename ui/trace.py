""" "Show your work", from GET /traces/{id}: first each step in a finance user's words ("Read IndiSky Airlines
invoices from November 2026 (status failed), 12 ms; found 7."), then one click deeper the technical view:
how the request was read, each tool call with its parameters, the SQL-level filters, timings and the trace
id. Admins also get the full trace (every node's output). Times in the workspace's time zone."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from .localtime import local
from .state import api, call
from schema.traces import FullTraceView, TracedCall, TraceView


OUTCOMES = {"ok": ("done", "green"), "paused": ("waiting for your answer", "orange"), "error": ("failed", "red")}


def toggle(trace_id: str, steps: list[dict], key: str) -> None:
    """A switch under an answer; the trace is fetched only when it is switched on."""
    if st.toggle("Show your work", key=f"work-{key}-{trace_id}"):
        panel(trace_id, steps)


def fetch(trace_id: str) -> TraceView | None:
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
        calls = t.tool_calls
        outcome, colour = OUTCOMES.get(t.status, (t.status or "unknown", "gray"))
        if t.outcome in ("refused", "failed"):
            outcome, colour = t.outcome, "red"
        st.markdown(
            f"**Show your work** &nbsp; :{colour}-badge[{outcome}] :gray-badge[{t.duration_ms:,.0f} ms in all]"
            + (f" :gray-badge[{local(t.created_at)}]" if t.created_at else "")
        )
        for line in t.work or t.summary or ["No data was needed for this answer."]:
            st.markdown(f"- {_plain(line)}")
        with st.expander("Technical details: tools, parameters, filters, trace id", icon=":material/code:"):
            _technical(t, calls, live_steps)


def _technical(t: TraceView, calls: list[TracedCall], live_steps: list[dict] | None) -> None:
    trace_id = t.trace_id
    for line in t.summary:
        st.markdown(f"- {_plain(line)}")
    if calls:
        st.markdown("**Tool calls**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "tool": x.tool,
                        "parameters": _params(x.params),
                        "outcome": x.status,
                        "ms": x.duration_ms,
                    }
                    for x in calls
                ]
            ),
            hide_index=True,
            width="stretch",
            key=f"trace-calls-{trace_id}",
        )
    consulted = t.data_consulted
    if consulted:
        st.markdown("**Data read (SQL filters)**")
        st.dataframe(
            pd.DataFrame([{"table": d.table, "rows": d.rows, "filters": d.filters} for d in consulted]),
            hide_index=True,
            width="stretch",
            key=f"trace-data-{trace_id}",
        )
    steps = _steps(t, live_steps)
    if steps:
        st.markdown("**Steps and timings**")
        st.dataframe(pd.DataFrame(steps), hide_index=True, width="stretch", key=f"trace-steps-{trace_id}")
    st.caption(
        f"Trace id {trace_id}"
        + (f" · {local(t.created_at, with_seconds=True)}" if t.created_at else "")
        + (f" · user {t.user_id}" if isinstance(t, FullTraceView) else "")
    )
    if isinstance(t, FullTraceView):  # the full form: Admins only
        st.markdown("**Full trace (Admin)**")
        st.json(t.model_dump(include={"user_id", "workspace_id", "router", "plan", "steps"}), expanded=False)


def _steps(t: TraceView, live: list[dict] | None) -> list[dict]:
    """Each graph step with its time: from the live stream, or (Admins) from the stored trace."""
    if live:
        return [
            {"step": s.get("label"), "node": s.get("node"), "ms": s.get("duration_ms"), "detail": s.get("detail") or ""}
            for s in live
        ]
    return [
        {"step": s.get("node"), "status": s.get("status"), "ms": s.get("duration_ms")}
        for s in (t.steps if isinstance(t, FullTraceView) else [])
        if s.get("node") and not str(s["node"]).startswith("_")
    ]


def _params(params) -> str:
    """'vendor=IndiSky Airlines, measures=sales_value, invoice_numbers=INV-1, INV-2 and 5 more'."""
    if not params:
        return ""
    out = []
    for k, v in params.items():
        if isinstance(v, list):
            shown = ", ".join(str(x) for x in v[:3])
            v = shown + (f" and {len(v) - 3} more" if len(v) > 3 else "")
        elif isinstance(v, dict):
            v = json.dumps(v, ensure_ascii=False)
        out.append(f"{k}={v}")
    text = ", ".join(out)
    return text if len(text) < 300 else text[:299] + "…"


def _plain(line: str) -> str:
    return str(line).replace("$", "\\$")
