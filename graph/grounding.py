"""Numbers a model may quote: every number in its answer must appear in the data it was given.

Used by the LLM router (graph/llm.py) for its own answers and for its explanations of tool results.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")


def extract_numbers(text: str) -> list[float]:
    """Every number written in `text` ('₹4,49,977.12' -> 449977.12; 'INV-ACM-2610-00220' -> 2610, 220)."""
    out = []
    for m in _NUMBER.finditer(text or ""):
        try:
            out.append(float(m.group().replace(",", "")))
        except ValueError:
            continue
    return out


def _walk_numbers(obj: Any, acc: set[float]) -> None:
    if isinstance(obj, bool):
        return
    if isinstance(obj, (int, float)):
        acc.add(float(obj))
    elif isinstance(obj, str):
        acc.update(extract_numbers(obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk_numbers(k, acc)
            _walk_numbers(v, acc)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            _walk_numbers(v, acc)
    elif obj is not None:
        acc.update(extract_numbers(str(obj)))


def grounded_numbers(*sources: Any) -> set[float]:
    """The numbers a model may quote: every number in the sources, also rounded (₹449,977.12 -> 449,977)."""
    raw: set[float] = set()
    for s in sources:
        _walk_numbers(s, raw)
    allowed = set(raw)
    for x in raw:
        allowed.update({round(x), round(x, 1), round(x, 2)})
    return allowed


def ungrounded_numbers(text: str, *sources: Any) -> list[float]:
    allowed = grounded_numbers(*sources)
    return [n for n in extract_numbers(text) if n not in allowed and round(n, 2) not in allowed]


def numbers_grounded(text: str, *sources: Any) -> bool:
    """True when every number in `text` appears in the sources (the tool result)."""
    return not ungrounded_numbers(text, *sources)
