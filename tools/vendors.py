"""A workspace's vendor and customer names, and resolving what a user typed ("indisky", "IndiSky's")
to a vendor record. The matching itself is tools/names.py (shared with the offline parser)."""
from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from business_data.models import Sale, Vendor

from .base import ToolError
from .names import best_match

_NAMES_TTL_S = 5.0
_names_cache: dict[tuple[str, str, str], tuple[list[str], float]] = {}


def _cached_names(session: Session, workspace_id: str, column) -> list[str]:
    """Distinct names in one column for a workspace, kept a few seconds: every turn asks, they rarely change."""
    key = (str(session.get_bind().url), workspace_id, str(column))
    hit = _names_cache.get(key)
    now = time.monotonic()
    if hit and hit[1] > now:
        return hit[0]
    table = column.class_
    names = list(session.scalars(select(column).where(table.workspace_id == workspace_id).distinct().order_by(column)))
    _names_cache[key] = (names, now + _NAMES_TTL_S)
    return names


def workspace_vendor_names(session: Session, workspace_id: str) -> list[str]:
    return _cached_names(session, workspace_id, Vendor.name)


def workspace_customer_names(session: Session, workspace_id: str) -> list[str]:
    """The customers that appear in the workspace's sales (what the parser resolves "sales to X" against)."""
    return _cached_names(session, workspace_id, Sale.customer)


def resolve_vendor(session: Session, workspace_id: str, text: str) -> Vendor:
    names = workspace_vendor_names(session, workspace_id)
    name, suggestions = best_match(text, names)
    if name is None:
        hint = f" Did you mean {' or '.join(suggestions[:3])}?" if suggestions else f" Vendors here: {', '.join(names[:10])}."
        raise ToolError(f"I couldn't find a vendor called '{text}'.{hint}", suggestions=suggestions)
    return session.scalars(select(Vendor).where(Vendor.workspace_id == workspace_id, Vendor.name == name)).one()
