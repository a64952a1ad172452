"""Episodic memory: each conversation's turns and their result references, in the application database.

A turn is written synchronously (memory_turns); its embedding is the semantic index's business
(memory/semantic.py). Result references (what a turn found: tool, dataset, record keys, filter,
ticket, export) are what "these", "the same for X" and "that report" resolve against.
"""

from __future__ import annotations

import json
from functools import lru_cache
from collections.abc import Iterator
from typing import Any, TypedDict, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, func, insert, or_, select
from sqlalchemy.engine import Engine

from business_data.db import session_scope
from business_data.appdb import utcnow
from tools.rbac import Identity

from business_data.appdb import MemoryEmbedding, MemoryTurn
from .narrate import iso

_TURNS = cast(Table, MemoryTurn.__table__)
_INSERT_TURN = insert(_TURNS).returning(_TURNS.c.id)  # built once; values come with each execute

SPEAKERS = ("user", "assistant")
NAMING_SCAN = 5_000  # latest turns of a caller searched for an identifier by exact match
MAX_TEXT = 20_000


def jsonable(value: Any) -> Any:
    """Dates, sets, pydantic values... -> plain JSON (what the JSON column can store)."""
    if value is None:
        return None
    return json.loads(
        json.dumps(value, default=lambda o: list(o) if isinstance(o, (set, frozenset, tuple)) else str(o))
    )


def turn_dict(t) -> dict:
    """A turn (ORM row or Core row) as the dict every caller sees."""
    return {
        "turn_id": t.id,
        "thread_id": t.thread_id,
        "speaker": t.speaker,
        "text": t.text,
        "tool": t.tool,
        "params": t.params,
        "result_ref": t.result_ref,
        "importance": t.importance,
        "created_at": iso(t.created_at),
    }


class ResultRef(TypedDict):
    """What one turn found, as "these", "the same for X" and "that report" resolve against it."""

    turn_id: int
    thread_id: str
    created_at: str | None  # ISO 8601, UTC
    tool: str | None  # the tool whose result it is
    dataset: str | None
    keys: list[Any]  # the record keys (empty when read with with_keys=False, or for a ticket or an export)
    keys_complete: bool  # False: more records matched than were kept; `query` / `params` define the set
    query: dict[str, Any] | None  # the semantic query behind the result (tools/semantic.py)
    params: dict[str, Any]  # the tool's parameters
    ticket_id: str | None  # the ticket it created or changed
    export_id: str | None  # the export it made
    text: str  # the turn's words


def result_dict(t) -> ResultRef:
    """A result reference (ORM row or Core row) as the record every caller sees."""
    ref = t.result_ref or {}
    return {
        "turn_id": t.id,
        "thread_id": t.thread_id,
        "created_at": iso(t.created_at),
        "tool": ref.get("tool") or t.tool,
        "dataset": ref.get("dataset"),
        "keys": list(ref.get("keys") or []),
        "keys_complete": ref.get("keys_complete", True),
        "query": ref.get("query"),
        "params": dict(ref.get("params") or {}),
        "ticket_id": ref.get("ticket_id"),
        "export_id": ref.get("export_id"),
        "text": t.text,
    }


def _mine(identity: Identity):
    return (MemoryTurn.user_id == identity.user_id) & (MemoryTurn.workspace_id == identity.workspace_id)


# the reads of a new thread's first turn, built once (bind parameters: user_id, workspace_id, ...);
# OWN_TURNS is "this caller's turns", bound by caller_params (memory/context.py reads with them too)
_C = _TURNS.c
_COLUMNS = (_C.id, _C.thread_id, _C.speaker, _C.text, _C.tool, _C.params, _C.result_ref, _C.importance, _C.created_at)
OWN_TURNS = (_C.user_id == bindparam("user_id"), _C.workspace_id == bindparam("workspace_id"))
_RECENT = (
    select(*_COLUMNS)
    .where(*OWN_TURNS, _C.thread_id == bindparam("thread_id"))
    .order_by(_C.id.desc())
    .limit(bindparam("limit"))
)


def caller_params(identity: Identity) -> dict[str, str]:
    """The bind parameters of a statement read within the caller's (user, workspace)."""
    return {"user_id": identity.user_id, "workspace_id": identity.workspace_id}


@lru_cache(maxsize=8)
def _results_query(in_thread: bool, with_keys: bool, paged: bool):
    """Result references newest first: a page (`page`) of them, in one thread (`thread_id`) or all,
    with record keys only or not, before a turn id (`before`) or from the newest."""
    q = select(_C.id, _C.thread_id, _C.tool, _C.text, _C.result_ref, _C.created_at).where(
        *OWN_TURNS, _C.result_ref.is_not(None)
    )
    if in_thread:
        q = q.where(_C.thread_id == bindparam("thread_id"))
    if with_keys:
        # "+ 0": keep the planner on (user_id, workspace_id, id) read backwards (stops after a page); an
        # index led by n_keys makes SQLite collect and sort every matching row (57 ms vs 2 ms at 1k turns)
        q = q.where((_C.n_keys + 0) > 0)
    if paged:
        q = q.where(_C.id < bindparam("before"))
    return q.order_by(_C.id.desc()).limit(bindparam("page"))


