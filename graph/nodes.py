"""The graph's nodes: context -> route -> plan -> gate -> confirm -> act -> respond -> remember
(respond and remember: graph/answering.py; the edges between them: graph/edges.py).

Identity comes only from the run's config (graph/context.py RunSettings); role and workspace
are looked up in the application database on every turn.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from langchain_core.messages import RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from tools.rbac import Identity, UnknownUser
from tools.queries import FILTER_KEYS, keys_for
from tools.registry import can_run, denial_message, run_tool, spec, tools_where
from tools.results import shared
from tools.vendors import workspace_customer_names, workspace_lookups, workspace_vendor_names
from tools.toolnames import ANALYZE_DATA, EXPORT_REPORT, RUN_TEMPLATE
from memory.references import Resolution

from . import responses
from .answering import Answering, last_user_text
from .context import RunSettings
from .intent import Intent, ParseContext
from .understanding import ask_text, decide, interpret, referent_problem, understand
from .confirmation import ask_again, confirm_step, parse_answer
from .templates import template_plan
from .templates.matching import analyse_request
from .services import Services
from .state import AgentState, IntentRecord, Interpretation, PlanRecord, answer_plan, tool_call

log = logging.getLogger("finkraft.graph")

FORGET_QUESTION = (
    "Delete all your conversation history and memories (every thread)? "
    "Tickets and exports stay. This can't be undone. yes/no"
)
KEEP_MESSAGES = 20  # messages kept in a thread's state (10 turns; the LLM router reads the last 6)
# a message that names its own records: a filter, or a ticket of its own (then no implicit "these")
OWN_RECORDS = FILTER_KEYS | {"ticket_id", "title"}


class Nodes(Answering):
    """Node functions closed over the services they use."""

    def __init__(self, services: Services, router=None):
        self.s = services
        self.router = router  # optional LLM router (graph/llm.py); None -> offline parser

    # -- helpers -------------------------------------------------------------------------
    def identity(self, config: RunnableConfig) -> Identity | None:
        user_id = RunSettings.of(config).user_id
        if not user_id:
            return None
        try:
            return self.s.identity(user_id)
        except UnknownUser:
            return None

    def caller(self, config: RunnableConfig) -> Identity:
        """The caller, in a node that runs only for a known user (`route` answers an unknown one)."""
        ident = self.identity(config)
        if ident is None:
            raise UnknownUser("no known user in this run's config")
        return ident

    # -- nodes ---------------------------------------------------------------------------
    def context(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Memory retrieval: the working context for this turn (and a reset of per-turn fields)."""
        reset: dict[str, Any] = {
            "intent": None,
            "interpretation": None,
            "plan": None,
            "tool_calls": [],
            "result": None,
            "response": "",
            "answer": None,
            "welcome": None,
            "step_statuses": [],
            "template_data": {},
            "pending_confirmation": None,
            "confirmation": None,
            "forgotten_threads": [],
        }
        # the thread's state keeps only its latest messages (memory holds every turn): checkpoints stay small
        old = (state.get("messages") or [])[:-KEEP_MESSAGES]
        reset["messages"] = [RemoveMessage(id=str(m.id)) for m in old if getattr(m, "id", None)]
        ident = self.identity(config)
        if ident is None:
            return {**reset, "context": {"error": "unknown_user"}}
        thread_id = RunSettings.of(config).thread_id
        is_new = len([m for m in state.get("messages", []) if getattr(m, "type", "") == "human"]) <= 1
        # the offline parser reads neither related memories nor usage patterns: skip them mid-thread
        ctx = self.s.memory.working_context(
            ident, thread_id, last_user_text(state), is_new_thread=is_new, light=self.router is None
        )
        compact = {
            "user_id": ident.user_id,
            "role": ident.role,
            "workspace_id": ident.workspace_id,
            "welcome": ctx.get("welcome"),
            "open_tickets": [
                {k: t.get(k) for k in ("ticket_id", "title", "status")} for t in ctx.get("open_tickets", [])
            ][:10],
            "unread_notifications": [
                {k: n.get(k) for k in ("id", "ticket_id", "message")} for n in ctx.get("unread_notifications", [])
            ][:10],
            "last_results": [
                {k: r.get(k) for k in ("tool", "dataset", "params", "thread_id")} | {"count": len(r.get("keys") or [])}
                for r in ctx.get("last_results", [])
            ][:3],
            "usage": ctx.get("usage", {}),
            "related": [{k: r.get(k) for k in ("text", "thread_id", "score")} for r in ctx.get("related", [])][:3],
            "recent_turns": len(ctx.get("recent_turns", [])),
        }
        return {**reset, "context": compact, "welcome": ctx.get("welcome")}

    def route(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Intent routing: the LLM router when configured, else the offline parser."""
        if state.get("context", {}).get("error") == "unknown_user":
            return {
                "intent": {"kind": "error", "reason": "unknown user"},
                "response": "I don't know who you are, so I can't do anything yet. Sign in again (the request carries no known user).",
            }
        text = last_user_text(state)
        chosen = RunSettings.of(config).tool_call  # POST /chat's tool_call (the web app's chips): no parsing
        if chosen:
            return self._chosen(text, chosen)
        ident = self.caller(config)
        # kept a few seconds in process (tools/runner.py): a connection only when they are not
        vendors = workspace_vendor_names(self.s.business, ident.workspace_id, self.s.model)
        customers = workspace_customer_names(self.s.business, ident.workspace_id, self.s.model)
        lookups = workspace_lookups(self.s.business, ident.workspace_id, self.s.model)
        pctx = ParseContext(
            vendors=vendors,
            today=self.s.today(),
            customers=customers,
            lookups=lookups,
            last_result=cast(dict, state.get("last_result")) or self._memory_last_result(ident, config),
            last_ticket_id=state.get("last_ticket_id"),
            last_export_id=state.get("last_export_id"),
            open_tickets=state.get("context", {}).get("open_tickets", []),
            model=self.s.model,
        )
        intent: Intent | None = None
        fallback = None
        if self.router is not None:
            intent, fallback = self.router.route(text, pctx, ident, state)
        llm = {"router": "llm", "model": self.router.model_id} if intent is not None and self.router else None
        record, interpretation = understand(text, pctx, intent, llm, fallback)
        return {"intent": record, "interpretation": interpretation}

    def _chosen(self, text: str, chosen: dict[str, Any]) -> dict[str, Any]:
        """A tool call the client chose (a chip removed in the web app): it is the intent as it is. The
        message only describes it (it is recorded, never parsed); the gate and confirmation apply as ever."""
        record: dict[str, Any] = {
            **Intent(
                kind="tool",
                tool=str(chosen["tool"]),
                params=dict(chosen.get("params") or {}),
                reason="chosen in the web app",
            ).__dict__,
            "router": "client",
            "model": None,
            "fallback": None,
        }
        interpretation = interpret(text, record, rest="", standalone=None, previous={})
        return {"intent": record, "interpretation": interpretation}

    def _memory_last_result(self, ident: Identity, config: RunnableConfig) -> dict | None:
        results = self.s.memory.last_result_sets(ident, limit=1)
        return dict(results[0]) if results else None

    def plan(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Planning: decide (run, state the assumption, ask or refuse: graph/understanding/), resolve
        references to concrete records and decide the steps."""
        intent: IntentRecord = state.get("intent") or {}
        kind = intent["kind"]
        text = last_user_text(state)
        interp = decide(
            state.get("interpretation") or {}, cast(dict, intent), text, self.identity(config), self.s.model
        )
        out = self._plan(state, config, intent, interp, text)
        final: Interpretation = out.pop("interpretation", None) or interp
        if kind in ("tool", "template") and out.get("plan", {}).get("mode") == "answer" and out.get("response"):
            if final.get("decision") in ("run", "assume"):  # a reference that resolved to nothing: it asked
                final = {**final, "decision": "ask", "reason": str(out["plan"].get("reason") or "asked")}
        return {**out, "interpretation": final}

    def _plan(
        self, state: AgentState, config: RunnableConfig, intent: IntentRecord, interp: Interpretation, text: str
    ) -> dict[str, Any]:
        kind = intent["kind"]
        if interp.get("decision") == "refuse" and (kind != "tool" or intent.get("tool") != interp.get("action")):
            ident = self.caller(config)  # a write the role may not make, asked for before any detail: say so first
            msg = denial_message(ident, str(interp.get("action")))
            calls = [tool_call(str(interp.get("action")), {}, "denied", msg)]
            return {
                **answer_plan("refused before asking", msg),
                "result": {"status": "denied", "message": msg, "data": {}},
                "tool_calls": calls,
            }
        if interp.get("decision") == "refuse":  # the gate refuses it, before any reference is asked about
            return {
                "plan": {
                    "mode": "direct",
                    "steps": [{"tool": intent["tool"], "params": dict(intent.get("params") or {})}],
                    "reason": "refused: the role may not run it",
                    "refs": {},
                }
            }
        forced = RunSettings.of(config).template_request  # set by the Plans API (server/plans.py): no words to read
        if interp.get("decision") == "ask" and kind in ("tool", "template") and not forced:
            question = ask_text(cast(Any, interp), intent.get("question") or responses.HELP)
            choices = interp.get("choices") or []
            if choices:
                question += " " + " or ".join(f"“{c['label']}”" for c in choices) + "?"
            return answer_plan(interp.get("reason"), question)
        if kind in ("help", "greeting"):
            return answer_plan(kind, responses.HELP if kind == "help" else responses.GREETING)
        if kind in ("clarify", "answer"):  # answer: the model replied in words (graph/llm.py)
            return answer_plan(kind, intent.get("question") or responses.HELP)
        if kind == "forget":
            return self._forget(config)
        if forced:
            return template_plan(
                forced["template"],
                forced.get("params"),
                {"decision": "template", "reason": "plan run via the Plans API"},
            )
        routed = kind in ("template", "tool") and intent.get("router") != "client"  # a client's call runs as chosen
        analysis = analyse_request(last_user_text(state), cast(dict, intent)) if routed else {}
        if analysis.get("decision") == "template":
            return template_plan(analysis["template"], intent.get("params"), analysis)
        if kind == "template":
            return answer_plan(analysis.get("reason"), responses.HELP)
        params = dict(intent.get("params") or {})
        refs = dict(intent.get("refs") or {})
        implicit = False
        tool = spec(intent.get("tool") or "")
        if tool and tool.takes_thread:  # "save this conversation as pdf": this thread, never another
            params["thread_id"] = RunSettings.of(config).thread_id or ""
        last = state.get("last_result") or {}
        if (
            intent["tool"] == EXPORT_REPORT
            and last.get("tool") == ANALYZE_DATA
            and last.get("query")
            and not params.get("query")  # a query of its own (a next action's call) is the one exported
            and not (OWN_RECORDS & params.keys())
            and set(refs) <= {"records"}
            and refs.get("records", "previous") == "previous"
        ):
            params["query"], refs = last["query"], {}  # "export this breakdown": the analysis itself
        elif (
            intent["tool"] == EXPORT_REPORT
            and last.get("tool") == EXPORT_REPORT
            and (last.get("params") or {}).get("ticket_id")
            and not (OWN_RECORDS & params.keys())
            and set(refs) <= {"records"}
            and refs.get("records", "previous") == "previous"
        ):
            params["ticket_id"], refs = last["params"]["ticket_id"], {}  # "and as excel": the same ticket's report
        elif not refs and tool and tool.records_by_default and not (OWN_RECORDS & params.keys() or params.get("query")):
            refs, implicit = {"records": "previous"}, True
        empty = referent_problem(
            intent.get("tool"), Resolution(keys=[], invoice_numbers=[], source="this conversation")
        )
        if refs.get("records") == "previous" and last and not last.get("keys") and last.get("keys_complete", True):
            if empty:  # this conversation's last result is empty: an export or write of "these" acts on nothing
                return answer_plan("nothing to act on", empty)
        if refs:
            ident = self.caller(config)
            resolved = self.s.memory.resolve(
                ident,
                RunSettings.of(config).thread_id,
                refs,
                thread_state={
                    "last_result": state.get("last_result"),
                    "last_ticket_id": state.get("last_ticket_id"),
                    "last_export_id": state.get("last_export_id"),
                },
            )
            if implicit and (resolved.missing or resolved.ambiguous):
                resolved = Resolution()
            if resolved.question:
                return answer_plan("ambiguous reference", resolved.question)
            problem = referent_problem(intent.get("tool"), resolved)
            if problem:  # an export or a write acts only on a non-empty result of this conversation
                return answer_plan("nothing to act on", problem)
            if resolved.params is not None:  # "the same for SkyHigh": previous filter, overridden
                params = {
                    **{k: v for k, v in resolved.params.items() if k not in ("invoice_numbers", "limit")},
                    **params,
                }
            if resolved.invoice_numbers is not None and resolved.keys_complete is False and tool and tool.takes_records:
                # a large result kept only some keys: its filter defines the records (a ticket fixes them now)
                previous = {
                    k: v for k, v in (resolved.filter_params or {}).items() if k not in ("invoice_numbers", "limit")
                }
                if tool.record_set:
                    params = {**previous, **params}
                else:
                    params["invoice_numbers"] = keys_for(self.s.tool_context(ident), previous)
            elif resolved.invoice_numbers is not None and tool and tool.takes_records:
                params["invoice_numbers"] = resolved.invoice_numbers
                if tool.record_set:  # a new result set over exactly those records
                    params.setdefault("dataset", resolved.dataset or "invoices")
                    for k in ("period", "date_from", "date_to"):  # the records are fixed; dates would re-filter them
                        params.pop(k, None)
            if resolved.ticket_id:
                params["ticket_id"] = resolved.ticket_id
        return {
            "plan": {
                "mode": "direct",
                "steps": [{"tool": intent["tool"], "params": params}],
                "reason": intent.get("reason") or f"single action: {intent['tool']}",
                "refs": refs,
                "complexity": analysis.get("complexity"),
            }
        }

    def _forget(self, config: RunnableConfig) -> dict[str, Any]:
        """ "Forget me": asks first (it can't be undone), then deletes the user's memories. The
        threads' checkpoints are the host's to delete (the server does, from `forgotten_threads`)."""
        answer = interrupt({"question": FORGET_QUESTION, "steps": [{"tool": "forget_me", "params": {}}]})
        if parse_answer(answer) is not True:
            return answer_plan("forget: declined", "Nothing was deleted; your history and memories are as they were.")
        counts = self.s.memory.forget(self.caller(config))
        return answer_plan(
            "forget: confirmed",
            f"Done: I deleted your conversation history and memories ({counts.get('turns', 0)} turns). "
            "I won't bring them up again.",
            last_result=None,
            last_ticket_id=None,
            last_export_id=None,
            forgotten_threads=list(counts.get("thread_ids", [])),
        )

    def gate(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Permission gate: in code, before any tool runs."""
        ident = self.identity(config)
        plan: PlanRecord = state.get("plan") or {}
        steps: list[dict[str, Any]] = (
            [{"tool": RUN_TEMPLATE, "params": plan.get("params", {})}] if plan.get("mode") == "template" else []
        )
        steps += [dict(s) for s in plan.get("steps", []) if s.get("tool")]
        denied = [s["tool"] for s in steps if ident is None or not can_run(ident, s["tool"])]
        if denied:
            msg = denial_message(ident, denied[0]) if ident else "I don't know who you are."
            calls = [tool_call(s["tool"], s["params"], "denied", msg) for s in steps if s["tool"] in denied]
            return {"result": {"status": "denied", "message": msg, "data": {}}, "tool_calls": calls, "response": msg}
        return {}

    def confirm(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Confirmation before writes: ask, pause with interrupt(), resume on yes/no (graph/confirmation.py)."""
        ident = self.identity(config)
        return confirm_step(cast(dict, state), self.s.tool_context(ident) if ident else None)

    def act(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Tool calls, through the registry (which checks the role again)."""
        tctx = self.s.tool_context(self.caller(config))
        calls, last = [], None
        update: dict[str, Any] = {}
        record_sets = tools_where(record_set=True)
        confirmation = state.get("confirmation")
        confirmed = confirmation.get("id") if confirmation else None
        for i, step in enumerate((state.get("plan") or {}).get("steps", [])):
            t0 = time.perf_counter()
            params = step["params"]
            declared = spec(step["tool"])
            if confirmed and declared and "request_key" in declared.params.model_fields:  # never two tickets
                params = {**params, "request_key": f"{confirmed}:{i}"}
            res = run_tool(step["tool"], params, tctx)
            calls.append(
                tool_call(
                    step["tool"],
                    step["params"],
                    res.status,
                    res.message,
                    duration_ms=(time.perf_counter() - t0) * 1000,
                    sources=res.sources,
                )
            )
            # (the result's own fields, not model_dump: that deep-copies every row of the data)
            last = {
                "tool": step["tool"],
                "status": res.status,
                "message": res.message,
                "code": res.code,
                "data": res.data,
            }
            if res.status != "success":
                break
            data = shared(res.data)
            if step["tool"] in record_sets and data["keys"] is not None or data["kind"] and data["query"]:
                update["last_result"] = {
                    "tool": step["tool"],
                    "dataset": data["dataset"] or "invoices",
                    "keys": list(data["keys"] or []),
                    "keys_complete": data["keys_complete"] is not False,
                    "query": data["query"] or {},
                    "params": {k: v for k, v in step["params"].items() if k != "invoice_numbers"},
                }
            if data["ticket_id"]:
                update["last_ticket_id"] = data["ticket_id"]
            if data["export_id"]:
                update["last_export_id"] = data["export_id"]
        writers = tools_where(writes=True)
        wrote = any(c["status"] == "success" and c["tool"] in writers for c in calls)
        again = ask_again(cast(dict, confirmation), last, wrote) if confirmed else None
        if again is not None:  # a failed "yes": the question stays open, so "yes" again tries again
            update["pending_confirmation"] = again
        return {**update, "tool_calls": calls, "result": last}
