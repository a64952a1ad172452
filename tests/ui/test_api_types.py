"""ui/api.py answers with the schema package's models, never bare dicts: every public method's return
annotation names a model (or a primitive), and real calls against a real API server (`finkraft serve`
on loopback, with the detectors run once) return those models, filled in."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from schema.accounts import NewToken, Permissions, TokenItem, TokenRevoked, UserOut
from schema.chat import ChatResponse, Turn
from schema.health import Health, HealthDetailed
from schema.insights import InsightList, InsightView
from schema.memory import MemoryInsights
from schema.threads import ThreadDeleted, ThreadList, ThreadRenamed, ThreadSummary
from schema.tickets import Assignees, Notification, Ticket, TicketDetail, TicketEvent, TicketUpdated
from schema.tools import ExecuteToolResponse
from schema.traces import FullTraceView, TraceItem, TracePage, TraceView
from schema.toolnames import CREATE_TICKET
from ui.api import Api, ApiError

from ..conftest import TOKENS

# a tool's own `data` (POST /execute_tool): its shape is the tool's; the envelope is execute_tool's model
PER_TOOL = {"tool"}


def untyped(annotation: Any) -> list[Any]:
    """The parts of a return annotation that say nothing of the shape: dict, Any, a bare list, none."""
    if annotation is Any or annotation is inspect.Signature.empty or annotation in (dict, list):
        return [annotation]
    if get_origin(annotation) in (dict, Mapping):
        return [annotation]
    return [bad for arg in get_args(annotation) for bad in untyped(arg)]


def public_methods() -> dict[str, Any]:
    return {name: fn for name, fn in inspect.getmembers(Api, inspect.isfunction) if not name.startswith("_")}


def test_the_check_catches_dicts_and_any():
    assert untyped(dict) and untyped(dict[str, Any]) and untyped(list[dict]) and untyped(Any)
    assert untyped(list[dict[str, int]] | None) and untyped(inspect.Signature.empty)
    assert not untyped(list[Ticket]) and not untyped(tuple[str, int | None]) and not untyped(type(None))
    assert not untyped(Iterator[tuple[str, ChatResponse | TraceView]])


def test_every_method_returns_a_model_not_a_dict():
    methods = public_methods()
    assert len(methods) > 30 and "request" not in methods  # raw JSON stays inside the client
    hints = {name: get_type_hints(fn).get("return", inspect.Signature.empty) for name, fn in methods.items()}
    loose = {name: hint for name, hint in hints.items() if untyped(hint) and name not in PER_TOOL}
    assert not loose, f"return a schema/ model instead: {loose}"
    assert {name for name in PER_TOOL if untyped(hints[name])} == PER_TOOL  # the list is not stale
    assert hints["execute_tool"] is ExecuteToolResponse


@pytest.fixture(scope="module")
def clients(watched):
    made = {user: Api(watched.url, TOKENS[user]) for user in ("maya", "admin", "victor")}
    yield made
    for client in made.values():
        client.close()


def test_identity_and_health_are_models(clients):
    me = clients["maya"].whoami()
    assert isinstance(me, Permissions) and (me.user_id, me.role) == ("maya", "Manager")
    assert "create_ticket" in me.tools and me.summary
    assert isinstance(clients["maya"].health(), Health)
    detailed = clients["maya"].health_detailed()
    assert isinstance(detailed, HealthDetailed) and detailed.app_database.status == "ok"


def test_a_conversation_is_models_from_the_first_answer_to_its_deletion(clients):
    maya = clients["maya"]
    answer = maya.chat("failed invoices last month", thread_id="types-conv")
    assert isinstance(answer, ChatResponse) and answer.thread_id == "types-conv"
    listed = maya.threads()
    assert all(isinstance(t, ThreadSummary) for t in listed) and "types-conv" in {t.thread_id for t in listed}
    page = maya.thread_page("failed", limit=5)
    assert isinstance(page, ThreadList) and page.total == 1 and page.threads[0].thread_id == "types-conv"
    assert page.threads[0].group in ("Today", "Yesterday") and page.next_offset is None
    renamed = maya.rename_thread("types-conv", "Failed ones")
    assert isinstance(renamed, ThreadRenamed) and renamed.title == "Failed ones"
    assert all(isinstance(t, Turn) for t in maya.thread("types-conv"))

    traces = maya.traces(limit=5)
    assert traces and all(isinstance(t, TraceItem) for t in traces)
    own = maya.trace(answer.trace_id)
    assert type(own) is TraceView and own.trace_id == answer.trace_id and own.tool_calls
    full = clients["admin"].trace(answer.trace_id)
    assert isinstance(full, FullTraceView) and full.user_id == "maya" and full.steps
    explored = clients["admin"].trace_page(user="maya", limit=2)
    assert isinstance(explored, TracePage) and explored.traces and {t.user_id for t in explored.traces} == {"maya"}

    deleted = maya.delete_thread("types-conv")
    assert isinstance(deleted, ThreadDeleted) and deleted.deleted["turns"] >= 2
    assert "types-conv" not in {t.thread_id for t in maya.threads()}


def test_tickets_and_notifications_are_models(clients):
    maya, admin = clients["maya"], clients["admin"]
    made = maya.execute_tool(CREATE_TICKET, title="Typed answers check")
    assert isinstance(made, ExecuteToolResponse) and made.success and made.sources
    tid = made.data["ticket_id"]
    tickets = maya.tickets()
    assert all(isinstance(t, Ticket) for t in tickets) and tid in {t.ticket_id for t in tickets}
    detail = maya.ticket(tid)
    assert isinstance(detail, TicketDetail) and all(isinstance(h, TicketEvent) for h in detail.history)
    people = maya.assignees(tid)
    assert isinstance(people, Assignees) and "maya" in {u.user_id for u in people.users}
    moved = maya.update_ticket(tid, status="in_progress")
    assert isinstance(moved, TicketUpdated) and moved.status == "in_progress"
    assigned = maya.change_ticket(tid, assignee="victor", comment="yours")
    assert isinstance(assigned, TicketUpdated) and assigned.assignee == "victor" and "victor" in assigned.notified

    admin.change_ticket(tid, comment="Looked at it")  # maya follows her ticket: she hears of it
    news = maya.notifications(unread_only=True)
    assert news and all(isinstance(n, Notification) for n in news) and not any(n.read for n in news)
    assert maya.mark_notifications_read() == len(news)
    assert maya.notifications(unread_only=True) == []


def test_findings_and_usage_are_models(clients):
    maya = clients["maya"]
    found = maya.insights()
    assert isinstance(found, InsightList) and found.summary
    assert found.insights and all(isinstance(f, InsightView) for f in found.insights)
    first, second = found.insights[0], found.insights[1]
    snoozed = maya.snooze_insight(first.id, days=7)
    assert isinstance(snoozed, InsightView) and snoozed.status == "snoozed" and snoozed.snoozed_until
    dismissed = maya.dismiss_insight(second.id, "known and paid")
    assert isinstance(dismissed, InsightView) and dismissed.status_reason == "known and paid"
    usage = maya.memory_insights("maya")
    assert isinstance(usage, MemoryInsights) and usage.user_id == "maya"


def test_users_and_tokens_are_models(clients):
    admin = clients["admin"]
    users = admin.users()
    assert all(isinstance(u, UserOut) for u in users) and "maya" in {u.user_id for u in users}
    added = admin.create_user("typed", "Typed User", "Viewer", "acme")
    assert isinstance(added, UserOut) and (added.user_id, added.role, added.active) == ("typed", "Viewer", True)
    changed = admin.change_role("typed", "Manager")
    assert isinstance(changed, UserOut) and changed.role == "Manager"
    token = admin.issue_token("typed", "types test")
    assert isinstance(token, NewToken) and token.token
    as_them = Api(admin.base_url, token.token)
    try:
        assert as_them.whoami().role == "Manager"
        listed = admin.tokens()
        assert all(isinstance(t, TokenItem) for t in listed) and token.token_id in {t.token_id for t in listed}
        revoked = admin.revoke_token(token.token_id)
        assert isinstance(revoked, TokenRevoked) and revoked.revoked
        with pytest.raises(ApiError) as refused:
            as_them.whoami()
        assert refused.value.signed_out
    finally:
        as_them.close()


def test_an_answer_of_another_shape_is_an_error_not_a_half_read_dict(clients):
    """A method whose endpoint answers with another body (here /health's, for a ticket list) says the server
    isn't this API, rather than handing on what it got."""
    victor = Api(clients["victor"].base_url, TOKENS["victor"])
    try:
        with pytest.raises(ApiError, match="isn't FinkraftAI's API"):
            victor._typed(TicketDetail, victor._request("GET", "/health"))
    finally:
        victor.close()
