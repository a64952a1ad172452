"""The parser's analytics vocabulary, taken from the data model (business_data/datamodel.py): what people
call each dataset, measure and dimension (the model's names, labels and synonyms), and the known values
of categorical dimensions ("NEFT", "North"). A new dataset or measure in the YAML is understood here
without a line of parser code.

`Vocabulary.find(text, kinds)` returns the phrases in a text, longest first, never overlapping.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import dataclass

from business_data.datamodel import DataModel, get_data_model

Kind = str  # "dataset" | "measure" | "dimension" | "value"
_WORD = re.compile(r"[a-z0-9][a-z0-9'&.-]*")


@dataclass(frozen=True)
class Term:
    phrase: str
    kind: Kind
    dataset: str
    name: str  # the dataset, measure or dimension name
    value: str | None = None  # kind == "value": the stored value ("NEFT")


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    phrase: str
    terms: tuple[Term, ...]  # every meaning of the phrase (one per dataset that has it)

    def of(self, kind: Kind, dataset: str | None = None) -> list[Term]:
        return [t for t in self.terms if t.kind == kind and (dataset is None or t.dataset == dataset)]


def _variants(phrase: str) -> set[str]:
    """'invoice count' and its plural/singular neighbour, lower case, single spaces."""
    p = re.sub(r"[\s_]+", " ", phrase.lower()).strip()
    out = {p}
    if p.endswith("s") and len(p) > 4 and not p.endswith("ss"):
        out.add(p[:-1])
    elif not p.endswith("s"):
        out.add(p + "s")
    return {v for v in out if v}


class Vocabulary:
    def __init__(self, model: DataModel):
        self.model = model
        terms: dict[str, list[Term]] = {}

        def add(phrase: str, term: Term) -> None:  # measures exactly as written; other words also singular/plural
            for v in _variants(phrase) if term.kind != "measure" else {re.sub(r"[\s_]+", " ", phrase.lower()).strip()}:
                terms.setdefault(v, []).append(Term(v, term.kind, term.dataset, term.name, term.value))

        for dn, ds in model.datasets.items():
            for w in [dn, ds.label, ds.words, *ds.synonyms]:
                add(w, Term("", "dataset", dn, dn))
            for name, m in ds.measures.items():
                for w in [name, *([m.label] if m.label else []), *m.synonyms]:
                    add(w, Term("", "measure", dn, name))
            for name, d in ds.dimensions.items():
                for w in [name, *([d.label] if d.label else []), *d.synonyms]:
                    add(w, Term("", "dimension", dn, name))
                for v in d.values or []:
                    add(v, Term("", "value", dn, name, v))
        self.terms = {k: tuple(dict.fromkeys(v)) for k, v in terms.items()}
        self._words: dict[str, set[str]] = {}
        self._by_first: dict[str, list[str]] = {}
        for ph in sorted(self.terms, key=lambda p: (-len(p.split()), -len(p))):
            self._by_first.setdefault(ph.split()[0], []).append(ph)

    def find(self, text: str, kinds: tuple[Kind, ...] = ("dataset", "measure", "dimension", "value")) -> list[Hit]:
        """Phrases in lower-cased text with a meaning of one of `kinds`: longest first, left to right, no overlaps."""
        cands = []
        for w in _WORD.finditer(text):
            for ph in self._by_first.get(w.group(0), ()):
                end = w.start() + len(ph)
                if text.startswith(ph, w.start()) and (
                    end == len(text) or not (text[end].isalnum() or text[end] == "'")
                ):
                    terms = tuple(t for t in self.terms[ph] if t.kind in kinds)
                    if terms:
                        cands.append((w.start(), end, ph, terms))
        hits: list[Hit] = []
        taken: list[tuple[int, int]] = []
        for s, e, p, terms in sorted(cands, key=lambda c: (-len(c[2].split()), -len(c[2]), c[0])):
            if any(a < e and s < b for a, b in taken):
                continue
            taken.append((s, e))
            hits.append(Hit(s, e, p, terms))
        return sorted(hits, key=lambda h: h.start)

    def datasets(self) -> list[str]:
        return list(self.model.datasets)

    def dataset_words(self, dataset: str) -> set[str]:
        if dataset not in self._words:
            self._words[dataset] = {
                p for p, ts in self.terms.items() if any(t.kind == "dataset" and t.dataset == dataset for t in ts)
            }
        return self._words[dataset]


_BUILT: dict[int, tuple[DataModel, Vocabulary]] = {}


_DEFAULT: list = [0.0, None]
# the data model of the message being parsed (graph/parser/__init__.py parse_turn sets it from the
# ParseContext): the services' model, which a test or a host may give without the environment variable
ACTIVE_MODEL: ContextVar[DataModel | None] = ContextVar("finkraft_parse_model", default=None)
RECHECK_SECONDS = 5.0  # how often the configured model file is looked up again (it may be edited)


def vocabulary(model: DataModel | None = None) -> Vocabulary:
    """The vocabulary of `model` (default: the configured data model), built once per model."""
    if model is None:
        model = ACTIVE_MODEL.get()
    if model is None:
        now = time.monotonic()
        if _DEFAULT[1] is None or now - _DEFAULT[0] > RECHECK_SECONDS:
            _DEFAULT[:] = [now, get_data_model()]
        model = _DEFAULT[1]
    got = _BUILT.get(id(model))
    if got is None or got[0] is not model:
        if len(_BUILT) > 8:
            _BUILT.clear()
        got = _BUILT[id(model)] = (model, Vocabulary(model))
    return got[1]
