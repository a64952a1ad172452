"""The turn's answer as one typed payload (schema.answer.AnswerPayload), built by `respond` from the tool's
typed result: its tables and chart (formats from the data model), the interpretation, the next steps the
tool declares with whether the caller's role may take them, a listing's record keys and an export's
download. Clients draw from it and memory embeds from it; nobody parses the answer's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from tools.rbac import Identity
from tools.registry import can_run, spec
from tools.results import ExportData, Shared, shared


def build(
    *,
    text: str,
    status: str,
    tool: str | None,
    params: dict[str, Any] | None,
    result: dict[str, Any] | None,
    interpretation: dict[str, Any] | None,
    identity: Identity | None,
    record_key: str | None = None,
) -> dict[str, Any]:
    """The payload as plain data in AnswerPayload's shape (what the state and the checkpoint hold; the
    API validates it into the model on the way out). Not validated here: a listing's table has up to
    1,000 rows and this runs on every turn (tests/api/test_answer_payload.py validates real answers)."""
    data = (result or {}).get("data") or {}
    common = shared(data)
    ok = (result or {}).get("status") == "success"
    table, ticket = common["table"], common["ticket"]
    tables = [table] if isinstance(table, dict) else list(common["tables"] or [])
    ticket = ticket if isinstance(ticket, dict) else None
    payload: dict[str, Any] = {"text": text, "status": status, "tool": tool, "tables": tables if ok else []}
    optional = {
        "chart": common["figure"] if ok else None,
        "interpretation": interpretation or None,
        "records": _records(tool, common, record_key, tables) if ok else None,
        "export": _export(data) if ok else None,
        "ticket": {k: ticket.get(k) for k in ("ticket_id", "title", "status")} if ok and ticket else None,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    payload["next_actions"] = next_actions(tool, params or {}, data, identity) if ok else []
    return payload


def next_actions(
    tool: str | None, params: dict[str, Any], data: dict[str, Any], identity: Identity | None
) -> list[dict[str, Any]]:
    """The steps the answering tool declares for this result, each marked allowed or not for the caller."""
    declared = spec(tool) if tool else None
    if declared is None or declared.next_steps is None:
        return []
    out = []
    for step in declared.next_steps(params, data):
        target = spec(step["tool"])
        if target is None:
            continue
        allowed = identity is not None and can_run(identity, step["tool"])
        out.append(
            {
                "label": step["label"],
                "kind": step["kind"],
                "tool_call": {"tool": step["tool"], "params": step["params"]},
                "allowed": allowed,
                **(
                    {}
                    if allowed or identity is None
                    else {"why_not": f"as a {identity.role} you can't {target.action}"}
                ),
            }
        )
    return out


def _records(tool: str | None, data: Shared, key: str | None, tables: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A listing's record keys: those of the rows it shows (the thread keeps them all for "these")."""
    declared = spec(tool) if tool else None
    if declared is None or not declared.record_set or data["keys"] is None:
        return None
    keys = list(data["keys"])
    shown = min(len(keys), max((len(t["rows"]) for t in tables), default=len(keys)))
    return {
        "dataset": data["dataset"] or "invoices",
        "key": key,
        "keys": keys[:shown],
        "complete": data["keys_complete"] is not False and shown == len(keys),
    }


def _export(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """An export's download (export_report, export_conversation: ExportData)."""
    if not (data.get("export_id") and data.get("url")):
        return None
    export = cast(ExportData, data)
    return {
        "export_id": export["export_id"],
        "format": export["format"] or "",
        "title": export["title"] or "",
        "rows": export["rows"],
        "url": export["url"],
    }


STORED_ROWS = 20  # rows of each table memory keeps with a turn (a resumed conversation draws them again)


def stored(payload: dict[str, Any] | None, keep: int = STORED_ROWS) -> dict[str, Any] | None:
    """The payload as memory keeps it with the turn: each table's first `keep` rows (its
    `total_rows` says how many there were) and the first `keep` record keys."""
    if not payload:
        return payload
    out = dict(payload)
    out["tables"] = [_kept(t, keep) for t in payload.get("tables") or []]
    records = payload.get("records")
    if records and len(records["keys"]) > keep:
        out["records"] = {**records, "keys": records["keys"][:keep], "complete": False}
    return out


def _kept(table: dict[str, Any], keep: int) -> dict[str, Any]:
    """A table's first `keep` rows (the tools' rows are plain JSON already: tools/compiler.py plain_rows)."""
    if len(table["rows"]) <= keep:
        return table
    return {**table, "rows": table["rows"][:keep], "total_rows": table.get("total_rows") or len(table["rows"])}
