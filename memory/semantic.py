"""Semantic memory: embeddings of turns, the FAISS index derived from them, and search.

The embedding rows (memory_embeddings) are the source of truth; the FAISS index (memory/index.py) is
derived: each (user, workspace) partition is loaded from the rows on first use and caught up before
every search, so a memory written by another process is found. Embedding runs on one background
worker thread per index (memory/embedding_worker.py), off the chat turn's critical path; `flush()`
waits for it. Search falls back to keyword overlap over recent turns when semantic memory is off or the model is unavailable.
"""

from __future__ import annotations

import atexit
import queue
import re
from functools import lru_cache
import threading
import weakref
from collections import OrderedDict
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from business_data.db import session_scope
from business_data.appdb import utcnow
from tools.rbac import Identity

from . import embedder
from .embedding_worker import EmbeddingWorker
from .episodic import EpisodicMemory
from .index import Partition, PartitionedIndex
from business_data.appdb import MemoryEmbedding, MemoryTurn

EMBED_TEXT_CHARS = 1_000
NAMES_EMBEDDED = 5  # a listing's first record keys that are names go into its embedding
CATCHUP_WINDOW_S = 60  # re-check rows created this recently (commits can land out of id order on PostgreSQL)
KEYWORD_SCAN = 300  # recent turns scanned by the keyword fallback
MAX_FETCH = 4_096  # widest over-fetch when exclude_thread / min_score / stale rows thin the hits out
SIGNATURES_KEPT = 50_000  # turns whose thread and text signature search keeps in process (a turn's text never changes)

_STOP = set(
    """a an and are as at be by can could did do does for from get give had has have how i if in into is it
its me my of on or our please show so than that the their them then there these they this those to too us was we
were what when where which who why will with would you your yours""".split()
)


_WORD = re.compile(r"[a-z0-9][a-z0-9\-]+")


def _tokens(text: str) -> frozenset[str]:
    return _read(text)[0]


@lru_cache(maxsize=4096)
def _read(text: str) -> tuple[frozenset[str], str]:
    """A turn's words (stop words out) and its text with spacing and case evened out. Kept per text: the
    keyword search reads up to KEYWORD_SCAN turns of a user on each new thread, mostly the same ones."""
    lowered = (text or "").lower()
    return frozenset(w for w in _WORD.findall(lowered) if w not in _STOP), _even(lowered)


def _even(text: str) -> str:
    """Text with spacing and case evened out: two turns saying the same thing compare equal."""
    return " ".join((text or "").lower().split())


def _key(identity: Identity) -> tuple[str, str]:
    return (identity.user_id, identity.workspace_id)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/-]{3,}[A-Za-z0-9]")


def identifiers(text: str) -> list[str]:
    """The record identifiers in a text ("INV-ACM-2610-00220", "GSTIN27AAACI1234F1Z5"): five or more
    characters with letters and digits, and a separator or no lower case ("5lakh", "covid19" are words)."""
    return [
        w
        for w in _NAME.findall(text or "")
        if any(c.isdigit() for c in w)
        and any(c.isalpha() for c in w)
        and (any(c in "-/_" for c in w) or not any(c.islower() for c in w))
    ]


def embedding_text(text: str, tool: str | None, params: dict | None, answer: dict | None = None) -> str:
    """What gets embedded for a turn. An answer: its typed payload's words (schema.answer.AnswerPayload
    `text`: a listing's record lines are not in it) and the first record keys that are names ("IndiSky
    Airlines"); an identifier such as an invoice number is found by exact match instead
    (`EpisodicMemory.turns_naming`): embedded, five of them were over half of an answer's tokens and
    found their listing first for one number in five. A question: its text. Either way, plus the tool's
    simple parameters. Nothing here reads the answer's rendered text back."""
    if answer is not None:
        keys = ((answer.get("records") or {}).get("keys") or [])[:NAMES_EMBEDDED]
        names = ", ".join(str(k) for k in keys if isinstance(k, str) and not identifiers(k))
        text = (answer.get("text") or "").strip() + (f"\n{names}" if names else "")
    else:
        text = (text or "").strip()
    if tool and params:
        extras = ", ".join(
            f"{k} {v}"
            for k, v in params.items()
            if k not in ("invoice_numbers", "limit") and isinstance(v, (str, int, float)) and not isinstance(v, bool)
        )
        if extras:
            text = f"{text} [{tool.replace('_', ' ')}: {extras}]"
    return text[:EMBED_TEXT_CHARS]


