"""Each tool's `data` has a declared TypedDict (ToolSpec.data_type, tools/results.py), and what the tool
really returns on the demo data fits it with no key more: a key added to a tool's data without its
type, or a value of another type, fails here."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ConfigDict, TypeAdapter
from typing_extensions import get_type_hints, is_typeddict

from tools.registry import TOOLS, run_tool
from tools.results import SHARED_KEYS

from ..helpers import cfg, turn, turn_and_answer

INDISKY_FAILED = {"vendor": "IndiSky Airlines", "status": "failed", "period": "last_month"}


def _typeddicts(tp: Any, seen: set[type]) -> None:
    """Every TypedDict reachable from `tp` (its fields, lists and unions of them)."""
    if is_typeddict(tp):
        if tp in seen:
            return
        seen.add(tp)
        for hint in get_type_hints(tp).values():
            _typeddicts(hint, seen)
    for arg in get_args(tp):
        _typeddicts(arg, seen)


@pytest.fixture
def closed(monkeypatch):
    """A validator of a tool's data by its declared type, every TypedDict in it closed to other keys."""

    def validate(tool: str, data: dict[str, Any]) -> None:
        declared = TOOLS[tool].data_type
        found: set[type] = set()
        _typeddicts(declared, found)
        for td in found:
            monkeypatch.setattr(td, "__pydantic_config__", ConfigDict(extra="forbid"), raising=False)
        TypeAdapter(declared).validate_python(data, strict=False)

    return validate


def test_every_tool_declares_its_data_type():
    for name, spec in TOOLS.items():
        assert is_typeddict(spec.data_type), f"{name} declares no TypedDict for its data"


def test_the_shared_keys_are_keys_some_tool_declares():
    declared = {k for spec in TOOLS.values() for k in get_type_hints(spec.data_type)}
    assert set(SHARED_KEYS) <= declared, set(SHARED_KEYS) - declared


def _direct(services) -> list[tuple[str, Any]]:
    """Each tool run through the registry on the demo data, in the cases whose data differ."""
    maya = services.tool_context(services.identity("maya"))
    admin = services.tool_context(services.identity("admin"))
    out: list[tuple[str, Any]] = []

    def run(ctx, tool: str, **params) -> Any:
        res = run_tool(tool, params, ctx)
        assert res.status == "success", (tool, params, res.message)
        out.append((tool, res.data))
        return res

    listing = run(maya, "filter_data", dataset="invoices", **INDISKY_FAILED)
    run(maya, "filter_data", dataset="sales", period="last_month")
    run(maya, "filter_data", dataset="vendors")
    run(maya, "explain_failures", **INDISKY_FAILED)
    run(maya, "explain_failures", vendor="IndiSky Airlines", status="processed", period="last_month")
    run(maya, "analyze_data", dataset="invoices", measures=["total_value"], filters=[])
    run(maya, "analyze_data", dataset="sales", measures=["sales_value"], group_by=["region"], period="this_year")
    run(maya, "analyze_data", dataset="sales", measures=["sales_value"], time_grain="month", period="last_6_months")
    run(maya, "analyze_data", dataset="sales", measures=["sales_value"], period="this_month", compare_to="last_month")
    numbers = listing.data["keys"]
    ticket = run(maya, "create_ticket", invoice_numbers=numbers, request_key="data-1").data["ticket_id"]
    run(maya, "create_ticket", invoice_numbers=numbers, request_key="data-1")  # the same request: repeated
    run(maya, "create_ticket", title="Call IndiSky about GSTINs", notify_me=False)
    run(admin, "update_ticket", ticket_id=ticket, status="resolved", comment="fixed", assignee="maya")
    run(admin, "update_ticket", ticket_id=ticket, status="resolved")  # nothing changes
    run(maya, "view_tickets")
    run(maya, "view_tickets", status="closed")  # none
    run(maya, "view_notifications", mark_read=True)
    run(admin, "view_notifications")
    run(maya, "export_report", format="csv", **INDISKY_FAILED)
    run(maya, "export_report", format="xlsx", ticket_id=ticket)  # the fixed report
    query = {"dataset": "sales", "measures": ["sales_value"], "group_by": ["region"], "period": "this_year"}
    run(maya, "export_report", format="csv", query=query)
    run(maya, "vendor_profile", vendor="IndiSky")
    run(maya, "view_insights")
    run(maya, "view_insights", first=True)
    return out


def test_each_tool_returns_data_of_its_declared_type(services, app_graph, closed):
    results = _direct(services)
    m = cfg("maya", "tool-data")
    for text in ("failed IndiSky invoices last month", "total sales by region this year"):
        out = turn(app_graph, m, text)
        results.append((out["result"]["tool"], out["result"]["data"]))
    out = turn(app_graph, m, "save this conversation as pdf")
    results.append((out["result"]["tool"], out["result"]["data"]))
    out = turn_and_answer(app_graph, cfg("maya", "tool-data-2"), "investigate the IndiSky failures", "yes", asks=True)
    results.append((out["result"]["tool"], out["result"]["data"]))
    out = turn(app_graph, cfg("maya", "tool-data-3"), "vendor analysis for Metro Cabs")
    results.append((out["result"]["tool"], out["result"]["data"]))

    ran = {tool for tool, _ in results}
    assert ran == set(TOOLS), set(TOOLS) - ran  # every tool ran at least once
    for tool, data in results:
        closed(tool, data)


def test_a_key_without_its_type_fails(services, closed):
    """The check itself: one key more than the declaration, or a value of another type, is refused."""
    maya = services.tool_context(services.identity("maya"))
    data = dict(run_tool("vendor_profile", {"vendor": "IndiSky"}, maya).data)
    closed("vendor_profile", data)
    with pytest.raises(ValueError, match="extra"):
        closed("vendor_profile", {**data, "undeclared": 1})
    with pytest.raises(ValueError, match="extra"):
        closed("vendor_profile", {"profile": {**data["profile"], "undeclared": 1}})
    with pytest.raises(ValueError):
        closed("vendor_profile", {"profile": {**data["profile"], "invoices": "many"}})
