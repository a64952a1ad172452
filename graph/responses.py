"""Plain-language answers built from tool results (the offline path; the LLM path lives in prompts.py)."""

from __future__ import annotations

from typing import Any, cast

from tools.filtering import FAILED_HINT, FIELD_SEP, MORE_RECORDS, RECORD_BULLET
from tools.registry import declared
from tools.results import ListingData


def _help() -> str:
    """What to try: one line per tool, its first declared phrase and what people ask it for (ToolSpec)."""
    lines = [f'- "{s.phrases[0]}" ({s.topic})' for s in declared() if s.phrases and s.topic]
    return "I can help with your finance operations. Try:\n" + "\n".join(lines)


HELP = _help()

GREETING = "Hello! " + HELP


def render(tool: str | None, result: dict[str, Any] | None, *, preview_rows: int = 5) -> str:
    if not result:
        return "I couldn't work out what to do. " + HELP
    return result["message"] + listing(tool, result, preview_rows=preview_rows)


def listing(tool: str | None, result: dict[str, Any] | None, *, preview_rows: int = 5) -> str:
    """A listing's record lines under its words, for clients that show text only (the typed answer
    carries the same records as a table: graph/answer.py)."""
    data = cast(ListingData, (result or {}).get("data") or {})  # a listing has `results` and `preview`
    if not result or result["status"] != "success" or not data.get("results") or data.get("preview") is None:
        return ""
    lines = data["preview"] or [FIELD_SEP.join(str(v) for v in r.values() if v is not None) for r in data["results"]]
    lines = lines[:preview_rows]
    text = "\n" + "\n".join(RECORD_BULLET + line for line in lines)
    if data["returned"] > preview_rows:
        text += "\n" + MORE_RECORDS.format(data["filtered_records"] - preview_rows)
    if data["dataset"] == "invoices" and data.get("status_counts", {}).get("failed"):
        text += "\n" + FAILED_HINT
    return text
