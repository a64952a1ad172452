"""export_conversation: "save this conversation as PDF": each question and answer with its time, and the
answer's table and chart, as a PDF downloaded through the exports API like any report.

The words come from the thread's memory turns (the caller's own, in their workspace); an answer's table
and chart are read again from the semantic query it kept (`result_ref.query`), so the PDF shows the
figures as they are when it is saved, and says when that was."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from business_data import clock
from business_data.appdb import Export, MemoryTurn
from business_data.db import session_scope

from .base import Source, ToolContext, ToolError, ToolNotFound, ToolResult, ToolSpec
from .results import ExportData

TABLE_ROWS = 15  # an answer's table in the PDF: its first rows (the answer says how many there were)
CHART_BARS = 12


class ConversationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: str = Field("", max_length=128, description="the conversation (the chat fills it in)")
    format: Literal["pdf"] = "pdf"
    title: str | None = Field(None, max_length=200)


def exchanges(ctx: ToolContext, thread_id: str) -> list[dict[str, Any]]:
    """The thread's questions and answers, oldest first: [{question, asked_at, answer, result_ref}]."""
    with session_scope(ctx.app) as s:
        turns = s.scalars(
            select(MemoryTurn)
            .where(
                MemoryTurn.user_id == ctx.identity.user_id,
                MemoryTurn.workspace_id == ctx.identity.workspace_id,
                MemoryTurn.thread_id == thread_id,
            )
            .order_by(MemoryTurn.id)
        ).all()
        out: list[dict[str, Any]] = []
        for t in turns:
            if t.speaker == "user":
                out.append({"question": t.text, "asked_at": t.created_at, "answer": "", "result_ref": None})
            elif out:
                out[-1].update(answer=t.text, result_ref=t.result_ref)
    return out


def table_of(ctx: ToolContext, ref: dict[str, Any] | None) -> dict[str, Any] | None:
    """An answer's table ({columns, rows, matched, chart}) from the query it kept; None if it kept none."""
    from .analytics import analysis_table
    from .runner import run_records
    from .semantic import SemanticQuery

    query = (ref or {}).get("query")
    if not isinstance(query, dict) or not query:
        return None
    try:
        q = SemanticQuery.model_validate(query)
        if q.measures:
            got = analysis_table(ctx, q)
            rows, matched = got["rows"], got["matched"]
            chart = bool(q.group_by or q.time_grain)
        else:
            with ctx.business.connect() as conn:
                a = run_records(conn, ctx.data_model, q, ctx.identity, ctx.today, limit=TABLE_ROWS, key_cap=1)
            preview = list(ctx.data_model.datasets[q.dataset].preview or [])
            rows = [{k: r.get(k) for k in (preview or list(r))} for r in a.rows]
            matched, chart = a.matched, False
    except (ValidationError, ValueError, KeyError):
        return None  # a query this data model no longer reads: the words stay, without the table
    if not rows:
        return None
    return {"columns": list(rows[0]), "rows": rows[:TABLE_ROWS], "matched": matched, "chart": chart}


def export_conversation(ctx: ToolContext, p: ConversationParams) -> ToolResult:
    if not p.thread_id.strip():
        raise ToolError("Which conversation? Ask for it in the conversation you want to save.")
    items = exchanges(ctx, p.thread_id)
    if not items:
        raise ToolNotFound("There is nothing in this conversation to save yet: ask a question first.")
    for item in items:
        item["table"] = table_of(ctx, item["result_ref"])
    title = p.title or f"Conversation: {items[0]['question'][:80]}"
    export_id = uuid.uuid4().hex
    folder = ctx.exports_dir / ctx.identity.workspace_id
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{export_id}.pdf"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".pdf.part")
    os.close(fd)
    try:
        from .conversation_pdf import write_conversation_pdf

        write_conversation_pdf(Path(tmp), title, items, clock.now())
        os.replace(tmp, final)
        with session_scope(ctx.app) as s:
            s.add(
                Export(
                    export_id=export_id,
                    owner=ctx.identity.user_id,
                    workspace_id=ctx.identity.workspace_id,
                    format="pdf",
                    dataset="conversation",
                    rows=len(items),
                    path=str(final),
                    title=title,
                    params=p.model_dump(mode="json", exclude_none=True),
                    record_ids=[],
                )
            )
    except BaseException:
        for f in (tmp, final):
            Path(f).unlink(missing_ok=True)
        raise
    n = len(items)
    data: ExportData = {
        "export_id": export_id,
        "format": "pdf",
        "rows": n,
        "url": f"/exports/{export_id}/download",
        "title": title,
        "filename": f"finkraft-conversation-{export_id[:8]}.pdf",
        "dataset": "conversation",
    }
    return ToolResult(
        status="success",
        message=f"Your PDF of this conversation is ready: {n} question{'s' if n != 1 else ''} with their answers.",
        data=dict(data),
        sources=[Source(table="memory_turns", filters={"conversation": p.thread_id}, rows=2 * n)],
    )


TOOLS = [
    ToolSpec(
        "export_conversation",
        "Save this conversation as a PDF: each question and answer with its time, tables and charts.",
        ConversationParams,
        export_conversation,
        data_type=ExportData,
        roles=("Manager", "Admin"),
        action="export reports",
        topic="conversation PDFs",
        step="Wrote a PDF of this conversation, {ms}.",
        writes=True,
        confirm=False,
        cancelled="save the conversation",
        phrases=("save this conversation as pdf", "export a summary of this session as pdf"),
        takes_thread=True,
    ),
]
