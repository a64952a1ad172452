"""Reference resolution: "these", "the same for X", "that ticket", "the fixed report" -> concrete ids.

Records and filters resolve against result references (this thread's state, this thread's memory,
then earlier threads). Tickets and exports are looked up with the tools' own visibility rules
(tools.tickets.visible_to, tools.exports.downloadable_by), so "that ticket" finds exactly what
view_tickets would show (an Admin: every ticket) and an export only if its download would be allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from collections.abc import Callable

from sqlalchemy import select

from business_data.db import session_scope
from business_data.appdb import Export, Ticket
from tools.exports import find_export
from tools.rbac import Identity
from tools.results import TicketRecord
from tools.tickets import find_visible_ticket, ticket_dict, ticket_id_or_none, visible_to
from tools.toolnames import EXPLAIN_FAILURES, EXPORT_REPORT, FILTER_DATA

from .episodic import EpisodicMemory, ResultRef
from .narrate import when

REF_ALIASES = {
    "records": "records",
    "invoices": "records",
    "rows": "records",
    "ticket": "ticket",
    "tickets": "ticket",
    "report": "report",
    "export": "report",
    "file": "report",
    "filter": "filter",
    "params": "filter",
}
NOT_FILTERS = {"invoice_numbers", "limit", "format", "title", "ticket_id", "workspace"}
FIXED = ("fixed", "resolved")
DEICTIC = ("previous", "last", "that", "this", "it", "same", "the")


@dataclass(frozen=True)
class Resolution:
    """What the references of one message resolved to, or the question to ask when one could not be.

    Records ("these", "the fixed ones") set `keys` (and `invoice_numbers` when they are invoices); "the same
    filter" sets `params`; "that ticket" sets `ticket_id`; "that report" sets `export_id` (the fixed report
    also its ticket). A record set never sets `params` or `ticket_id` (to the caller those mean "the
    previous filter" and "use this ticket"): its own filter is `filter_params`."""

    keys: list[str] | None = None  # the records
    invoice_numbers: list[str] | None = None  # the records, when they are invoices
    dataset: str | None = None  # the records' dataset
    keys_complete: bool = True  # False: more records matched than were kept; `filter_params` defines them
    filter_params: dict[str, Any] | None = None  # the record set's own filter
    tool: str | None = None  # the tool whose result the records are
    turn_id: int | None = None  # the turn that found them
    from_thread: str | None = None  # the conversation that found them
    from_ticket: str | None = None  # "the fixed ones": the resolved ticket whose records they are
    params: dict[str, Any] | None = None  # "the same filter": the previous filter (no record keys, no limit)
    ticket_id: str | None = None
    export_id: str | None = None
    source: str | None = None  # where the first reference was found: "this conversation", "given", ...
    sources: dict[str, str | None] = field(default_factory=dict)  # the same, per reference kind
    # a reference that could not be resolved: the question to ask instead (nothing else is set)
    question: str | None = None
    ref: str | None = None  # which reference kind it was (records, ticket, report, filter)
    missing: bool = False  # nothing to refer to
    ambiguous: list[dict[str, Any]] | None = None  # several candidates (tickets: ticket_id, title, status)


class ReferenceResolver:
    def __init__(self, episodic: EpisodicMemory):
        self.episodic = episodic
        self.engine = episodic.engine

    def resolve(
        self, identity: Identity, thread_id: str, refs: dict, *, thread_state: dict | None = None
    ) -> Resolution:
        """Turn references ("those invoices", "that ticket", "the fixed report", "the same filter") into ids:
        all of them merged, or the first that could not be resolved (its `question`, `missing` or `ambiguous`)."""
        state = thread_state or {}
        refs = {REF_ALIASES.get(k, k): v for k, v in (refs or {}).items()}
        kinds = [k for k in ("records", "ticket", "report", "filter") if k in refs]
        hints = {k: v for k, v in refs.items() if k in ("dataset", "vendor", "status")}
        out: dict[str, Any] = {"sources": {}}
        for kind in kinds:
            r = getattr(self, f"_{kind}")(identity, str(thread_id), refs[kind], state, hints)
            if r.get("question"):
                return Resolution(**r, ref=kind)
            out["sources"][kind] = r.pop("source", None)
            out.update(r)
        if kinds:
            out["source"] = out["sources"][kinds[0]]
        return Resolution(**out)

    # -- records and filters ----------------------------------------------------------------------
    def _find_result(
        self, identity: Identity, thread_id: str, state: dict, hints: dict, want: Callable[[Any], bool]
    ) -> tuple[ResultRef | dict | None, str]:
        """The newest result reference satisfying want(ref): this thread's state, this thread's memory, other threads."""

        def ok(ref: Any) -> bool:
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
        for r in self.episodic.iter_results(identity, thread_id, with_keys=False, scan=100):
            if ok(r):
                return r, "this conversation"
        for r in self.episodic.iter_results(identity, None, with_keys=False, scan=200):
            if r["thread_id"] != thread_id and ok(r):
                created = datetime.fromisoformat(r["created_at"]) if r["created_at"] else None
                return r, f"your earlier conversation ({when(created)})"
        return None, ""

    def _records(self, identity, thread_id, value, state, hints) -> dict:
        if isinstance(value, (list, tuple)):
            keys = [str(v) for v in value]
            return {"keys": keys, "invoice_numbers": keys, "dataset": "invoices", "source": "given"}
        if str(value).lower() in FIXED:
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {
                    "missing": True,
                    "question": "None of your tickets has been resolved yet, so I don't know which "
                    "fixed records you mean. Which invoices should I use?",
                }
            keys = list(t.get("record_ids") or [])
            return {
                "keys": keys,
                "invoice_numbers": keys,
                "dataset": t.get("record_type") or "invoices",
                "from_ticket": t["ticket_id"],
                "source": f"ticket {t['ticket_id']} ({t['status']})",
            }
        ref, source = self._find_result(identity, thread_id, state, hints, lambda r: bool(r.get("keys")))
        if ref is None:
            return {
                "missing": True,
                "question": "Which records do you mean? I don't have an earlier result to refer to - "
                "try something like 'filter invoices for last month, vendor=IndiSky, status=failed'.",
            }
        keys = list(ref.get("keys") or [])
        dataset = ref.get("dataset") or "invoices"
        out = {
            "keys": keys,
            "dataset": dataset,
            "filter_params": dict(ref.get("params") or {}),
            "keys_complete": ref.get("keys_complete", True),
            "tool": ref.get("tool"),
            "turn_id": ref.get("turn_id"),
            "from_thread": ref.get("thread_id", thread_id),
            "source": source,
        }
        if dataset == "invoices":
            out["invoice_numbers"] = keys
        return out

    def _filter(self, identity, thread_id, value, state, hints) -> dict:
        def has_filter(r: dict) -> bool:
            return r.get("tool") in (None, FILTER_DATA, EXPLAIN_FAILURES, EXPORT_REPORT) and bool(
                set(r.get("params") or {}) - NOT_FILTERS - {"dataset"}
            )

        ref, source = self._find_result(identity, thread_id, state, hints, has_filter)
        if ref is None:
            return {
                "missing": True,
                "question": "Which filter do you mean? I don't have an earlier search to reuse - "
                "tell me the period, vendor or status you want.",
            }
        params = {k: v for k, v in (ref.get("params") or {}).items() if k not in NOT_FILTERS}
        if ref.get("dataset") and "dataset" not in params:
            params["dataset"] = ref["dataset"]
        return {"params": params, "source": source}

    # -- tickets ----------------------------------------------------------------------------------
    def _visible_ticket(self, identity: Identity, ticket_id: str) -> TicketRecord | None:
        with session_scope(self.engine) as s:
            t = find_visible_ticket(s, identity, ticket_id)
            return ticket_dict(t) if t else None

    def _visible_with(
        self, identity: Identity, statuses: tuple[str, ...], limit: int, *, by_update: bool = True
    ) -> list[TicketRecord]:
        """The visible tickets with these statuses: most recently updated first (by_update), else newest first."""
        order = (Ticket.updated_at.desc(), Ticket.id.desc()) if by_update else (Ticket.id.desc(),)
        with session_scope(self.engine) as s:
            return [
                ticket_dict(t)
                for t in s.scalars(
                    select(Ticket)
                    .where(visible_to(identity), Ticket.ticket_id.is_not(None), Ticket.status.in_(statuses))
                    .order_by(*order)
                    .limit(limit)
                )
            ]

    def _fixed_ticket(self, identity: Identity, state: dict) -> TicketRecord | None:
        """ "The fixed one": this thread's ticket if it is resolved, else the most recently resolved (then closed) one."""
        last = state.get("last_ticket_id")
        if last:
            t = self._visible_ticket(identity, last)
            if t and t["status"] == "resolved":
                return t
        for status in ("resolved", "closed"):
            found = self._visible_with(identity, (status,), 1)
            if found:
                return found[0]
        return None

    def _open_list(self, identity: Identity) -> str:
        live = self._visible_with(identity, ("open", "in_progress"), 3, by_update=False)
        if not live:
            return "You have no open tickets."
        return "Your open tickets: " + ", ".join(f"{t['ticket_id']} ({t['title']})" for t in live) + "."

    def _ticket(self, identity, thread_id, value, state, hints) -> dict:
        v = str(value).strip()
        explicit = ticket_id_or_none(v)
        if explicit:
            if self._visible_ticket(identity, explicit) is None:
                return {
                    "missing": True,
                    "question": f"I can't find ticket {explicit} among your tickets. Which ticket do you mean?",
                }
            return {"ticket_id": explicit, "source": "given"}
        if v.lower() in FIXED:
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {
                    "missing": True,
                    "question": "None of your tickets has been resolved yet. " + self._open_list(identity),
                }
            return {"ticket_id": t["ticket_id"], "source": f"your most recently {t['status']} ticket"}
        if state.get("last_ticket_id"):
            return {"ticket_id": state["last_ticket_id"], "source": "this conversation"}
        for r in self.episodic.iter_results(identity, thread_id, with_keys=False, scan=100):
            if r.get("ticket_id"):
                return {"ticket_id": r["ticket_id"], "source": "this conversation"}
        live = self._visible_with(identity, ("open", "in_progress"), 5)
        if len(live) == 1:
            return {"ticket_id": live[0]["ticket_id"], "source": "your only open ticket"}
        if len(live) > 1:
            cands = [{"ticket_id": t["ticket_id"], "title": t["title"], "status": t["status"]} for t in live]
            named = [f"{c['ticket_id']} ({c['title']})" for c in cands[:4]]
            question = "Which ticket do you mean: " + (", ".join(named[:-1]) + " or " + named[-1]) + "?"
            return {"ambiguous": cands, "question": question}
        for r in self.episodic.iter_results(identity, None, with_keys=False, scan=100):
            if r.get("ticket_id"):
                return {"ticket_id": r["ticket_id"], "source": "your earlier conversation"}
        return {
            "missing": True,
            "question": "Which ticket do you mean? You have no open tickets - say 'show my tickets' to see them all.",
        }

    # -- reports (exports) ------------------------------------------------------------------------
    def _report(self, identity, thread_id, value, state, hints) -> dict:
        v = str(value).strip()
        mine = (Export.owner == identity.user_id) & (Export.workspace_id == identity.workspace_id)
        if v.lower() in FIXED:
            t = self._fixed_ticket(identity, state)
            if t is None:
                return {
                    "missing": True,
                    "question": "None of your tickets has been resolved yet, so there is no fixed report. "
                    + self._open_list(identity),
                }
            with session_scope(self.engine) as s:
                export_id = s.scalar(
                    select(Export.export_id)
                    .where(mine, Export.ticket_id == t["ticket_id"])
                    .order_by(Export.created_at.desc())
                    .limit(1)
                )
            out = {"ticket_id": t["ticket_id"], "source": f"ticket {t['ticket_id']} ({t['status']})"}
            if export_id:
                out["export_id"] = export_id
            return out
        if v.lower() not in DEICTIC:
            if find_export(self.engine, identity, v) is None:
                return {
                    "missing": True,
                    "question": f"I can't find report {v} among your exports. Which report do you mean?",
                }
            return {"export_id": v, "source": "given"}
        if state.get("last_export_id"):
            return {"export_id": state["last_export_id"], "source": "this conversation"}
        for r in self.episodic.iter_results(identity, thread_id, with_keys=False, scan=100):
            if r.get("export_id"):
                return {"export_id": r["export_id"], "source": "this conversation"}
        with session_scope(self.engine) as s:
            e = s.scalars(select(Export).where(mine).order_by(Export.created_at.desc()).limit(1)).first()
            if e is not None:
                return {"export_id": e.export_id, "source": f"your latest export ({when(e.created_at)})"}
        return {
            "missing": True,
            "question": "Which report do you mean? You haven't exported one yet - "
            "say 'export these as csv' after filtering some records.",
        }
