"""graph/parser/rules.py: the offline parser's ordered intent rules (meta, refusals and questions, templates,
notifications, explain, export, listings, and the last resort), each through `parse` as the graph calls it.
No database: the names are the seed's."""

from __future__ import annotations

import pytest

from tests.helpers import LAST, parsed as p


@pytest.mark.parametrize("text", ["", "   ", "?!", "\n\t"])
def test_empty_message_asks(text):
    i = p(text)
    assert i.kind == "clarify" and i.question


@pytest.mark.parametrize(
    "text, kind", [("forget everything about me", "forget"), ("thanks!", "greeting"), ("hi", "greeting")]
)
def test_meta_messages(text, kind):
    assert p(text).kind == kind


def test_help_is_asked_for_in_words():
    assert p("what can you do?").kind == "help"
    assert p("help me").kind == "help"  # the last resort's "help"
    assert p("hi, show failed invoices").params == {"dataset": "invoices", "status": "failed"}  # the request wins


def test_deleting_business_data_is_refused_with_what_can_be_done():
    i = p("delete all failed invoices")
    assert i.kind == "clarify" and i.question.startswith("I can't delete or change business data")
    assert p("delete the ticket T-00001").kind == "tool"  # a ticket is not business data: another rule reads it


def test_an_impossible_date_is_asked_about_not_fixed():
    i = p("invoices from 31 February")
    assert i.kind == "clarify" and "not a real date" in i.question and i.question.endswith("Which date did you mean?")


def test_ambiguous_vendor_asks():
    i = p("sky invoices")
    assert i.kind == "clarify" and "IndiSky Airlines" in i.question and "SkyHigh Hotels" in i.question
    i = p("metro invoices", vendors=["Metro Cabs", "Metro Couriers", "Zenith Telecom"])
    assert i.kind == "clarify" and "Metro Cabs" in i.question and "Metro Couriers" in i.question
    i = p("metro cabs invoices", vendors=["Metro Cabs", "Metro Couriers"])
    assert i.params.get("vendor") == "Metro Cabs"


@pytest.mark.parametrize(
    "text, template, vendor",
    [
        ("monthly review", "monthly_review", None),
        ("investigate failed IndiSky invoices", "invoice_investigation", "IndiSky Airlines"),
        ("analyse vendor IndiSky", "vendor_analysis", "IndiSky Airlines"),
    ],
)
def test_templates_by_their_cues(text, template, vendor):
    i = p(text)
    assert (i.kind, i.template, i.params.get("vendor")) == ("template", template, vendor)


def test_notifications_all_or_unread():
    assert (p("any new notifications?").tool, p("any new notifications?").params) == ("view_notifications", {})
    assert p("show unread notifications").params == {"unread_only": True}


def test_explain_names_its_records_or_refers_to_the_last_result():
    i = p("why did IndiSky invoices fail last month?")
    assert i.tool == "explain_failures" and i.params == {"period": "last_month", "vendor": "IndiSky Airlines"}
    assert "status" not in i.params  # "fail" is what is explained, not a filter


def test_references_need_something_to_refer_to():
    for text in ("why did these fail?", "export those as pdf", "raise a ticket for them"):
        assert p(text).kind == "clarify", text
        i = p(text, last_result=LAST)
        assert i.kind == "tool" and i.refs == {"records": "previous"}, (text, i)


@pytest.mark.parametrize(
    "text, params, refs",
    [
        ("export the fixed report as pdf", {"format": "pdf"}, {"ticket": "fixed"}),
        ("export ticket T-00003 as excel", {"format": "xlsx", "ticket_id": "T-00003"}, {}),
        (
            "export failed invoices last month as excel",
            {"format": "xlsx", "dataset": "invoices", "period": "last_month", "status": "failed"},
            {},
        ),
    ],
)
def test_export_of_a_fixed_report_a_ticket_or_a_filter(text, params, refs):
    i = p(text)
    assert (i.tool, i.params, i.refs) == ("export_report", params, refs)


def test_export_of_nothing_asks_what():
    i = p("export")
    assert i.kind == "clarify" and "What should I export?" in i.question


def test_follow_up_overrides_previous_filter():
    i = p("what about SkyHigh?", last_result=LAST)
    assert (i.tool, i.params, i.refs) == ("filter_data", {"vendor": "SkyHigh Hotels"}, {"filter": "previous"})
    i = p("the same for last quarter", last_result=LAST)
    assert (i.params, i.refs) == ({"period": "last_quarter"}, {"filter": "previous"})


def test_listings_and_unknown_data():
    assert (p("list all records").tool, p("list all records").params) == ("filter_data", {"dataset": "invoices"})
    i = p("show me crypto data")
    assert i.kind == "clarify" and i.question.startswith("I don't have crypto data")
    assert p("show them again", last_result=LAST).refs == {"filter": "previous"}
    assert p("show them again").question.startswith("Which invoices do you mean?")


def test_the_last_resort_says_what_it_can_do():
    i = p("blorf zzz")
    assert i.kind == "clarify" and i.reason == "no intent matched" and "filter invoices" in i.question
