"""The LangServe playground's server side: an input schema its form builder can render (no
`{"type": "null"}`), a sign-in path for browsers, and `{"resume": ...}` refused (409, with the
reason) when nothing is waiting for an answer. The page itself is driven in Chromium in
tests/ui/test_api_pages_browser.py."""

from __future__ import annotations

import json

import pytest

from .conftest import no_traceback

NOTHING = (
    "Nothing to answer: no question is waiting for a yes or no in thread '{}'. "
    'Send {{"messages": [...]}} to ask something new.'
)


def _types(schema) -> list:
    """Every `type` in a JSON schema, nested ones too."""
    found = []
    if isinstance(schema, dict):
        if "type" in schema:
            found.append(schema["type"])
        for v in schema.values():
            found += _types(v)
    elif isinstance(schema, list):
        for v in schema:
            found += _types(v)
    return found


def test_input_schema_has_no_null_type_at_the_top(api):
    schema = api.maya.get("/agent/input_schema").json()
    resume = schema["properties"]["resume"]
    assert "null" not in _types(resume) and "default" not in resume
    assert [s["type"] for s in resume["anyOf"]][-1] == "string"  # the playground shows the last choice: a text box
    assert all(s.get("title") == "Resume" for s in resume["anyOf"])
    assert "null" not in [
        t for p in schema["properties"].values() for t in _types({k: v for k, v in p.items() if k != "items"})
    ]


@pytest.mark.parametrize("resume", [None, "", "   "])
def test_no_answer_is_a_new_turn(api, resume):
    body = {
        "input": {"resume": resume, "messages": [{"type": "human", "content": "failed IndiSky invoices last month"}]},
        "config": {"configurable": {"thread_id": f"pg-new-{len(resume or 'x')}"}},
    }
    r = api.maya.post("/agent/invoke", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["output"]["result"]["data"]["filtered_records"] == 7


@pytest.mark.parametrize("route", ["invoke", "stream", "stream_log", "stream_events"])
def test_resume_with_nothing_pending_says_so(api, route):
    thread = f"pg-idle-{route}"
    r = api.maya.post(
        f"/agent/{route}", json={"input": {"resume": "yes"}, "config": {"configurable": {"thread_id": thread}}}
    )
    assert (r.status_code, r.json()) == (409, {"detail": NOTHING.format(thread)})
    # also after a finished turn: the last state is not handed back as if "yes" did something
    api.maya.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": "show my tickets"}]},
            "config": {"configurable": {"thread_id": thread}},
        },
    )
    r = api.maya.post(
        f"/agent/{route}", json={"input": {"resume": True}, "config": {"configurable": {"thread_id": thread}}}
    )
    assert (r.status_code, r.json()) == (409, {"detail": NOTHING.format(thread)})


def test_batch_resume_with_nothing_pending_says_so(api):
    r = api.maya.post(
        "/agent/batch", json={"inputs": [{"resume": "yes"}], "config": {"configurable": {"thread_id": "pg-idle-b"}}}
    )
    assert (r.status_code, r.json()) == (409, {"detail": NOTHING.format("pg-idle-b")})
    no_traceback(r)


def test_resume_answers_when_a_question_waits(api):
    def say(text: str) -> dict:
        return {
            "input": {"messages": [{"type": "human", "content": text}]},
            "config": {"configurable": {"thread_id": "pg-asks"}},
        }

    api.maya.post("/agent/invoke", json=say("failed IndiSky invoices from last month"))
    asked = api.maya.post("/agent/invoke", json=say("create a ticket for these")).json()["output"]
    assert asked["pending_confirmation"]["question"].startswith("Create ticket")
    r = api.maya.post(
        "/agent/invoke", json={"input": {"resume": "no"}, "config": {"configurable": {"thread_id": "pg-asks"}}}
    )
    assert r.status_code == 200 and "Nothing was written" in r.json()["output"]["response"]
    # answered once; a second answer has nothing to answer
    r = api.maya.post(
        "/agent/invoke", json={"input": {"resume": "yes"}, "config": {"configurable": {"thread_id": "pg-asks"}}}
    )
    assert r.status_code == 409


def test_a_browser_opening_the_playground_unsigned_is_sent_to_sign_in(api):
    r = api.anon.get(
        "/agent/playground/", headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/auth/login?next=/agent/playground/"
    # a script (no text/html) still gets the plain 401
    r = api.anon.get("/agent/playground/", follow_redirects=False)
    assert r.status_code == 401 and r.json()["detail"].startswith("Sign in first")


def test_sign_in_page_stays_on_this_site(api):
    page = api.anon.get("/auth/login", params={"next": "/agent/playground/"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'window.location.replace("/agent/playground/")' in page.text
    assert 'fetch("/auth/session"' in page.text and '<label for="token">API token</label>' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing loaded from elsewhere
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        page = api.anon.get("/auth/login", params={"next": target})
        assert 'window.location.replace("/agent/playground/")' in page.text, target
    page = api.anon.get("/auth/login", params={"next": '/docs"</script><script>alert(1)//'})
    assert "</script><script>alert(1)" not in page.text
    assert json.dumps('/docs"').rstrip('"') in page.text  # kept, as an escaped string


def test_the_cookie_the_sign_in_page_gets_opens_the_playground(api):
    r = api.maya.post("/auth/session")
    cookie = r.cookies.get("finkraft_session")
    assert r.status_code == 200 and cookie and cookie != "dev-maya"
    api.client.cookies.set("finkraft_session", cookie)
    try:
        page = api.client.get("/agent/playground/")
    finally:
        api.client.cookies.clear()
    assert page.status_code == 200 and '<div id="root">' in page.text
