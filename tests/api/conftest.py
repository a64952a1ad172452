"""In-process API tests: `server.app.create_app(settings, services)` on seeded services in a temporary
data dir, driven through Starlette's TestClient. Entering the client runs the app's lifespan
(migrations, dev tokens, the async checkpointer, the compiled graph), exactly as `finkraft serve`
does, without a subprocess or a socket.

One app per test module (`api`), shared by its tests: tests use their own thread ids and assert
on what they created themselves, so they do not depend on each other's writes or order.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ..conftest import TOKENS, make_services


class As:
    """Requests as one caller through the shared client: their bearer token on every request (none
    for an anonymous caller), and no cookies carried from one request to the next."""

    def __init__(self, client: TestClient, token: str | None):
        self.client, self.token = client, token

    def request(self, method: str, url: str, **kw):
        headers = dict(kw.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        try:
            return self.client.request(method, url, headers=headers, **kw)
        finally:
            self.client.cookies.clear()  # a Set-Cookie (POST /auth/session) must not sign in later requests

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.request("POST", url, **kw)

    def patch(self, url: str, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw):
        return self.request("DELETE", url, **kw)


class Api:
    """A running app: `api.maya.post(...)`, `api.anon.get(...)`, `api.with_token(t)`, and the
    `services` and `data_dir` behind it."""

    def __init__(self, client: TestClient, services, data_dir: Path):
        self.client, self.services, self.data_dir = client, services, data_dir
        self.anon = As(client, None)
        for user, token in TOKENS.items():
            setattr(self, user, As(client, token))

    def with_token(self, token: str) -> As:
        return As(self.client, token)


@contextmanager
def running_api(data_dir: Path, **settings) -> Iterator[Api]:
    """create_app on seeded services in `data_dir` (settings as environment names, e.g.
    FINKRAFT_ENV="prod"); the lifespan runs for the duration of the block. Several apps may share one
    data dir (the same databases), as several server processes would."""
    from server.app import create_app

    env = {
        "FINKRAFT_ENV": "dev",
        "FINKRAFT_RATE_LIMIT": "100000/minute",
        "FINKRAFT_AUTH_FAILURE_LIMIT": "100000/minute",
        **settings,
    }
    services = make_services(data_dir, **env)
    # raise_server_exceptions=False: an unexpected error reaches the test as the 500 a client gets
    with TestClient(create_app(services.settings, services), raise_server_exceptions=False) as client:
        yield Api(client, services, data_dir)


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    with running_api(tmp_path_factory.mktemp("api")) as running:
        yield running


def no_traceback(response) -> None:
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text


def invalid(response, detail: str) -> list[dict]:
    """A 422 as server/responses.py ValidationProblem: `detail` is this sentence and `errors` lists each
    problem as {loc, msg, type} (and nothing else). Returns the errors."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"] == detail, body
    assert body["errors"], body
    for e in body["errors"]:
        assert set(e) == {"loc", "msg", "type"} and isinstance(e["loc"], list) and e["msg"], e
    return body["errors"]
