"""Regression tests for issue 14's probe: bad input on /agent and /execute_tool is a clear 4xx (never a
500, nothing written), one message length limit, concurrent creates with one request_key, ticket ids
in ASCII digits only, an Admin keeping their last token, and cookie-signed writes from another site."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from business_data.appdb import MemoryTurn, Ticket, Trace
from business_data.db import session_scope
from tools.registry import run_tool

AGENT_ROUTES = ("/agent/invoke", "/agent/batch", "/agent/stream", "/agent/stream_events")


def counts(api) -> tuple[int, int, int]:
    with session_scope(api.services.app) as s:
        return (
            s.scalar(select(func.count()).select_from(Trace)),
            s.scalar(select(func.count()).select_from(MemoryTurn)),
            s.scalar(select(func.count()).select_from(Ticket)),
        )


def agent_body(route: str, input: dict, thread: str = "hard-1") -> dict:
    config = {"configurable": {"thread_id": thread}}
    if route == "/agent/batch":
        return {"inputs": [input], "config": config}
    return {"input": input, "config": config}


def say(text: str, **extra) -> dict:
    return {"messages": [{"type": "human", "content": text, **extra}]}


@pytest.mark.parametrize("route", AGENT_ROUTES)
@pytest.mark.parametrize("content", [b"\x00", b"", b"{not json"])
def test_agent_body_that_is_not_json_is_a_422(api, route, content):
    r = api.maya.post(route, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("Invalid request:") and "JSON" in r.json()["detail"]


def raw_json(body: dict) -> bytes:
    # json.dumps keeps a lone surrogate as the escape \ud800, as a client would send it
    return json.dumps(body).encode()


@pytest.mark.parametrize("route", AGENT_ROUTES)
@pytest.mark.parametrize(
    "input, says",
    [
        (say("hi \ud800 there"), "not valid Unicode text"),
        (say("hi", additional_kwargs={"n": 2**70}), "too large to keep"),
        ({"resume": 2**70}, "too large to keep"),
        (say("x" * 4001), "the limit is 4000"),
        ({"messages": [{"type": "human", "content": [{"type": "image"}]}]}, "must be text"),
    ],
)
def test_agent_input_the_stores_cannot_keep_is_a_422_and_writes_nothing(api, route, input, says):
    before = counts(api)
    r = api.maya.post(route, content=raw_json(agent_body(route, input)), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"] and "Traceback" not in r.text
    assert counts(api) == before


@pytest.mark.parametrize(
    "message",
    [
        {"type": "human", "content": "show my tickets", "additional_kwargs": [1, 2]},
        {"type": "human", "content": "show my tickets", "response_metadata": "x", "tool_calls": "nonsense"},
    ],
)
def test_agent_ignores_what_a_client_message_may_not_carry(api, message):
    r = api.maya.post(
        "/agent/invoke",
        json={"input": {"messages": [message]}, "config": {"configurable": {"thread_id": "hard-extra"}}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["output"]["result"]["tool"] == "view_tickets" or "ticket" in r.json()["output"]["response"].lower()


def test_malformed_ai_tool_calls_in_history_are_dropped(api):
    msgs = [
        {"type": "ai", "content": "ok", "tool_calls": [{"bad": 1}]},
        {"type": "human", "content": "show my tickets"},
    ]
    r = api.maya.post(
        "/agent/invoke", json={"input": {"messages": msgs}, "config": {"configurable": {"thread_id": "hard-ai"}}}
    )
    assert r.status_code == 200, r.text


def test_one_message_limit_counted_after_trimming_on_chat_and_agent(api):
    assert api.maya.post("/chat", json={"message": "  " + "x" * 4000 + "\n"}).status_code == 200
    assert api.maya.post("/chat", json={"message": "x" * 4001}).status_code == 422
    r = api.maya.post(
        "/agent/invoke", json={"input": say("x" * 4000 + "  "), "config": {"configurable": {"thread_id": "hard-len"}}}
    )
    assert r.status_code == 200, r.text
    r = api.maya.post("/agent/invoke", json={"input": say("x" * 4001)})
    assert r.status_code == 422 and "4001 characters; the limit is 4000" in r.json()["detail"]


@pytest.mark.parametrize(
    "params, says",
    [
        ({"period": "9999-Q4"}, "'9999-Q4' is outside the dates I can work with"),
        ({"period": "0000"}, "'0000' is outside the dates I can work with"),
        ({"period": "0000-01"}, "'0000-01' is outside the dates I can work with"),
    ],
)
def test_filter_data_periods_beyond_the_calendar_are_400(api, params, says):
    r = api.maya.post("/execute_tool", json={"tool_name": "filter_data", "params": params})
    assert r.status_code == 400, r.text
    assert says in r.json()["detail"]


def test_filter_data_widest_dates_mean_all_dates(api):
    r = api.maya.post(
        "/execute_tool",
        json={"tool_name": "filter_data", "params": {"date_from": "0001-01-01", "date_to": "9999-12-31", "limit": 1}},
    )
    everything = api.maya.post("/execute_tool", json={"tool_name": "filter_data", "params": {"limit": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["total_records"] == everything.json()["data"]["total_records"] > 0


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity"])
def test_filter_data_amounts_must_be_finite(api, value):
    body = '{"tool_name": "filter_data", "params": {"min_amount": ' + value + "}}"
    r = api.maya.post("/execute_tool", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert "finite" in r.json()["detail"] or "greater than" in r.json()["detail"]


def test_chat_with_an_impossible_period_answers_plainly(api):
    r = api.maya.post("/chat", json={"message": "filter invoices for period 9999-Q4", "thread_id": "hard-chat"})
    assert r.status_code == 200, r.text
    assert "Something went wrong" not in r.json()["agent_response"]


def test_concurrent_creates_with_one_request_key_make_one_ticket(api):
    ctx = api.services.tool_context(api.services.identity("maya"))
    for round_ in range(5):
        key = f"hard-race-{round_}"
        gate = threading.Barrier(10)

        def create(_, gate=gate, key=key):
            gate.wait()
            return run_tool("create_ticket", {"title": "race", "request_key": key}, ctx)

        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(create, range(10)))
        assert {r.code for r in results} == {"ok"}, [r.message for r in results]
        assert len({r.data["ticket_id"] for r in results}) == 1
        with session_scope(api.services.app) as s:
            assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.request_key == key)) == 1


def test_ticket_ids_are_ascii_digits_only(api):
    tid = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "ascii"}}).json()[
        "data"
    ]["ticket_id"]
    number = int(tid.removeprefix("T-"))
    wide = "".join(chr(0xFF10 + int(d)) for d in str(number))  # fullwidth digits
    assert api.maya.get(f"/tickets/{number}").status_code == 200
    r = api.maya.get(f"/tickets/{wide}")
    assert r.status_code == 404 and tid not in r.text


def test_an_admin_cannot_revoke_their_own_last_token(api):
    extra = api.admin.post("/admin/tokens", json={"user_id": "admin", "label": "spare"}).json()
    assert api.admin.delete(f"/admin/tokens/{extra['token_id']}").json() == {
        "token_id": extra["token_id"],
        "revoked": True,
    }
    mine = [t for t in api.admin.get("/admin/tokens").json()["tokens"] if t["user_id"] == "admin" and not t["revoked"]]
    assert len(mine) == 1
    r = api.admin.delete(f"/admin/tokens/{mine[0]['token_id']}")
    assert r.status_code == 409 and "your last active token" in r.json()["detail"]
    assert api.admin.get("/admin/tokens").status_code == 200  # still signed in
    r = api.admin.delete(f"/admin/tokens/{2**64}")
    assert r.status_code == 422


def pending_ticket(api, thread: str) -> int:
    api.maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": thread})
    body = api.maya.post("/chat", json={"message": "create a ticket for these", "thread_id": thread}).json()
    assert body["agent_response"].endswith("yes/no")
    return len(api.maya.get("/tickets").json()["tickets"])


def test_cookie_signed_cross_site_write_is_refused_bearer_works(api):
    before = pending_ticket(api, "hard-csrf")
    body = json.dumps({"input": {"resume": "yes"}, "config": {"configurable": {"thread_id": "hard-csrf"}}})
    cookie = {"cookie": f"finkraft_session={api.maya.post('/auth/session').cookies['finkraft_session']}"}
    for origin, ctype in [
        ("http://evil.example", "text/plain"),
        ("http://evil.example", "application/json"),
        ("http://app.testserver", "application/json"),
        (None, "text/plain"),
        ("http://testserver", "text/plain"),
    ]:
        headers = {**cookie, "content-type": ctype, **({"origin": origin} if origin else {})}
        r = api.anon.post("/agent/invoke", content=body, headers=headers)
        assert r.status_code == 403, (origin, ctype, r.text)
        assert len(api.maya.get("/tickets").json()["tickets"]) == before
    # the same site, as JSON: the playground's own requests
    r = api.anon.post(
        "/agent/invoke",
        content=body,
        headers={**cookie, "content-type": "application/json", "origin": "http://testserver"},
    )
    assert r.status_code == 200, r.text
    assert len(api.maya.get("/tickets").json()["tickets"]) == before + 1
    # a bearer token is not a browser's ambient credential: the text/plain cross-origin request works
    before = pending_ticket(api, "hard-csrf-bearer")
    body = body.replace("hard-csrf", "hard-csrf-bearer")
    r = api.maya.post(
        "/agent/invoke", content=body, headers={"content-type": "text/plain", "origin": "http://evil.example"}
    )
    assert r.status_code == 200, r.text
    assert len(api.maya.get("/tickets").json()["tickets"]) == before + 1
    # reads with the cookie are unaffected
    assert api.anon.get("/tickets", headers=cookie).status_code == 200
