"""The FinkraftAI HTTP API as the web app uses it: one method per endpoint, errors as plain sentences.

Every method returns the schema package's models (validated: an answer of another shape is an `ApiError`),
never a bare dict; the one dict a caller reads is a tool's own `data`. Nothing here knows Streamlit; every
failure is an `ApiError` whose `message` can be shown to a person as it is (API down, 401, 403, 429, a
server error with its id).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Iterator

import httpx
from httpx_sse import SSEError, connect_sse
from pydantic import BaseModel, ValidationError

from schema.accounts import NewToken, Permissions, Session, TokenItem, TokenList, TokenRevoked, UserList, UserOut
from schema.chat import ChatResponse, StreamError, StreamStep, ThreadTurns, Turn
from schema.health import Health, HealthDetailed
from schema.insights import InsightList, InsightView
from schema.memory import MemoryInsights
from schema.threads import ThreadDeleted, ThreadList, ThreadRenamed, ThreadSummary
from schema.tickets import (
    Assignees,
    MarkedRead,
    Notification,
    NotificationList,
    Ticket,
    TicketDetail,
    TicketList,
    TicketUpdated,
)
from schema.tools import ExecuteToolResponse
from schema.traces import FullTraceView, TraceItem, TraceList, TracePage, TraceView

DEFAULT_API_URL = "http://127.0.0.1:8000"
SESSION_COOKIE = "finkraft_session"  # the API's browser-session cookie (server/sessions.py)
SESSION_PREFIX = "session:"
M = TypeVar("M", bound=BaseModel)


def api_url_from_env() -> str:
    return (os.environ.get("FINKRAFT_API_URL") or DEFAULT_API_URL).rstrip("/")


class ApiError(Exception):
    """A request that did not work, with a sentence for the page and the HTTP status (None: no answer)."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: int | None = None, unreachable: bool = False
    ):
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after
        self.unreachable = unreachable  # no answer at all: the page says so once (ui/banner.py)

    @property
    def signed_out(self) -> bool:
        return self.status == 401


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("detail") or "") if isinstance(body, dict) else ""


def error_for(response: httpx.Response) -> ApiError:
    """The plain message for an HTTP error answer."""
    status, detail = response.status_code, _detail(response)
    if status == 401:
        return ApiError(f"You're not signed in any more: {detail or 'the token was not accepted'} Sign in again.", 401)
    if status == 403:
        return ApiError(detail or "Your role doesn't allow that.", 403)
    if status == 429:
        wait = response.headers.get("Retry-After")
        seconds = int(wait) if wait and wait.isdigit() else None
        when = f"in {seconds} seconds" if seconds else "in a minute"
        return ApiError(f"Too many requests in a short time. Please try again {when}.", 429, seconds)
    if status >= 500:
        return ApiError(detail or "The server had a problem and nothing was changed. Please try again.", status)
    return ApiError(detail or f"The request was not accepted (HTTP {status}).", status)


@dataclass
class Download:
    content: bytes
    filename: str
    media_type: str