def _index_cap() -> int:
    """FINKRAFT_MEMORY_INDEX_CAP: how many of a user's newest turns each process keeps for semantic search."""
    from business_data.settings import get_settings

    return get_settings().memory_index_cap


class SemanticIndex(EmbeddingWorker):
    def __init__(self, episodic: EpisodicMemory, *, enabled: bool, dim: int = embedder.DIM):
        """Cheap: no model load, no database access."""
        self.episodic = episodic
        self.engine: Engine = episodic.engine
        self.enabled = bool(enabled)
        self.dim = dim
        self.index = PartitionedIndex(dim, cap=_index_cap())
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._cv = threading.Condition()
        self._worker: threading.Thread | None = None
        self._backfilled: set[tuple[str, str]] = set()
        self._sync_locks: dict[tuple[str, str], threading.Lock] = {}
        self._sync_locks_guard = threading.Lock()
        # turn id -> (thread id, hash of speaker and evened-out text): what search filters and de-duplicates by
        self._signatures: OrderedDict[int, tuple[str, int]] = OrderedDict()
        self._signatures_lock = threading.Lock()
        # SQLite (AUTOINCREMENT, one writer at a time) commits embedding rows in id order; PostgreSQL may not
        self._late_commits = self.engine.dialect.name != "sqlite"
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- writing ----------------------------------------------------------------------------------
    def add_turn(
        self,
        turn_id: int,
        identity: Identity,
        text: str,
        tool: str | None,
        params: dict | None,
        answer: dict | None = None,
    ) -> None:
        """Queue a new turn's embedding for the background worker (nothing to do when semantic memory is off)."""
        if self.enabled and (text or "").strip() and not embedder.failed():
            embed = embedding_text(text, tool, params, answer)
            self._enqueue([(turn_id, identity.user_id, identity.workspace_id, embed)])

    def forget_user(self, user_id: str) -> int:
        """Drop the user's index partitions (their rows are already deleted); returns the entries dropped."""
        with self.index.lock:
            n = self.index.drop_user(user_id)
        self._backfilled = {k for k in self._backfilled if k[0] != user_id}
        return n

    def forget_turns(self, identity: Identity, turn_ids: list[int]) -> int:
        """Drop these turns (already deleted) from the user's index partition; returns the entries dropped."""
        key = _key(identity)
        with self.index.lock:
            part = self.index.get(key)
            n = part.remove(turn_ids) if part is not None and turn_ids else 0
        self._drop(key, None, turn_ids)  # their search signatures
        return n

    def indexed(self, user_id: str) -> int:
        with self.index.lock:
            return sum(p.size for k, p in self.index.parts.items() if k[0] == user_id)

    # -- search -----------------------------------------------------------------------------------
    def search(
        self,
        identity: Identity,
        query: str,
        k: int = 5,
        exclude_thread: str | None = None,
        *,
        min_score: float | None = None,
        wait_for_model: bool = True,
    ) -> list[dict]:
        """Memories of this user in this workspace nearest in meaning to `query`, best first.

        Turns naming an identifier the query names (an invoice number: `identifiers`) come first,
        newest first, marked "match": "exact". Falls back to keyword matching over recent turns when
        semantic memory is off, the model can't load, or (wait_for_model=False) the model is still loading."""
        k = max(0, int(k))
        if not k or not (query or "").strip():
            return []
        named = self.episodic.turns_naming(identity, identifiers(query), k, exclude_thread)
        ids = {t["turn_id"] for t in named}
        found = self._search(identity, query, k + len(named), exclude_thread, min_score, wait_for_model)
        exact = [{**t, "score": 1.0, "match": "exact"} for t in named]
        return (exact + [h for h in found if h["turn_id"] not in ids])[:k]

    def _search(
        self,
        identity: Identity,
        query: str,
        k: int,
        exclude_thread: str | None,
        min_score: float | None,
        wait_for_model: bool,
    ) -> list[dict]:
        if self.enabled and not embedder.failed() and (wait_for_model or embedder.is_loaded()):
            try:
                q = embedder.encode([query])[0]
            except RuntimeError:
                q = None
            if q is not None:
                return self.search_vector(identity, q, k, exclude_thread, min_score=min_score)
        elif self.enabled and not embedder.failed():
            embedder.warm_async()
        return self.keyword_search(identity, query, k, exclude_thread)

    def search_vector(
        self,
        identity: Identity,
        vector: np.ndarray,
        k: int = 5,
        exclude_thread: str | None = None,
        *,
        min_score: float | None = None,
    ) -> list[dict]:
        """Nearest turns to a query vector, within the (user, workspace) partition only."""
        key = _key(identity)
        self.sync_partition(key)
        part = self.index.get(key)
        n = part.size if part else 0
        if not n or k <= 0:
            return []
        fetch = min(n, k * 2 + 8)
        while True:
            scores, found = self.index.search(key, vector, fetch)
            ids = [int(i) for i in found]
            sigs = self._signatures_of(identity, ids)
            stale = [i for i in ids if i not in sigs]
            if stale:  # deleted by another process (forget): heal the derived index
                self._drop(key, part, stale)
            chosen: list[tuple[float, int]] = []
            seen: set[int] = set()
            for score, tid in zip(scores.tolist(), ids):
                sig = sigs.get(tid)
                if sig is None or (exclude_thread is not None and sig[0] == str(exclude_thread)):
                    continue
                if min_score is not None and score < min_score:
                    continue
                if sig[1] in seen:
                    continue
                seen.add(sig[1])
                chosen.append((score, tid))
                if len(chosen) >= k:
                    break
            done = (
                len(chosen) >= k
                or fetch >= n
                or fetch >= MAX_FETCH
                or (min_score is not None and len(scores) and scores[-1] < min_score)
            )
            if done:
                rows = self.episodic.turns_by_id(identity, [tid for _, tid in chosen])
                gone = [tid for _, tid in chosen if tid not in rows]
                if not gone:
                    return [{**rows[tid], "score": round(float(score), 4)} for score, tid in chosen]
                self._drop(key, part, gone)  # deleted since their signature was kept: search again
                n = part.size if part is not None else 0
                if not n:
                    return []
                fetch = min(n, fetch)
                continue
            fetch = min(n, fetch * 4, MAX_FETCH)

    def _signatures_of(self, identity: Identity, ids: list[int]) -> dict[int, tuple[str, int]]:
        """(thread id, signature) of the given turns of this (user, workspace) that still exist. Kept ones
        come from memory; the rest are read in one query of short columns (the full rows are read only
        for the turns search returns, which also finds any deleted since)."""
        with self._signatures_lock:
            got = {i: sig for i in ids if (sig := self._signatures.get(i)) is not None}
        missing = [i for i in ids if i not in got]
        if missing:
            T = MemoryTurn.__table__.c
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(T.id, T.thread_id, T.speaker, T.text).where(
                        T.id.in_(missing), T.user_id == identity.user_id, T.workspace_id == identity.workspace_id
                    )
                ).all()
            new = {r.id: (str(r.thread_id), hash((r.speaker, _even(r.text)))) for r in rows}
            with self._signatures_lock:
                self._signatures.update(new)
                while len(self._signatures) > SIGNATURES_KEPT:
                    self._signatures.popitem(last=False)
            got.update(new)
        return got

    def _drop(self, key: tuple[str, str], part: Partition | None, ids: list[int]) -> None:
        with self.index.lock:
            if part is not None and part is self.index.get(key):
                part.remove(ids)
        with self._signatures_lock:
            for i in ids:
                self._signatures.pop(i, None)

    def keyword_search(self, identity: Identity, query: str, k: int, exclude_thread: str | None) -> list[dict]:
        """Recent turns sharing the most words with `query` (stop words ignored), newest first on ties."""
        want = _tokens(query)
        if not want:
            return []
        T = MemoryTurn
        with session_scope(self.engine) as s:
            q = select(T.id, T.speaker, T.text).where(
                T.user_id == identity.user_id, T.workspace_id == identity.workspace_id
            )
            if exclude_thread is not None:
                q = q.where(T.thread_id != str(exclude_thread))
            rows = s.execute(q.order_by(T.id.desc()).limit(KEYWORD_SCAN)).all()
        scored, seen = [], set()
        for rank, t in enumerate(rows):
            words, even = _read(t.text)
            overlap = len(want & words)
            if not overlap:
                continue
            sig = (t.speaker, even)
            if sig in seen:
                continue
            seen.add(sig)
            scored.append((overlap / len(want) - rank * 1e-6, t.id))  # ties: newer first
        scored.sort(key=lambda x: -x[0])
        top = scored[:k]
        full = self.episodic.turns_by_id(identity, [tid for _, tid in top])
        return [{**full[tid], "score": round(score, 4), "match": "keyword"} for score, tid in top if tid in full]

    # -- the derived index: load, catch up, backfill -----------------------------------------------
    def _sync_lock(self, key) -> threading.Lock:
        with self._sync_locks_guard:
            return self._sync_locks.setdefault(key, threading.Lock())

    def sync_partition(self, key: tuple[str, str]) -> None:
        """Load the partition on first use, then catch up with rows other processes (or our worker) wrote."""
        user_id, ws = key
        E = MemoryEmbedding.__table__.c
        with self._sync_lock(key):
            part = self.index.get(key)
            first = part is None
            watermark = part.max_row_id if part is not None else 0
            known = part.ids if part is not None else set()
            with self.engine.connect() as conn:
                cols = (E.id, E.turn_id, E.dim, E.vector)
                mine = (E.user_id == user_id, E.workspace_id == ws)
                if first:  # the newest `cap` only: older turns stay in the database (FINKRAFT_MEMORY_INDEX_CAP)
                    q = select(*cols).where(*mine)
                    cap = self.index.cap
                    rows: list[Any] = (
                        list(reversed(conn.execute(q.order_by(E.id.desc()).limit(cap)).all()))
                        if cap
                        else list(conn.execute(q.order_by(E.id)).all())
                    )
                else:
                    # one cheap id-only query: rows past the watermark, plus recent rows that may have committed
                    # late with a lower id (PostgreSQL sequences); vectors only for turns not indexed yet
                    newer = E.id > watermark
                    if self._late_commits:
                        newer = or_(newer, E.created_at >= utcnow() - timedelta(seconds=CATCHUP_WINDOW_S))
                    cand = conn.execute(select(E.id, E.turn_id).where(*mine, newer)).all()
                    new = [r.id for r in cand if r.turn_id not in known]
                    rows = []  # (typed above)
                    for i in range(0, len(new), 500):
                        rows += conn.execute(select(*cols).where(E.id.in_(new[i : i + 500]))).all()
            part = self.index.ensure(key)
            if rows:
                top = max(r.id for r in rows)
                rows = [r for r in rows if r.dim == self.dim]  # another model's vectors can't be compared
                with self.index.lock:
                    if rows:
                        vecs = np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(
                            len(rows), self.dim
                        )
                        part.add([r.turn_id for r in rows], vecs)
                    part.max_row_id = max(part.max_row_id, top)
        if first and self.enabled and key not in self._backfilled:
            self._backfilled.add(key)
            self._backfill(key)

    def _backfill(self, key: tuple[str, str]) -> int:
        """Queue embeddings for turns that have none (e.g. a process exited before its worker finished)."""
        user_id, ws = key
        with session_scope(self.engine) as s:
            have = select(MemoryEmbedding.turn_id).where(
                MemoryEmbedding.user_id == user_id, MemoryEmbedding.workspace_id == ws
            )
            rows = s.execute(
                select(MemoryTurn.id, MemoryTurn.text, MemoryTurn.tool, MemoryTurn.params, MemoryTurn.answer)
                .where(
                    MemoryTurn.user_id == user_id,
                    MemoryTurn.workspace_id == ws,
                    MemoryTurn.id.not_in(have),
                    MemoryTurn.text != "",
                )
                .order_by(MemoryTurn.id.desc())
                .limit(10_000)
            ).all()
        queued = self._queued_ids()
        items = [
            (r.id, user_id, ws, embedding_text(r.text, r.tool, r.params, r.answer)) for r in rows if r.id not in queued
        ]
        if items:
            self._enqueue(items)
        return len(items)

    def warm(self) -> None:
        """Start loading the embedding model in the background (server start-up); returns at once."""
        if self.enabled:
            embedder.warm_async()

    def stats(self) -> dict:
        with self._cv:
            pending = self._pending
        return {
            "semantic": self.enabled,
            "model_loaded": embedder.is_loaded(),
            "model_failed": embedder.failed(),
            "partitions": len(self.index.parts),
            "indexed": self.index.total(),
            "pending_embeddings": pending,
        }


def _flush_at_exit(ref) -> None:
    index = ref()
    if index is not None and index._pending:
        index.flush(timeout=10)
