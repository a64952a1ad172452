"""Every conversation reachable: GET /threads paged, searched by name and text, grouped by day in the
workspace's time zone; rename; DELETE /threads/{id} forgets it (turns, result references,
embeddings, index entries, checkpoint, name). Only the owner can touch it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from business_data import clock
from business_data.appdb import MemoryEmbedding, MemoryTurn, ThreadTitle
from business_data.db import session_scope

from graph.checkpointers import default_checkpointer
from graph.runs import checkpoint_thread

from ..helpers import chat


def turns_of(api, user: str, thread: str) -> int:
    with session_scope(api.services.app) as s:
        q = (
            select(func.count())
            .select_from(MemoryTurn)
            .where(MemoryTurn.user_id == user, MemoryTurn.thread_id == thread)
        )
        return s.scalar(q)


def threads_of(api, user: str) -> int:
    with session_scope(api.services.app) as s:
        q = select(func.count(func.distinct(MemoryTurn.thread_id))).where(MemoryTurn.user_id == user)
        return s.scalar(q)


def test_paged_searched_and_grouped(api):
    chat(api.maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "conv-indisky")
    chat(api.maya, "show my tickets", "conv-tickets")
    chat(api.maya, "total sales by region this year", "conv-sales")
    total = threads_of(api, "maya")
    first = api.maya.get("/threads", params={"limit": 2}).json()
    assert first["total"] == total and len(first["threads"]) == min(2, total)
    assert first["threads"][0]["thread_id"] == "conv-sales"  # newest first
    assert first["threads"][0]["group"] == "Today"
    seen = [t["thread_id"] for t in first["threads"]]
    offset = first["next_offset"]
    while offset is not None:
        page = api.maya.get("/threads", params={"limit": 2, "offset": offset}).json()
        seen += [t["thread_id"] for t in page["threads"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == total  # every conversation reachable, once
    # search by text (any case) and by name
    found = api.maya.get("/threads", params={"q": "REGION"}).json()
    assert [t["thread_id"] for t in found["threads"]] == ["conv-sales"] and found["total"] == 1
    assert api.maya.patch("/threads/conv-tickets", json={"title": "Quarter-end follow-up"}).status_code == 200
    found = api.maya.get("/threads", params={"q": "quarter-END"}).json()
    assert [(t["thread_id"], t["title"]) for t in found["threads"]] == [("conv-tickets", "Quarter-end follow-up")]
    assert api.maya.get("/threads", params={"q": "100%_"}).json()["threads"] == []  # wildcards are literal
    assert api.gita.get("/threads", params={"q": "region"}).json()["threads"] == []  # not hers
    assert api.maya.get("/threads", params={"limit": 0}).status_code == 422
    assert api.maya.get("/threads", params={"q": "x" * 201}).status_code == 422
    # only the owner renames: for anyone else it does not exist, and the name stays
    for other in (api.victor, api.gita):
        assert other.patch("/threads/conv-tickets", json={"title": "mine now"}).status_code == 404
    assert (
        api.maya.get("/threads", params={"q": "quarter-end"}).json()["threads"][0]["title"] == "Quarter-end follow-up"
    )


def test_day_groups_in_the_workspace_time_zone():
    from server.threads import day_group

    today = clock.today()
    midnight = clock.now().replace(hour=0, minute=30, second=0, microsecond=0)
    assert day_group(midnight.isoformat(), today) == "Today"
    assert day_group((midnight - timedelta(hours=1)).isoformat(), today) == "Yesterday"
    assert day_group((midnight - timedelta(days=5)).isoformat(), today) == "Previous 7 days"
    assert day_group((midnight - timedelta(days=9)).isoformat(), today) == "Older"
    # 00:30 in Kolkata is the previous evening in UTC: still today for the user
    assert day_group(midnight.astimezone(clock.zone("UTC")).isoformat(), today) == "Today"


def test_delete_forgets_the_conversation(api):
    body = chat(api.maya, "Filter invoices for last month, vendor=IndiSky, status=failed", "conv-delete")
    assert body["data"]["results"]
    api.maya.patch("/threads/conv-delete", json={"title": "To be deleted"})
    assert api.services.memory.flush(60)
    assert turns_of(api, "maya", "conv-delete") >= 2
    maya = api.services.identity("maya")
    saver = default_checkpointer(api.services.settings)
    assert list(saver.list({"configurable": {"thread_id": checkpoint_thread(maya, "conv-delete")}}))
    # only the owner: another user (and another workspace) gets a 404, and nothing is deleted
    for other in (api.victor, api.gita):
        r = other.delete("/threads/conv-delete")
        assert r.status_code == 404 and r.json()["detail"] == "No conversation 'conv-delete' in your history."
    assert turns_of(api, "maya", "conv-delete") >= 2
    r = api.maya.delete("/threads/conv-delete")
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["turns"] >= 2
    with session_scope(api.services.app) as s:
        assert turns_of(api, "maya", "conv-delete") == 0
        assert (
            s.scalar(select(func.count()).select_from(ThreadTitle).where(ThreadTitle.thread_id == "conv-delete")) == 0
        )
        ids = set(s.scalars(select(MemoryTurn.id)))
        orphans = s.scalar(select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.turn_id.not_in(ids)))
        assert orphans == 0
    assert api.maya.get("/threads/conv-delete").status_code == 404
    assert "conv-delete" not in {t["thread_id"] for t in api.maya.get("/threads").json()["threads"]}
    assert api.maya.delete("/threads/conv-delete").status_code == 404
    # nothing of it is left to refer to: no result references in the thread, no saved graph state
    maya = api.services.identity("maya")
    assert api.services.memory.last_result_sets(maya, 5, "conv-delete", with_keys=False) == []
    saver = default_checkpointer(api.services.settings)
    assert list(saver.list({"configurable": {"thread_id": checkpoint_thread(maya, "conv-delete")}})) == []
    assert api.maya.delete("/threads/bad id!").status_code in (404, 422)
