"""Who is asking: roles, identities and workspaces, from the application database (never from a
message or a client). Which role may run which tool is declared by the tools (tools/registry.py)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from business_data.appdb import User

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
