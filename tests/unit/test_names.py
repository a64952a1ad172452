"""One name matcher (tools/names.py) and one ticket-id normaliser (tools/tickets.py), shared by the offline
parser, the tools and memory: a name or id means the same thing wherever the user types it."""

from __future__ import annotations

from datetime import date

import pytest

from business_data.seed import CUSTOMERS, WORKSPACES
from graph.intent import ParseContext
from graph.parser import parse
from tests.unit.memory_support import MAYA, ctx, engine, store  # noqa: F401  (engine, store are fixtures)
from tools.names import NOISE, best_match, core_key, name_key
from tools.ticket_update import UpdateTicketParams, update_ticket
from tools.tickets import (
    CreateTicketParams,
    ViewTicketsParams,
    create_ticket,
    normalise_ticket_id,
    ticket_id_or_none,
    view_tickets,
)

VENDORS = [v.name for v in WORKSPACES["acme"]]


def parsed_vendor(text: str, vendors: list[str] = VENDORS) -> str | None:
    intent = parse(text, ParseContext(vendors=vendors, today=date(2026, 3, 12), customers=list(CUSTOMERS["acme"])))
    return intent.params.get("vendor")


def test_keys_drop_case_possessives_punctuation_and_noise_words():
    assert name_key("IndiSky's") == name_key("indisky") == "indisky"
    assert name_key("Apex Office-Supplies") == "apexofficesupplies"
    assert core_key("Apex Office Supplies") == "apexoffice" and core_key("IndiSky Airlines") == "indisky"
    assert {"corp", "ltd", "group", "airlines", "supplies"} <= NOISE


@pytest.mark.parametrize(
    "typed, vendor",
    [
        ("indsky", "IndiSky Airlines"),
        ("IndiSky's", "IndiSky Airlines"),
        ("Skyhigh Hotelz", "SkyHigh Hotels"),
        ("konarak", "Konark Caterers"),
        ("apex office", "Apex Office Supplies"),
        ("metro cabs", "Metro Cabs"),
        ("Nimbus Cloud", "Nimbus Cloud Services"),
    ],
)
def test_parser_and_vendor_tool_read_a_name_the_same_way(typed, vendor):
    """What the parser finds in a sentence is what the vendor filter resolves when given as a value."""
    assert parsed_vendor(f"show {typed} invoices from last month") == vendor
    assert best_match(typed, VENDORS) == (vendor, [])


def test_noise_words_are_the_same_for_both():
    """Before, the vendor tool did not count "corp" or "ltd"-style words as noise and the parser did."""
    names = ["Bharat Steel Corp", "Narmada Steel", "Zenith Telecom"]
    assert best_match("Bharat Steel Ltd", names) == ("Bharat Steel Corp", [])
    assert parsed_vendor("show bharat steel ltd invoices", names) == "Bharat Steel Corp"


def test_ordinary_words_are_not_read_as_names():
    """The one fuzzy cut-off (84) keeps near-words out: "meter" and "retro" are not Metro Cabs."""
    for word in ("meter", "retro", "minus", "kinds"):
        assert best_match(word, VENDORS + list(CUSTOMERS["acme"]))[0] is None
        assert parsed_vendor(f"show {word} invoices") in (None, word)  # passed through raw at most, never a vendor


def test_did_you_mean_for_an_unknown_name():
    name, suggestions = best_match("Sky", VENDORS)
    assert name is None and suggestions == ["IndiSky Airlines", "SkyHigh Hotels"]


@pytest.mark.parametrize("typed", ["T-00001", "t-00001", " T-1 ", "t1", "#1", "1", 1])
def test_one_ticket_id_normaliser(typed):
    assert ticket_id_or_none(typed) == normalise_ticket_id(typed) == "T-00001"


def test_not_a_ticket_id():
    assert ticket_id_or_none("that") is None and ticket_id_or_none("T-") is None
    assert normalise_ticket_id(" abc ") == "ABC"  # left as typed: a lookup then says "not found"


@pytest.mark.parametrize(
    "text", ["close t-1", "mark ticket #1 as resolved", "close T-00001", "set ticket 1 to resolved"]
)
def test_parser_uses_the_same_ticket_ids(text):
    assert parse(text, ParseContext(vendors=VENDORS, today=date(2026, 3, 12))).params.get("ticket_id") == "T-00001"


def test_tools_and_memory_accept_the_same_spellings(store, engine):
    tid = create_ticket(ctx(engine, MAYA), CreateTicketParams(title="Metro Cabs: 2 invoices failed")).data["ticket_id"]
    assert tid == "T-00001"
    for typed in ("T-1", "t1", "#1", "1"):
        assert [
            t["ticket_id"] for t in view_tickets(ctx(engine, MAYA), ViewTicketsParams(ticket_id=typed)).data["tickets"]
        ] == [tid]
        assert store.resolve(MAYA, "x", {"ticket": typed}).ticket_id == tid
    assert (
        update_ticket(ctx(engine, MAYA), UpdateTicketParams(ticket_id="t-1", comment="called them")).data["ticket_id"]
        == tid
    )


SYMBOL_NAMES = ["O'Brien & Sons", "☕", "%", "50% Off Mart", "🚀 Rocket Logistics", "IndiSky Airlines"]


@pytest.mark.parametrize(
    "sentence, found",
    [
        ("invoices from o'brien & sons this month", [["O'Brien & Sons"]]),
        ("invoices from ☕ this month", [["☕"]]),
        ("invoices from ☕, please", [["☕"]]),
        ("invoices from ☕☕ this month", []),  # not "☕" twice
        ("sales to % last week", [["%"]]),
        ("sales to 50% off mart", [["50% Off Mart"]]),  # the longer name, not the "%" inside it
        ("🚀 rocket logistics and indisky", [["🚀 Rocket Logistics"], ["IndiSky Airlines"]]),
    ],
)
def test_names_with_symbols_are_found_as_written(sentence, found):
    from tools.names import find_names, name_index

    hits = find_names(sentence, name_index(tuple(SYMBOL_NAMES), frozenset({"invoices", "from", "this", "month"})))
    assert [h.names for h in hits] == found
