"""Confirmation before anything is written: the question, the pause, the answer.

Creating or updating a ticket asks first (the tool's declaration says `confirm=True`: others see it
and it notifies people); an export, a file only its owner can download, does not. Before one runs, the `confirm` node puts the question in the state (`response`,
`pending_confirmation`, an AI message), then pauses the thread with `interrupt()`. The user's
answer comes back as `Command(resume=answer)`, possibly days later from another process:
yes -> the write runs; no -> nothing is written; anything else -> the question is asked again.
A "yes" whose write then fails for a reason on our side (the database busy or failing, a full disk)
leaves the question pending (`ask_again`), so "yes" again tries again.

Nothing here writes: after `interrupt()` a resumed node runs again from its start, so the
part before the pause only reads state.
"""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.types import interrupt

from tools.base import ToolContext, ToolError
from tools.registry import asks_first, confirmation_question, spec

from .state import tool_call

YES = {"yes", "y", "ok", "okay", "confirm", "confirmed", "sure", "yep", "yeah", "go ahead", "proceed", "do it", "true"}
NO = {"no", "n", "cancel", "cancelled", "stop", "nope", "abort", "don't", "dont", "do not", "false"}


def parse_answer(value: Any) -> bool | None:
    """True to proceed, False to cancel, None when the answer is neither (ask again)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):  # {"answer": "yes"} / {"confirm": true} from a client
        value = next((value[k] for k in ("answer", "confirm", "resume") if k in value), None)
        return parse_answer(value) if value is not None else None
    if not isinstance(value, str):
        return None
    text = value.strip().lower().strip(".!? ")
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def yes_no(question: str) -> str:
    return question.rstrip() + " yes/no"


def direct_pending(steps: list[dict[str, Any]], ctx: ToolContext) -> dict[str, Any]:
    """The pending confirmation for a direct plan's write steps."""
    writes = [s for s in steps if asks_first(s["tool"])]
    lines = [confirmation_question(s["tool"], s["params"], ctx) for s in writes]
    question = lines[0] if len(lines) == 1 else "Go ahead with these? " + " ".join(lines)
    return new_pending(
        yes_no(question),
        [{"tool": s["tool"], "params": s["params"], "summary": line} for s, line in zip(writes, lines)],
    )


def new_pending(question: str, steps: list[dict[str, Any]], template: str | None = None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex[:12],
        "question": question,
        "original_question": question,
        "steps": steps,
        "template": template,
        "asked": False,
    }


def confirm_step(state: dict[str, Any], ctx: ToolContext | None) -> dict[str, Any]:
    """The `confirm` node's body (graph/nodes.py): ask once, pause, then act on the answer."""
    pending = state.get("pending_confirmation")
    if pending is None:
        if ctx is None:
            return {"response": "I don't know who you are, so I can't do anything yet."}
        try:
            pending = direct_pending(state["plan"]["steps"], ctx)
        except ToolError as e:  # the write could not run anyway: say why, write nothing
            calls = [tool_call(s["tool"], s["params"], "error", e.message) for s in state["plan"]["steps"]]
            return {
                "response": e.message,
                "tool_calls": calls,
                "result": {"tool": calls[-1]["tool"], "status": "error", "message": e.message, "data": {}},
            }
    if not pending.get("asked"):  # put the question in the state first: visible while paused
        return _ask({**pending, "asked": True})
    answer = interrupt({"question": pending["question"], "steps": pending["steps"]})
    decision = parse_answer(answer)
    if decision is None:
        return _ask(
            {**pending, "preface": None, "question": "Please answer yes or no. " + pending["original_question"]}
        )
    confirmation = {
        "approved": decision,
        "answer": str(answer)[:200],
        "id": pending["id"],
        "question": pending["original_question"],
        "steps": pending["steps"],
    }
    if decision or pending.get("template"):  # a template writes its own final answer
        return {"pending_confirmation": None, "confirmation": confirmation, "response": ""}
    msg = cancelled_message(pending["steps"])
    calls = [tool_call(s["tool"], s.get("params") or {}, "cancelled", msg) for s in pending["steps"]]
    return {
        "pending_confirmation": None,
        "confirmation": confirmation,
        "response": msg,
        "tool_calls": calls,
        "result": {"tool": calls[-1]["tool"] if calls else None, "status": "cancelled", "message": msg, "data": {}},
    }


# a write that failed for these reasons may well succeed if tried again: the question stays open
RETRY_CODES = {"internal", "no_space", "busy"}


def ask_again(confirmation: dict[str, Any] | None, result: dict[str, Any] | None, wrote: bool) -> dict[str, Any] | None:
    """After a confirmed write failed on our side and nothing was written: the same question again
    (same id, so a write that did happen is never made twice), prefaced by what went wrong. None when
    the failure is the request's own (asking again would not help) or something was written."""
    if not confirmation or not confirmation.get("approved") or not confirmation.get("question") or wrote:
        return None
    if not result or result.get("status") == "success" or result.get("code") not in RETRY_CODES:
        return None
    failed = str(result.get("message") or "That didn't work. Nothing was changed.").rstrip()
    return {
        "id": confirmation["id"],
        "question": f"{failed} Try again? {confirmation['question']}",
        "original_question": confirmation["question"],
        "steps": confirmation.get("steps") or [],
        "template": None,
        "asked": False,
    }


def _ask(pending: dict[str, Any]) -> dict[str, Any]:
    text = pending["question"]
    if pending.get("preface"):  # a template's findings, shown with the question about them
        text = pending["preface"].rstrip() + "\n\n" + text
    return {
        "pending_confirmation": pending,
        "response": text,
        "messages": [AIMessage(content=text, id=str(uuid.uuid4()))],
    }


def cancelled_message(steps: list[dict[str, Any]]) -> str:
    actions = list(
        dict.fromkeys((getattr(spec(s["tool"]), "cancelled", "") or s["tool"].replace("_", " ")) for s in steps)
    )
    actions = actions or ["do it"]
    return f"OK, I didn't {' or '.join(actions)}. Nothing was written."
