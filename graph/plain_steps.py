""" "Show your work" in a finance user's words: one line per step of a trace, from each tool's declared
`step` template (tools/base.py ToolSpec), e.g.

    Read IndiSky Airlines invoices from November 2026 (status failed), 12 ms; found 7.
    Read the 7 invoices from before, 9 ms; 7 in all, grouped by reason.

The technical view (tool names, parameters, filters, the trace id) stays in the trace's `summary`,
`tool_calls` and `data_consulted`; these lines name no tool and no parameter.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

from tools.registry import spec

_WHOLE_MONTH = re.compile(r"01 (\w{3}) (\d{4}) to (\d{2}) \1 \2")
_MONTHS = {calendar.month_abbr[i]: i for i in range(1, 13)}
HIDDEN = {"workspace_id", "dates", "invoice_numbers", "query", "measures", "group_by", "time_grain", "names"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def period_words(dates: str) -> str:
    """'01 Nov 2026 to 30 Nov 2026' -> 'November 2026'; other ranges as they are ('01 Jan 2026 to 07 Dec 2026')."""
    m = _WHOLE_MONTH.fullmatch(dates.strip())
    if m and m.group(1) in _MONTHS:
        month, year = _MONTHS[m.group(1)], int(m.group(2))
        if int(m.group(3)) == calendar.monthrange(year, month)[1]:
            return f"{calendar.month_name[month]} {year}"
    return dates


def scope(source: dict[str, Any] | None) -> str:
    """What a step read, in words: 'IndiSky Airlines invoices from November 2026 (status failed)'."""
    if not source:
        return "your data"
    filters = dict(source.get("filters") or {})
    query: dict[str, Any] = filters["query"] if isinstance(filters.get("query"), dict) else {}
    table = str(query.get("dataset") or source.get("table") or "records").replace("_", " ")
    if isinstance(filters.get("invoice_numbers"), int):
        n = filters["invoice_numbers"]
        return f"the {n:,} {table if n != 1 else table.rstrip('s')} from before"
    vendor = filters.get("vendor") if isinstance(filters.get("vendor"), str) else None
    text = f"{vendor} {table}" if vendor else table
    if filters.get("dates"):
        text += f" from {period_words(str(filters['dates']))}"
    extra = [
        f"{k.replace('_', ' ')} {v}"
        for k, v in filters.items()
        if k not in HIDDEN and k != "vendor" and isinstance(v, (str, int, float))
    ]
    if extra:
        text += f" ({', '.join(extra)})"
    if filters.get("group_by"):
        text += " by " + " and ".join(str(g).replace("_", " ") for g in filters["group_by"])
    elif filters.get("time_grain"):
        text += " month by month" if filters["time_grain"] == "month" else f" by {filters['time_grain']}"
    return text


def ms(value: Any) -> str:
    try:
        return f"{float(value):,.0f} ms"
    except (TypeError, ValueError):
        return "0 ms"


def step_line(call: dict[str, Any]) -> str:
    """One tool call as a finance user would say it; a refusal or failure says so plainly."""
    status = call.get("status")
    found = spec(str(call.get("tool") or ""))
    if status == "denied":
        return f"Stopped: your role may not {found.action if found else 'do this'}, so nothing ran."
    if status not in ("success", None):
        return f"Could not finish this step: {call.get('message') or 'it failed'}"
    sources = [s for s in call.get("sources") or [] if isinstance(s, dict)]
    first = sources[0] if sources else None
    params = call.get("params") or {}
    filters = (first or {}).get("filters") or {}
    read = scope(first)
    names = next((x.get("filters", {}).get("names") for x in sources[1:] if x.get("table") == "vendors"), None)
    if isinstance(names, list) and len(names) == 1 and read.startswith("the ") and read.endswith(" from before"):
        n, rest = read[4:].split(" ", 1)  # "the 7 invoices from before" -> "the 7 IndiSky Airlines invoices ..."
        read = f"the {n} {names[0]} {rest}"
    if params.get("ticket_id") and read.endswith(" from before"):  # a ticket's records: say which ticket
        read = read.removesuffix(" from before") + f" of ticket {params['ticket_id']}"
    fields = _Blank(
        scope=read,
        rows=f"{int((first or {}).get('rows') or 0):,}",
        ms=ms(call.get("duration_ms")),
        format=str(params.get("format") or "csv").upper(),
        ticket_id=str(params.get("ticket_id") or filters.get("ticket_id") or "").strip() or "the ticket",
        vendor=str(params.get("vendor") or filters.get("vendor") or "the vendor"),
    )
    template = (found.step if found else "") or "Did one more step, {ms}."
    return template.format_map(fields)


def plain_steps(calls: list[dict[str, Any]], status: str, response: str = "") -> list[str]:
    """The lines of a trace's "show your work", one per step."""
    lines = [step_line(c) for c in calls]
    if status == "paused":
        lines.append("Asked you to confirm before changing anything.")
    if not lines:
        lines.append("Answered in words; no data was read.")
    return lines
