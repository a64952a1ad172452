"""LangServe at /agent: invoke, batch, stream, stream_events, playground.

The client chooses `config.configurable.thread_id`; everything else about who is calling
comes from the bearer token (per_req_config_modifier overwrites the rest). An input of
{"resume": value} answers a pending confirmation (Command(resume=value)).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, cast
from collections.abc import AsyncIterator, Iterator

from fastapi import Depends, FastAPI, HTTPException, Request
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import ensure_config
from langchain_core.runnables.utils import ConfigurableFieldSpec
from langserve import add_routes
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from starlette.concurrency import run_in_threadpool

from graph.builder import graph_input
from graph.runs import DURABILITY, aprune_thread, prune_thread, run_config, traced_run
from graph.tracing import TraceRecorder
from schema.answer import AnswerPayload
from schema.interpretation import Interpretation


from .conversation import THREAD_ID, failures_told, is_waiting, refuse_unsaved_write
from .deps import IdentityDep, RateLimiterDep, ServicesDep, current_identity
from .errors import Invalid
from .logs import log_context
from .metrics import record_unsaved
from .ratelimit import enforce_rate_limit
from .schemas import MAX_MESSAGE_CHARS, plain_json


# what a message from a client may carry; the rest (additional_kwargs, tool_calls, response_metadata ...)
# is dropped: the graph keeps its own history, so a client's copy of those is never used
MESSAGE_FIELDS = ("type", "content", "id", "name")
Answer = StrictBool | Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]


class AgentInput(BaseModel):
    """{"messages": [...]} for a new turn, or {"resume": "yes"} to answer a pending confirmation."""

    messages: list[HumanMessage | AIMessage | SystemMessage] = Field(default_factory=list, max_length=100)
    resume: Answer | dict[Annotated[str, Field(max_length=20)], Answer] | None = Field(
        None,
        description="only to answer the question this thread waits on: yes or no",
        json_schema_extra=lambda schema: _without_null(schema),
    )

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        plain_json(data)
        msgs = data.get("messages")
        if isinstance(msgs, list):
            data = {**data, "messages": [_client_message(m, i) for i, m in enumerate(msgs)]}
        return data


def _without_null(schema: dict) -> None:
    """`resume` may be null (or left out), but the schema says only what to send: the playground's form
    builder (JSON Forms) stops at `{"type": "null"}` ("Unknown type") and shows a blank page. The text
    answer goes last: the playground shows an `anyOf` as its last choice (a text box for "yes")."""
    options = [{**s, "title": "Resume"} for s in schema.get("anyOf", []) if s.get("type") != "null"]
    schema["anyOf"] = sorted(options, key=lambda s: s.get("type") == "string")
    schema.pop("default", None)


def _client_message(m: Any, i: int) -> Any:
    if not isinstance(m, dict):
        return m
    m = {k: m[k] for k in MESSAGE_FIELDS if k in m}
    content = m.get("content")
    if not isinstance(content, str):
        raise ValueError(f"messages.{i}.content must be text")
    m["content"] = content.strip()
    if len(m["content"]) > MAX_MESSAGE_CHARS:
        raise ValueError(f"messages.{i}.content has {len(m['content'])} characters; the limit is {MAX_MESSAGE_CHARS}")
    for key in ("id", "name"):
        if m.get(key) is not None and (not isinstance(m[key], str) or len(m[key]) > 100):
            raise ValueError(f"messages.{i}.{key} must be text of at most 100 characters")
    return m


class AgentOutput(BaseModel):
    """The graph's state after the turn; `answer` is the typed answer (the same as POST /chat's)."""

    model_config = ConfigDict(extra="allow")

    answer: AnswerPayload | None = Field(None, description="the answer typed: words, tables, chart, next actions")
    response: str | None = Field(None, description="the answer in plain words")
    interpretation: Interpretation | None = None


class AgentEndpoint(RunnableSerializable[dict, dict]):
    """The compiled graph, plus input mapping and a trace recorder on every run."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    state: Any  # the FastAPI app.state: graph and services are set by the lifespan

    @property
    def graph(self):
        return self.state.graph

    @property
    def services(self):
        return self.state.services

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return [
            ConfigurableFieldSpec(
                id="thread_id",
                annotation=str,
                name="Thread ID",
                default="default",
                description="Your conversation thread; turns in the same thread share context.",
            )
        ]

    def get_input_schema(self, config: RunnableConfig | None = None):
        return AgentInput

    def get_output_schema(self, config: RunnableConfig | None = None):
        return AgentOutput

    def _prepare(self, value: Any, config: RunnableConfig | None) -> tuple[Any, RunnableConfig, TraceRecorder]:
        """The graph's input, and the run config with a trace recorder (reads the app database:
        async callers run it in the thread pool)."""
        config = ensure_config(config)
        conf = config.get("configurable") or {}
        if not conf.get("user_id"):
            raise PermissionError("no authenticated user in config")
        answer = answer_in(value)
        if isinstance(value, BaseModel):
            value = value.model_dump()
        value = value or {}
        msgs = value.get("messages") or []
        graph_in = graph_input({"resume": answer} if answer is not None else {"messages": msgs})
        if answer is not None:
            request = f"(reply) {answer}"
        else:
            last = msgs[-1] if msgs else None
            request = str(
                getattr(last, "content", None) or (last.get("content") if isinstance(last, dict) else last or "")
            )
        identity = self.services.identity(conf["user_id"])
        config, recorder = traced_run(
            self.services.app, identity, conf.get("client_thread_id") or "default", str(request), base=config
        )
        if config.get("run_id"):
            log_context()["trace_id"] = uuid.UUID(str(config["run_id"])).hex
        return graph_in, config, recorder

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs) -> dict:
        graph_input, run, _ = self._prepare(input, config)
        out = self.graph.invoke(graph_input, run, durability=DURABILITY)
        prune_thread(self.graph.checkpointer, run)
        return out

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs) -> dict:
        if answer_in(input) is not None:  # /agent/batch (the other routes checked in _per_request)
            conf = ensure_config(config).get("configurable") or {}
            await refuse_idle_resume(self.graph, ensure_config(config), str(conf.get("client_thread_id") or "default"))
        graph_input, run, recorder = await run_in_threadpool(self._prepare, input, config)
        async with failures_told(recorder):
            out = await self.graph.ainvoke(graph_input, run, durability=DURABILITY)
        await self._finish(recorder, run)
        refuse_unsaved_write(out, recorder)  # a write the full disk refused: 507, as on /chat
        return out

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs) -> Iterator[dict]:
        graph_input, run, _ = self._prepare(input, config)
        yield from self.graph.stream(graph_input, run, stream_mode="updates", durability=DURABILITY)
        prune_thread(self.graph.checkpointer, run)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs) -> AsyncIterator[dict]:
        graph_input, run, recorder = await run_in_threadpool(self._prepare, input, config)
        async with failures_told(recorder):
            async for chunk in self.graph.astream(graph_input, run, stream_mode="updates", durability=DURABILITY):
                yield chunk
        await self._finish(recorder, run)

    # (takes LangChain's keyword options as **kwargs and hands them on: a narrower signature than Runnable's)
    async def astream_events(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs
    ) -> AsyncIterator:
        graph_input, run, recorder = await run_in_threadpool(self._prepare, input, config)
        async with failures_told(recorder):
            async for event in self.graph.astream_events(graph_input, run, **{**kwargs, "durability": DURABILITY}):
                yield event
        await self._finish(recorder, run)

    async def _finish(self, recorder: TraceRecorder, config: RunnableConfig) -> None:
        """The trace and the turn's memory (one transaction), then the thread's older checkpoints go."""
        await recorder.afinish()
        record_unsaved(recorder)
        await aprune_thread(self.graph.checkpointer, config)


