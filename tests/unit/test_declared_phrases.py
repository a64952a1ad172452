"""Every tool is reached offline by its own declared phrases, and a tool that declares `slots` needs no
parser rule (graph/parser/declared.py): the "three files" recipe of docs/ARCHITECTURE.md."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel, ConfigDict

from business_data import clock
from graph.intent import ParseContext
from graph.parser import declared, parse
from tools import registry
from tools.base import ToolResult, ToolSpec

from ..helpers import cfg, turn

VENDORS = ["IndiSky Airlines", "Metro Cabs", "SkyHigh Hotels", "Nimbus Cloud Services"]


def _ctx() -> ParseContext:
    """A thread with a result and a ticket in reach, so "these" and "that ticket" resolve."""
    return ParseContext(
        vendors=VENDORS,
        today=clock.today(),
        last_result={"tool": "filter_data", "dataset": "invoices", "keys": ["INV-ACM-1"], "params": {}},
        last_ticket_id="T-00001",
    )


@pytest.mark.parametrize(("tool", "phrase"), [(name, p) for name, spec in registry.TOOLS.items() for p in spec.phrases])
def test_each_declared_phrase_routes_to_its_tool(tool, phrase):
    intent = parse(phrase, _ctx())
    routed = "run_template" if intent.kind == "template" else intent.tool
    assert routed == tool, (phrase, intent)


def test_a_declared_slot_fills_the_parameter_and_a_missing_one_is_asked_for():
    assert parse("tell me about Metro Cabs", _ctx()).params == {"vendor": "Metro Cabs"}
    assert parse("IndiSky's vendor profile", _ctx()).params == {"vendor": "IndiSky Airlines"}
    asked = parse("vendor profile", _ctx())
    assert asked.kind == "clarify" and "Which vendor" in (asked.question or "")


def test_more_than_the_cue_goes_to_the_rule_that_reads_it():
    """'tell me about the failed Metro Cabs invoices' is a listing, not a vendor profile."""
    intent = parse("tell me about the failed Metro Cabs invoices", _ctx())
    assert intent.tool == "filter_data" and intent.params["status"] == "failed"


class _RateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vendor: str


def test_a_new_tool_routes_by_its_declaration_alone(monkeypatch):
    """No parser edit: a ToolSpec with phrases and slots is reached offline."""
    spec = ToolSpec(
        "delivery_rating",
        "A vendor's delivery rating.",
        _RateParams,
        lambda ctx, p: ToolResult(status="success", message="ok"),
        roles=("Viewer", "Manager", "Admin"),
        action="view delivery ratings",
        phrases=("delivery rating for Metro Cabs",),
        slots=(("vendor", "vendor"),),
    )
    monkeypatch.setitem(registry.TOOLS, spec.name, spec)
    declared.cues.cache_clear()
    try:
        intent = parse("show the delivery rating for SkyHigh", _ctx())
        assert (intent.tool, intent.params) == ("delivery_rating", {"vendor": "SkyHigh Hotels"})
    finally:
        monkeypatch.delitem(registry.TOOLS, spec.name)
        declared.cues.cache_clear()
    assert parse("show the delivery rating for SkyHigh", _ctx()).tool != "delivery_rating"


def test_slots_name_real_parameters():
    for name, spec in registry.TOOLS.items():
        for param, _slot in spec.slots:
            assert param in spec.params.model_fields, (name, param)
    assert dataclasses.fields(ToolSpec)  # (the declaration stays a dataclass)


def test_help_offers_every_tool_in_its_declared_words(app_graph):
    """ "what can you do?" answers with one line per tool: its first declared phrase and its topic, so a
    tool added by the recipe is offered with no edit to the help text."""
    out = turn(app_graph, cfg("maya", "help-lines"), "help")
    said = out["response"]
    for spec in registry.declared():
        assert f'"{spec.phrases[0]}" ({spec.topic})' in said, spec.name
