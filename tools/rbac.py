"""Who is asking: roles, identities and workspaces, from the application database (never from a
message or a client). Which role may run which tool is declared by the tools (tools/registry.py)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from business_data.db import session_scope

from .appdb import DEMO_USERS, DEMO_WORKSPACES, AppBase, User, Workspace

ROLES = ("Viewer", "Manager", "Admin")


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str
    workspace_id: str
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "Admin"


class UnknownUser(LookupError):
    pass


def load_identity(engine: Engine, user_id: str) -> Identity:
    """Role and workspace come from the application database, never from a message or a client."""
    with engine.connect() as conn:
        row = conn.execute(select(User.user_id, User.role, User.workspace_id, User.display_name, User.active)
                           .where(User.user_id == user_id)).first()
    if row is None or not row.active:
        raise UnknownUser(f"Unknown or inactive user '{user_id}'.")
    return Identity(row.user_id, row.role, row.workspace_id, row.display_name)


def ensure_demo_users(engine: Engine) -> None:
    """Create the application tables and the demo workspaces and users (idempotent)."""
    AppBase.metadata.create_all(engine)
    with session_scope(engine) as s:
        for ws, name in DEMO_WORKSPACES.items():
            if s.get(Workspace, ws) is None:
                s.add(Workspace(workspace_id=ws, name=name))
        s.flush()
        existing = set(s.scalars(select(User.user_id)))
        for user_id, display, role, ws, _token in DEMO_USERS:
            if user_id not in existing:
                s.add(User(user_id=user_id, display_name=display, role=role, workspace_id=ws))
