"""An analytics answer in a real Chromium: its words, table and chart written by one money rule (₹ lakh and
crore), the share with %, and next-step buttons from the payload. Takes docs/img/answer_formats.png (with
FINKRAFT_UPDATE_SCREENSHOTS=1, else in a temporary folder)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from schema.chat import ChatResponse
from schema.formats import money

from .conftest import ask, open_session, settle, top

pytestmark = pytest.mark.slow
QUESTION = "total sales by region this year"


def test_an_analytics_answer_in_the_browser(web_app, live_server, browser, shots):  # noqa: F811
    with live_server.client("maya") as api:  # the same question over HTTP: the figures to expect
        typed = ChatResponse.model_validate(api.post("/chat", json={"message": QUESTION}).json()).answer
    assert typed is not None and typed.chart is not None
    first = typed.tables[0].records()[0]
    context, page = open_session(browser, web_app, "maya", height=1150)  # the answer whole: words to buttons
    answer = ask(page, QUESTION, money(first["sales_value"]))
    expect(answer.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(answer.get_by_test_id("stVegaLiteChart")).to_have_count(1)
    for action in typed.next_actions:
        expect(answer.get_by_role("button", name=action.label)).to_have_count(1)
    settle(page)
    top(page.get_by_test_id("stChatMessage").last)
    page.screenshot(path=str(shots / "answer_formats.png"))
    context.close()
