"""MemoryStore: episodic memory (turns), semantic memory (embeddings + FAISS) and entity resolution.

Sources of truth live in the application database (memory_turns, memory_embeddings, tickets,
notifications, exports). The FAISS index is derived: each (user, workspace) partition is loaded from
memory_embeddings on first use and caught up before every search, so a memory written by another
process is found. Embedding runs on one background worker thread per store, off the chat turn's
critical path; `flush()` waits for it.
"""
from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import threading
import time
import weakref
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from business_data.appdb import (MEMORY_TABLES, Export, MemoryEmbedding, MemoryTurn, Notification, Ticket,
                                 TicketSubscription, utcnow)
from business_data.db import session_scope
from tools.rbac import Identity
from tools.tickets import ticket_dict

from . import embedder
from .index import PartitionedIndex
from .narrate import aware, describe_result, iso, ticket_about, welcome_line, when

log = logging.getLogger(__name__)

SPEAKERS = ("user", "assistant")
MAX_TEXT = 20_000
EMBED_TEXT_CHARS = 1_000
BATCH = 64
CATCHUP_WINDOW_S = 60     # re-check rows created this recently (commits can land out of id order on PostgreSQL)
RELATED_MIN_SCORE = 0.35  # cosine similarity below which a memory is not "related"
KEYWORD_SCAN = 300        # recent turns scanned by the keyword fallback
MAX_FETCH = 4_096         # widest over-fetch when exclude_thread / min_score / stale rows thin the hits out
_REF_ALIASES = {"records": "records", "invoices": "records", "rows": "records", "ticket": "ticket", "tickets": "ticket",
                "report": "report", "export": "report", "file": "report", "filter": "filter", "params": "filter"}
_NOT_FILTERS = {"invoice_numbers", "limit", "format", "title", "ticket_id", "workspace"}

_STOP = set("""a an and are as at be by can could did do does for from get give had has have how i if in into is it
its me my of on or our please show so than that the their them then there these they this those to too us was we
were what when where which who why will with would you your yours""".split())


def _tokens(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9][a-z0-9\-]+", (text or "").lower()) if w not in _STOP}


