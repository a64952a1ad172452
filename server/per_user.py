"""The reference architecture's per-user paths, served over the project's own memory and tools:

- GET  /memory/{user_id}/search?query=&limit=         (= GET /memory/search?q=&k=)
- POST /memory/{user_id}/threads/{thread_id}/activate  (the thread's turns, title, pending question, last result)
- GET  /memory/{user_id}/insights                      (usage patterns, frequent requests, open items)
- GET  /tickets/{user_id}                              (= GET /tickets as that user; served by the
  /tickets/{ticket_id} route in server/resources.py, which tells the two apart by shape: `tickets_of`)

`{user_id}` must be the caller, or anyone for an Admin (server/deps.py `user_in_path`); anything else
is 403, whether or not that user exists. The caller's data is read as that user's own (their
current workspace), exactly as their own requests would read it.
"""

from __future__ import annotations

import re
from typing import cast

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from graph.runs import checkpoint_thread
from tools.rbac import Identity
from tools.registry import run_tool
from tools.results import TicketsData
from tools.toolnames import VIEW_TICKETS

from .conversation import pending_question
from .deps import GraphDep, PathUserDep, ServicesDep, user_in_path
from .errors import raise_for_tool_result
from .responses import EXACT, ThreadActivated, UserMemorySearch, problems
from schema.memory import MemoryInsights
from .threads import with_titles

router = APIRouter(tags=["memory"], responses=problems(403, _403="Another user's (only an Admin may see them)"))

# the shape of a user id (server/schemas.py NewUser, plus the 1-letter ones)
USER_ID = re.compile(r"^[a-z0-9_.-]{1,64}$")
RECENT_THREADS = 20  # threads checked for a pending question by /insights
THREAD_ID = Path(..., max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$", description="your conversation id")


def _config(identity: Identity, thread_id: str) -> dict:
    return {"configurable": {"thread_id": checkpoint_thread(identity, thread_id), "checkpoint_ns": ""}}


@router.get("/memory/{user_id}/search", response_model=UserMemorySearch, **EXACT)
def search(
    user: PathUserDep,
    services: ServicesDep,
    query: str = Query(..., min_length=1, max_length=500),
    limit: int = Query(5, ge=1, le=50),
):
    """Search that user's past conversation (semantic when the model is loaded, else by keywords), best first."""
    return {"user_id": user.user_id, "query": query, "results": services.memory.search(user, query, limit)}


@router.post("/memory/{user_id}/threads/{thread_id}/activate", response_model=ThreadActivated, **EXACT)
async def activate(
    user: PathUserDep,
    services: ServicesDep,
    graph: GraphDep,
    thread_id: str = THREAD_ID,
    turns: int = Query(20, ge=1, le=500, description="how many of its last turns to return"),
):
    """Pick a conversation up: its last turns, its title, the question it waits on (if any) and what
    "these" refers to in it. A thread is chosen per request (`thread_id` on /chat and /agent), so
    nothing changes on the server: continue it by sending its `thread_id`."""
    recent = await run_in_threadpool(services.memory.recent_turns, user, thread_id, turns)
    question = await pending_question(graph, _config(user, thread_id))
    if not recent and question is None:
        raise HTTPException(404, f"No conversation '{thread_id}' in {user.user_id}'s history.")
    last = await run_in_threadpool(services.memory.last_result_sets, user, 1, thread_id, with_keys=False)
    titled = await run_in_threadpool(with_titles, services.app, user, [{"thread_id": thread_id}])
    result = None
    if last:
        r = last[0]
        result = {
            "tool": r["tool"],
            "dataset": r["dataset"],
            "records": len(r["keys"]),
            "ticket_id": r["ticket_id"],
            "export_id": r["export_id"],
            "created_at": r["created_at"],
        }
    return {
        "user_id": user.user_id,
        "thread_id": thread_id,
        "title": titled[0]["title"],
        "turns": recent,
        "awaiting_confirmation": question is not None,
        "question": question,
        "last_result": result,
        "continue_with": (
            f'POST /chat {{"message": "yes" or "no", "thread_id": "{thread_id}"}}'
            if question
            else f'POST /chat {{"message": "...", "thread_id": "{thread_id}"}}'
        ),
    }


@router.get("/memory/{user_id}/insights", response_model=MemoryInsights, **EXACT)
async def insights(user: PathUserDep, services: ServicesDep, graph: GraphDep):
    """Usage patterns (tools, vendors, datasets), frequent requests (the same tool with the same
    parameters) and open items (open tickets, unread notifications, questions waiting for yes or no)."""
    found = await run_in_threadpool(services.memory.insights, user)
    threads = await run_in_threadpool(services.memory.list_threads, user, RECENT_THREADS)
    waiting = []
    for t in threads:
        if (question := await pending_question(graph, _config(user, t["thread_id"]))) is not None:
            waiting.append({"thread_id": t["thread_id"], "question": question})
    found["open_items"]["awaiting_confirmation"] = waiting
    return found


def is_user_id(segment: str) -> bool:
    return bool(USER_ID.fullmatch(segment))


def tickets_of(services, identity: Identity, user_id: str, status: str | None) -> dict:
    """GET /tickets/{user_id}: the tickets that user sees, as GET /tickets answers them (their own;
    every ticket when that user is an Admin)."""
    user = user_in_path(services, identity, user_id, "tickets")
    result = run_tool(VIEW_TICKETS, {"status": status} if status else {}, services.tool_context(user))
    raise_for_tool_result(result)
    tickets = cast(TicketsData, result.data)["tickets"]
    return {"user_id": user.user_id, "tickets": tickets, "count": len(tickets)}
