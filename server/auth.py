"""Bearer-token auth: tokens are stored hashed; identity, role and workspace come from the token alone.

The dependency that turns a request into an Identity is `server/deps.py current_identity`; the
demo users' dev tokens are made at start-up (business_data/demo_users.py).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from fastapi import Request
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy import func, select

from business_data.appdb import ApiToken, User, hash_token, utcnow
from business_data.db import session_scope
from tools.rbac import Identity

from .sessions import SESSION_COOKIE

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}

# The two ways to sign in, as OpenAPI security schemes (Swagger's "Authorize" offers both). Neither
# refuses a request itself (auto_error=False): server/deps.py current_identity decides, with its own messages.
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="A token: `dev-maya` and the other demo tokens in dev, or an `fk_…` token "
    "(POST /admin/tokens, `finkraft token <user_id>`).",
)
COOKIE_SCHEME = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="sessionCookie",
    description="The browser session set by POST /auth/session (for the LangServe playground): a random "
    "session id, not a token. A bearer token, when sent, takes precedence.",
)

# token -> user, kept in process for TOKEN_TTL_S: every request needs it, and it is a database query.
# A revoke or a role change made through this process (revoke_token, forget_tokens) applies at once
# here; one made by another worker or `finkraft` command reaches this process within TOKEN_TTL_S.
TOKEN_TTL_S = 1.0
_tokens: WeakKeyDictionary = WeakKeyDictionary()  # app engine -> {token hash: (user row, expiry)}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token lookup (a token revoked or a user changed in this process)."""
    with _tokens_lock:
        _tokens.clear()


def issue_token(
    app_engine,
    user_id: str,
    label: str = "",
    *,
    token: str | None = None,
    is_dev: bool = False,
    expires_at: datetime | None = None,
) -> tuple[int, str]:
    """Create a token for a user (valid until `expires_at`, or for ever); the plaintext is returned
    once and never stored."""
    token = token or "fk_" + secrets.token_urlsafe(32)
    with session_scope(app_engine) as s:
        if s.get(User, user_id) is None:
            raise LookupError(f"No user '{user_id}'.")
        row = ApiToken(token_hash=hash_token(token), user_id=user_id, label=label, is_dev=is_dev, expires_at=expires_at)
        s.add(row)
        s.flush()
        return row.id, token


DURATION = re.compile(r"^\s*(\d{1,5})\s*([dh])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'30d' (days) or '12h' (hours), as `finkraft token --expires` and POST /admin/tokens take it.
    ValueError with a sentence to show when it is anything else."""
    m = DURATION.match(text or "")
    if not m or int(m.group(1)) == 0:
        raise ValueError(
            f"'{text}' is not a duration: give a whole number of days or hours above zero, e.g. 30d or 12h"
        )
    n, unit = int(m.group(1)), m.group(2).lower()
    if (n if unit == "d" else n / 24) > 3650:
        raise ValueError(f"'{text}' is more than ten years; leave the expiry out for a token that never expires")
    return timedelta(days=n) if unit == "d" else timedelta(hours=n)


class TokenExpired(Exception):
    """The token was valid until `at`."""

    def __init__(self, at: datetime):
        super().__init__(f"token expired at {at.isoformat()}")
        self.at = at

    @property
    def sentence(self) -> str:
        return (
            f"That token expired on {self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; ask an Admin for a new one "
            "(POST /admin/tokens, or `finkraft token <user_id>`)."
        )


class LastToken(Exception):
    """Revoking this token would lock its owner, the Admin asking, out of the API."""


def revoke_token(app_engine, token_id: int, *, by: str | None = None) -> bool:
    """Revoke an active token (False: no such active token). `by` (the caller) may not revoke their
    own last active token: LastToken, nothing changed."""
    with session_scope(app_engine) as s:
        row = s.scalars(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).with_for_update()
        ).one_or_none()
        if row is None:
            return False
        if by is not None and row.user_id == by:
            others = s.scalar(
                select(func.count())
                .select_from(ApiToken)
                .where(ApiToken.user_id == by, ApiToken.revoked_at.is_(None), ApiToken.id != token_id)
            )
            if not others:
                raise LastToken(token_id)
        row.revoked_at = utcnow()
    forget_tokens()
    return True


NOT_CACHED = object()  # identity_for_token(..., cached_only=True): the answer needs the database


def identity_for_token(services, token: str, *, cached_only: bool = False) -> Identity | None:
    """The active user behind a token (None: unknown, revoked, inactive, or a dev token outside dev;
    TokenExpired past its expiry).
    Kept for TOKEN_TTL_S (see above); unknown tokens are not kept (a guessed token costs a query).
    `cached_only`: answer from the cache or return NOT_CACHED, never touching the database."""
    digest, now = hash_token(token), time.monotonic()
    cache = _tokens.get(services.app)
    hit = cache.get(digest) if cache is not None else None
    if hit is not None and hit[1] > now:
        row = hit[0]
    elif cached_only:
        return NOT_CACHED  # type: ignore[return-value]
    else:
        with services.app.connect() as conn:
            row = conn.execute(
                select(
                    User.user_id,
                    User.role,
                    User.workspace_id,
                    User.display_name,
                    User.active,
                    ApiToken.is_dev,
                    ApiToken.expires_at,
                )
                .join(ApiToken, ApiToken.user_id == User.user_id)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
            ).first()
        if row is not None:
            with _tokens_lock:
                cache = _tokens.setdefault(services.app, {})
                if len(cache) > 10_000:  # expired entries of many tokens: start afresh
                    cache.clear()
                cache[digest] = (row, now + TOKEN_TTL_S)
    if row is None or not row.active:
        return None
    if row.is_dev and services.settings.env != "dev":
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise TokenExpired(row.expires_at)
    return Identity(row.user_id, row.role, row.workspace_id, row.display_name)


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>` (the session cookie is no token: server/sessions.py)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cross_site_refusal(request: Request) -> str | None:
    """Why a cookie-authenticated write is refused, or None. A browser sends the session cookie on
    any site's form or fetch (a sibling subdomain passes SameSite), so a write signed in by the cookie
    alone must be JSON from this very origin: `Origin` (or, without it, `Referer`) names the host the
    request was sent to. Bearer-token requests are not affected (a browser never adds that header)."""
    if request.method in SAFE_METHODS or request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    if request.cookies.get(SESSION_COOKIE) is None:
        return None
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    host = request.headers.get("host", "")
    if not source or source == "null" or parts.netloc.lower() != host.lower():
        return (
            "Cross-site request refused: a request signed in with the session cookie must come from this "
            "site (its Origin must match); scripts should send 'Authorization: Bearer <token>'."
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_body = request.headers.get("content-length") not in (None, "0") or "transfer-encoding" in request.headers
    if has_body and ctype != "application/json":
        return "A request signed in with the session cookie must send its body as 'Content-Type: application/json'."
    return None
