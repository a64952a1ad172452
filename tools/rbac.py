"""Who is asking: roles, identities and workspaces, from the application database (never from a
message or a client). Which role may run which tool is declared by the tools (tools/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
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
        row = conn.execute(
            select(User.user_id, User.role, User.workspace_id, User.display_name, User.active).where(
                User.user_id == user_id
            )
        ).first()
    if row is None or not row.active:
        raise UnknownUser(f"Unknown or inactive user '{user_id}'.")
    return Identity(row.user_id, row.role, row.workspace_id, row.display_name)


# -- the one rule for reading a user's own rows (traces, exports, plans; memory keeps the same rule in
# memory/episodic.py): the rows they own *in the workspace they are in now*. A user an Admin moves from
# acme to globex no longer reads what he made in acme (its invoice lines, amounts and files).


def mine(identity: Identity, owner_col, workspace_col) -> ColumnElement[bool]:
    """The caller's own rows in their current workspace (whatever their role)."""
    return (owner_col == identity.user_id) & (workspace_col == identity.workspace_id)


def readable_by(identity: Identity, owner_col, workspace_col) -> ColumnElement[bool]:
    """What a caller may read: every row for an Admin, else `mine`."""
    return true() if identity.is_admin else mine(identity, owner_col, workspace_col)


def may_read(identity: Identity, owner: str, workspace_id: str) -> bool:
    """`readable_by` for one loaded row."""
    return identity.is_admin or (owner == identity.user_id and workspace_id == identity.workspace_id)
