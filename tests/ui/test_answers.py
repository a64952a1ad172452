"""How one answer is drawn (AppTest), from answers the API really gives (in process): its words, its tables
in their declared formats, its chart with the same money on the axis, the next steps the payload allows,
the welcome-back box and yes/no under a question. The page never reads the answer's text; the figures
checked here are computed by SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from business_data import clock
from schema.chat import ChatResponse
from schema.formats import cell, money
from tools.money import parse_amount
from ui import plots

from ..api.conftest import Api, running_api


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    with running_api(tmp_path_factory.mktemp("ui-answers")) as running:
        yield running


def chat(api: Api, user: str, message: str, thread: str) -> ChatResponse:
    r = getattr(api, user).post("/chat", json={"message": message, "thread_id": thread})
    assert r.status_code == 200, r.text
    return ChatResponse.model_validate(r.json())


def draw(response: ChatResponse) -> AppTest:
    def script():
        import streamlit as st

        from ui import answers

        answers.render(st.session_state["message"], key="0", latest=True)

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state["message"] = {"role": "assistant", "answer": response}
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest, i: int = 0) -> pd.DataFrame:
    """Table i as the page writes its cells (the styler's display values), headed by the column names."""
    proto = at.dataframe[i].proto.arrow_data
    return pa.ipc.open_stream(proto.styler.display_values).read_all().to_pandas()


def next_steps(at: AppTest) -> list:
    return [b for b in at.button if str(b.key or "").startswith("next-")]


def axis_labels(spec: dict) -> list[str]:
    """The value axis' tick labels of a chart, as Vega draws them (SVG)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    return [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.startswith(("₹", "-₹"))]


def test_one_analytics_answer_writes_money_and_shares_alike_in_text_table_and_axis(api):
    """'total sales by region this year': the words, the table and the chart's axis all write money by
    one rule (₹ with lakh/crore); the share column is a percentage."""
    year = clock.today().year
    with api.services.business.connect() as c:
        by_region = dict(
            c.execute(
                text(
                    "SELECT region, SUM(amount) FROM sales WHERE workspace_id = 'acme' "
                    "AND sale_date BETWEEN :a AND :b GROUP BY region"
                ),
                {"a": f"{year}-01-01", "b": f"{year}-12-31"},
            ).all()
        )
    total = sum(float(v) for v in by_region.values())
    response = chat(api, "maya", "total sales by region this year", "ui-formats")
    answer = response.answer
    assert answer is not None and answer.chart is not None
    for region, value in by_region.items():
        assert f"{region} {money(value)}" in answer.text  # the words: ₹14.09 crore
    at = draw(response)
    table = shown(at)
    formats = {c.name: c.format for c in answer.tables[0].columns}
    assert formats["sales_value"] == "money" and formats["sales_value_share"] == "percent"
    for _, row in table.iterrows():
        value = float(by_region[row["region"]])
        assert row["sales_value"] == money(value)  # the same words in the table
        assert row["sales_value_share"] == f"{value / total * 100:.1f}%"
    words = "\n".join(m.value for m in at.markdown)
    assert all(row["sales_value"] in words for _, row in table.iterrows())
    drawn = json.loads(at.get("vega_lite_chart")[0].proto.spec)  # (Streamlit keeps the data apart)
    spec = plots.spec(answer.chart)
    assert drawn["encoding"]["y"] == spec["encoding"]["y"] and "labelExpr" in spec["encoding"]["y"]["axis"]
    labels = axis_labels(spec)
    assert labels and all(lab == money(parse_amount(lab.replace(" ", ""))) for lab in labels), labels
    assert any("crore" in lab for lab in labels), labels  # the axis reads in crore, as the words do


def test_a_listing_is_a_table_of_its_records_with_dates_and_money_written_out(api):
    response = chat(api, "victor", "failed IndiSky invoices from last month", "ui-listing")
    at = draw(response)
    table = shown(at)
    records = response.answer.tables[0].records()  # type: ignore[union-attr]
    assert len(table) == len(records) == response.data["filtered_records"]
    for (_, row), record in zip(table.iterrows(), records):
        assert row["total_amount"] == money(record["total_amount"]) and row["total_amount"].startswith("₹")
        assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4}", row["invoice_date"])  # DD MMM YYYY
        assert row["invoice_date"] == cell(record["invoice_date"], "date")
    words = "\n".join(m.value for m in at.markdown)
    assert "Found" in words and "INV-" not in words  # the records are the table, not lines of text
    assert [b.label for b in next_steps(at)] == ["Why did these fail?"]  # a Viewer: the writes are hidden


def test_a_manager_is_offered_the_writes_a_viewer_is_not(api):
    at = draw(chat(api, "maya", "failed IndiSky invoices from last month", "ui-manager"))
    assert [b.label for b in next_steps(at)] == ["Why did these fail?", "Create a ticket", "Export as Excel"]
    next_steps(at)[0].click().run()
    assert at.session_state["pending_prompt"] == "Why did these fail?"
    assert at.session_state["pending_tool_call"]["tool"] == "explain_failures"


def test_the_welcome_is_its_own_box_and_a_question_has_yes_and_no(api):
    chat(api, "maya", "failed IndiSky invoices from last month", "ui-ask")
    asked = chat(api, "maya", "create a ticket and notify me when fixed", "ui-ask")
    assert asked.status == "awaiting_confirmation" and asked.answer is not None
    at = draw(asked.model_copy(update={"welcome": "Welcome back - your ticket T-00001 was resolved yesterday."}))
    assert [i.value for i in at.info] == ["Welcome back - your ticket T-00001 was resolved yesterday."]
    yes_no = [b for b in at.button if str(b.key or "").startswith(("yes-", "no-"))]
    assert [b.label for b in yes_no] == ["Yes", "No"] and not next_steps(at)
    assert asked.answer.text in "\n".join(m.value for m in at.markdown)
    yes_no[0].click().run()
    assert at.session_state["pending_prompt"] == "yes"
