"""Who is calling comes from the bearer token alone: missing, bad, revoked and out-of-mode tokens
get 401; the dev tokens map to the demo users; identity claims in bodies and LangServe config are
ignored; a browser cookie stands in for the header; limits are per token."""

from __future__ import annotations

import pytest

from ..helpers import chat
from .conftest import running_api

SIGN_IN = "Sign in first: send 'Authorization: Bearer <token>'."
NOT_VALID = "That token is not valid (unknown, revoked, or a dev token outside dev mode)."

PROTECTED = [
    ("POST", "/chat"),
    ("POST", "/execute_tool"),
    ("GET", "/tickets"),
    ("GET", "/tickets/T-00001"),
    ("PATCH", "/tickets/T-00001"),
    ("GET", "/notifications"),
    ("GET", "/exports"),
    ("GET", "/exports/abc/download"),
    ("GET", "/traces"),
    ("GET", "/traces/abc"),
    ("GET", "/threads"),
    ("GET", "/memory/search?q=x"),
    ("DELETE", "/memory"),
    ("GET", "/user/maya/permissions"),
    ("GET", "/admin/users"),
    ("GET", "/health/detailed"),
    ("GET", "/metrics"),
    ("POST", "/plans/create"),
    ("POST", "/agent/invoke"),
    ("POST", "/agent/stream"),
    ("GET", "/agent/playground/"),
    ("POST", "/auth/session"),
]


def test_open_endpoints_need_no_token(api):
    assert api.anon.get("/health").json() == {"status": "ok"}
    assert api.anon.get("/openapi.json").status_code == 200
    assert api.anon.get("/docs").status_code == 200


@pytest.mark.parametrize("method, path", PROTECTED)
def test_no_token_is_401_with_a_sign_in_message(api, method, path):
    r = api.anon.request(method, path, json={})
    assert r.status_code == 401, r.text
    assert r.json() == {"detail": SIGN_IN}
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic bWF5YTpwdw==", "Bearer ", "dev-maya", "Token dev-maya"])
def test_a_header_that_is_not_a_bearer_token_is_no_token(api, header):
    r = api.anon.get("/tickets", headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["detail"] == SIGN_IN


@pytest.mark.parametrize("token", ["not-a-token", "dev-mallory", "DEV-MAYA", "dev-maya2", "fk_" + "x" * 43])
def test_unknown_token_is_401_not_valid(api, token):
    r = api.with_token(token).post("/chat", json={"message": "failed IndiSky invoices last month"})
    assert r.status_code == 401 and r.json()["detail"] == NOT_VALID
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "user, role, workspace",
    [
        ("admin", "Admin", "acme"),
        ("maya", "Manager", "acme"),
        ("victor", "Viewer", "acme"),
        ("gita", "Manager", "globex"),
    ],
)
def test_dev_tokens_are_the_demo_users(api, user, role, workspace):
    caller = getattr(api, user)
    r = caller.get(f"/user/{user}/permissions")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["user_id"], body["role"], body["workspace_id"], body["active"]) == (user, role, workspace, True)
    assert ("export_report" in body["tools"]) == (role != "Viewer")
    assert body["can_see_all_tickets"] == (role == "Admin")
    # and what a client would call "who am I"
    assert caller.post("/auth/session").json() == {"user_id": user, "role": role, "workspace_id": workspace}


def test_issued_token_works_until_revoked(api):
    r = api.admin.post("/admin/tokens", json={"user_id": "victor", "label": "laptop"})
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["token"].startswith("fk_") and issued["user_id"] == "victor"
    laptop = api.with_token(issued["token"])
    assert laptop.get("/user/victor/permissions").json()["role"] == "Viewer"
    listed = {t["token_id"]: t for t in api.admin.get("/admin/tokens").json()["tokens"]}
    assert listed[issued["token_id"]]["revoked"] is False and "token" not in listed[issued["token_id"]]

    r = api.admin.delete(f"/admin/tokens/{issued['token_id']}")
    assert r.status_code == 200 and r.json() == {"token_id": issued["token_id"], "revoked": True}
    r = laptop.get("/tickets")
    assert r.status_code == 401 and r.json()["detail"] == NOT_VALID  # at once, not at the next restart
    r = api.admin.delete(f"/admin/tokens/{issued['token_id']}")
    assert r.status_code == 404 and r.json()["detail"] == f"No active token with id {issued['token_id']}."
    assert api.victor.get("/tickets").status_code == 200  # the user's other tokens still work


def test_a_token_id_beyond_the_column_is_a_422_not_a_500(api):
    # token ids are 32-bit integers in PostgreSQL; a larger id once reached the database (CI, schemathesis)
    r = api.admin.delete("/admin/tokens/6137527458265834314")
    assert r.status_code == 422 and "token_id" in r.text


def test_only_an_admin_issues_tokens(api):
    r = api.maya.post("/admin/tokens", json={"user_id": "maya"})
    assert r.status_code == 403 and r.json()["detail"] == "Only an Admin can do this; you are signed in as a Manager."
    r = api.admin.post("/admin/tokens", json={"user_id": "nobody"})
    assert r.status_code == 404 and "nobody" in r.json()["detail"]