def answer_in(value: Any) -> Any:
    """The answer an input carries (`resume`), or None: a new turn. An empty text box is no answer."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    answer = value.get("resume") if isinstance(value, dict) else None
    return None if answer is None or (isinstance(answer, str) and not answer.strip()) else answer


async def refuse_idle_resume(graph: Any, config: RunnableConfig, client_thread: str) -> None:
    """An answer to a question nobody asked is refused (409) instead of silently returning the last state."""
    if not await is_waiting(graph, config):
        raise HTTPException(
            409,
            f"Nothing to answer: no question is waiting for a yes or no in thread "
            f"'{client_thread}'. Send {{\"messages\": [...]}} to ask something new.",
        )


def _valid_or_none(value: Any) -> AgentInput | None:
    """The input, when valid (else LangServe answers 422 with the reason, after this)."""
    try:
        return AgentInput.model_validate(value)
    except ValueError:  # pydantic's ValidationError included
        return None


async def _per_request(config: dict, request: Request) -> dict:
    identity = getattr(request.state, "identity", None)
    if identity is None:  # the route dependency always sets it; never run unauthenticated
        raise HTTPException(401, "Sign in first: send 'Authorization: Bearer <token>'.")
    client_thread = str((config.get("configurable") or {}).get("thread_id") or "default")
    if not THREAD_ID.match(client_thread):
        raise Invalid(
            ("body", "config", "configurable", "thread_id"),
            "thread_id may use letters, digits and _ . : - (at most 100)",
        )
    run = run_config(identity, client_thread, base=cast(RunnableConfig, config))  # replaces the client's configurable
    body = await request.json()  # (LangServe has read it already: a cached copy)
    if isinstance(body, dict) and answer_in(_valid_or_none(body.get("input"))) is not None:
        # checked here, before a stream starts: a stream could only report it as a 500 event
        # (/agent/batch: AgentEndpoint.ainvoke checks each input)
        await refuse_idle_resume(request.app.state.graph, run, client_thread)
    return cast(dict, run)


# what /openapi.json lists for LangServe's routes besides what their dependencies imply (server/openapi.py)
TURNS = ("invoke", "batch", "stream", "stream_events", "stream_log")
# (None: not this one; the config hash in /agent/c/{config_hash}/... is decoded, never looked up: a 400, not a 404)
IDLE_RESUME: dict[int, str | None] = {409: "`resume` with no question waiting in the thread"}
# invoke and batch answer after the turn: a write the full disk refused is a 507 (a stream has begun by then)
FULL_DISK: dict[int, str | None] = {507: "The server is out of disk space: the turn's write was not saved"}
INVOKE: dict[int, str | None] = {**IDLE_RESUME, **FULL_DISK}
BATCH: dict[int, str | None] = {
    **INVOKE,
    413: "The body is too large, or the batch has more than FINKRAFT_MAX_BATCH_INPUTS inputs",
    429: "Too many requests: each input counts as one (see Retry-After)",
}
_TURN_ERRORS = {"invoke": INVOKE, "batch": BATCH}
CONFIG_HASH: dict[int, str | None] = {400: "Invalid config hash", 404: None}
OPENAPI_ERRORS: dict[str, dict[int, str | None]] = {
    **{f"/agent/{route}": _TURN_ERRORS.get(route, IDLE_RESUME) for route in TURNS},
    **{f"/agent/c/{{config_hash}}/{route}": {**_TURN_ERRORS.get(route, IDLE_RESUME), **CONFIG_HASH} for route in TURNS},
    **{f"/agent/c/{{config_hash}}/{name}_schema": CONFIG_HASH for name in ("input", "output", "config")},
}


async def check_body(request: Request, identity: IdentityDep, services: ServicesDep, limiter: RateLimiterDep) -> None:
    """Before LangServe reads the body (Starlette keeps it: LangServe reads the same one):
    - `kwargs` (LangServe passes them to nothing: "Currently ignored") must be absent or `{}`: a
      client that sends some is told so (422) rather than have them silently dropped;
    - /agent/batch runs one turn per input: at most `max_batch_inputs` of them (413 beyond), and each
      counts against the caller's rate limit (the request itself already counted one).
    A body that is not JSON is left to LangServe's own 422."""
    if request.method != "POST":
        return
    try:
        body = await request.json()
    except ValueError:
        return
    if isinstance(body, dict) and body.get("kwargs") not in (None, {}):
        raise Invalid(
            ("body", "kwargs"),
            "'kwargs' is not supported on /agent; leave it out or send {} "
            "(the thread goes in config.configurable.thread_id)",
        )
    if request.url.path.endswith("/batch"):
        await _batch_budget(body, services, limiter, request)


async def _batch_budget(body: Any, services, limiter, request: Request) -> None:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        return
    cap = services.settings.max_batch_inputs
    if len(inputs) > cap:
        raise HTTPException(
            413, f"A batch may hold at most {cap} inputs; this one has {len(inputs)}. Send them in smaller batches."
        )
    n = len(inputs)
    if n > 1 and limiter is not None:
        if n > limiter.item.amount:
            raise HTTPException(
                429,
                f"Too many requests: a batch of {n} inputs counts as {n} requests and the limit "
                f"is {limiter.item}. Send fewer at a time.",
            )
        await run_in_threadpool(
            enforce_rate_limit,
            limiter,
            request.state.rate_key,
            n - 1,
            f"a batch of {n} inputs counts as {n} requests",
        )


def mount_agent(app: FastAPI) -> None:
    add_routes(
        app,
        AgentEndpoint(state=app.state),
        path="/agent",
        enabled_endpoints=[
            "invoke",
            "batch",
            "stream",
            "stream_events",
            "stream_log",
            "playground",
            "config_hashes",
            "input_schema",
            "output_schema",
            "config_schema",
        ],
        per_req_config_modifier=_per_request,
        dependencies=[Depends(current_identity), Depends(check_body)],
    )