def _jsonable(value: Any) -> Any:
    """Dates, sets, pydantic values... -> plain JSON (what the JSON column can store)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=lambda o: list(o) if isinstance(o, (set, frozenset, tuple)) else str(o)))


def _key(identity: Identity) -> tuple[str, str]:
    return (identity.user_id, identity.workspace_id)


def _ticket_id(value: str) -> str | None:
    v = str(value).strip().upper()
    if v.isdigit():
        return f"T-{int(v):05d}"
    return v if re.fullmatch(r"T-\d{1,10}", v) else None


class MemoryStore:
    def __init__(self, app_engine: Engine, *, semantic: bool | None = None, dim: int = embedder.DIM):
        """Cheap: no model load, no database access. semantic=None follows settings.semantic_memory."""
        if semantic is None:
            from business_data.settings import get_settings
            semantic = get_settings().semantic_memory
        self.engine = app_engine
        self.semantic = bool(semantic)
        self.dim = dim
        self.index = PartitionedIndex(dim)
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._cv = threading.Condition()
        self._worker: threading.Thread | None = None
        self._backfilled: set[tuple[str, str]] = set()
        self._sync_locks: dict[tuple[str, str], threading.Lock] = {}
        self._sync_locks_guard = threading.Lock()
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- schema -----------------------------------------------------------------------------------
    def init_schema(self) -> None:
        from business_data.appdb import AppBase
        AppBase.metadata.create_all(self.engine, tables=MEMORY_TABLES)

    # -- episodic memory --------------------------------------------------------------------------
    def record_turn(self, *, identity: Identity, thread_id: str, speaker: str, text: str, tool: str | None = None,
                    params: dict | None = None, result_ref: dict | None = None, importance: float = 0.5) -> int:
        """Write the turn now (synchronously); its embedding is queued for the background worker."""
        if speaker not in SPEAKERS:
            raise ValueError(f"speaker must be one of {SPEAKERS}, not {speaker!r}")
        if not thread_id:
            raise ValueError("thread_id is required")
        text = (text or "")[:MAX_TEXT]
        ref = _jsonable(result_ref)
        if ref is not None and not isinstance(ref, dict):
            raise ValueError("result_ref must be a dict")
        with session_scope(self.engine) as s:
            row = MemoryTurn(thread_id=str(thread_id), user_id=identity.user_id, workspace_id=identity.workspace_id,
                             speaker=speaker, text=text, tool=tool, params=_jsonable(params),
                             result_ref=ref, n_keys=len((ref or {}).get("keys") or []), importance=float(max(0.0, min(1.0, importance))),
                             created_at=utcnow())
            s.add(row)
            s.flush()
            turn_id = row.id
        if self.semantic and text.strip() and not embedder.failed():
            self._enqueue([(turn_id, identity.user_id, identity.workspace_id, _embedding_text(text, tool, params))])
        return turn_id

    def recent_turns(self, identity: Identity, thread_id: str, limit: int = 10) -> list[dict]:
        """The thread's last `limit` turns, oldest first."""
        with session_scope(self.engine) as s:
            rows = list(s.scalars(
                select(MemoryTurn).where(MemoryTurn.user_id == identity.user_id,
                                         MemoryTurn.workspace_id == identity.workspace_id,
                                         MemoryTurn.thread_id == str(thread_id))
                .order_by(MemoryTurn.id.desc()).limit(max(0, int(limit)))))
        return [_turn_dict(t) for t in reversed(rows)]

    def list_threads(self, identity: Identity, limit: int = 100) -> list[dict]:
        """The user's conversations, newest first: thread id, turns, first and last time, first request."""
        with session_scope(self.engine) as s:
            mine = (MemoryTurn.user_id == identity.user_id) & (MemoryTurn.workspace_id == identity.workspace_id)
            rows = s.execute(
                select(MemoryTurn.thread_id, func.count(), func.min(MemoryTurn.id), func.max(MemoryTurn.id),
                       func.min(MemoryTurn.created_at), func.max(MemoryTurn.created_at))
                .where(mine).group_by(MemoryTurn.thread_id)
                .order_by(func.max(MemoryTurn.id).desc()).limit(max(1, int(limit)))).all()
            firsts = dict(s.execute(select(MemoryTurn.id, MemoryTurn.text).where(MemoryTurn.id.in_([r[2] for r in rows]))).all())
        return [{"thread_id": r[0], "turns": r[1], "started_at": iso(r[4]), "last_at": iso(r[5]),
                 "first_message": (firsts.get(r[2]) or "")[:200]} for r in rows]

    def last_result_sets(self, identity: Identity, limit: int = 5, thread_id: str | None = None, *,
                         with_keys: bool = True) -> list[dict]:
        """Result references, newest first (across threads unless thread_id). with_keys=False also
        returns references with no record keys (ticket created, export made)."""
        out = []
        for r in self._iter_results(identity, thread_id, with_keys=with_keys, page=max(1, limit)):
            out.append(r)
            if len(out) >= limit:
                break
        return out

    def _iter_results(self, identity: Identity, thread_id: str | None = None, *, with_keys: bool = True,
                      page: int = 5, scan: int = 500):
        """Result references newest first, read a page at a time (references can carry 10k keys each)."""
        T = MemoryTurn
        q = select(T).where(T.user_id == identity.user_id, T.workspace_id == identity.workspace_id,
                            T.result_ref.is_not(None))
        if thread_id is not None:
            q = q.where(T.thread_id == str(thread_id))
        if with_keys:
            # "+ 0": keep the planner on (user_id, workspace_id, id) read backwards (stops after a page); an
            # index led by n_keys makes SQLite collect and sort every matching row (57 ms vs 2 ms at 1k turns)
            q = q.where((T.n_keys + 0) > 0)
        before, seen = None, 0
        while seen < scan:
            qq = q if before is None else q.where(T.id < before)
            with session_scope(self.engine) as s:
                rows = list(s.scalars(qq.order_by(T.id.desc()).limit(page)))
            for t in rows:
                yield _result_dict(t)
            seen += len(rows)
            if len(rows) < page:
                return
            before = rows[-1].id
            page = min(page * 4, 100)

    # -- semantic memory --------------------------------------------------------------------------
    def search(self, identity: Identity, query: str, k: int = 5, exclude_thread: str | None = None, *,
               min_score: float | None = None, wait_for_model: bool = True) -> list[dict]:
        """Memories of this user in this workspace nearest in meaning to `query`, best first.

        Falls back to keyword matching over recent turns when semantic memory is off, the model can't
        load, or (wait_for_model=False) the model is still loading."""
        k = max(0, int(k))
        if not k or not (query or "").strip():
            return []
        if self.semantic and not embedder.failed() and (wait_for_model or embedder.is_loaded()):
            try:
                q = embedder.encode([query])[0]
            except RuntimeError:
                q = None
            if q is not None:
                return self.search_vector(identity, q, k, exclude_thread, min_score=min_score)
        elif self.semantic and not embedder.failed():
            embedder.warm_async()
        return self._keyword_search(identity, query, k, exclude_thread)

    def search_vector(self, identity: Identity, vector: np.ndarray, k: int = 5, exclude_thread: str | None = None, *,
                      min_score: float | None = None) -> list[dict]:
        """Nearest turns to a query vector, within the (user, workspace) partition only."""
        key = _key(identity)
        self._sync_partition(key)
        part = self.index.get(key)
        n = part.size if part else 0
        if not n or k <= 0:
            return []
        fetch = min(n, k * 2 + 8)
        while True:
            scores, ids = self.index.search(key, vector, fetch)
            rows = self._turns_by_id(identity, [int(i) for i in ids])
            stale = [int(i) for i in ids if int(i) not in rows]
            if stale:  # deleted by another process (forget): heal the derived index
                with self.index.lock:
                    if part is self.index.get(key):
                        part.remove(stale)
            results, seen = [], set()
            for score, tid in zip(scores.tolist(), ids.tolist()):
                t = rows.get(int(tid))
                if t is None or (exclude_thread is not None and t["thread_id"] == str(exclude_thread)):
                    continue
                if min_score is not None and score < min_score:
                    continue
                sig = (t["speaker"], " ".join(t["text"].lower().split()))
                if sig in seen:
                    continue
                seen.add(sig)
                results.append({**t, "score": round(float(score), 4)})
            if len(results) >= k or fetch >= n or (min_score is not None and len(scores) and scores[-1] < min_score):
                return results[:k]
            if fetch >= MAX_FETCH:
                return results[:k]
            fetch = min(n, fetch * 4, MAX_FETCH)

    def _keyword_search(self, identity: Identity, query: str, k: int, exclude_thread: str | None) -> list[dict]:
        want = _tokens(query)
        if not want:
            return []
        T = MemoryTurn
        with session_scope(self.engine) as s:
            q = select(T.id, T.speaker, T.text).where(T.user_id == identity.user_id, T.workspace_id == identity.workspace_id)
            if exclude_thread is not None:
                q = q.where(T.thread_id != str(exclude_thread))
            rows = s.execute(q.order_by(T.id.desc()).limit(KEYWORD_SCAN)).all()
        scored, seen = [], set()
        for rank, t in enumerate(rows):
            overlap = len(want & _tokens(t.text))
            if not overlap:
                continue
            sig = (t.speaker, " ".join(t.text.lower().split()))
            if sig in seen:
                continue
            seen.add(sig)
            scored.append((overlap / len(want) - rank * 1e-6, t.id))  # ties: newer first
        scored.sort(key=lambda x: -x[0])
        top = scored[:k]
        full = self._turns_by_id(identity, [tid for _, tid in top])
        return [{**full[tid], "score": round(score, 4), "match": "keyword"} for score, tid in top if tid in full]

    def _turns_by_id(self, identity: Identity, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        T = MemoryTurn.__table__.c
        with self.engine.connect() as conn:  # Core, not ORM: this is on every search
            rows = conn.execute(select(T.id, T.thread_id, T.speaker, T.text, T.tool, T.params, T.result_ref,
                                       T.importance, T.created_at)
                                .where(T.id.in_(ids), T.user_id == identity.user_id,
                                       T.workspace_id == identity.workspace_id)).all()
        return {r.id: _turn_dict(r) for r in rows}

    def _sync_lock(self, key) -> threading.Lock:
        with self._sync_locks_guard:
            return self._sync_locks.setdefault(key, threading.Lock())

    def _sync_partition(self, key: tuple[str, str]) -> None:
        """Load the partition on first use, then catch up with rows other processes (or our worker) wrote."""
        user_id, ws = key
        E = MemoryEmbedding.__table__.c
        with self._sync_lock(key):
            part = self.index.get(key)
            first = part is None
            watermark = 0 if first else part.max_row_id
            with self.engine.connect() as conn:
                cols = (E.id, E.turn_id, E.dim, E.vector)
                mine = (E.user_id == user_id, E.workspace_id == ws)
                if first:
                    rows = conn.execute(select(*cols).where(*mine).order_by(E.id)).all()
                else:
                    # one cheap id-only query: rows past the watermark, plus recent rows that may have committed
                    # late with a lower id (PostgreSQL sequences); vectors only for turns not indexed yet
                    since = utcnow() - timedelta(seconds=CATCHUP_WINDOW_S)
                    cand = conn.execute(select(E.id, E.turn_id).where(
                        *mine, or_(E.id > watermark, E.created_at >= since))).all()
                    new = [r.id for r in cand if r.turn_id not in part.ids]
                    rows = []
                    for i in range(0, len(new), 500):
                        rows += conn.execute(select(*cols).where(E.id.in_(new[i:i + 500]))).all()
            part = self.index.ensure(key)
            if rows:
                top = max(r.id for r in rows)
                rows = [r for r in rows if r.dim == self.dim]  # another model's vectors can't be compared
                with self.index.lock:
                    if rows:
                        vecs = np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(len(rows), self.dim)
                        part.add([r.turn_id for r in rows], vecs)
                    part.max_row_id = max(part.max_row_id, top)
        if first and self.semantic and key not in self._backfilled:
            self._backfilled.add(key)
            self._backfill(key)

    def _backfill(self, key: tuple[str, str]) -> int:
        """Queue embeddings for turns that have none (e.g. a process exited before its worker finished)."""
        user_id, ws = key
        with session_scope(self.engine) as s:
            have = select(MemoryEmbedding.turn_id).where(MemoryEmbedding.user_id == user_id,
                                                         MemoryEmbedding.workspace_id == ws)
            rows = s.execute(select(MemoryTurn.id, MemoryTurn.text, MemoryTurn.tool, MemoryTurn.params)
                             .where(MemoryTurn.user_id == user_id, MemoryTurn.workspace_id == ws,
                                    MemoryTurn.id.not_in(have), MemoryTurn.text != "")
                             .order_by(MemoryTurn.id.desc()).limit(10_000)).all()
        queued = self._queued_ids()
        items = [(r.id, user_id, ws, _embedding_text(r.text, r.tool, r.params)) for r in rows if r.id not in queued]
        if items:
            self._enqueue(items)
        return len(items)

    # -- background embedding worker --------------------------------------------------------------
    def _queued_ids(self) -> set[int]:
        with self._queue.mutex:
            return {item[0] for item in list(self._queue.queue) if item}

    def _enqueue(self, items: list[tuple]) -> None:
        with self._cv:
            self._pending += len(items)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="memory-embedder", daemon=True)
                self._worker.start()
        for item in items:
            self._queue.put(item)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._embed_batch(batch)
            except Exception:
                log.exception("memory embedding batch of %d failed", len(batch))
            finally:
                with self._cv:
                    self._pending -= len(batch)
                    self._cv.notify_all()

    def _embed_batch(self, batch: list[tuple]) -> None:
        try:
            vecs = embedder.encode([b[3] for b in batch], background=True)
        except RuntimeError:
            return  # model unavailable: the turns stay, search falls back to keywords
        rows = [{"turn_id": b[0], "user_id": b[1], "workspace_id": b[2], "dim": int(v.shape[0]),
                 "vector": v.astype(np.float32).tobytes(), "created_at": utcnow()} for b, v in zip(batch, vecs)]
        for attempt in range(3):
            try:
                self._insert_embeddings(rows)
                return
            except OperationalError:  # database busy: try again shortly
                time.sleep(0.2 * (attempt + 1))
            except IntegrityError:  # a turn was forgotten meanwhile (FK) or embedded already (unique)
                for r in rows:
                    try:
                        self._insert_embeddings([r])
                    except IntegrityError:
                        pass
                return
        log.warning("gave up writing %d memory embeddings (database busy); they will be backfilled", len(rows))

    def _insert_embeddings(self, rows: list[dict]) -> None:
        ids = [r["turn_id"] for r in rows]
        with session_scope(self.engine) as s:
            alive = set(s.scalars(select(MemoryTurn.id).where(MemoryTurn.id.in_(ids))))
            done = set(s.scalars(select(MemoryEmbedding.turn_id).where(MemoryEmbedding.turn_id.in_(ids))))
            todo = [r for r in rows if r["turn_id"] in alive and r["turn_id"] not in done]
            if todo:
                s.execute(MemoryEmbedding.__table__.insert(), todo)

    def flush(self, timeout: float = 30) -> bool:
        """Wait until every queued embedding is written (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def warm(self) -> None:
        """Start loading the embedding model in the background (server start-up); returns at once."""
        if self.semantic:
            embedder.warm_async()

    def stats(self) -> dict:
        with self._cv:
            pending = self._pending
        return {"semantic": self.semantic, "model_loaded": embedder.is_loaded(), "model_failed": embedder.failed(),
                "partitions": len(self.index.parts), "indexed": self.index.total(), "pending_embeddings": pending}

    # -- working context --------------------------------------------------------------------------
    def working_context(self, identity: Identity, thread_id: str, text: str = "", *, is_new_thread: bool = False,
                        now: datetime | None = None, light: bool = False) -> dict:
        """Everything a turn may need. `light` (a continuing thread whose router doesn't read them)
        skips the related-memory search, usage patterns, recent turns and result sets (the
        checkpoint has the thread's own; the graph asks last_result_sets when it needs older ones)."""
        recent = self.recent_turns(identity, thread_id, limit=10) if is_new_thread or not light else []
        last_results = self.last_result_sets(identity, limit=5) if is_new_thread or not light else []
        related: list[dict] = []
        if text and text.strip() and not (light and not is_new_thread):
            try:
                related = self.search(identity, text, k=3, exclude_thread=thread_id,
                                      min_score=RELATED_MIN_SCORE if self.semantic else None, wait_for_model=False)
            except Exception:  # memory must never break a turn
                log.exception("related-memory search failed")
        with session_scope(self.engine) as s:
            open_rows = list(s.scalars(self._user_tickets(identity).where(Ticket.status != "closed")
                                       .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(50)))
            open_tickets = [ticket_dict(t) for t in open_rows]
            notes = list(s.scalars(select(Notification).where(
                Notification.user_id == identity.user_id, Notification.workspace_id == identity.workspace_id,
                Notification.read_at.is_(None)).order_by(Notification.id.desc()).limit(20)))
            unread = [{"id": n.id, "ticket_id": n.ticket_id, "message": n.message, "created_at": iso(n.created_at),
                       "_created_at": n.created_at} for n in notes]
            note_tickets = {t.ticket_id: ticket_dict(t) for t in s.scalars(
                self._user_tickets(identity).where(Ticket.ticket_id.in_({n["ticket_id"] for n in unread if n["ticket_id"]})))}
        usage = self._usage(identity, str(thread_id)) if is_new_thread or not light else {}
        welcome = None
        if is_new_thread:
            has_history = usage["history_elsewhere"] or unread or open_tickets
            if has_history:
                lr = [{**r, "_created_at": datetime.fromisoformat(r["created_at"])} for r in last_results]
                welcome = welcome_line(notifications=unread, tickets=note_tickets, open_tickets=open_tickets,
                                       last_results=lr, now=now)
        for n in unread:
            n.pop("_created_at", None)
        return {"recent_turns": recent, "last_results": last_results, "related": related,
                "open_tickets": open_tickets, "unread_notifications": unread, "usage": usage, "welcome": welcome}

    def _usage(self, identity: Identity, thread_id: str | None = None, scan: int = 200) -> dict:
        """Simple patterns over the user's last `scan` tool exchanges: most-used tools, vendors, datasets."""
        T = MemoryTurn
        mine = (T.user_id == identity.user_id, T.workspace_id == identity.workspace_id)
        with session_scope(self.engine) as s:
            rows = s.execute(select(T.tool, T.params).where(*mine, T.speaker == "assistant", T.tool.is_not(None))
                             .order_by(T.id.desc()).limit(scan)).all()
            # is there any history outside this thread? (an indexed probe, not a count of everything)
            elsewhere = s.scalar(select(T.id).where(*mine, T.thread_id != str(thread_id)).order_by(T.id.desc()).limit(1))
        tools, vendors, datasets = Counter(), Counter(), Counter()
        for r in rows:
            tools[r.tool] += 1
            params = r.params or {}
            if isinstance(params.get("vendor"), str) and params["vendor"]:
                vendors[params["vendor"]] += 1
            ds = params.get("dataset") or ("invoices" if r.tool in ("filter_data", "explain_failures", "export_report") else None)
            if ds:
                datasets[ds] += 1
        top = lambda c: [{"name": k, "count": v} for k, v in c.most_common(3)]  # noqa: E731
        return {"tools": top(tools), "vendors": top(vendors), "datasets": top(datasets), "exchanges": len(rows),
                "history_elsewhere": elsewhere is not None}

    # -- entity resolution ------------------------------------------------------------------------
    def resolve(self, identity: Identity, thread_id: str, refs: dict, *, thread_state: dict | None = None) -> dict:
        """Turn references ("those invoices", "that ticket", "the fixed report", "the same filter") into ids.

        Returns the merged resolution, or the first {"ambiguous": [...], "question"} / {"missing": True, "question"}.
        Record resolutions never carry "params" or "ticket_id" (those keys mean "previous filter" and
        "use this ticket" to the caller); the record set's filter is under "filter_params".
        """
        state = thread_state or {}
        refs = {_REF_ALIASES.get(k, k): v for k, v in (refs or {}).items()}
        kinds = [k for k in ("records", "ticket", "report", "filter") if k in refs]
        hints = {k: v for k, v in refs.items() if k in ("dataset", "vendor", "status")}
        out: dict[str, Any] = {"sources": {}}
        for kind in kinds:
            value = refs[kind]
            fn = getattr(self, f"_resolve_{kind}")
            r = fn(identity, str(thread_id), value, state, hints)
            if r.get("question"):
                return {**r, "ref": kind}
            out["sources"][kind] = r.pop("source", None)
            out.update(r)
        if kinds:
            out["source"] = out["sources"][kinds[0]]
        return out

    def _find_result(self, identity: Identity, thread_id: str, state: dict, hints: dict,
                     want) -> tuple[dict | None, str]:
        """The newest result reference satisfying want(ref): this thread's state, this thread's memory, other threads."""
        def ok(ref: dict | None) -> bool:
            if not ref or not want(ref):
                return False
            params = ref.get("params") or {}
            if hints.get("dataset") and ref.get("dataset") and ref["dataset"] != hints["dataset"]:
                return False
            if hints.get("vendor") and hints["vendor"].lower() not in str(params.get("vendor", "")).lower():
                return False
            if hints.get("status") and params.get("status") and params["status"] != hints["status"]:
                return False
            return True
        if ok(state.get("last_result")):
            return dict(state["last_result"]), "this conversation"
        for r in self._iter_results(identity, thread_id, with_keys=False, scan=100):
            if ok(r):
                return r, "this conversation"
        for r in self._iter_results(identity, None, with_keys=False, scan=200):
            if r["thread_id"] != thread_id and ok(r):
                created = datetime.fromisoformat(r["created_at"]) if r.get("created_at") else None
                return r, f"your earlier conversation ({when(created)})"
        return None, ""

    def _resolve_records(self, identity, thread_id, value, state, hints) -> dict:
        if isinstance(value, (list, tuple)):
            keys = [str(v) for v in value]
            return {"keys": keys, "invoice_numbers": keys, "dataset": "invoices", "source": "given"}
        if str(value).lower() in ("fixed", "resolved"):
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {"missing": True, "question": "None of your tickets has been resolved yet, so I don't know which "
                                                     "fixed records you mean. Which invoices should I use?"}
            keys = list(t.get("record_ids") or [])
            return {"keys": keys, "invoice_numbers": keys, "dataset": t.get("record_type") or "invoices",
                    "from_ticket": t["ticket_id"], "source": f"ticket {t['ticket_id']} ({t['status']})"}
        ref, source = self._find_result(identity, thread_id, state, hints, lambda r: bool(r.get("keys")))
        if ref is None:
            return {"missing": True, "question": "Which records do you mean? I don't have an earlier result to refer to - "
                                                 "try something like 'filter invoices for last month, vendor=IndiSky, status=failed'."}
        keys = list(ref.get("keys") or [])
        dataset = ref.get("dataset") or "invoices"
        out = {"keys": keys, "dataset": dataset, "filter_params": dict(ref.get("params") or {}),
               "tool": ref.get("tool"), "turn_id": ref.get("turn_id"), "from_thread": ref.get("thread_id", thread_id),
               "source": source}
        if dataset == "invoices":
            out["invoice_numbers"] = keys
        return out

    def _resolve_filter(self, identity, thread_id, value, state, hints) -> dict:
        def has_filter(r: dict) -> bool:
            return r.get("tool") in (None, "filter_data", "explain_failures", "export_report") and bool(
                set(r.get("params") or {}) - _NOT_FILTERS - {"dataset"})
        ref, source = self._find_result(identity, thread_id, state, hints, has_filter)
        if ref is None:
            return {"missing": True, "question": "Which filter do you mean? I don't have an earlier search to reuse - "
                                                 "tell me the period, vendor or status you want."}
        params = {k: v for k, v in (ref.get("params") or {}).items() if k not in _NOT_FILTERS}
        if ref.get("dataset") and "dataset" not in params:
            params["dataset"] = ref["dataset"]
        return {"params": params, "source": source}

    def _user_tickets(self, identity: Identity):
        subscribed = select(TicketSubscription.ticket_id).where(TicketSubscription.user_id == identity.user_id)
        return select(Ticket).where(Ticket.workspace_id == identity.workspace_id, Ticket.ticket_id.is_not(None),
                                    or_(Ticket.created_by == identity.user_id, Ticket.ticket_id.in_(subscribed)))

    def _visible_ticket(self, identity: Identity, ticket_id: str) -> dict | None:
        with session_scope(self.engine) as s:
            q = (select(Ticket).where(Ticket.ticket_id == ticket_id, Ticket.workspace_id == identity.workspace_id)
                 if identity.is_admin else self._user_tickets(identity).where(Ticket.ticket_id == ticket_id))
            t = s.scalars(q).one_or_none()
            return ticket_dict(t) if t else None

    def _fixed_ticket(self, identity: Identity, state: dict) -> dict | None:
        last = state.get("last_ticket_id")
        if last:
            t = self._visible_ticket(identity, last)
            if t and t["status"] == "resolved":
                return t
        with session_scope(self.engine) as s:
            for status in ("resolved", "closed"):
                t = s.scalars(self._user_tickets(identity).where(Ticket.status == status)
                              .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(1)).first()
                if t is not None:
                    return ticket_dict(t)
        return None

    def _resolve_ticket(self, identity, thread_id, value, state, hints) -> dict:
        v = str(value).strip()
        explicit = _ticket_id(v)
        if explicit:
            t = self._visible_ticket(identity, explicit)
            if t is None:
                return {"missing": True, "question": f"I can't find ticket {explicit} among your tickets. Which ticket do you mean?"}
            return {"ticket_id": explicit, "source": "given"}
        if v.lower() in ("fixed", "resolved"):
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {"missing": True, "question": "None of your tickets has been resolved yet. " + self._open_list(identity)}
            return {"ticket_id": t["ticket_id"], "source": f"your most recently {t['status']} ticket"}
        if state.get("last_ticket_id"):
            return {"ticket_id": state["last_ticket_id"], "source": "this conversation"}
        for r in self._iter_results(identity, thread_id, with_keys=False, scan=100):
            if r.get("ticket_id"):
                return {"ticket_id": r["ticket_id"], "source": "this conversation"}
        with session_scope(self.engine) as s:
            live = [ticket_dict(t) for t in s.scalars(self._user_tickets(identity).where(Ticket.status.in_(("open", "in_progress")))
                                                     .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(5))]
        if len(live) == 1:
            return {"ticket_id": live[0]["ticket_id"], "source": "your only open ticket"}
        if len(live) > 1:
            cands = [{"ticket_id": t["ticket_id"], "title": t["title"], "status": t["status"]} for t in live]
            named = [f"{c['ticket_id']} ({c['title']})" for c in cands[:4]]
            question = "Which ticket do you mean: " + (", ".join(named[:-1]) + " or " + named[-1]) + "?"
            return {"ambiguous": cands, "question": question}
        for r in self._iter_results(identity, None, with_keys=False, scan=100):
            if r.get("ticket_id"):
                return {"ticket_id": r["ticket_id"], "source": "your earlier conversation"}
        return {"missing": True, "question": "Which ticket do you mean? You have no open tickets - say 'show my tickets' to see them all."}

    def _open_list(self, identity: Identity) -> str:
        with session_scope(self.engine) as s:
            live = list(s.scalars(self._user_tickets(identity).where(Ticket.status.in_(("open", "in_progress")))
                                  .order_by(Ticket.id.desc()).limit(3)))
        if not live:
            return "You have no open tickets."
        return "Your open tickets: " + ", ".join(f"{t.ticket_id} ({t.title})" for t in live) + "."

    def _resolve_report(self, identity, thread_id, value, state, hints) -> dict:
        v = str(value).strip()
        if v.lower() in ("fixed", "resolved"):
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {"missing": True, "question": "None of your tickets has been resolved yet, so there is no fixed report. "
                                                     + self._open_list(identity)}
            with session_scope(self.engine) as s:
                e = s.scalars(select(Export).where(Export.owner == identity.user_id, Export.workspace_id == identity.workspace_id,
                                                   Export.ticket_id == t["ticket_id"]).order_by(Export.created_at.desc()).limit(1)).first()
                export_id = e.export_id if e else None
            out = {"ticket_id": t["ticket_id"], "source": f"ticket {t['ticket_id']} ({t['status']})"}
            if export_id:
                out["export_id"] = export_id
            return out
        if v.lower() not in ("previous", "last", "that", "this", "it", "same", "the"):
            with session_scope(self.engine) as s:
                e = s.get(Export, v)
                if e is None or e.owner != identity.user_id or e.workspace_id != identity.workspace_id:
                    return {"missing": True, "question": f"I can't find report {v} among your exports. Which report do you mean?"}
            return {"export_id": v, "source": "given"}
        if state.get("last_export_id"):
            return {"export_id": state["last_export_id"], "source": "this conversation"}
        for r in self._iter_results(identity, thread_id, with_keys=False, scan=100):
            if r.get("export_id"):
                return {"export_id": r["export_id"], "source": "this conversation"}
        with session_scope(self.engine) as s:
            e = s.scalars(select(Export).where(Export.owner == identity.user_id, Export.workspace_id == identity.workspace_id)
                          .order_by(Export.created_at.desc()).limit(1)).first()
            if e is not None:
                return {"export_id": e.export_id, "source": f"your latest export ({when(e.created_at)})"}
        return {"missing": True, "question": "Which report do you mean? You haven't exported one yet - "
                                             "say 'export these as csv' after filtering some records."}

    # -- forgetting -------------------------------------------------------------------------------
    def forget(self, identity: Identity) -> dict:
        """Delete all of the user's turns and embeddings (every workspace) and drop their index partitions.
        The caller deletes the checkpoint threads listed under "thread_ids"."""
        uid = identity.user_id
        with session_scope(self.engine) as s:
            thread_ids = sorted(s.scalars(select(MemoryTurn.thread_id).where(MemoryTurn.user_id == uid).distinct()))
            n_emb = s.execute(delete(MemoryEmbedding).where(MemoryEmbedding.user_id == uid)).rowcount or 0
            n_turns = s.execute(delete(MemoryTurn).where(MemoryTurn.user_id == uid)).rowcount or 0
        with self.index.lock:
            n_index = self.index.drop_user(uid)
        self._backfilled = {k for k in self._backfilled if k[0] != uid}
        return {"turns": n_turns, "embeddings": n_emb, "index_entries": n_index, "thread_ids": thread_ids}

    def count(self, identity: Identity) -> dict:
        """How much the store holds for this user (all workspaces): turns, embeddings, index entries."""
        uid = identity.user_id
        with session_scope(self.engine) as s:
            turns = s.scalar(select(func.count()).select_from(MemoryTurn).where(MemoryTurn.user_id == uid))
            embs = s.scalar(select(func.count()).select_from(MemoryEmbedding).where(MemoryEmbedding.user_id == uid))
        with self.index.lock:
            idx = sum(p.size for k, p in self.index.parts.items() if k[0] == uid)
        return {"turns": turns, "embeddings": embs, "index_entries": idx}


def _embedding_text(text: str, tool: str | None, params: dict | None) -> str:
    text = (text or "").strip()
    if tool and params:
        extras = ", ".join(f"{k} {v}" for k, v in params.items()
                           if k not in ("invoice_numbers", "limit") and isinstance(v, (str, int, float)) and not isinstance(v, bool))
        if extras:
            text = f"{text} [{tool.replace('_', ' ')}: {extras}]"
    return text[:EMBED_TEXT_CHARS]


def _turn_dict(t: MemoryTurn) -> dict:
    return {"turn_id": t.id, "thread_id": t.thread_id, "speaker": t.speaker, "text": t.text, "tool": t.tool,
            "params": t.params, "result_ref": t.result_ref, "importance": t.importance, "created_at": iso(t.created_at)}


def _result_dict(t: MemoryTurn) -> dict:
    ref = t.result_ref or {}
    return {"turn_id": t.id, "thread_id": t.thread_id, "created_at": iso(t.created_at),
            "tool": ref.get("tool") or t.tool, "dataset": ref.get("dataset"), "keys": list(ref.get("keys") or []),
            "params": dict(ref.get("params") or {}), "ticket_id": ref.get("ticket_id"), "export_id": ref.get("export_id"),
            "text": t.text}


def _flush_at_exit(ref) -> None:
    store = ref()
    if store is not None and store._pending:
        store.flush(timeout=10)
