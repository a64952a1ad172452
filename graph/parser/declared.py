"""Tools reached by their own declarations: a `ToolSpec` with `slots` is routed offline by its declared
`phrases`, with no rule of its own here.

A phrase becomes a cue: its words without the names, ticket ids and numbers in it ("vendor profile for
IndiSky" -> "vendor profile"; "tell me about Metro Cabs" -> "tell me about"). A message routes to the
tool when it holds every word run of a cue, in order, and nothing else but slot values, periods and
small words; the slots fill the parameters ({"vendor": "vendor"}). A cue without a required slot
asks for it. Adding a tool therefore needs no parser edit: its module declares phrases and slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tools import registry

from ..intent import Intent
from .patterns import TOKEN
from .turn import Turn, clarify

# words that ask for nothing of their own (a cue made only of them is kept whole: "tell me about")
SMALL = set(
    """
    a an the this that me my us our we i you your please pls kindly can could would will just also and or
    of in on at to for from by with about as show give get tell let know need want see display view pull
    fetch find check look hey hi hello thanks thank what's whats is are s
    """.split()
)
# edge words a cue need not repeat ("vendor profile for X" also reads "X's vendor profile")
_EDGE = {"for", "of", "on", "about", "to", "the", "a", "an", "with", "from"}
_NAME_OR_ID = re.compile(r"^(?:[A-Z][\w&.-]*|T-\d+|\d[\d,.]*[kKlL]?)$")


@dataclass(frozen=True)
class Cue:
    tool: str
    runs: tuple[tuple[str, ...], ...]  # word runs the message must hold, in order
    slots: tuple[tuple[str, str], ...]  # (parameter, slot)
    required: frozenset[str]  # parameters the tool cannot run without


def _runs(phrase: str) -> tuple[tuple[str, ...], ...]:
    """The phrase's word runs between names, ids and numbers, edge words trimmed where words remain."""
    runs: list[list[str]] = [[]]
    for word in phrase.replace("?", " ").replace(",", " ").split():
        if _NAME_OR_ID.match(word):
            runs.append([])
        else:
            runs[-1].append(word.lower())
    out = []
    for run in runs:
        trimmed = list(run)
        while trimmed and trimmed[-1] in _EDGE:
            trimmed.pop()
        while trimmed and trimmed[0] in _EDGE:
            trimmed.pop(0)
        keep = trimmed if any(w not in SMALL for w in trimmed) else run
        if keep:
            out.append(tuple(keep))
    return tuple(out)


@lru_cache(maxsize=1)
def cues() -> tuple[Cue, ...]:
    out = []
    for name, spec in registry.TOOLS.items():
        if not spec.slots:
            continue
        required = frozenset(
            p for p, _ in spec.slots if p in spec.params.model_fields and spec.params.model_fields[p].is_required()
        )
        for phrase in spec.phrases:
            if runs := _runs(phrase):
                out.append(Cue(name, runs, spec.slots, required))
    return tuple(out)


def _holds(words: list[str], runs: tuple[tuple[str, ...], ...]) -> set[int] | None:
    """Positions of the cue's runs in the words, in order; None when a run is missing."""
    at, used = 0, set[int]()
    for run in runs:
        n = len(run)
        hit = next((i for i in range(at, len(words) - n + 1) if tuple(words[i : i + n]) == run), None)
        if hit is None:
            return None
        used.update(range(hit, hit + n))
        at = hit + n
    return used


def declared(turn: Turn) -> Intent | None:
    s = turn.slots
    rest = TOKEN.findall(s.rest)
    for cue in cues():
        used = _holds(rest, cue.runs)
        if used is None:
            continue
        others = [w for i, w in enumerate(rest) if i not in used and w not in SMALL]
        extra = {k for k in s.params if not k.startswith("_")} - {slot for _, slot in cue.slots}
        if others or extra:  # "tell me about the failed Metro Cabs invoices": more than the cue; another rule reads it
            continue
        cue_words = {w for run in cue.runs for w in run}
        params = {
            p: s.params[slot]
            for p, slot in cue.slots
            if s.params.get(slot) not in (None, "", [])
            and not set(TOKEN.findall(str(s.params[slot]).lower())) <= cue_words  # "vendor profile" is no vendor
        }
        missing = sorted(cue.required - set(params))
        if missing:
            what = ", ".join(m.replace("_", " ") for m in missing)
            return clarify(
                f"Which {what} do you mean? For example '{registry.TOOLS[cue.tool].phrases[0]}'.",
                f"{cue.tool} without {what}",
                0.5,
            )
        return turn.tool(cue.tool, params, conf=0.85, why=f"declared phrase of {cue.tool}")
    return None
