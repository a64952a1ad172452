"""The understanding evaluation (issue 23): the question sets are well-formed and meaningful, the graph
does not slip below this pass's figures, and (expected to fail until reached) it meets the targets.
The harness and scorer: tests/eval/understanding.py; the figures: benchmarks/understanding_eval.py.

The set's questions say "this year", "this month", "this week": near a year's or month's first day some
find nothing. So these tests run at one fixed moment (tests/clock.py), data seeded then included, and
give the same figures on every date; benchmarks/understanding_eval.py runs on today's data."""

from __future__ import annotations

from business_data import clock

from collections import Counter
from datetime import date

import pytest

from tests.clock import travel

from . import understanding as U

EVAL_MOMENT = "2026-11-24T12:00:00+05:30"  # a Tuesday mid-month, mid-quarter, mid-financial-year


@pytest.fixture
def at_the_eval_moment():
    with travel(EVAL_MOMENT):
        yield


@pytest.fixture
def reference(tmp_path, at_the_eval_moment):
    return U.open_services("reference", tmp_path, clock.today())


@pytest.fixture
def demo(tmp_path, at_the_eval_moment):
    from tests.conftest import make_services

    return make_services(tmp_path / "demo")


def test_dates_are_the_harness_own():
    d = date(2026, 12, 7)  # a Monday in December
    assert U.period("this_week", d) == (date(2026, 12, 7), date(2026, 12, 14))
    assert U.period("last_week", date(2026, 12, 13)) == (date(2026, 11, 30), date(2026, 12, 7))
    assert U.period("this_fy", date(2026, 2, 10)) == (date(2025, 4, 1), date(2026, 4, 1))
    assert U.period("last_fy", d) == (date(2025, 4, 1), date(2026, 4, 1))
    assert U.period("last_quarter", date(2026, 1, 5)) == (date(2025, 10, 1), date(2026, 1, 1))
    assert U.period("nov", date(2026, 11, 1)) == (date(2026, 11, 1), date(2026, 12, 1))
    assert U.period("nov", date(2027, 2, 3)) == (date(2026, 11, 1), date(2026, 12, 1))
    assert U.period("range_jul_nov", date(2027, 9, 1)) == (date(2026, 7, 1), date(2026, 12, 1))
    assert U.period("range_nov_feb", date(2027, 3, 1)) == (date(2026, 11, 1), date(2027, 3, 1))
    assert U.period("oct_upto_nov", date(2027, 10, 20)) == (date(2026, 10, 1), date(2026, 11, 1))
    assert (
        U.expand("PERIOD(s.sale_date, last_month)") == "(s.sale_date >= :last_month_s AND s.sale_date < :last_month_e)"
    )


def test_the_sets_are_well_formed_and_every_answer_has_data(demo, reference):
    today = clock.today()
    singles = conversations = 0
    cats: Counter = Counter()
    for db, svc in (("demo", demo), ("reference", reference)):
        spec = U.load(db)
        assert U.problems_of(spec) == []
        singles += sum(u["kind"] == "single" for u in spec["units"])
        conversations += sum(u["kind"] == "conversation" for u in spec["units"])
        for unit in spec["units"]:
            for t in unit["turns"]:
                cats[t["cat"]] += 1
                if t["expect"] == "answer":
                    rows = U.sql_rows(svc.business, t, today)  # every SQL runs
                    assert not U.empty_sql(t, rows), f"{db} {t['id']} {t['q']!r}: the SQL finds nothing today"
        assert {t["user"] for u in spec["units"] for t in u["turns"]} >= {"maya", "victor"}
        assert {t["expect"] for u in spec["units"] for t in u["turns"]} == set(U.EXPECTS)
    assert singles >= 150 and conversations >= 20
    every = {"filters", "synonyms", "superlatives", "shares", "bottom_n", "aggregate_conditions", "months"}
    every |= {"money_ranges", "typos", "hinglish", "actions_on_guess", "permissions", "context", "clean_start"}
    assert every | {"ambiguous"} <= set(cats), set(cats)


def test_the_scorer_reads_interpretation_when_present():
    t = {"expect": "answer", "check": "value"}
    base = {"intent": {"kind": "tool", "tool": "analyze_data"}, "result": {"tool": "analyze_data", "status": "success"}}
    assert U.grade(t, U.observe(base, False), "wrong figure") == "confident_wrong"
    assumed = {**base, "interpretation": {"decision": "assume", "assumptions": ["sales value includes returns"]}}
    assert U.grade(t, U.observe(assumed, False), "wrong figure") == "wrong_assumed"
    asked = {"intent": {"kind": "tool"}, "result": {}, "interpretation": {"decision": "ask", "choices": ["a", "b"]}}
    assert U.grade({"expect": "ask"}, U.observe(asked, False), None) == "right"
    assert U.grade({"expect": "ask"}, U.observe({"intent": {"kind": "clarify"}}, False), None) == "right"
    exported = {
        "intent": {"kind": "tool", "tool": "export_report"},
        "result": {"tool": "export_report", "status": "success"},
    }
    seen = U.observe(exported, False)
    assert seen["wrote"] and U.grade({"expect": "no_action"}, seen, None) == "confident_wrong"
    paused = U.observe({"intent": {"kind": "tool", "tool": "create_ticket"}}, True)
    assert U.grade({"expect": "no_action"}, paused, None) == "wrong_asked"
    denied = {"intent": {"kind": "tool", "tool": "create_ticket"}, "result": {"status": "denied"}}
    assert U.grade({"expect": "refuse"}, U.observe(denied, False), None) == "right"


# The floor that must not slip: since stop 29 it is the targets themselves (docs/BENCHMARKS.md).
ACCURACY_FLOOR = 0.95
CONFIDENT_WRONG_CEILING = 0.01


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    from tests.conftest import make_services

    with travel(EVAL_MOMENT):
        return U.run_eval(services=make_services(tmp_path_factory.mktemp("eval")))


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_understanding_does_not_slip(scored):
    s = scored
    assert s["unrequested_actions"] == 0, U.report(s, failures=True)
    assert s["accuracy"] >= ACCURACY_FLOOR, f"accuracy {s['accuracy']:.1%}"
    assert s["confident_wrong_rate"] <= CONFIDENT_WRONG_CEILING, f"confident wrong {s['confident_wrong_rate']:.1%}"


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_understanding_meets_the_targets(scored):
    s = scored
    print("\n" + U.report(s, failures=True))
    assert s["accuracy"] >= U.ACCURACY_TARGET, f"accuracy {s['accuracy']:.1%}"
    assert s["confident_wrong_rate"] <= U.CONFIDENT_WRONG_MAX, f"confident wrong {s['confident_wrong_rate']:.1%}"
    assert s["unrequested_actions"] <= U.UNREQUESTED_ACTIONS_MAX, f"{s['unrequested_actions']} unrequested actions"
