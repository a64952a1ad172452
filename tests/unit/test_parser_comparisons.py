"""Comparisons found after the eval set was scored (kept out of it so its before/after figures stay
honest): "against last month", "the same quarter last year", "a year ago", and "against" that is
not a comparison."""

from __future__ import annotations

from datetime import date

import pytest

from graph.intent import ParseContext
from graph.parser import parse

CTX = ParseContext(vendors=["IndiSky Airlines", "Metro Cabs"], today=date(2026, 11, 24), customers=["Bharat Retail"])


@pytest.mark.parametrize(
    "text, period, compare_to",
    [
        ("invoice value this month against last month", "this_month", "last_month"),
        ("sales this quarter against the same quarter last year", "this_quarter", "previous_year"),
        ("compare failed invoices this month with the same month last year", "this_month", "previous_year"),
        ("sales last month compared to a year ago", "last_month", "previous_year"),
    ],
)
def test_a_comparison_names_both_periods(text, period, compare_to):
    intent = parse(text, CTX)
    assert intent.tool == "analyze_data", intent
    assert (intent.params.get("period"), intent.params.get("compare_to")) == (period, compare_to)
    assert "time_grain" not in intent.params  # "a year ago" is not "by year"


def test_against_a_vendor_is_not_a_comparison():
    intent = parse("invoices raised against IndiSky last month", CTX)
    assert intent.tool == "filter_data" and intent.params["vendor"] == "IndiSky Airlines"
    assert intent.params["period"] == "last_month" and "compare_to" not in intent.params
