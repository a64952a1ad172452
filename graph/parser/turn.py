"""One message being parsed: its normalised and corrected text, the slots read from it, and the
helpers every intent rule uses to answer (a tool call, or one short clarifying question)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tools.names import NameIndex, name_index

from ..intent import Intent, ParseContext
from .lexicon import hinglish
from .patterns import EXPORT_IT, NAME_COMMON, POLITE, RECORD_REF, TICKET_ID, TOKEN
from .slots import Slots, blank, correct, explicit_names, filter_params, normalise, read_slots


def clarify(question: str, reason: str, confidence: float = 0.3) -> Intent:
    return Intent("clarify", question=question, confidence=confidence, reason=reason)


@dataclass
class Turn:
    text: str
    ctx: ParseContext
    original: str = ""
    explicit: dict[str, str] = field(default_factory=dict)
    low: str = ""
    t: str = ""  # lower case, typos in ordinary words corrected
    core: str = ""  # t without polite openings ("can you please ...")
    typo_note: str = ""
    vidx: NameIndex | None = None
    cidx: NameIndex | None = None
    prescanned: list[tuple[int, int]] = field(
        default_factory=list
    )  # spans analytics read before slots (by vendor, monthly)

    @classmethod
    def of(cls, text: str, ctx: ParseContext) -> Turn:
        original = normalise(text or "")[:2000]
        explicit, without_values = explicit_names(original)
        low = hinglish(without_values.lower())  # "pichhle mahine" -> "last month" (lexicon.HINGLISH)
        vidx = name_index(tuple(ctx.vendors), NAME_COMMON)
        cidx = name_index(tuple(ctx.customers), NAME_COMMON) if ctx.customers else None
        protected = vidx.tokens | (cidx.tokens if cidx else frozenset())
        t = correct(low, protected)
        fixed = [w for w, c in zip(TOKEN.findall(low), TOKEN.findall(t)) if w != c]
        note = f" (read {', '.join(fixed)} as keyword)" if fixed else ""
        return cls(text, ctx, original, explicit, low, t, POLITE.sub("", t).strip(" ,.!?"), note, vidx, cidx)

    # -- slots (read once, after analytics marked its phrases) ----------------------------------
    @cached_property
    def slots(self) -> Slots:
        vidx = self.vidx or name_index(tuple(self.ctx.vendors), NAME_COMMON)  # (Turn.of always sets it)
        return read_slots(
            blank(self.t, self.prescanned) if self.prescanned else self.t,
            self.original,
            self.ctx,
            vidx,
            self.cidx,
            self.explicit,
        )

    @property
    def p(self) -> dict[str, Any]:
        return self.slots.params

    @cached_property
    def has_records_ref(self) -> bool:
        return bool(RECORD_REF.search(self.t)) or bool(EXPORT_IT.search(self.t))

    @cached_property
    def fp(self) -> dict[str, Any]:
        return filter_params(self.slots)

    @cached_property
    def tpl_params(self) -> dict[str, Any]:
        return {k: self.fp[k] for k in ("vendor", "period", "date_from", "date_to") if k in self.fp}

    @cached_property
    def ticket_match(self) -> re.Match | None:
        from .patterns import TICKET_WORD

        return TICKET_ID.search(self.t) if (TICKET_WORD.search(self.t) or re.search(r"\bt-?\s?\d", self.t)) else None

    def tool(self, name: str, params: dict, refs: dict | None = None, conf: float = 0.9, why: str = "") -> Intent:
        bits = [why] + [b for b in self.slots.notes if b]
        return Intent(
            "tool", name, params=params, refs=refs or {}, confidence=conf, reason="; ".join(bits) + self.typo_note
        )

    def reasons(self, prefix: str) -> str:
        return prefix + (": " + "; ".join(self.slots.notes) if self.slots.notes else "")
