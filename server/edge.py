"""Checks at the edge, before any route (or LangServe) sees a request: text every store can keep, JSON
every handler can read, and a body that arrives in time.

- `InputCheck`: a NUL character or a lone surrogate in the path, the query or a JSON body is a 422
  on every route, the same on SQLite and PostgreSQL (PostgreSQL refuses NUL in text, UTF-8 cannot
  hold a lone surrogate, so neither could be stored nor echoed back). A body for `/agent/*` is parsed
  here once more, so that what LangServe would fail on is a 422 with the documented body: bytes that
  are not UTF-8, JSON nested deeper than MAX_DEPTH, an integer of more than MAX_INT_DIGITS digits,
  and request shapes LangServe does not check itself (`config` that is not an object, batch
  `inputs` that are not a list, `messages` that are not message objects).
- `BodyTimeout`: a body that stops arriving (a Content-Length larger than what is sent) is a 408
  after `seconds` instead of a connection held open for ever.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import invalid_request

MAX_DEPTH = 32  # the deepest a request needs: {"inputs": [{"messages": [{"content": ...}]}]} is 4
MAX_INT_DIGITS = 20  # a 64-bit integer has at most 19 (the stores keep nothing larger)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TURN_ROUTES = frozenset({"invoke", "stream", "stream_events", "stream_log"})

# what a JSON body must hold for a NUL or a lone surrogate to be in it: both can only be written as
# \u escapes (a raw NUL byte is not valid JSON text, a raw surrogate is not valid UTF-8)
SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
SURROGATE = re.compile("[\ud800-\udfff]")
NUL_MSG = "contains a NUL character (\\u0000), which text may not hold"
SURROGATE_MSG = "is not valid Unicode text: it has a lone surrogate (\\ud800-\\udfff)"


class _BigInt:
    """An integer literal too long to parse (Python refuses past 4300 digits): reported by where it is."""

    def __init__(self, digits: int):
        self.digits = digits


def _parse_int(text: str) -> int | _BigInt:
    digits = len(text.lstrip("-"))
    return _BigInt(digits) if digits > MAX_INT_DIGITS else int(text)


def _problem(loc: list, msg: str, kind: str = "value_error") -> dict:
    return {"loc": loc, "msg": msg, "type": kind}


def text_problem(value: str, loc: list) -> dict | None:
    if "\x00" in value:
        return _problem(loc, NUL_MSG)
    if SURROGATE.search(value):
        return _problem(loc, SURROGATE_MSG)
    return None


def printable(text: str) -> str:
    """Text with NUL and lone surrogates written as escapes (\\u0000, \\ud800): safe to send back."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def walk(value: Any, loc: list, depth: int = 0, max_depth: int = MAX_DEPTH) -> dict | None:
    """The first problem in a parsed JSON value: text no store can keep, a number too long, nesting too deep."""
    if isinstance(value, str):
        return text_problem(value, loc)
    if isinstance(value, _BigInt):
        return _problem(loc, f"is a number too large to keep ({value.digits} digits; at most 64 bits)")
    if isinstance(value, dict | list):
        if depth >= max_depth:
            return _problem(loc, f"is nested too deeply; JSON may be at most {max_depth} levels deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (problem := text_problem(key, [*loc, printable(key)])):
                return problem  # (the key named as escapes: it could not be sent back as it is)
            if problem := walk(item, [*loc, key], depth + 1, max_depth):
                return problem
    return None


def parse(body: bytes) -> tuple[Any, dict | None]:
    """The body as JSON, or the problem with it (a body that is not JSON at all: None, None for the
    route's own parser to report, unless it is not UTF-8 text)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, _problem(["body"], "the body is not UTF-8 text (JSON must be UTF-8)", "json_invalid")
    try:
        return json.loads(text, parse_int=_parse_int), None
    except RecursionError:
        return None, _problem(["body"], f"the JSON is nested too deeply; at most {MAX_DEPTH} levels", "json_invalid")
    except ValueError:
        return None, _problem(["body"], "the body is not valid JSON", "json_invalid")


def url_problem(scope: Scope) -> dict | None:
    if "\x00" in scope.get("path", ""):
        return _problem(["path"], f"the address {NUL_MSG}")
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return _problem(["query", name.replace("\x00", "")], NUL_MSG)
    return None


def agent_shape(route: str, body: Any) -> dict | None:
    """What LangServe takes on trust and then fails on (a 500): the shape of its request bodies."""
    if not isinstance(body, dict):
        return _problem(["body"], 'the body must be a JSON object, e.g. {"input": {...}}', "model_type")
    config = body.get("config")
    if route == "batch":
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            return _problem(["body", "inputs"], 'must be a list of inputs, e.g. [{"messages": [...]}]', "list_type")
        if "config" in body and not (
            isinstance(config, dict) or (isinstance(config, list) and all(isinstance(c, dict) for c in config))
        ):
            return _problem(["body", "config"], "must be an object, or a list of objects (one per input)", "dict_type")
        for i, value in enumerate(inputs):
            if problem := messages_shape(value, ["body", "inputs", i]):
                return problem
        return None
    if "config" in body and not isinstance(config, dict):
        return _problem(
            ["body", "config"], 'must be an object, e.g. {"configurable": {"thread_id": "t1"}}', "dict_type"
        )
    return messages_shape(body.get("input"), ["body", "input"])


def messages_shape(value: Any, loc: list) -> dict | None:
    if not isinstance(value, dict) or "messages" not in value:
        return None
    messages = value["messages"]
    example = '{"type": "human", "content": "..."}'
    if not isinstance(messages, list):
        return _problem([*loc, "messages"], f"must be a list of messages like {example}", "list_type")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            return _problem([*loc, "messages", i], f"must be a message object like {example}", "dict_type")
    return None


def body_problem(path: str, body: bytes) -> dict | None:
    if path.startswith("/agent/"):
        parsed, problem = parse(body)
        if problem is not None:
            return problem
        return walk(parsed, ["body"]) or agent_shape(path.rstrip("/").rsplit("/", 1)[-1], parsed)
    if not SUSPECT.search(body):
        return None  # the usual case: no \u escape that could hold a NUL or a surrogate
    parsed, problem = parse(body)
    return None if problem is not None else walk(parsed, ["body"], max_depth=100)  # (the route reports bad JSON)


class InputCheck:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if problem := url_problem(scope):
            return await invalid_request([problem])(scope, receive, send)
        path = scope.get("path", "")
        is_turn = path.startswith("/agent/") and path.rstrip("/").rsplit("/", 1)[-1] in (TURN_ROUTES | {"batch"})
        if scope.get("method") not in BODY_METHODS or (path.startswith("/agent/") and not is_turn):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and (problem := body_problem(path, body)):
            return await invalid_request([problem])(scope, receive, send)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: a disconnect, for a streaming answer

        await self.app(scope, replay, send)


class BodyTimeout:
    """408 when the next part of a request body takes longer than `seconds` to arrive."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body_done, timed_out, started = False, False, False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()  # waiting for a disconnect while streaming: no limit
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                timed_out = True
                raise _BodyTimedOut() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out and not started:
                return  # whatever the app made of the missing body, the answer is the 408
            started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except _BodyTimedOut:
            pass
        if timed_out and not started:
            body = (
                f'{{"detail": "The request body did not arrive within {self.seconds:g} seconds '
                f'(is Content-Length larger than the body?)."}}'
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 408,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class _BodyTimedOut(Exception):
    pass
