"""The FinkraftAI HTTP API as the web app uses it: one method per endpoint, errors as plain sentences.

Nothing here knows Streamlit; every failure is an `ApiError` whose `message` can be shown to a
person as it is (API down, 401, 403, 429, a server error with its id).
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

from schema.chat import ChatResponse, StreamError, StreamStep, ThreadTurns, Turn

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

    def request(self, method: str, path: str, **kw) -> Any:
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
    def whoami(self) -> dict:
        """{user_id, role, workspace_id, display_name, tools, summary, ...} of this token."""
        me = self.request("GET", "/auth/session")  # names the token's user (and starts no browser session)
        return self.request("GET", f"/user/{me['user_id']}/permissions")

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
        self.request("DELETE", "/auth/session")

    def health(self) -> dict:
        return self.request("GET", "/health")

    # -- chat -------------------------------------------------------------------------------
    def chat(self, message: str, thread_id: str | None = None, tool_call: dict | None = None) -> ChatResponse:
        """One turn. `tool_call` ({tool, params}): run that call as the request; `message` describes it."""
        return self._typed(ChatResponse, self.request("POST", "/chat", json=_chat_body(message, thread_id, tool_call)))

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
    def threads(self) -> list[dict]:
        return self.request("GET", "/threads")["threads"]

    def thread(self, thread_id: str, limit: int = 100) -> list[Turn]:
        """The conversation's turns, each assistant turn with its typed answer (to draw it again)."""
        body = self.request("GET", f"/threads/{thread_id}", params={"limit": limit})
        return self._typed(ThreadTurns, body).turns

    def rename_thread(self, thread_id: str, title: str) -> dict:
        return self.request("PATCH", f"/threads/{thread_id}", json={"title": title})

    def thread_page(self, q: str = "", limit: int = 30, offset: int = 0) -> dict:
        """GET /threads: {threads (each with its day `group`), total, next_offset}, searched by name and text."""
        return self.request("GET", "/threads", params={"q": q, "limit": limit, "offset": offset})

    def delete_thread(self, thread_id: str) -> dict:
        """DELETE /threads/{id}: the conversation and everything remembered from it."""
        return self.request("DELETE", f"/threads/{thread_id}")

    # -- tickets and notifications ----------------------------------------------------------
    def tickets(self, status: str | None = None) -> list[dict]:
        return self.request("GET", "/tickets", params={"status": status} if status else None)["tickets"]

    def ticket(self, ticket_id: str) -> dict:
        return self.request("GET", f"/tickets/{ticket_id}")

    def update_ticket(self, ticket_id: str, status: str | None = None, comment: str | None = None) -> dict:
        body = {k: v for k, v in {"status": status, "comment": comment}.items() if v}
        return self.request("PATCH", f"/tickets/{ticket_id}", json=body)

    def change_ticket(self, ticket_id: str, **changes) -> dict:
        """PATCH /tickets/{id} with exactly these fields (status, comment, assignee: a user id, None unassigns)."""
        return self.request("PATCH", f"/tickets/{ticket_id}", json=changes)

    def assignees(self, ticket_id: str) -> dict:
        """GET /tickets/{id}/assignees: {ticket_id, assignee, users: [{user_id, display_name, role}]}."""
        return self.request("GET", f"/tickets/{ticket_id}/assignees")

    def notifications(self, unread_only: bool = False) -> list[dict]:
        params = {"unread_only": str(unread_only).lower()}
        return self.request("GET", "/notifications", params=params)["notifications"]

    def mark_notifications_read(self) -> int:
        """POST /notifications/read: every unread notification is marked read; how many were."""
        return self.request("POST", "/notifications/read")["marked_read"]

    # -- tools, exports, traces -------------------------------------------------------------
    def tool(self, name: str, **params) -> dict:
        """POST /execute_tool: the tool's `data` (same permission checks as chat)."""
        return self.request("POST", "/execute_tool", json={"tool_name": name, "params": params})["data"]

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

    def traces(self, limit: int = 50) -> list[dict]:
        return self.request("GET", "/traces", params={"limit": limit})["traces"]

    def trace(self, trace_id: str) -> dict:
        return self.request("GET", f"/traces/{trace_id}")

    # -- administration ---------------------------------------------------------------------
    def users(self) -> list[dict]:
        return self.request("GET", "/admin/users")["users"]

    def create_user(self, user_id: str, display_name: str, role: str, workspace_id: str) -> dict:
        return self.request(
            "POST",
            "/admin/users",
            json={"user_id": user_id, "display_name": display_name, "role": role, "workspace_id": workspace_id},
        )

    def change_role(self, user_id: str, role: str, workspace_id: str | None = None) -> dict:
        body = {"role": role, **({"workspace_id": workspace_id} if workspace_id else {})}
        return self.request("POST", f"/admin/users/{user_id}/roles", json=body)

    def tokens(self) -> list[dict]:
        return self.request("GET", "/admin/tokens")["tokens"]

    def issue_token(self, user_id: str, label: str = "") -> dict:
        return self.request("POST", "/admin/tokens", json={"user_id": user_id, "label": label})

    def revoke_token(self, token_id: int) -> dict:
        return self.request("DELETE", f"/admin/tokens/{token_id}")


def _chat_body(message: str, thread_id: str | None, tool_call: dict | None) -> dict:
    body: dict = {"message": message, "thread_id": thread_id}
    if tool_call is not None:
        body["tool_call"] = tool_call
    return body
