"""Resolve what a user typed ("indisky", "Sky High", "IndiSky's") to a vendor record."""
from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from business_data.models import Vendor

from .base import ToolError

_NOISE = re.compile(r"\b(airlines?|hotels?|services?|supplies|pvt|private|ltd|limited|inc|co|the)\b")


def _key(name: str) -> str:
    name = name.lower().replace("'s", "")
    return re.sub(r"[^a-z0-9]", "", name)


def match_vendor_name(text: str, names: list[str], cutoff: float = 80) -> tuple[str | None, list[str]]:
    """Best vendor name for `text`, or (None, suggestions). Pure function, shared with the parser."""
    if not text or not names:
        return None, []
    key = _key(text)
    if not key:
        return None, []
    by_key = {_key(n): n for n in names}
    if key in by_key:
        return by_key[key], []
    starts = [n for k, n in by_key.items() if k.startswith(key) and len(key) >= 3]
    if len(starts) == 1:
        return starts[0], []
    core = {_key(_NOISE.sub("", n.lower())): n for n in names}
    if key in core:
        return core[key], []
    scored = process.extract(key, list(by_key), scorer=fuzz.WRatio, limit=3)
    if scored and scored[0][1] >= cutoff and (len(scored) == 1 or scored[0][1] - scored[1][1] >= 5):
        return by_key[scored[0][0]], []
    suggestions = [by_key[k] for k, score, _ in scored if score >= 50] or starts
    return None, suggestions


def workspace_vendor_names(session: Session, workspace_id: str) -> list[str]:
    return list(session.scalars(select(Vendor.name).where(Vendor.workspace_id == workspace_id).order_by(Vendor.name)))


def resolve_vendor(session: Session, workspace_id: str, text: str) -> Vendor:
    names = workspace_vendor_names(session, workspace_id)
    name, suggestions = match_vendor_name(text, names)
    if name is None:
        hint = f" Did you mean {' or '.join(suggestions[:3])}?" if suggestions else f" Vendors here: {', '.join(names[:10])}."
        raise ToolError(f"I couldn't find a vendor called '{text}'.{hint}", suggestions=suggestions)
    return session.scalars(select(Vendor).where(Vendor.workspace_id == workspace_id, Vendor.name == name)).one()
