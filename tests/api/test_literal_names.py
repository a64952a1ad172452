"""Names are matched literally: vendors and customers named with quotes, &, emoji, % or _ are found
exactly (by the chat's offline parser and by the tools), or reported as not found; never dropped from
the filter so that the answer covers everyone, and % and _ are never LIKE wildcards. The names are
written into the business database (SQLite, or PostgreSQL with FINKRAFT_TEST_DB=postgres)."""

from __future__ import annotations

from business_data import clock


import pytest
from sqlalchemy import text

VENDORS = ["O'Brien & Sons", "A&B Travels", "🚀 Rocket Logistics", "☕", "Café Crème", "Under_Score Ltd"]
CUSTOMERS = ["50% Off Mart", "Ann's Bakery", "R&D Labs", "😀 Smiles", "_x_", "%"]


@pytest.fixture(scope="module")
def named(api):
    today = clock.today()
    with api.services.business.begin() as c:
        top = c.execute(text("SELECT MAX(id) FROM vendors")).scalar_one()
        inv = c.execute(text("SELECT MAX(id) FROM invoices")).scalar_one()
        sale = c.execute(text("SELECT MAX(id) FROM sales")).scalar_one()
        product = c.execute(text("SELECT MIN(id) FROM products WHERE workspace_id = 'acme'")).scalar_one()
        for i, n in enumerate(VENDORS, 1):
            c.execute(
                text(
                    "INSERT INTO vendors (id, workspace_id, name, vendor_code, status, category, state, "
                    "contact_email, payment_terms_days) VALUES (:id, 'acme', :n, :c, 'active', 'Travel', 'Goa', "
                    "'x@example.com', 30)"
                ),
                {"id": top + i, "n": n, "c": f"LIT{i}"},
            )
            c.execute(
                text(
                    "INSERT INTO invoices (id, workspace_id, invoice_number, vendor_id, invoice_date, due_date, "
                    "amount, tax_amount, total_amount, currency, status, payment_status, region, description) "
                    "VALUES (:id, 'acme', :num, :v, :d, :d, 100, 18, 118, 'INR', 'failed', 'unpaid', 'North', '')"
                ),
                {"id": inv + i, "num": f"INV-LIT-{i}", "v": top + i, "d": today},
            )
        for i, n in enumerate(CUSTOMERS, 1):
            c.execute(
                text(
                    "INSERT INTO sales (id, workspace_id, sale_date, region, customer, product_id, quantity, "
                    "unit_price, amount, status) VALUES (:id, 'acme', :d, 'North', :n, :p, 1, 10, 10, 'completed')"
                ),
                {"id": sale + i, "d": today, "n": n, "p": product},
            )
        customers = c.execute(
            text("SELECT customer FROM sales WHERE workspace_id = 'acme' AND sale_date >= :s"),
            {"s": today.replace(day=1)},
        ).scalars()
        this_month = list(customers)
    return api, this_month


def chat(api, message: str) -> dict:
    r = api.maya.post("/chat", json={"message": message, "thread_id": f"lit-{abs(hash(message))}"})
    assert r.status_code == 200, r.text
    assert "Traceback" not in r.text
    return r.json()


@pytest.mark.parametrize("name", VENDORS)
def test_a_vendor_with_quotes_ampersands_or_emoji_is_found_exactly(named, name):
    api, _ = named
    body = chat(api, f"invoices from {name} this month")
    assert body["tool_calls"][-1]["params"].get("vendor") == name, body["tool_calls"]
    assert body["data"]["filtered_records"] == 1, body["agent_response"]
    assert name in body["agent_response"]
    r = api.maya.post(
        "/execute_tool",
        json={"tool_name": "filter_data", "params": {"dataset": "invoices", "vendor": name, "period": "this_month"}},
    )
    assert r.status_code == 200 and r.json()["data"]["filtered_records"] == 1, r.text


@pytest.mark.parametrize("name", ["🚀 Moon Freight", "Zed's & Co", "☕☕", "Tom & Jerry's"])
def test_an_unknown_vendor_with_symbols_is_reported_not_dropped(named, name):
    api, _ = named
    body = chat(api, f"invoices from {name} this month")
    assert f"I couldn't find a vendor called '{name}'" in body["agent_response"], body["agent_response"]
    assert not body["data"].get("filtered_records"), body["agent_response"]  # never every vendor's invoices


@pytest.mark.parametrize("typed", ["%", "_", "_x_", "50%", "R&D", "😀", "Ann's"])
def test_customer_names_are_matched_literally_never_as_wildcards(named, typed):
    api, this_month = named
    expected = sum(1 for c in this_month if typed.lower() in c.lower())
    r = api.maya.post(
        "/execute_tool",
        json={"tool_name": "filter_data", "params": {"dataset": "sales", "customer": typed, "period": "this_month"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["filtered_records"] == expected, (typed, r.json()["message"])
    assert expected < len(this_month)  # (a wildcard would have matched them all)


@pytest.mark.parametrize("name", CUSTOMERS)
def test_the_chat_finds_a_customer_with_symbols_exactly(named, name):
    api, this_month = named
    body = chat(api, f"sales to {name} this month")
    assert body["tool_calls"][-1]["params"].get("customer") == name, body["tool_calls"]
    expected = sum(1 for c in this_month if name.lower() in c.lower())
    assert body["data"]["filtered_records"] == expected < len(this_month), body["agent_response"]


def test_an_unknown_customer_with_a_wildcard_matches_nothing(named):
    api, this_month = named
    body = chat(api, "sales to 100%_off this month")
    assert body["tool_calls"][-1]["params"].get("customer") == "100%_off", body["tool_calls"]
    assert body["data"]["filtered_records"] == 0, body["agent_response"]
    assert "No sales match" in body["agent_response"]
