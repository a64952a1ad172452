"""The demo workspaces, users and their development tokens (next to the tables they fill).

Dev tokens are stored hashed like any other token and are only ever accepted when
FINKRAFT_ENV=dev (server/auth.py checks `ApiToken.is_dev`). Both functions are idempotent and
expect a migrated application database; `business_data/startup.py` calls them under the start-up lock.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from .appdb import ApiToken, User, Workspace, hash_token
from .db import session_scope

DEMO_WORKSPACES = {"acme": "Acme Corp", "globex": "Globex Industries"}
DEMO_USERS = [
    # user_id, display name, role, workspace, dev token
    ("admin", "Asha Admin", "Admin", "acme", "dev-admin"),
    ("maya", "Maya Menon", "Manager", "acme", "dev-maya"),
    ("victor", "Victor Varma", "Viewer", "acme", "dev-victor"),
    ("gita", "Gita Gupta", "Manager", "globex", "dev-gita"),
]


def ensure_demo_users(engine: Engine) -> None:
    """The demo workspaces and users, where missing (an existing user's role is left as it is)."""
    with session_scope(engine) as s:
        for ws, name in DEMO_WORKSPACES.items():
            if s.get(Workspace, ws) is None:
                s.add(Workspace(workspace_id=ws, name=name))
        s.flush()
        existing = set(s.scalars(select(User.user_id)))
        for user_id, display, role, ws, _token in DEMO_USERS:
            if user_id not in existing:
                s.add(User(user_id=user_id, display_name=display, role=role, workspace_id=ws))


def ensure_dev_tokens(engine: Engine) -> None:
    """The demo users' development tokens, where missing."""
    with session_scope(engine) as s:
        have = set(s.scalars(select(ApiToken.token_hash)))
        for user_id, _name, _role, _ws, token in DEMO_USERS:
            if hash_token(token) not in have:
                s.add(ApiToken(token_hash=hash_token(token), user_id=user_id, label="dev", is_dev=True))
