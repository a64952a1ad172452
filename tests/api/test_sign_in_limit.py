"""Guessing tokens gets nowhere: wrong tokens are counted per client address (server/ratelimit.py
FailedSignIns, the `limits` library), and past FINKRAFT_AUTH_FAILURE_LIMIT the address gets a 429 with
Retry-After for every token it has not used successfully just now, a right guess included."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.auth import forget_tokens, issue_token

from .conftest import running_api

NOT_VALID = "That token is not valid (unknown, revoked, or a dev token outside dev mode)."


def test_wrong_tokens_from_one_address_are_429_after_a_burst(tmp_path):
    with running_api(tmp_path, FINKRAFT_AUTH_FAILURE_LIMIT="3/minute") as api:
        _, fresh = issue_token(api.services.app, "maya", "guessable")
        assert api.with_token("fk_wrong").get("/tickets").json()["detail"] == NOT_VALID
        assert [api.with_token(f"fk_wrong{i}").get("/tickets").status_code for i in range(2)] == [401, 401]

        r = api.with_token("fk_wrong3").get("/tickets")
        assert r.status_code == 429, r.text
        wait = int(r.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert r.json() == {"detail": f"Too many failed sign-ins from your address. Try again in {wait} seconds."}

        # the right token, not used just now, is refused too: a guess that happens to be right gets nothing
        forget_tokens()
        r = api.with_token(fresh).get("/tickets")
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert api.with_token(fresh).post("/auth/session").status_code == 429

        # no token at all is no guess (a 401 as before), /health is open
        assert api.anon.get("/tickets").status_code == 401
        assert api.anon.get("/health").status_code == 200

        # another address has its own count
        other = TestClient(api.client.app, client=("192.0.2.7", 40000), raise_server_exceptions=False)
        r = other.get("/tickets", headers={"Authorization": f"Bearer {fresh}"})
        assert r.status_code == 200, r.text
        assert other.get("/tickets", headers={"Authorization": "Bearer fk_nope"}).status_code == 401
