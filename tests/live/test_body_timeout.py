"""A request body that stops arriving is answered 408 after FINKRAFT_BODY_TIMEOUT (server/edge.py
BodyTimeout), instead of holding the connection (and a worker's attention) for ever: `finkraft serve`
(real uvicorn) on loopback, spoken to over a raw socket, since no HTTP client sends a short body."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from ..conftest import TOKENS, LiveServer

pytestmark = pytest.mark.slow
TIMEOUT_S = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(
        tmp_path_factory.mktemp("body-timeout"),
        env={"FINKRAFT_SEMANTIC_MEMORY": "false", "FINKRAFT_BODY_TIMEOUT": str(TIMEOUT_S)},
    ).start()
    yield srv
    srv.stop()


def exchange(
    server: LiveServer, head: bytes, parts: list[tuple[float, bytes]], wait: float = 15
) -> tuple[bytes, float]:
    """Send `head`, then each part after its pause; the whole answer (until the server closes or a
    JSON body ends) and how long after the head it came."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head)
        start = time.monotonic()
        for pause, part in parts:
            time.sleep(pause)
            s.sendall(part)
        s.settimeout(wait)
        reply = b""
        while not reply.rstrip().endswith(b"}"):
            part = s.recv(4096)
            if not part:
                break
            reply += part
        return reply, time.monotonic() - start


def post(path: str, length: int, token: str | None = TOKENS["maya"]) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("path", ["/chat", "/agent/invoke", "/execute_tool"])
def test_a_body_shorter_than_its_content_length_is_a_408(server, path):
    reply, took = exchange(server, post(path, 100), [(0, b'{"message":')])
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]
    assert (
        b'{"detail": "The request body did not arrive within 2 seconds (is Content-Length larger than the body?)."}'
        in reply
    )
    assert TIMEOUT_S - 0.5 <= took < TIMEOUT_S + 5, took


def test_no_body_at_all_is_a_408_signed_in_or_not(server):
    reply, _ = exchange(server, post("/chat", 50, token=None), [])
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]


def test_a_body_that_keeps_coming_is_not_cut_off(server):
    body = b'{"message": "show my tickets", "thread_id": "slow-body"}'
    pieces = [(TIMEOUT_S * 0.6, body[i : i + 20]) for i in range(0, len(body), 20)]  # > TIMEOUT_S in all
    reply, took = exchange(server, post("/chat", len(body)), pieces, wait=60)
    assert took > TIMEOUT_S
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]


def test_the_server_keeps_answering(server):
    exchange(server, post("/chat", 100), [])
    r = httpx.post(
        server.url + "/chat",
        json={"message": "show my tickets", "thread_id": "after-408"},
        headers={"Authorization": f"Bearer {TOKENS['maya']}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
