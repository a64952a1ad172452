"""Migration a0010 gives earlier traces their outcome and tools (the trace explorer's filters), from
the tool calls they recorded, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from business_data.migrations import differences, head, migrate

from .test_migrations import BACKENDS, fresh  # noqa: F401 (the fixture)


def _steps(*calls: tuple[str, str]) -> str:
    return json.dumps(
        [{"node": "act"}, {"node": "_tool_calls", "tool_calls": [{"tool": t, "status": s} for t, s in calls]}]
    )


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
def test_earlier_traces_get_their_outcome_and_tools(fresh):
    url = fresh("a0010")
    migrate(url, "app", "a0008")
    rows = {
        "t-ok": _steps(("filter_data", "success"), ("export_report", "success")),
        "t-refused": _steps(("create_ticket", "denied")),
        "t-failed": _steps(("export_report", "error")),
        "t-words": json.dumps([{"node": "respond"}]),
    }
    engine = create_engine(url)
    with engine.begin() as c:
        for trace_id, steps in rows.items():
            c.execute(
                text(
                    "INSERT INTO traces (trace_id, user_id, workspace_id, request, response, router, plan, steps, "
                    "status, duration_ms, created_at) VALUES (:t, 'maya', 'acme', 'q', 'a', 'offline', '{}', :s, "
                    "'ok', 1.0, CURRENT_TIMESTAMP)"
                ),
                {"t": trace_id, "s": steps},
            )
    engine.dispose()
    migrate(url, "app")
    with create_engine(url).connect() as c:
        got = {r[0]: (r[1], r[2]) for r in c.execute(text("SELECT trace_id, outcome, tools FROM traces"))}
    assert got == {
        "t-ok": ("ok", " filter_data export_report "),
        "t-refused": ("refused", " create_ticket "),
        "t-failed": ("failed", " export_report "),
        "t-words": ("ok", ""),
    }
    assert differences(url, "app") == [] and head("app") == "a0011"
