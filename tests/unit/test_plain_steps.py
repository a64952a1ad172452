"""Show your work in a finance user's words (graph/plain_steps.py): each tool declares its step label,
and a step line names no tool and no parameter."""

from __future__ import annotations

from graph.plain_steps import period_words, plain_steps, step_line
from tools.registry import TOOLS


def test_every_tool_declares_its_step_label():
    for name, spec in TOOLS.items():
        assert spec.step and "{ms}" in spec.step, name
        line = step_line({"tool": name, "status": "success", "params": {}, "sources": [], "duration_ms": 12.4})
        assert name not in line and "12 ms" in line and "{" not in line, (name, line)


def test_period_words():
    assert period_words("01 Nov 2026 to 30 Nov 2026") == "November 2026"
    assert period_words("01 Feb 2028 to 29 Feb 2028") == "February 2028"  # a leap year's February
    assert period_words("01 Feb 2027 to 28 Feb 2027") == "February 2027"
    assert period_words("01 Nov 2026 to 29 Nov 2026") == "01 Nov 2026 to 29 Nov 2026"  # not the whole month
    assert period_words("01 Jan 2026 to 07 Dec 2026") == "01 Jan 2026 to 07 Dec 2026"


def test_step_lines():
    read = {
        "tool": "filter_data",
        "status": "success",
        "params": {"vendor": "IndiSky Airlines", "status": "failed"},
        "duration_ms": 11.6,
        "sources": [
            {
                "table": "invoices",
                "rows": 7,
                "filters": {
                    "workspace_id": "acme",
                    "dates": "01 Nov 2026 to 30 Nov 2026",
                    "vendor": "IndiSky Airlines",
                    "status": "failed",
                },
            }
        ],
    }
    assert step_line(read) == "Read IndiSky Airlines invoices from November 2026 (status failed), 12 ms; found 7."
    refused = {"tool": "create_ticket", "status": "denied", "params": {}, "message": "Sorry, as a Viewer ..."}
    assert step_line(refused) == "Stopped: your role may not create tickets, so nothing ran."
    failed = {"tool": "export_report", "status": "error", "params": {}, "message": "There is nothing to export."}
    assert step_line(failed) == "Could not finish this step: There is nothing to export."
    assert plain_steps([], "ok") == ["Answered in words; no data was read."]
    assert plain_steps([], "paused") == ["Asked you to confirm before changing anything."]
