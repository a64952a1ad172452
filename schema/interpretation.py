"""What the assistant understood in a turn (graph/understanding), as /chat, /chat/stream and LangServe return it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .formats import Format


class InterpretationPart(BaseModel):
    """One part of what runs (a filter, the dataset, "these" records) and where it came from."""

    slot: str = Field(description="vendor, period, dataset, measures, group_by, records, ...")
    value: Any
    source: str = Field(description="message (words of this message), carried (an earlier turn) or default")
    why: str | None = Field(None, description='carried or default: why ("kept from your last question")')
    kept: list[int] | None = Field(
        None,
        description="a list part (filters, group_by) of this message: which items were kept from the last question",
    )
    format: Format | None = Field(
        None,
        description="the data model's format of what the part holds (min_amount: money, limit: count, "
        "date_from: date); write the value by it",
    )
    formats: dict[str, Format] | None = Field(
        None,
        description="a part of several fields (filters, where): each field's format, by field name",
    )


class InterpretationChoice(BaseModel):
    """A reading offered when the assistant asks: send `message` to pick it."""

    label: str
    message: str


class Interpretation(BaseModel):
    """What the assistant understood this turn, and what it decided before acting."""

    model_config = ConfigDict(extra="allow")

    action: str = Field(description="the tool or template that runs, or clarify / help / greeting")
    router: str = Field(
        description="offline (the built-in parser), llm (the configured model) or client (the request's `tool_call`)"
    )
    model: str | None = Field(None, description="router == llm: the model that understood the message")
    fallback: str | None = Field(
        None, description="router == offline although a model is configured: why the parser stood in"
    )
    summary: str | None = Field(None, description="the interpretation in one line of plain words")
    parts: list[InterpretationPart] = []
    unused: list[str] = Field([], description="content words of the message that nothing used")
    decision: str | None = Field(
        None, description="run, assume (ran and states what it kept or defaulted), ask (ran nothing) or refuse"
    )
    assumptions: list[str] = []
    choices: list[InterpretationChoice] = Field([], description="decision == ask: the likeliest readings")