def test_identity_claims_in_a_chat_body_are_ignored(api):
    body = chat(
        api.victor,
        "export all invoices as csv",
        "claims-chat",
        user_id="admin",
        role="Admin",
        workspace="globex",
        workspace_id="globex",
        is_admin=True,
    )
    assert body["success"] is False and body["status"] == "denied"
    assert "as a Viewer you can't export reports" in body["agent_response"]
    assert api.victor.get("/exports").json()["exports"] == []
    trace = api.admin.get(f"/traces/{body['trace_id']}").json()
    assert trace["user_id"] == "victor" and trace["workspace_id"] == "acme"

    # gita claims acme: she still reads globex
    body = chat(api.gita, "show all IndiSky invoices", "claims-ws", workspace_id="acme", workspace="acme")
    rows = body["data"]["results"]
    assert body["data"]["filters"]["workspace_id"] == "globex"
    assert rows and all(r["invoice_number"].startswith("INV-GLO") for r in rows)


def test_identity_claims_in_other_bodies_are_ignored(api):
    r = api.victor.post(
        "/execute_tool",
        json={"tool_name": "create_ticket", "params": {"title": "x"}, "user_id": "admin", "role": "Admin"},
    )
    assert r.status_code == 403 and "as a Viewer" in r.json()["detail"]
    tid = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "claims"}}).json()[
        "data"
    ]["ticket_id"]
    # dropped, not an unknown-field 422, and not obeyed: victor stays a Viewer
    r = api.victor.patch(
        f"/tickets/{tid}", json={"status": "closed", "user_id": "admin", "role": "Admin", "workspace_id": "acme"}
    )
    assert r.status_code == 403 and "Viewer" in r.json()["detail"]
    assert api.maya.get(f"/tickets/{tid}").json()["status"] == "open"
    # the claims are ignored for the owner too: the change is recorded as hers
    r = api.maya.patch(f"/tickets/{tid}", json={"comment": "checked", "user_id": "admin"})
    assert r.status_code == 200 and r.json()["notified"] == []


def test_identity_in_langserve_config_is_ignored(api):
    r = api.victor.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": "export all invoices as csv"}]},
            "config": {
                "configurable": {
                    "thread_id": "claims-ls",
                    "user_id": "admin",
                    "role": "Admin",
                    "workspace_id": "globex",
                }
            },
        },
    )
    assert r.status_code == 200, r.text
    out = r.json()["output"]
    assert out["result"]["status"] == "denied" and "as a Viewer you can't export reports" in out["response"]
    trace = api.admin.get(f"/traces/{r.json()['metadata']['run_id']}").json()
    assert (trace["user_id"], trace["workspace_id"], trace["thread_id"]) == ("victor", "acme", "claims-ls")


def test_session_cookie_stands_in_for_the_header(api):
    r = api.maya.post("/auth/session")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "finkraft_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "dev-maya" not in cookie  # the session's own id, never the token
    browser = {"Cookie": f"finkraft_session={r.cookies['finkraft_session']}"}
    assert api.anon.get("/agent/playground/", headers=browser).status_code == 200
    assert api.anon.get("/tickets", headers=browser).status_code == 200
    # a bearer header wins over the cookie
    r = api.anon.get("/user/victor/permissions", headers={**browser, "Authorization": "Bearer dev-victor"})
    assert r.status_code == 200 and r.json()["role"] == "Viewer"
    r = api.anon.get("/tickets", headers={"Cookie": "finkraft_session=forged"})
    assert r.status_code == 401 and r.json()["detail"].startswith("Your browser session has ended")
    r = api.anon.get("/tickets", headers={"Cookie": "finkraft_token=dev-maya"})  # the old cookie: a token is no session
    assert r.status_code == 401
    r = api.anon.delete("/auth/session", headers=browser)
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    assert 'finkraft_session=""' in r.headers["set-cookie"] or "max-age=0" in r.headers["set-cookie"].lower()
    assert api.anon.get("/tickets", headers=browser).status_code == 401  # revoked on the server too


def test_dev_tokens_are_refused_outside_dev_mode(api):
    issued = api.admin.post("/admin/tokens", json={"user_id": "maya", "label": "prod"}).json()["token"]
    with running_api(api.data_dir, FINKRAFT_ENV="prod") as prod:  # same databases, prod mode
        for user in ("admin", "maya", "victor", "gita"):
            r = getattr(prod, user).get("/tickets")
            assert r.status_code == 401 and r.json()["detail"] == NOT_VALID, user
        r = prod.with_token(issued).get("/user/maya/permissions")  # an issued token works in prod
        assert r.status_code == 200 and r.json()["role"] == "Manager"


def test_rate_limit_is_per_token_with_retry_after(api):
    with running_api(api.data_dir, FINKRAFT_RATE_LIMIT="3/minute") as limited:
        assert [limited.maya.get("/tickets").status_code for _ in range(3)] == [200] * 3
        r = limited.maya.get("/tickets")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["detail"].startswith("Too many requests: the limit is 3 per 1 minute.")
        assert limited.victor.get("/tickets").status_code == 200  # another token has its own budget
        assert limited.anon.get("/health").status_code == 200  # /health is never limited
        assert [limited.with_token("bogus").get("/tickets").status_code for _ in range(5)] == [401] * 5  # never 429
