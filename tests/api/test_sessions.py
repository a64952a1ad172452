"""Browser sessions are their own server-side records (server/sessions.py): the cookie holds a random id,
never the token; it ends on sign-out (on the server: a copy stops working), after the idle time, at the
absolute expiry, or when its token is revoked. API tokens may expire (`finkraft token --expires 30d`,
POST /admin/tokens {"expires": "30d"}) and then get a 401 saying so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from business_data.appdb import ApiToken, BrowserSession, hash_token, utcnow
from business_data.db import session_scope
from server.auth import forget_tokens, issue_token, parse_duration
from server.sessions import ENDED

from ..conftest import ROOT
from .conftest import invalid

COOKIE = "finkraft_session"


def sign_in(api, who="maya", headers=None) -> tuple[str, str]:
    """A new session: (its cookie value, the Set-Cookie header)."""
    r = getattr(api, who).post("/auth/session", headers=headers or {})
    assert r.status_code == 200, r.text
    return r.cookies[COOKIE], r.headers["set-cookie"]


def as_browser(api, session: str, url: str = "/tickets", **headers):
    return api.anon.get(url, headers={"Cookie": f"{COOKIE}={session}", **headers}, follow_redirects=False)


def set_row(api, session: str, **values) -> None:
    with session_scope(api.services.app) as s:
        s.execute(update(BrowserSession).where(BrowserSession.session_hash == hash_token(session)).values(**values))


def test_the_cookie_is_a_random_session_id_httponly_strict(api):
    first, header = sign_in(api)
    second, _ = sign_in(api)
    assert first != second and len(first) >= 43 and "dev-maya" not in header
    attrs = [a.strip().lower() for a in header.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs
    assert f"max-age={7 * 86400}" in attrs and "secure" not in attrs  # plain http: no Secure
    with session_scope(api.services.app) as s:  # only the id's hash is stored
        row = s.get(BrowserSession, hash_token(first))
        assert row is not None and row.user_id == "maya" and row.revoked_at is None
        assert timedelta(days=6.99) < row.expires_at - row.created_at <= timedelta(days=7)
        assert s.scalar(select(BrowserSession).where(BrowserSession.session_hash == first)) is None
    r = as_browser(api, first, "/user/maya/permissions")
    assert r.status_code == 200 and r.json()["user_id"] == "maya"


def test_get_says_who_and_starts_no_session(api):
    with session_scope(api.services.app) as s:
        before = s.scalar(select(func.count()).select_from(BrowserSession))
    r = api.victor.get("/auth/session")
    assert r.status_code == 200 and r.json() == {"user_id": "victor", "role": "Viewer", "workspace_id": "acme"}
    assert "set-cookie" not in r.headers
    with session_scope(api.services.app) as s:
        assert s.scalar(select(func.count()).select_from(BrowserSession)) == before
    session, _ = sign_in(api)
    assert as_browser(api, session, "/auth/session").json()["user_id"] == "maya"


def test_secure_when_the_request_came_over_tls(api):
    _, header = sign_in(api, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in [a.strip().lower() for a in header.split(";")]


def test_sign_out_revokes_the_session_on_the_server(api):
    session, _ = sign_in(api)
    assert as_browser(api, session).status_code == 200
    r = api.anon.delete("/auth/session", headers={"Cookie": f"{COOKIE}={session}"})
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    r = as_browser(api, session)  # a copy of the cookie kept somewhere no longer works
    assert r.status_code == 401 and r.json() == {"detail": ENDED}
    # a browser opening the playground with an ended session is sent to sign in again
    r = as_browser(api, session, "/agent/playground/", Accept="text/html")
    assert r.status_code == 303 and r.headers["location"] == "/auth/login?next=/agent/playground/"


def test_signing_in_again_replaces_the_browsers_session(api):
    old, _ = sign_in(api)
    r = api.maya.post("/auth/session", headers={"Cookie": f"{COOKIE}={old}"})
    assert r.status_code == 200 and r.cookies[COOKIE] != old
    assert as_browser(api, old).status_code == 401 and as_browser(api, r.cookies[COOKIE]).status_code == 200


def test_a_session_makes_no_other_session(api):
    session, _ = sign_in(api)
    r = api.anon.post("/auth/session", headers={"Cookie": f"{COOKIE}={session}", "Origin": "http://testserver"})
    assert r.status_code == 401 and r.json()["detail"].startswith("Start a session with a token")


def test_idle_sessions_end_and_use_keeps_them_alive(api):
    idle, _ = sign_in(api)
    set_row(api, idle, last_seen_at=utcnow() - timedelta(hours=8, minutes=1))
    assert as_browser(api, idle).json() == {"detail": ENDED}

    busy, _ = sign_in(api)
    set_row(api, busy, last_seen_at=utcnow() - timedelta(hours=7, minutes=59))
    assert as_browser(api, busy).status_code == 200  # just in time: and now seen again
    with session_scope(api.services.app) as s:
        assert utcnow() - s.get(BrowserSession, hash_token(busy)).last_seen_at < timedelta(minutes=1)


def test_sessions_end_at_their_absolute_expiry(api):
    session, _ = sign_in(api)
    set_row(api, session, expires_at=utcnow() - timedelta(seconds=1))
    r = as_browser(api, session)
    assert r.status_code == 401 and r.json() == {"detail": ENDED}


def test_revoking_the_token_ends_its_sessions(api):
    token_id, token = issue_token(api.services.app, "victor", "browser")
    r = api.with_token(token).post("/auth/session")
    session = r.cookies[COOKIE]
    assert as_browser(api, session).status_code == 200
    assert api.admin.delete(f"/admin/tokens/{token_id}").status_code == 200
    assert as_browser(api, session).status_code == 401


def test_ended_sessions_are_deleted_a_day_later_when_someone_signs_in(api):
    """Signed out, expired or idle more than a day ago: the rows go at the next sign-in (anyone's);
    ended within the day, or live: they stay, and the live one still signs in."""
    long_ago = utcnow() - timedelta(days=1, minutes=1)
    signed_out, expired, idle, just_ended, live = (sign_in(api)[0] for _ in range(5))
    victors, _ = sign_in(api, "victor")
    assert api.anon.delete("/auth/session", headers={"Cookie": f"{COOKIE}={signed_out}"}).status_code == 200
    assert api.anon.delete("/auth/session", headers={"Cookie": f"{COOKIE}={just_ended}"}).status_code == 200
    set_row(api, signed_out, revoked_at=long_ago)
    set_row(api, expired, expires_at=long_ago)
    set_row(api, victors, expires_at=long_ago)
    set_row(api, idle, last_seen_at=long_ago - timedelta(hours=8))
    set_row(api, just_ended, revoked_at=utcnow() - timedelta(hours=23))

    def kept() -> set[str]:
        with session_scope(api.services.app) as s:
            return set(s.scalars(select(BrowserSession.session_hash)))

    everyone = {signed_out, expired, idle, just_ended, live, victors}
    assert {hash_token(x) for x in everyone} <= kept()
    newest, _ = sign_in(api, "admin")
    assert not {hash_token(x) for x in (signed_out, expired, idle, victors)} & kept()
    assert {hash_token(x) for x in (just_ended, live, newest)} <= kept()
    assert as_browser(api, live, "/auth/session").json()["user_id"] == "maya"
    assert as_browser(api, newest, "/auth/session").json()["user_id"] == "admin"
    for gone in (signed_out, expired, idle, victors, just_ended):  # deleted or not: the same answer
        assert as_browser(api, gone).json() == {"detail": ENDED}


# -- API tokens with an expiry ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, delta",
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        (" 7D ", timedelta(days=7)),
        ("1h", timedelta(hours=1)),
    ],
)
def test_durations(text, delta):
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "30", "30m", "0d", "-1d", "1.5d", "d", "30 days", "99999d", "4000d"])
def test_bad_durations_say_what_to_write(text):
    with pytest.raises(ValueError) as e:
        parse_duration(text)
    assert "e.g. 30d or 12h" in str(e.value) or "more than ten years" in str(e.value)


def finkraft_token(api, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FINKRAFT_DATA_DIR": str(api.data_dir),
        "APP_DATABASE_URL": api.services.settings.app_url,
        "BUSINESS_DATABASE_URL": api.services.settings.business_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "token", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_finkraft_token_expires(api):
    r = finkraft_token(api, "maya", "--label", "month", "--expires", "30d")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("fk_") and "\n" not in token and r.stderr.startswith("expires ")
    with session_scope(api.services.app) as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one()
        assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    assert api.with_token(token).get("/tickets").status_code == 200
    r = finkraft_token(api, "maya", "--expires", "soon")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == (
        "error: --expires: 'soon' is not a duration: give a whole number of days or hours above zero, e.g. 30d or 12h."
    )


def test_an_expired_token_is_a_401_that_says_so(api):
    _, gone = issue_token(api.services.app, "maya", "old", expires_at=utcnow() - timedelta(minutes=5))
    r = api.with_token(gone).get("/tickets")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    detail = r.json()["detail"]
    assert detail.startswith("That token expired on ") and detail.endswith(
        " UTC; ask an Admin for a new one (POST /admin/tokens, or `finkraft token <user_id>`)."
    )
    # one in use when it expires stops working then (the token cache does not outlive it)
    _, brief = issue_token(api.services.app, "maya", "brief", expires_at=utcnow() + timedelta(seconds=2))
    assert api.with_token(brief).get("/tickets").status_code == 200
    time.sleep(2.2)
    r = api.with_token(brief).get("/tickets")
    assert r.status_code == 401 and r.json()["detail"].startswith("That token expired on ")
    forget_tokens()


def test_admin_issues_tokens_with_an_expiry(api):
    r = api.admin.post("/admin/tokens", json={"user_id": "victor", "label": "day", "expires": "24h"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["expires_at"] is not None and api.with_token(body["token"]).get("/tickets").status_code == 200
    listed = {t["token_id"]: t for t in api.admin.get("/admin/tokens").json()["tokens"]}
    assert listed[body["token_id"]]["expires_at"] == body["expires_at"]
    r = api.admin.post("/admin/tokens", json={"user_id": "victor", "expires": "forever"})
    invalid(
        r,
        "Invalid request: expires: 'forever' is not a duration: give a whole number of days or hours above zero, "
        "e.g. 30d or 12h.",
    )
    r = api.admin.post("/admin/tokens", json={"user_id": "victor"})
    assert r.status_code == 201 and r.json()["expires_at"] is None
