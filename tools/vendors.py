"""Resolve what a user typed ("indisky", "Sky High", "IndiSky's") to a vendor record."""
from __future__ import annotations

import re
import time

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from business_data.models import Sale, Vendor

from .base import ToolError

_NOISE = re.compile(r"\b(airlines?|hotels?|services?|supplies|pvt|private|ltd|limited|inc|co|the)\b")


def _key(name: str) -> str:
    name = name.lower().replace("'s", "")
    return re.sub(r"[^a-z0-9]", "", name)


def match_vendor_name(text: str, names: list[str], cutoff: float = 80) -> tuple[str | None, list[str]]:
    """Best vendor name for `text`, or (None, suggestions). Pure function, shared with the parser.

    Exact or core-name matches win; a prefix or fragment that fits several vendors is ambiguous;
    otherwise a clear fuzzy winner (ratio on normalised names) is accepted.
    """
    if not text or not names:
        return None, []
    key = _key(text)
    if len(key) < 3:
        return None, []
    by_key = {_key(n): n for n in names}
    if key in by_key:
        return by_key[key], []
    core = {_key(_NOISE.sub("", n.lower())): n for n in names}
    if key in core:
        return core[key], []
    containing = [n for k, n in by_key.items() if key in k]
    if len(containing) == 1 and _key(containing[0]).startswith(key):
        return containing[0], []
    if len(containing) > 1:
        return None, containing[:3]
    scored = sorted(((max(fuzz.ratio(key, k), fuzz.ratio(key, ck)), n) for (k, n), ck in
                     zip(by_key.items(), [_key(_NOISE.sub("", n.lower())) for n in by_key.values()])), reverse=True)
    best, runner = scored[0], (scored[1] if len(scored) > 1 else (0, None))
    if best[0] >= cutoff and best[0] - runner[0] >= 8:
        return best[1], []
    return None, [n for score, n in scored[:3] if score >= 55]


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
    name, suggestions = match_vendor_name(text, names)
    if name is None:
        hint = f" Did you mean {' or '.join(suggestions[:3])}?" if suggestions else f" Vendors here: {', '.join(names[:10])}."
        raise ToolError(f"I couldn't find a vendor called '{text}'.{hint}", suggestions=suggestions)
    return session.scalars(select(Vendor).where(Vendor.workspace_id == workspace_id, Vendor.name == name)).one()
