"""Browser sessions (business_data/appdb.py BrowserSession): POST /auth/session starts one from a bearer
token; the cookie holds a random id (secrets.token_urlsafe), never the token, and only its hash is
stored. A session ends when signed out (DELETE /auth/session revokes it here, not only in the browser),
after `session_idle_hours` without a request, `session_max_days` after sign-in, or as soon as the
token it was started with is revoked or expires. Rows of ended sessions are deleted a day later, when
someone next signs in (`prune_ended`)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from business_data.appdb import ApiToken, BrowserSession, User, hash_token, utcnow
from business_data.db import session_scope
from tools.rbac import Identity

SESSION_COOKIE = "finkraft_session"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
PRUNE_AFTER = timedelta(days=1)  # an ended session's row is kept this long, then deleted
ENDED = (
    "Your browser session has ended (signed out, idle too long, past its last day, or its token was "
    "revoked); sign in again at /auth/login."
)


def start_session(services, token: str) -> tuple[str, datetime]:
    """A new session for the user behind `token` (already checked by the caller): the cookie value
    (shown once) and when it ends at the latest."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=services.settings.session_max_days)
    with session_scope(services.app) as s:
        prune_ended(services, s, now)
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one()
        s.add(
            BrowserSession(
                session_hash=hash_token(session_id),
                user_id=row.user_id,
                token_id=row.id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
    return session_id, expires


def prune_ended(services, s, now: datetime) -> int:
    """Delete every user's sessions that ended more than PRUNE_AFTER ago: signed out, past
    `expires_at`, or idle past `session_idle_hours`. Called when a session starts, in its transaction:
    sign-ins are rare, so requests pay nothing, and the table cannot grow without sign-ins; a running
    server needs no timer, and a server that is never restarted is still pruned (startup would not be).
    Ended rows are kept a day so a "why was I signed out?" can still be looked at. A session whose token
    was revoked goes at its own expiry (at most `session_max_days` later). How many rows were deleted."""
    cutoff = now - PRUNE_AFTER
    idle = timedelta(hours=services.settings.session_idle_hours)
    done = s.execute(
        delete(BrowserSession).where(
            or_(
                BrowserSession.revoked_at < cutoff,
                BrowserSession.expires_at < cutoff,
                BrowserSession.last_seen_at < cutoff - idle,
            )
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(done, "rowcount", 0) or 0)


def session_identity(services, session_id: str) -> Identity | None:
    """The user of a live session (and it is seen now), else None: unknown, signed out, idle past
    `session_idle_hours`, past `expires_at`, its token revoked or expired, the user inactive."""
    now = utcnow()
    idle_since = now - timedelta(hours=services.settings.session_idle_hours)
    digest = hash_token(session_id)
    with session_scope(services.app) as s:
        row = s.execute(
            select(
                BrowserSession.last_seen_at,
                User.user_id,
                User.role,
                User.workspace_id,
                User.display_name,
                User.active,
                ApiToken.is_dev,
                ApiToken.expires_at.label("token_expires_at"),
            )
            .join(User, User.user_id == BrowserSession.user_id)
            .join(ApiToken, ApiToken.id == BrowserSession.token_id)
            .where(
                BrowserSession.session_hash == digest,
                BrowserSession.revoked_at.is_(None),
                BrowserSession.expires_at > now,
                BrowserSession.last_seen_at > idle_since,
                ApiToken.revoked_at.is_(None),
            )
        ).first()
        if row is None or not row.active:
            return None
        if row.token_expires_at is not None and row.token_expires_at <= now:
            return None
        if row.is_dev and services.settings.env != "dev":
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            s.execute(update(BrowserSession).where(BrowserSession.session_hash == digest).values(last_seen_at=now))
    return Identity(row.user_id, row.role, row.workspace_id, row.display_name)


def end_session(services, session_id: str) -> bool:
    """Sign out: the session is revoked on the server (a copied cookie no longer works). False: no live one."""
    with session_scope(services.app) as s:
        done = s.execute(
            update(BrowserSession)
            .where(BrowserSession.session_hash == hash_token(session_id), BrowserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(getattr(done, "rowcount", 0))
