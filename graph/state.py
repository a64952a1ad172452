"""The graph's state and the records it holds, typed. Clients may only write `messages` (the input
schema); everything else is the graph's own bookkeeping, checkpointed per thread.

Records are plain dicts with documented keys (TypedDicts), so a checkpoint stays JSON-like and
LangServe can describe the output schema. Each is built in one place: `tool_call`, `answer_plan`,
`direct_plan` below, `graph.confirmation.new_pending` for confirmations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from langchain_core.messages import AnyMessage
from langgraph.channels.last_value import LastValue
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict
from typing import NotRequired  # pydantic needs this one on 3.11 (LangServe schemas)

from schema.formats import Format
from tools.results import TYPED_KEYS

from .intent import IntentKind


class IntentRecord(TypedDict, total=False):
    """What the router understood this turn (graph.intent.Intent as a dict, plus who routed it)."""

    kind: IntentKind | Literal["error"]  # what the router understood; "error": the caller is unknown (context)
    tool: str | None
    params: dict[str, Any]
    refs: dict[str, str]  # {"records": "previous"}, {"ticket": "fixed"}, ...
    question: str | None  # a clarifying question, or the model's own answer
    template: str | None
    confidence: float
    reason: str
    router: Literal["offline", "llm"]  # which router produced it
    model: str | None  # "google_genai:gemini-2.0-flash" when router == "llm"
    fallback: str | None  # why the offline parser stood in for a configured model this turn
    explained_by: str  # who wrote the answer's words (template, or the model)
    assumed: list[str]  # readings of this message the answer states ("I read “from November” as November 2026 only")


Decision = Literal["run", "assume", "ask", "refuse"]
PartSource = Literal["message", "carried", "default"]


class Part(TypedDict):
    """One part of what will run (a filter, the dataset, the records) and where it came from."""

    slot: str  # vendor, period, dataset, measures, group_by, records, ...
    value: Any
    source: PartSource  # the words of this message, an earlier turn, or a default
    why: NotRequired[str]  # carried: "follow-up" or "'these' = your last result"; default: which default
    kept: NotRequired[list[int]]  # a list part from this message: the items kept from the last question
    format: NotRequired[Format]  # the data model's format of what it holds (min_amount: money; tools/tables.py)
    formats: NotRequired[dict[str, Format]]  # filters / where: each field's format


class Choice(TypedDict):
    """A reading offered when the assistant asks: its label, and the message that picks it."""

    label: str
    message: str


class Interpretation(TypedDict, total=False):
    action: str  # the tool or template that would run, or clarify / help / greeting ...
    summary: str  # the interpretation in one line of plain words
    router: str  # offline | llm | client (a tool call the client chose: POST /chat's tool_call)
    model: str | None  # router == llm: which model
    fallback: NotRequired[str | None]  # router == offline standing in for a model: why (e.g. "model error")
    parts: list[Part]
    unused: list[str]  # content words of the message that nothing used
    decision: Decision
    assumptions: list[str]  # said in the answer when decision == "assume"
    choices: list[Choice]  # when decision == "ask"
    reason: str  # why this decision (for the trace)


class PlanStep(TypedDict):
    tool: str
    params: dict[str, Any]


class PlanRecord(TypedDict, total=False):
    mode: Literal["direct", "template", "answer"]
    steps: list[PlanStep]
    reason: str | None
    refs: dict[str, str]
    complexity: Any
    template: str  # mode == "template": which subgraph runs
    params: dict[str, Any]  # mode == "template": its parameters
    analysis: dict[str, Any]


class Source(TypedDict, total=False):
    table: str
    filters: dict[str, Any]
    rows: int


class ToolCallRecord(TypedDict):
    """One tool call as the trace and the API show it."""

    tool: str
    params: dict[str, Any]
    status: str  # success | error | denied | cancelled | ...
    message: str
    duration_ms: float
    sources: list[Source]


class ResultRecord(TypedDict, total=False):
    """This turn's main result: a tool's ToolResult as a dict, with the tool's name."""

    tool: str | None
    status: str
    code: str
    message: str
    data: dict[str, Any]


class LastResult(TypedDict, total=False):
    """The newest result set in the thread, for "these", "why did they fail", "the same for X"."""

    tool: str
    dataset: str
    keys: list[Any]  # at most tools.queries.KEY_CAP of them
    keys_complete: bool  # False: more records matched; `query` / `params` define the set
    query: dict[str, Any]  # the semantic query behind the result (tools/semantic.py)
    params: dict[str, Any]


