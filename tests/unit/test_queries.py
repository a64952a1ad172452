"""tools/queries.py: the one list of filter keys (FILTER_KEYS) agrees with the filter tools' parameters,
and both readers of it (the parser's slots, the plan) see a filter where the tools do."""

from __future__ import annotations

from datetime import date

import pytest

from business_data.seed import CUSTOMERS, WORKSPACES
from graph.intent import ParseContext
from graph.parser import parse
from tools.queries import FILTER_KEYS, FilterParams
from tools.registry import spec

# which data, where, how many, which date a period applies to; `where`: see FILTER_KEYS
NOT_FILTERS = {"dataset", "workspace", "limit", "where", "date_field"}


@pytest.mark.parametrize("tool", ["filter_data", "export_report"])
def test_filter_keys_are_the_filter_tools_parameters(tool):
    params = spec(tool).params.model_fields
    assert FILTER_KEYS <= set(params), f"{tool} lacks {sorted(FILTER_KEYS - set(params))}"
    assert set(FilterParams.model_fields) - NOT_FILTERS == FILTER_KEYS


@pytest.mark.parametrize(
    "text, key",
    [
        ("show invoices from IndiSky", "vendor"),
        ("failed invoices", "status"),
        ("unpaid invoices", "payment_status"),
        ("invoices last month", "period"),
        ("invoices over 50000", "min_amount"),
        ("sales in the North region", "region"),
    ],
)
def test_a_message_naming_a_filter_key_is_a_filtered_listing(text, key):
    ws = "acme"
    ctx = ParseContext(vendors=[v.name for v in WORKSPACES[ws]], today=date(2026, 6, 15), customers=list(CUSTOMERS[ws]))
    got = parse(text, ctx)
    assert got.kind == "tool" and got.tool == "filter_data", (text, got)
    assert key in got.params and key in FILTER_KEYS
