"""The data model files: validated at load, every problem named; FINKRAFT_DATA_MODEL picks one;
money formats and parses the Indian way."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from business_data.datamodel import DataModelError, get_data_model, load_model, parse_model
from business_data.settings import Settings
from tools.money import money, money_exact, parse_amount

from ..conftest import ROOT

GOOD = """
name: tiny
datasets:
  orders:
    table: orders
    label: order
    workspace_column: workspace_id
    key: number
    time: placed_on
    list: [number, customer]
    joins:
      customer: {table: customers, column: customer_id}
    dimensions:
      number: {column: number}
      customer: {column: customer.name, lookup: true}
      placed_on: {column: placed_on, type: time}
    measures:
      orders: {agg: count}
      value: {agg: sum, column: amount, format: money}
"""


def test_bundled_models_load_and_share_the_vocabulary():
    demo, ref = load_model("demo"), load_model("reference")
    assert set(demo.datasets) == {"invoices", "invoice_items", "sales", "vendors", "products", "transactions"}
    assert set(ref.datasets) == {"invoices", "sales", "vendors"} and demo.managed and not ref.managed
    for name, ds in ref.datasets.items():  # the same names mean the same things in both models
        assert set(ds.measures) <= set(demo.datasets[name].measures) | {"customer_count"}
        assert ds.workspace == "acme" and ds.workspace_column is None
    assert ref.datasets["invoices"].dimensions["vendor"].column == "vendor.vendor_name"
    assert ref.datasets["sales"].dimensions["customer"].column == "customer_name"
    assert ref.datasets["sales"].dimensions["amount"].column == "total_amount"
    vocab = demo.vocabulary()
    assert "owe" in vocab["invoices"]["outstanding"] and "revenue" in vocab["sales"]["dataset"]
    assert parse_model(GOOD).datasets["orders"].physical_columns() == {
        "orders": {"workspace_id", "customer_id", "number", "placed_on", "amount"},
        "customers": {"id", "name"},
    }


@pytest.mark.parametrize(
    "change, problem",
    [
        (("customer.name", "client.name"), "unknown join 'client'"),
        (("workspace_column: workspace_id", "workspace_column: workspace_id\n    workspace: acme"), "exactly one of"),
        (("time: placed_on", "time: number"), "must be a dimension of type time"),
        (("list: [number, customer]", "list: [number, colour]"), "'colour', which is not a dimension"),
        (
            ("value: {agg: sum, column: amount, format: money}", "value: {agg: sum, format: money}"),
            "`sum` needs a `column`",
        ),
        (
            ("orders: {agg: count}", "orders: {agg: count, filters: [{field: colour, value: red}]}"),
            "filter on 'colour'",
        ),
        (("orders: {agg: count}", "orders: {derived: {op: ratio, of: [value, orders]}}"), "derived measures loop"),
        (("type: time}", "type: clock}"), "placed_on.type"),
        (("name: tiny", "name: tiny\nsurprise: 1"), "surprise"),
    ],
)
def test_a_bad_model_names_the_problem(change, problem):
    with pytest.raises(DataModelError) as e:
        parse_model(GOOD.replace(*change), "tiny.yaml")
    assert problem in str(e.value) and "tiny.yaml" in str(e.value)


def test_setting_picks_the_model_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    assert Settings(_env_file=None).data_model == "demo"
    assert get_data_model(Settings(_env_file=None, FINKRAFT_DATA_MODEL=str(path)).data_model).name == "tiny"
    assert get_data_model("reference").name == "reference"
    with pytest.raises(DataModelError, match="No data model 'nope'"):
        get_data_model("nope")
    with pytest.raises(DataModelError, match="not valid YAML"):
        parse_model("datasets: [unclosed", "broken.yaml")


def test_a_bad_model_stops_the_start(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("time: placed_on", "time: number"))
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        from business_data.settings import Settings
        from graph.services import Services
        Services.from_settings(Settings(_env_file=None))
    """),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "FINKRAFT_DATA_MODEL": str(path), "FINKRAFT_DATA_DIR": str(tmp_path)},
    )
    assert r.returncode != 0 and "must be a dimension of type time" in r.stderr


def test_money_is_indian():
    assert money(490901) == "₹4,90,901"
    assert money(99_999.4) == "₹99,999"
    assert money(12_50_000) == "₹12.5 lakh" and money(12_50_000, compact=False) == "₹12,50,000"
    assert money(12_39_74_560) == "₹12.4 crore" and money(1_00_00_000) == "₹1 crore"
    assert money(2307_57_00_000) == "₹2,307.57 crore" and money(-3_50_00_000) == "-₹3.5 crore"
    assert money(-25_00_000) == "-₹25 lakh" and money(None) == "—"
    assert money_exact(490901.5) == "₹4,90,901.50" and money_exact(12_39_74_560) == "₹12,39,74,560"


@pytest.mark.parametrize(
    "typed, value",
    [
        ("₹4,90,901", 490901),
        ("4,90,901", 490901),
        ("490901", 490901),
        ("Rs. 50,000", 50000),
        ("INR 1.2 crore", 12_000_000),
        ("4.9 lakh", 490_000),
        ("4.9 lakhs", 490_000),
        ("4.9L", 490_000),
        ("2 cr", 20_000_000),
        ("2crore", 20_000_000),
        ("50k", 50_000),
        ("50 thousand", 50_000),
        ("3 million", 3_000_000),
        ("1,00,000.50", 100000.5),
        (7500, 7500),
    ],
)
def test_amounts_are_read_as_people_write_them(typed, value):
    assert parse_amount(typed) == value


@pytest.mark.parametrize("typed", ["lots", "", "4.9 lakhs of rupees", "k50", None])
def test_not_amounts(typed):
    assert parse_amount(typed) is None
