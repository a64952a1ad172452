"""Reach of the understanding (graph/understanding/): stored values of lookup dimensions, counts and units,
rankings of the records themselves, conditions on quantities, follow-ups that keep what they do not replace,
and numbers nothing used. Each reading is checked, and the figures of the ones a user sees are checked
against SQL through the graph."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from graph.intent import ParseContext
from graph.understanding import understand
from tests.helpers import cfg, turn

LOOKUPS = {"sales.product": ["Laptop", "Monitor", "Router", "Printer paper (box)"], "products.product": ["Laptop"]}


def read(message: str, last=None) -> tuple[dict, dict]:
    pctx = ParseContext(
        vendors=["IndiSky Airlines", "Nimbus Cloud Services", "Vayu Travels"],
        today=date(2026, 12, 7),
        customers=["Kaveri Agro"],
        lookups=LOOKUPS,
        last_result=last,
    )
    record, interp = understand(message, pctx)
    params = dict(record.get("params") or {})
    return record, dict(params.get("query") or params)


def test_a_stored_product_name_is_a_filter_not_a_customer():
    record, q = read("laptop sales in the North last month")
    assert record["tool"] == "filter_data" and q["where"] == {"product": "Laptop"} and "customer" not in q


def test_how_many_of_a_product_counts_its_units():
    record, q = read("how many monitors did we sell last quarter?")
    assert record["tool"] == "analyze_data" and q["measures"] == ["units_sold"]
    assert {"field": "product", "value": "Monitor"} in q["filters"]


def test_a_share_of_records_counts_them_and_how_many_counts():
    _, q = read("what percent of last year's invoices were failed?")
    assert q["measures"][0].endswith("count") or q["measures"][0] == "failure_rate"
    last = {
        "tool": "analyze_data",
        "dataset": "sales",
        "params": {},
        "query": {
            "dataset": "sales",
            "measures": ["sales_value"],
            "filters": [{"field": "region", "value": "East"}],
            "period": "last_month",
        },
    }
    _, q = read("how many of those were completed?", last)
    assert q["measures"] == ["sales_count"] and {"field": "region", "value": "East"} in q["filters"]


def test_the_n_smallest_records_are_those_records():
    record, q = read("show the 5 smallest invoices from last month")
    assert (q["group_by"], q["order_by"], q["limit"]) == (["invoice_number"], ["total_value"], 5)
    _, q = read("the three biggest sales this year")
    assert (q["group_by"], q["order_by"], q["limit"]) == (["sale_id"], ["-sales_value"], 3)


def test_a_quantity_condition_is_not_an_amount():
    _, q = read("how many sales last month had more than 15 units?")
    assert q["measures"] == ["sales_count"] and {"field": "quantity", "op": "gt", "value": 15.0} in q["filters"]
    assert not any(f["field"] == "amount" for f in q["filters"])


def test_by_names_the_ranking_measure():
    _, q = read("least sold product by units last quarter")
    assert q["measures"] == ["units_sold"] and q["order_by"] == ["units_sold"]


def test_a_follow_up_keeps_what_it_does_not_replace_and_a_new_question_starts_clean():
    last = {
        "tool": "analyze_data",
        "dataset": "sales",
        "params": {},
        "query": {
            "dataset": "sales",
            "measures": ["sales_value"],
            "filters": [{"field": "region", "value": "South"}],
            "period": "last_month",
        },
    }
    _, q = read("kitne customers the?", last)
    assert q["measures"] == ["customer_count"] and q["period"] == "last_month"
    assert {"field": "region", "value": "South"} in q["filters"]
    _, q = read("total invoice value this year", last)
    assert q["dataset"] == "invoices" and not q.get("filters") and q["period"] == "this_year"


def test_a_bare_plural_names_whose_records_and_a_possessive_names_a_value():
    _, q = read("invoices from Travel vendors last quarter")
    assert "measures" not in q and q["where"] == {"vendor_category": "Travel"}
    _, q = read("Travel's share of total invoice value last year")
    assert q["group_by"] == ["vendor_category"]


def test_a_number_nothing_used_asks_instead_of_answering():
    _, interp = understand(
        "show vendors with 45 in their records",
        ParseContext(vendors=["IndiSky Airlines"], today=date(2026, 12, 7)),
    )
    assert "45" in interp["unused"]


def test_the_five_smallest_invoices_match_sql(services):
    from dateutil.relativedelta import relativedelta

    from business_data import clock
    from graph.builder import compile_graph

    first = clock.today().replace(day=1)
    with services.business.connect() as c:
        expected = [
            r[0]
            for r in c.execute(
                text(
                    "SELECT invoice_number FROM invoices WHERE workspace_id = 'acme' AND invoice_date >= :a "
                    "AND invoice_date < :b ORDER BY total_amount ASC, invoice_number LIMIT 5"
                ),
                {"a": first - relativedelta(months=1), "b": first},
            )
        ]
    out = turn(compile_graph(services), cfg("maya", "reach-1"), "show the 5 smallest invoices from last month")
    assert [r[0] for r in out["result"]["data"]["rows"]] == expected


def test_a_period_of_another_date_applies_to_that_date(services):
    """ "invoices due this month" lists by the due date; "how much is due this month" keeps the amount."""
    from dateutil.relativedelta import relativedelta

    from business_data import clock
    from graph.builder import compile_graph

    _, q = read("how much is due this month")
    assert q["measures"] == ["outstanding"] and q["time_dimension"] == "due_date"
    _, q = read("how many invoices have a due date this month?")
    assert q["measures"] == ["invoice_count"] and q["time_dimension"] == "due_date"
    first = clock.today().replace(day=1)
    with services.business.connect() as c:
        (expected,) = c.execute(
            text("SELECT count(*) FROM invoices WHERE workspace_id = 'acme' AND due_date >= :a AND due_date < :b"),
            {"a": first, "b": first + relativedelta(months=1)},
        ).one()
    out = turn(compile_graph(services), cfg("maya", "reach-2"), "invoices due this month")
    assert out["result"]["data"]["filtered_records"] == expected
    assert "due" in out["response"].lower()


def test_the_single_biggest_record_and_who_it_was():
    _, q = read("what was the largest single sale last quarter, and which customer was it?")
    assert (q["group_by"], q["order_by"], q["limit"]) == (["sale_id", "customer"], ["-sales_value"], 1)
    _, q = read("who placed the biggest single order this year?")
    assert q["group_by"] == ["sale_id", "customer"]


def test_a_number_of_days_of_a_days_column_is_that_value():
    _, q = read("vendors on 15-day payment terms")
    assert {"field": "payment_terms_days", "op": "eq", "value": 15.0} in q["filters"]
    assert q["group_by"] == ["vendor"]  # the vendors themselves, listed


def test_an_average_across_all_of_them_is_one_figure():
    _, q = read("average payment terms across our vendors")
    assert q["measures"] == ["average_terms"] and "group_by" not in q


def test_from_a_month_is_that_month_and_the_answer_says_so():
    record, q = read("show me cancelled sales from november")
    assert q["period"].endswith("-11") and "date_from" not in q
    assert any("November" in a and "only" in a for a in record.get("assumed") or [])
    _, q = read("sales from november onwards")
    assert q["date_from"].endswith("-11-01") and "period" not in q


def test_sum_them_up_and_failed_the_most():
    last = {
        "tool": "filter_data",
        "dataset": "invoices",
        "params": {"dataset": "invoices", "payment_status": "overdue"},
        "query": {"dataset": "invoices", "filters": [{"field": "payment_status", "value": "overdue"}]},
    }
    record, q = read("sum them up", last)
    assert record["tool"] == "analyze_data" and not (record.get("refs") or {}).get("filter")
    assert q["filters"] == [{"field": "payment_status", "value": "overdue"}]
    _, q = read("which vendor failed the most this year")
    assert q["measures"] == ["invoice_count"] and q["order_by"] == ["-invoice_count"]


def test_compare_them_asks_what_with_and_both_choices_run():
    from graph.understanding import decide

    last = {
        "tool": "filter_data",
        "dataset": "sales",
        "params": {"dataset": "sales", "status": "returned", "period": "last_quarter"},
        "query": {"dataset": "sales", "filters": [{"field": "status", "value": "returned"}], "period": "last_quarter"},
    }
    pctx = ParseContext(vendors=[], today=date(2026, 12, 7), last_result=last)
    record, interp = understand("compare them", pctx)
    decided = decide(interp, record, "compare them", None)
    assert decided["decision"] == "ask" and len(decided["choices"]) == 2
    for choice in decided["choices"]:
        record, interp = understand(choice["message"], pctx)
        assert decide(interp, record, choice["message"], None)["decision"] in ("run", "assume"), choice


def test_the_largest_payments_are_payments_and_ranked_records_keep_their_status():
    _, q = read("give me the 10 largest payments we made this year")
    assert {"field": "type", "op": "eq", "value": "payment"} in q["filters"]
    _, q = read("the 3 biggest failed invoices last month")
    assert (q["group_by"], q["limit"]) == (["invoice_number"], 3) and {"field": "status", "value": "failed"} in q[
        "filters"
    ]
    _, q = read("our three smallest customers by revenue last quarter")
    assert q["group_by"] == ["customer"]


def test_no_gstin_is_the_declared_value_gstin_missing():
    _, q = read("invoices with no GSTIN on them last year")
    assert q["where"] == {"error_message": "GSTIN missing"}


def test_a_code_after_its_column_is_that_column_not_a_name():
    from business_data.datamodel import load_model

    model = load_model("reference")
    pctx = ParseContext(vendors=["Apex Office Supplies"], today=date(2026, 12, 7), model=model)
    record, _ = understand("invoices for vendor code ACM-V003", pctx)
    assert record["params"].get("where") == {"vendor_code": "ACM-V003"} and "vendor" not in record["params"]