class EpisodicMemory:
    """Turns of one application database, always read within one (user, workspace)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def record(
        self,
        *,
        identity: Identity,
        thread_id: str,
        speaker: str,
        text: str,
        tool: str | None = None,
        params: dict | None = None,
        result_ref: dict | None = None,
        importance: float = 0.5,
        session=None,
        answer: dict | None = None,
    ) -> int:
        """Write one turn (in `session`'s transaction when given, else in its own); returns its id."""
        if speaker not in SPEAKERS:
            raise ValueError(f"speaker must be one of {SPEAKERS}, not {speaker!r}")
        if not thread_id:
            raise ValueError("thread_id is required")
        text = (text or "")[:MAX_TEXT]
        ref = jsonable(result_ref)
        if ref is not None and not isinstance(ref, dict):
            raise ValueError("result_ref must be a dict")
        # a plain INSERT ... RETURNING (no ORM unit of work: this runs twice on every turn)
        values = {
            "thread_id": str(thread_id),
            "user_id": identity.user_id,
            "workspace_id": identity.workspace_id,
            "speaker": speaker,
            "text": text,
            "tool": tool,
            "params": jsonable(params),
            "result_ref": ref,
            "answer": answer,  # JSON already (graph/answer.py dumps it in JSON mode): no second round trip
            "n_keys": len((ref or {}).get("keys") or []),
            "importance": float(max(0.0, min(1.0, importance))),
            "created_at": utcnow(),
        }
        if session is not None:
            return session.execute(_INSERT_TURN, values).scalar_one()
        with session_scope(self.engine) as s:
            return s.execute(_INSERT_TURN, values).scalar_one()

    def recent_turns(self, identity: Identity, thread_id: str, limit: int = 10) -> list[dict]:
        """The thread's last `limit` turns, oldest first."""
        with self.engine.connect() as conn:  # Core, not ORM: this is on the first turn of every thread
            rows = conn.execute(
                _RECENT, {**caller_params(identity), "thread_id": str(thread_id), "limit": max(0, int(limit))}
            ).all()
        return [turn_dict(t) for t in reversed(rows)]

    def thread_turns(self, identity: Identity, thread_id: str, limit: int = 50) -> list[dict]:
        """The thread's last `limit` turns, oldest first, each with its typed answer (to draw it again)."""
        q = _RECENT.add_columns(_C.answer)
        with self.engine.connect() as conn:
            rows = conn.execute(
                q, {**caller_params(identity), "thread_id": str(thread_id), "limit": max(0, int(limit))}
            ).all()
        return [{**turn_dict(t), "answer": t.answer} for t in reversed(rows)]

    def turns_naming(
        self, identity: Identity, names: list[str], limit: int, exclude_thread: str | None = None
    ) -> list[dict]:
        """The caller's latest turns (of the last NAMING_SCAN) whose text holds one of `names`
        (identifiers such as invoice numbers, any case: a question about one, an answer that listed
        it), newest first. The text, not the result's kept keys: those are up to 1,000 a turn, and
        scanning them took 0.6-0.8 s on PostgreSQL for a user with 2,500 large results."""
        if not names or limit <= 0:
            return []
        # SQLite's LIKE ignores ASCII case already; ILIKE elsewhere
        holds = _C.text.contains if self.engine.dialect.name == "sqlite" else _C.text.icontains
        latest = select(_C.id).where(*OWN_TURNS).order_by(_C.id.desc()).limit(NAMING_SCAN).scalar_subquery()
        q = select(*_COLUMNS).where(*OWN_TURNS, _C.id.in_(latest), or_(*(holds(n, autoescape=True) for n in names)))
        if exclude_thread is not None:
            q = q.where(_C.thread_id != str(exclude_thread))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(_C.id.desc()).limit(int(limit)), caller_params(identity)).all()
        return [turn_dict(r) for r in rows]

    def list_threads(
        self,
        identity: Identity,
        limit: int = 100,
        offset: int = 0,
        *,
        text: str | None = None,
        also: list[str] | None = None,
    ) -> list[dict]:
        """The user's conversations, newest first: thread id, turns, first and last time, first request.
        `text`: only threads with a turn containing it (any case), or listed in `also` (e.g. by title)."""
        T = MemoryTurn
        with session_scope(self.engine) as s:
            rows = s.execute(
                self._threads_query(identity, text, also)
                .order_by(func.max(T.id).desc())
                .offset(max(0, int(offset)))
                .limit(max(1, int(limit)))
            ).all()
            firsts = dict(s.execute(select(T.id, T.text).where(T.id.in_([r[2] for r in rows]))).all())
        return [
            {
                "thread_id": r[0],
                "turns": r[1],
                "started_at": iso(r[4]),
                "last_at": iso(r[5]),
                "first_message": (firsts.get(r[2]) or "")[:200],
            }
            for r in rows
        ]

    def count_threads(self, identity: Identity, *, text: str | None = None, also: list[str] | None = None) -> int:
        with session_scope(self.engine) as s:
            return int(
                s.scalar(select(func.count()).select_from(self._threads_query(identity, text, also).subquery())) or 0
            )

    @staticmethod
    def _threads_query(identity: Identity, text: str | None, also: list[str] | None):
        T = MemoryTurn
        q = select(
            T.thread_id, func.count(), func.min(T.id), func.max(T.id), func.min(T.created_at), func.max(T.created_at)
        ).where(_mine(identity))
        if text:
            hits = select(T.thread_id).where(
                _mine(identity), func.lower(T.text).contains(text.lower(), autoescape=True)
            )
            q = q.where(or_(T.thread_id.in_(hits), T.thread_id.in_(list(also or []))))
        return q.group_by(T.thread_id)

    def forget_thread(self, identity: Identity, thread_id: str) -> dict:
        """Delete one conversation's turns (with their result references) and the embeddings made from
        them, in one transaction; the turn ids, for the index."""
        T = MemoryTurn
        with session_scope(self.engine) as s:
            ids = list(s.scalars(select(T.id).where(_mine(identity), T.thread_id == str(thread_id))))
            if not ids:
                return {"turns": 0, "embeddings": 0, "turn_ids": []}
            n_emb = cast(
                CursorResult, s.execute(delete(MemoryEmbedding).where(MemoryEmbedding.turn_id.in_(ids)))
            ).rowcount
            n_turns = cast(CursorResult, s.execute(delete(T).where(T.id.in_(ids)))).rowcount
        return {"turns": n_turns, "embeddings": n_emb, "turn_ids": ids}

    def last_result_sets(
        self, identity: Identity, limit: int = 5, thread_id: str | None = None, *, with_keys: bool = True
    ) -> list[ResultRef]:
        """Result references, newest first (across threads unless thread_id). with_keys=False also
        returns references with no record keys (ticket created, export made)."""
        out: list[ResultRef] = []
        for r in self.iter_results(identity, thread_id, with_keys=with_keys, page=max(1, limit)):
            out.append(r)
            if len(out) >= limit:
                break
        return out

    def iter_results(
        self,
        identity: Identity,
        thread_id: str | None = None,
        *,
        with_keys: bool = True,
        page: int = 5,
        scan: int = 500,
    ) -> Iterator[ResultRef]:
        """Result references newest first, read a page at a time (references can carry 10k keys each)."""
        params = caller_params(identity) | ({"thread_id": str(thread_id)} if thread_id is not None else {})
        before, seen = None, 0
        while seen < scan:
            stmt = _results_query(thread_id is not None, with_keys, before is not None)
            with self.engine.connect() as conn:  # Core, not ORM: the first turn of every thread reads these
                rows = conn.execute(stmt, params | {"before": before, "page": page}).all()
            for t in rows:
                yield result_dict(t)
            seen += len(rows)
            if len(rows) < page:
                return
            before = rows[-1].id
            page = min(page * 4, 100)

    def turns_by_id(self, identity: Identity, ids: list[int]) -> dict[int, dict]:
        """The given turns that belong to this (user, workspace), by id."""
        if not ids:
            return {}
        T = MemoryTurn.__table__.c
        with self.engine.connect() as conn:  # Core, not ORM: this is on every search
            rows = conn.execute(
                select(
                    T.id, T.thread_id, T.speaker, T.text, T.tool, T.params, T.result_ref, T.importance, T.created_at
                ).where(T.id.in_(ids), T.user_id == identity.user_id, T.workspace_id == identity.workspace_id)
            ).all()
        return {r.id: turn_dict(r) for r in rows}

    def forget(self, user_id: str) -> dict:
        """Delete all of the user's turns and the embeddings made from them (every workspace), in one transaction."""
        with session_scope(self.engine) as s:
            thread_ids = sorted(s.scalars(select(MemoryTurn.thread_id).where(MemoryTurn.user_id == user_id).distinct()))
            n_emb = cast(
                CursorResult, s.execute(delete(MemoryEmbedding).where(MemoryEmbedding.user_id == user_id))
            ).rowcount
            n_turns = cast(CursorResult, s.execute(delete(MemoryTurn).where(MemoryTurn.user_id == user_id))).rowcount
        return {"turns": n_turns, "embeddings": n_emb, "thread_ids": thread_ids}

    def count(self, user_id: str) -> dict:
        """Turns and embeddings the database holds for this user (all workspaces)."""
        with session_scope(self.engine) as s:
            turns = s.scalar(select(func.count()).select_from(MemoryTurn).where(MemoryTurn.user_id == user_id))
            embs = s.scalar(select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.user_id == user_id))
        return {"turns": turns, "embeddings": embs}
