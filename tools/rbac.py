"""Roles, workspaces and permissions. Enforced in code, never by the model."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
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


@lru_cache(maxsize=1)
def policy() -> dict:
    return yaml.safe_load((Path(__file__).with_name("tools.yaml")).read_text())


def allowed_roles(tool: str) -> list[str]:
    spec = policy()["tools"].get(tool)
    return list(spec["roles"]) if spec else []


def tools_for_role(role: str) -> list[str]:
    return [name for name, spec in policy()["tools"].items() if role in spec["roles"]]


def is_write_tool(tool: str) -> bool:
    return bool(policy()["tools"].get(tool, {}).get("writes"))


def role_summary(role: str) -> str:
    return policy()["roles"][role]["summary"]


def can_run(identity: Identity, tool: str) -> bool:
    return identity.role in allowed_roles(tool)


def denial_message(identity: Identity, tool: str) -> str:
    """A plain-language refusal that says what the role may do instead."""
    action = {
        "export_report": "export reports",
        "create_ticket": "create tickets",
        "update_ticket": "update tickets",
        "run_template": "run business templates",
    }.get(tool, f"use {tool.replace('_', ' ')}")
    needed = " or ".join(allowed_roles(tool)) or "nobody"
    return (f"Sorry, as a {identity.role} you can't {action}; that needs the {needed} role. "
            f"You can {role_summary(identity.role)}. Ask a Manager or an Admin in your workspace if you need this done.")


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