class Api:
    """A signed-in (or not yet signed-in) client of one API base URL."""

    def __init__(
        self, base_url: str | None = None, token: str | None = None, timeout: float = 120, session: str | None = None
    ):
        self.base_url = (base_url or api_url_from_env()).rstrip("/")
        # the credential: a bearer token, or a browser session (POST /auth/session) as "session:<id>", so
        # that Api(base_url, client.token) signs in as the same user either way
        self.token = f"{SESSION_PREFIX}{session}" if session else token
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)

    @property
    def session(self) -> str | None:
        """The browser session id this client signs in with (None: a bearer token, or no one)."""
        return self.token[len(SESSION_PREFIX) :] if self.token and self.token.startswith(SESSION_PREFIX) else None

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        if self.session:  # the API's cookie, sent by this server-side client as its own page would
            return {"Cookie": f"{SESSION_COOKIE}={self.session}", "Origin": self.base_url}
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _unreachable(self, exc: Exception) -> ApiError:
        if isinstance(exc, httpx.TimeoutException):
            return ApiError(f"The FinkraftAI API at {self.base_url} took too long to answer. Please try again.")
        return ApiError("The assistant is not reachable right now. Please try again in a moment.", unreachable=True)

    def _request(self, method: str, path: str, **kw) -> Any:
        """The JSON body of one request (None: an empty answer); the methods below type it."""
        try:
            r = self._client.request(method, path, headers=self._headers(), **kw)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        finally:
            self._client.cookies.clear()  # identity travels in the bearer header only, never a cookie
        if r.status_code >= 400:
            raise error_for(r)
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            raise ApiError(
                f"The server at {self.base_url} answered with something that isn't FinkraftAI's API.", r.status_code
            ) from None

    # -- identity ---------------------------------------------------------------------------
    def whoami(self) -> Permissions:
        """Who this credential signs in as and what they may do (role, workspace, tools, summary)."""
        me = self._typed(Session, self._request("GET", "/auth/session"))  # names the user; starts no session
        return self._typed(Permissions, self._request("GET", f"/user/{me.user_id}/permissions"))

    def start_browser_session(self) -> tuple[str, int | None]:
        """POST /auth/session with the token: the new session's id and how long it may last (seconds)."""
        from .browser_session import session_from_set_cookie

        try:
            r = self._client.post("/auth/session", headers=self._headers())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        finally:
            self._client.cookies.clear()
        if r.status_code >= 400:
            raise error_for(r)
        found = session_from_set_cookie(r.headers.get_list("set-cookie"), SESSION_COOKIE)
        if found is None:
            raise ApiError(f"The server at {self.base_url} started no browser session.", r.status_code)
        return found

    def end_browser_session(self) -> None:
        """DELETE /auth/session: the session ends on the server (a copied cookie stops working too)."""
        self._request("DELETE", "/auth/session")

    def health(self) -> Health:
        return self._typed(Health, self._request("GET", "/health"))

    def health_detailed(self) -> HealthDetailed:
        """GET /health/detailed: the databases, the disk, and which understanding (parser or model) is configured."""
        return self._typed(HealthDetailed, self._request("GET", "/health/detailed"))

    # -- chat -------------------------------------------------------------------------------
    def chat(self, message: str, thread_id: str | None = None, tool_call: dict | None = None) -> ChatResponse:
        """One turn. `tool_call` ({tool, params}): run that call as the request; `message` describes it."""
        return self._typed(ChatResponse, self._request("POST", "/chat", json=_chat_body(message, thread_id, tool_call)))

    def _typed(self, model: type[M], body: Any) -> M:
        """The body as the schema package's model (an answer of another shape is not this API's)."""
        try:
            return model.model_validate(body)
        except ValidationError:
            raise ApiError(
                f"The server at {self.base_url} answered with something that isn't FinkraftAI's API."
            ) from None

    def chat_stream(
        self, message: str, thread_id: str | None = None, tool_call: dict | None = None
    ) -> Iterator[tuple[str, StreamStep | ChatResponse | StreamError]]:
        """("step", StreamStep) per graph node, then ("answer", ChatResponse: the /chat body) or
        ("error", StreamError)."""
        body = _chat_body(message, thread_id, tool_call)
        events: dict[str, type[StreamStep | ChatResponse | StreamError]] = {
            "step": StreamStep,
            "answer": ChatResponse,
            "error": StreamError,
        }
        try:
            with connect_sse(self._client, "POST", "/chat/stream", json=body, headers=self._headers()) as source:
                response = source.response
                if response.status_code >= 400:
                    response.read()
                    raise error_for(response)
                finished = False
                for event in source.iter_sse():
                    if event.event not in events:
                        continue
                    try:
                        data = json.loads(event.data) if event.data else {}
                    except ValueError:
                        raise ApiError(
                            f"The server at {self.base_url} sent an answer that isn't FinkraftAI's."
                        ) from None
                    yield event.event, self._typed(events[event.event], data)
                    if event.event in ("answer", "error"):
                        finished = True
                        break
                if not finished:
                    yield "error", StreamError(detail="The answer was cut off before it arrived. Please ask again.")
        except SSEError:  # 200 but not an event stream: not this API (a proxy page, another server)
            raise ApiError(
                f"The server at {self.base_url} answered with something that isn't FinkraftAI's API."
            ) from None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        finally:
            self._client.cookies.clear()

    # -- threads ----------------------------------------------------------------------------
    def threads(self) -> list[ThreadSummary]:
        return self._typed(ThreadList, self._request("GET", "/threads")).threads

    def thread(self, thread_id: str, limit: int = 100) -> list[Turn]:
        """The conversation's turns, each assistant turn with its typed answer (to draw it again)."""
        body = self._request("GET", f"/threads/{thread_id}", params={"limit": limit})
        return self._typed(ThreadTurns, body).turns

    def rename_thread(self, thread_id: str, title: str) -> ThreadRenamed:
        return self._typed(ThreadRenamed, self._request("PATCH", f"/threads/{thread_id}", json={"title": title}))

    def thread_page(self, q: str = "", limit: int = 30, offset: int = 0) -> ThreadList:
        """GET /threads: threads (each with its day `group`), total, next_offset; searched by name and text."""
        body = self._request("GET", "/threads", params={"q": q, "limit": limit, "offset": offset})
        return self._typed(ThreadList, body)

    def delete_thread(self, thread_id: str) -> ThreadDeleted:
        """DELETE /threads/{id}: the conversation and everything remembered from it."""
        return self._typed(ThreadDeleted, self._request("DELETE", f"/threads/{thread_id}"))

    # -- tickets and notifications ----------------------------------------------------------
    def tickets(self, status: str | None = None) -> list[Ticket]:
        body = self._request("GET", "/tickets", params={"status": status} if status else None)
        return self._typed(TicketList, body).tickets

    def ticket(self, ticket_id: str) -> TicketDetail:
        """GET /tickets/{id}: the ticket and its history."""
        return self._typed(TicketDetail, self._request("GET", f"/tickets/{ticket_id}"))

    def update_ticket(self, ticket_id: str, status: str | None = None, comment: str | None = None) -> TicketUpdated:
        body = {k: v for k, v in {"status": status, "comment": comment}.items() if v}
        return self._typed(TicketUpdated, self._request("PATCH", f"/tickets/{ticket_id}", json=body))

    def change_ticket(self, ticket_id: str, **changes) -> TicketUpdated:
        """PATCH /tickets/{id} with exactly these fields (status, comment, assignee: a user id, None unassigns)."""
        return self._typed(TicketUpdated, self._request("PATCH", f"/tickets/{ticket_id}", json=changes))

    def assignees(self, ticket_id: str) -> Assignees:
        """GET /tickets/{id}/assignees: who the ticket may be assigned to, and who has it."""
        return self._typed(Assignees, self._request("GET", f"/tickets/{ticket_id}/assignees"))

    def notifications(self, unread_only: bool = False) -> list[Notification]:
        params = {"unread_only": str(unread_only).lower()}
        return self._typed(NotificationList, self._request("GET", "/notifications", params=params)).notifications

    def mark_notifications_read(self) -> int:
        """POST /notifications/read: every unread notification is marked read; how many were."""
        return self._typed(MarkedRead, self._request("POST", "/notifications/read")).marked_read

    # -- findings and what the user asks about ----------------------------------------------
    def insights(self, limit: int = 100) -> InsightList:
        """GET /insights: the detectors' open findings in the user's workspace, and their one-line summary."""
        return self._typed(InsightList, self._request("GET", "/insights", params={"limit": limit}))

    def dismiss_insight(self, finding_id: int, reason: str) -> InsightView:
        body = self._request("POST", f"/insights/{finding_id}/dismiss", json={"reason": reason})
        return self._typed(InsightView, body)

    def snooze_insight(self, finding_id: int, days: int) -> InsightView:
        return self._typed(InsightView, self._request("POST", f"/insights/{finding_id}/snooze", json={"days": days}))

    def memory_insights(self, user_id: str) -> MemoryInsights:
        """GET /memory/{user_id}/insights: what the user asks most, and what waits for them."""
        return self._typed(MemoryInsights, self._request("GET", f"/memory/{user_id}/insights"))

    # -- tools, exports, traces -------------------------------------------------------------
    def execute_tool(self, name: str, **params) -> ExecuteToolResponse:
        """POST /execute_tool: the tool's answer (same permission checks as chat)."""
        body = self._request("POST", "/execute_tool", json={"tool_name": name, "params": params})
        return self._typed(ExecuteToolResponse, body)

    def tool(self, name: str, **params) -> dict[str, Any]:
        """The tool's own `data` from POST /execute_tool (its shape is the tool's: see tools/results.py)."""
        return self.execute_tool(name, **params).data

    def download(self, url: str) -> Download:
        try:
            r = self._client.get(url, headers=self._headers())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if r.status_code >= 400:
            raise error_for(r)
        filename = "finkraft-export"
        disposition = r.headers.get("content-disposition", "")
        if "filename=" in disposition:
            filename = disposition.split("filename=", 1)[1].strip().strip('"')
        return Download(r.content, filename, r.headers.get("content-type", "application/octet-stream").split(";")[0])

    def traces(self, limit: int = 50) -> list[TraceItem]:
        return self._typed(TraceList, self._request("GET", "/traces", params={"limit": limit})).traces

    def trace(self, trace_id: str) -> TraceView:
        """GET /traces/{id}: the trace in plain words; an Admin gets the FullTraceView (every node's output)."""
        body = self._request("GET", f"/traces/{trace_id}")
        try:
            return FullTraceView.model_validate(body)
        except ValidationError:  # the owner's view: no user, workspace, plan or steps
            return self._typed(TraceView, body)

    def trace_page(self, **filters: Any) -> TracePage:
        """GET /admin/traces (Admins): every user's traces filtered by user, tool, outcome, date_from, date_to,
        min_ms, a page (limit, offset) at a time."""
        return self._typed(TracePage, self._request("GET", "/admin/traces", params=filters))

    # -- administration ---------------------------------------------------------------------
    def users(self) -> list[UserOut]:
        return self._typed(UserList, self._request("GET", "/admin/users")).users

    def create_user(self, user_id: str, display_name: str, role: str, workspace_id: str) -> UserOut:
        body = {"user_id": user_id, "display_name": display_name, "role": role, "workspace_id": workspace_id}
        return self._typed(UserOut, self._request("POST", "/admin/users", json=body))

    def change_role(self, user_id: str, role: str, workspace_id: str | None = None) -> UserOut:
        body = {"role": role, **({"workspace_id": workspace_id} if workspace_id else {})}
        return self._typed(UserOut, self._request("POST", f"/admin/users/{user_id}/roles", json=body))

    def tokens(self) -> list[TokenItem]:
        return self._typed(TokenList, self._request("GET", "/admin/tokens")).tokens

    def issue_token(self, user_id: str, label: str = "") -> NewToken:
        body = self._request("POST", "/admin/tokens", json={"user_id": user_id, "label": label})
        return self._typed(NewToken, body)

    def revoke_token(self, token_id: int) -> TokenRevoked:
        return self._typed(TokenRevoked, self._request("DELETE", f"/admin/tokens/{token_id}"))


def _chat_body(message: str, thread_id: str | None, tool_call: dict | None) -> dict:
    body: dict = {"message": message, "thread_id": thread_id}
    if tool_call is not None:
        body["tool_call"] = tool_call
    return body
