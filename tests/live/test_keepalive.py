"""After an unexpected error the keep-alive connection keeps working (server/errors.py UnexpectedErrors):
Starlette's ServerErrorMiddleware re-raises after its 500, and uvicorn then closes the connection
under the client's next request. A real uvicorn on loopback, the app's own middleware stack."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from server.errors import BodySizeLimit, UnexpectedErrors, install_error_handlers

from ..conftest import free_port

pytestmark = pytest.mark.slow


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/ok")
    def ok():
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request):
        return {"bytes": len(await request.body())}

    app.add_middleware(BodySizeLimit, max_bytes=1000)
    app.add_middleware(UnexpectedErrors)
    return app


@pytest.fixture(scope="module")
def server():
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="critical"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)


def test_a_500_keeps_the_connection_open(server):
    peers = set()
    with httpx.Client(base_url=server, limits=httpx.Limits(max_connections=1)) as c:
        for _ in range(10):
            r = c.get(
                "/boom",
                extensions={
                    "trace": lambda name, info: (
                        peers.add(id(info.get("return_value"))) if name == "connection.connect_tcp.complete" else None
                    )
                },
            )
            assert r.status_code == 500
            body = r.json()
            assert body["detail"].startswith("Something went wrong on our side. Error id: ") and "secret" not in r.text
            assert r.headers.get("connection") != "close"
            assert c.get("/ok").json() == {"ok": True}
    assert len(peers) == 1  # one TCP connection served all 20 requests


def test_chunked_body_over_the_limit_is_413_on_a_real_socket(server):
    with socket.create_connection((server.split("//")[1].split(":")[0], int(server.rsplit(":", 1)[1]))) as s:
        s.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 600
        for _ in range(2):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        s.sendall(b"0\r\n\r\n")
        s.settimeout(10)
        reply = b""
        while b"}" not in reply:  # the JSON body may come in a later segment than the head
            part = s.recv(4096)
            if not part:
                break
            reply += part
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"The request body is too large (limit 1000 bytes)." in reply