class PendingStep(TypedDict, total=False):
    tool: str
    params: dict[str, Any]
    summary: str


class PendingConfirmation(TypedDict):
    """A write waiting for yes/no (graph/confirmation.py new_pending)."""

    id: str  # also the idempotency key of what it creates
    question: str
    original_question: str
    steps: list[PendingStep]
    template: str | None
    asked: bool
    preface: NotRequired[str | None]  # a template's findings, shown above the question


class Confirmation(TypedDict):
    approved: bool
    answer: str
    id: str
    question: NotRequired[str]  # the question answered (asked again if the write then fails)
    steps: NotRequired[list[PendingStep]]


class StepStatus(TypedDict, total=False):
    """A template step this turn."""

    step: str
    status: str  # pending | running | done | failed | skipped | awaiting_confirmation | ...
    attempts: int
    message: str


# what a tool's data holds row by row: the rows, record keys, charts and typed tables (tools/results.py)
ROW_DATA = frozenset({"results", "keys", "rows", "chart", "previous"}) | TYPED_KEYS


class TurnResult(LastValue):
    """The `result` channel: whole while the turn runs (the answer, the API's `data`), saved without
    the rows, record keys, typed tables and charts. No later turn reads them: `context` clears
    `result` first, "these" come from `last_result`'s keys, and memory keeps the answer's first rows
    with the turn. So a thread's checkpoint does not carry up to 100 rows (twice: as records and as
    the typed table) and 1,000 keys from one turn to the next (plans read the saved status, message
    and figures)."""

    def checkpoint(self) -> Any:
        value = super().checkpoint()
        data = value.get("data") if isinstance(value, dict) else None
        if isinstance(data, dict) and not ROW_DATA.isdisjoint(data):
            return {**value, "data": {k: v for k, v in data.items() if k not in ROW_DATA}}
        return value


class TurnAnswer(LastValue):
    """The `answer` channel: whole while the turn runs (LangServe's output), saved without its tables'
    rows and record keys, as `result` is (TurnResult): no later turn reads them, and memory keeps the
    answer with the turn (memory_turns.answer) for a resumed conversation."""

    def checkpoint(self) -> Any:
        value = super().checkpoint()
        if isinstance(value, dict) and (value.get("tables") or value.get("records")):
            tables = [{**t, "rows": []} for t in value.get("tables") or []]
            return {**{k: v for k, v in value.items() if k != "records"}, "tables": tables}
        return value


class InputState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class AgentState(InputState, total=False):
    intent: IntentRecord | None
    interpretation: Interpretation | None  # what was understood, where each part came from, the decision
    plan: PlanRecord | None
    tool_calls: list[ToolCallRecord]  # this turn's calls
    result: Annotated[ResultRecord | None, TurnResult(dict)]  # this turn's main result (saved without rows)
    response: str  # this turn's answer text
    answer: Annotated[dict[str, Any] | None, TurnAnswer(dict)]  # the answer typed: AnswerPayload as JSON
    welcome: str | None  # "welcome back" news, shown once per return, apart from the answer
    context: dict[str, Any]  # compact working context used this turn
    last_result: LastResult | None
    last_ticket_id: str | None
    last_export_id: str | None
    step_statuses: list[StepStatus]
    template_data: dict[str, Any]  # a template's intermediate results (kept across a confirmation pause)
    pending_confirmation: PendingConfirmation | None
    confirmation: Confirmation | None
    forgotten_threads: list[str]  # "forget me": threads whose checkpoints the host should delete


def tool_call(
    tool: str,
    params: dict[str, Any],
    status: str,
    message: str,
    *,
    duration_ms: float = 0.0,
    sources: list[Any] | None = None,
) -> ToolCallRecord:
    """The one way a tool-call record is made (nodes, confirmation, templates)."""
    return {
        "tool": tool,
        "params": params,
        "status": status,
        "message": message,
        "duration_ms": round(duration_ms, 2),
        "sources": [cast(Source, s.model_dump() if hasattr(s, "model_dump") else dict(s)) for s in (sources or [])],
    }


def answer_plan(reason: str | None, response: str | None = None, **update: Any) -> dict[str, Any]:
    """A plan that answers in words and runs no tool; `response` is the answer (if known now)."""
    out: dict[str, Any] = {"plan": {"mode": "answer", "steps": [], "reason": reason}, **update}
    if response is not None:
        out["response"] = response
    return out
