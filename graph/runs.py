"""One way to run the graph for a person: the run config (thread, identity, trace recorder) and the
durability every caller passes. /chat (server/conversation.py), LangServe (server/agent_routes.py)
and plans (graph/templates/plans.py) all build their runs here.

    config, recorder = traced_run(app_engine, identity, thread_id, request)
    out = await graph.ainvoke(graph_input, config, durability=DURABILITY)
    await recorder.afinish()
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config

from tools.rbac import Identity

from .context import configurable
from .tracing import TraceRecorder

log = logging.getLogger("finkraft.graph")

# Checkpoints are written when a run ends or pauses for a question, not after every step: the same
# resumable threads at a fifth of the cost (measured: ~8 ms per turn instead of ~40 ms).
DURABILITY = "exit"


def checkpoint_thread(identity: Identity, thread_id: str) -> str:
    """Client thread ids are per user: the same id from two users never meets in the checkpointer."""
    return f"{identity.workspace_id}/{identity.user_id}/{thread_id}"


def run_config(
    identity: Identity,
    thread_id: str,
    recorder: TraceRecorder | None = None,
    run_id: uuid.UUID | None = None,
    *,
    checkpoint_thread_id: str | None = None,
    template_request: dict[str, Any] | None = None,
    tool_call: dict[str, Any] | None = None,
    base: RunnableConfig | None = None,
) -> RunnableConfig:
    """The config of one run for `identity` in the client's thread `thread_id`.

    configurable: the checkpoint thread (per user, unless `checkpoint_thread_id` names it, as plans
    do), the user id (nodes look up role and workspace from it), the client's thread id (memory's
    thread), for plans the template to run, and for POST /chat's `tool_call` the call to run instead of
    reading the message. Whatever `base` (e.g. LangServe's config) carried in
    `configurable` is replaced. `recorder` joins the callbacks; `run_id` becomes the root run's id
    (and so the trace id)."""
    conf = configurable(
        identity.user_id,
        thread_id,
        template_request=template_request,
        tool_call=tool_call,
        turn=recorder,
        checkpoint_thread=checkpoint_thread_id or checkpoint_thread(identity, thread_id),
    )
    config: RunnableConfig = dict(base or {})  # type: ignore[assignment]
    if recorder is not None:
        callbacks = config.get("callbacks")
        if isinstance(callbacks, list) or callbacks is None:
            callbacks = [*(callbacks or []), recorder]
        else:  # a callback manager
            callbacks = callbacks.copy()
            callbacks.add_handler(recorder, inherit=True)
        config = patch_config(config, callbacks=cast(Any, callbacks))  # (a fresh root: drops run_name / run_id)
        if run_id is None and base is not None and base.get("run_id"):
            run_id = uuid.UUID(str(base["run_id"]))  # e.g. LangServe's run id: it becomes the trace id
    config["configurable"] = conf
    if run_id is not None:
        config["run_id"] = run_id
    return config


def traced_run(
    app_engine, identity: Identity, thread_id: str, request: str, *, run_id: uuid.UUID | None = None, **options: Any
) -> tuple[RunnableConfig, TraceRecorder]:
    """A run config with a fresh trace recorder attached (the trace names the client's thread;
    options as for run_config)."""
    recorder = TraceRecorder(
        app_engine, user_id=identity.user_id, workspace_id=identity.workspace_id, thread_id=thread_id, request=request
    )
    return run_config(identity, thread_id, recorder, run_id, **options), recorder


def _pruned_thread(checkpointer, config: RunnableConfig) -> str | None:
    thread = ((config or {}).get("configurable") or {}).get("thread_id")
    return str(thread) if checkpointer is not None and thread else None


async def aprune_thread(checkpointer, config: RunnableConfig) -> None:
    """After a turn: the thread keeps only its latest checkpoint (with an open question's pending
    writes), so it does not grow with every turn (graph/checkpointers.py). Never fails a turn."""
    if (thread := _pruned_thread(checkpointer, config)) is None or getattr(checkpointer, "prunes_on_put", False):
        return
    try:
        await checkpointer.aprune([thread])
    except NotImplementedError:
        pass
    except Exception:  # noqa: BLE001 - e.g. two turns of one thread at once on PostgreSQL; the next prune catches up
        log.warning("could not prune checkpoints of thread %s", thread, exc_info=True)


def prune_thread(checkpointer, config: RunnableConfig) -> None:
    """aprune_thread for sync callers."""
    if (thread := _pruned_thread(checkpointer, config)) is None:
        return
    try:
        checkpointer.prune([thread])
    except NotImplementedError:
        pass
    except Exception:  # noqa: BLE001
        log.warning("could not prune checkpoints of thread %s", thread, exc_info=True)
