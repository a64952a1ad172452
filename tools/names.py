"""Vendor and customer names: one normalisation, one list of noise words, one matcher.

- `name_key` / `core_key`: "IndiSky Airlines" -> "indiskyairlines" / "indisky" (noise words dropped);
- `name_index(names, common)`: an index over a workspace's names (whole-name and core keys, prefixes,
  fuzzy keys, name parts such as "cabs"), cached per list of names;
- `find_names(text, index)`: the names mentioned inside a sentence (the offline parser); a name with
  symbols (quotes, &, %, _, emoji: "O'Brien & Sons", "☕", "50% Off Mart") is also found as written,
  even one with no letters at all;
- `best_match(text, names)`: the one name a typed value means, or "did you mean" suggestions
  (tools/vendors.resolve_vendor).

Pure functions over a list of names: the caller reads the names (tools/vendors.workspace_vendor_names).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

# words that don't tell two names apart ("IndiSky Airlines" is "IndiSky")
NOISE = frozenset(
    "airline airlines hotel hotels service services supplies supply pvt private ltd limited inc co the "
    "corp corporation company llp llc group enterprises solutions".split()
)
MIN_KEY = 3  # shorter keys ("in", "co") never name anything
FUZZY_CUTOFF = 84  # rapidfuzz ratio (0-100) a misspelt key needs to count as a name, in a sentence or a value
FUZZY_MARGIN = 8  # best_match: how far the best fuzzy score must beat the runner-up
SUGGEST_CUTOFF = 55  # best_match: the weakest score still offered as "did you mean"
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # a word of lower-cased text
BARRIER = "|"  # find_names: text the caller already consumed is replaced by this; names never span it


PLAIN = re.compile(r"[A-Za-z0-9 ]*")  # a name of only these is found by its words alone
PUNCTUATION_ONLY = re.compile(r"""[\s.,;:!?'"()\[\]-]*""")  # never found as written: it is in every sentence


def literal_form(text: str) -> str:
    """A name or a sentence as the parser compares them written out: NFKC, straight quotes, lower case."""
    t = unicodedata.normalize("NFKC", text)
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " ")):
        t = t.replace(a, b)
    return re.sub(r"\s+", " ", t).strip().lower()


def name_key(text: str) -> str:
    """Lower case, possessive dropped, letters and digits only: "IndiSky's" -> "indisky"."""
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("'s", ""))


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9&]+", re.sub(r"'s\b", "", name, flags=re.I))


def core_key(name: str) -> str:
    """The key without noise words: "Apex Office Supplies" -> "apexoffice"."""
    return name_key(" ".join(w for w in _words(name) if w.lower() not in NOISE))


@dataclass
class NameIndex:
    names: tuple[str, ...]
    common: frozenset[str]  # the caller's ordinary words: never a name on their own
    exact: dict[str, set[str]]  # whole-name, core and distinctive first-word keys -> names
    parts: dict[str, set[str]]  # a later word ("cabs") or camel-case part ("sky") -> names
    fuzzy_keys: list[str]
    fuzzy_names: list[str]
    full_keys: dict[str, str]  # name_key -> name, in the given order
    core_keys: dict[str, str]  # core_key -> name
    fuzzy_of: dict[str, tuple[str, ...]]  # name -> the keys a misspelling is scored against (whole, core, first word)
    tokens: frozenset[str]  # every word of every name (never "corrected" as a typo)
    literal: tuple[tuple[str, str], ...] = ()  # (written form, name) of names with symbols, longest first


@lru_cache(maxsize=128)
def name_index(names: tuple[str, ...], common: frozenset[str] = frozenset()) -> NameIndex:
    exact: dict[str, set[str]] = {}
    parts: dict[str, set[str]] = {}
    fuzzy: dict[str, str] = {}
    tokens: set[str] = set()
    fuzzy_of: dict[str, tuple[str, ...]] = {}
    for n in names:
        words = _words(n)
        lw = [w.lower() for w in words]
        if not lw:
            continue
        tokens.update(lw)
        full, core = name_key(n), core_key(n)
        keys = {full, core} | ({lw[0]} if len(lw[0]) >= 4 and lw[0] not in NOISE else set())
        for k in keys:
            if len(k) >= MIN_KEY:
                exact.setdefault(k, set()).add(n)
        fuzzy_of[n] = tuple(dict.fromkeys(k for k in (full, core, lw[0]) if len(k) >= 4)) or (full,)
        for k in fuzzy_of[n]:
            if len(k) >= 4:
                fuzzy[k] = n
        for w in lw[1:]:  # "cabs", "hotel": a later word alone, matched only when it stands alone
            for v in {w, w[:-1] if w.endswith("s") else w + "s"}:
                if len(v) >= 4 and v not in common:
                    parts.setdefault(v, set()).add(n)
        for w in words:
            for p in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", w):
                if len(p) >= MIN_KEY and p.lower() not in common:
                    parts.setdefault(p.lower(), set()).add(n)
                    tokens.add(p.lower())
    literal = sorted(
        {
            (literal_form(n), n)
            for n in names
            if not PLAIN.fullmatch(n) and not PUNCTUATION_ONLY.fullmatch(n) and literal_form(n)
        },
        key=lambda x: (-len(x[0]), x[1]),
    )
    return NameIndex(
        names,
        common,
        exact,
        parts,
        list(fuzzy),
        list(fuzzy.values()),
        {name_key(n): n for n in names},
        {core_key(n): n for n in names},
        fuzzy_of,
        frozenset(tokens),
        tuple(literal),
    )


WORD_END = frozenset(" ,.;:!?\"'()|")


def _bounded(text: str, j: int, edge: str) -> bool:
    """The character at `j` (next to a name's `edge`) ends the name there: the sentence's end, or for a
    letter or digit anything but another; for a symbol a space or punctuation ("☕☕" is not "☕")."""
    if j < 0 or j >= len(text):
        return True
    return not text[j].isalnum() if edge.isalnum() else text[j] in WORD_END


def _written_hits(text: str, idx: NameIndex) -> list[NameHit]:
    """Names with symbols found as written in lower-cased `text`, longest first, not inside a word
    ("%" is not the % of "50% off"), never overlapping."""
    hits: list[NameHit] = []
    taken: list[tuple[int, int]] = []
    for form, name in idx.literal:
        start = 0
        while (i := text.find(form, start)) >= 0:
            start = i + 1
            end = i + len(form)
            if not (_bounded(text, i - 1, form[0]) and _bounded(text, end, form[-1])):
                continue
            if any(a < end and i < b for a, b in taken):
                continue
            same = next((h for h in hits if h.start == i and h.end == end), None)
            if same is not None:  # two names written alike (only case differs): both
                same.names = sorted({*same.names, name})
                continue
            hits.append(NameHit(i, end, [name], "exact"))
            taken.append((i, end))
    return hits


@dataclass
class NameHit:
    start: int
    end: int
    names: list[str]
    how: str  # exact, prefix, fuzzy, part


def find_names(text: str, idx: NameIndex) -> list[NameHit]:
    """Names mentioned in lower-cased `text` (spans already consumed are BARRIER): exact, prefix, fuzzy, then parts.

    Longer phrases first; a phrase made only of the caller's common words is never a name; a name part
    ("cabs") counts only standing alone ("Tata Steel" is not "Narmada Steel")."""
    written = _written_hits(text, idx) if idx.literal else []
    for h in written:  # consumed: the words of "O'Brien & Sons" are not read again
        text = text[: h.start] + BARRIER + " " * (h.end - h.start - 1) + text[h.end :]
    segs: list[list[tuple[str, int, int]]] = [[]]
    prev_end = 0
    for m in TOKEN.finditer(text):
        if BARRIER in text[prev_end : m.start()] and segs[-1]:
            segs.append([])
        segs[-1].append((m.group(0).removesuffix("'s").replace("'", ""), m.start(), m.end()))
        prev_end = m.end()
    hits: list[NameHit] = list(written)
    for seg in segs:
        words = [w for w, _, _ in seg]
        unknown = [w not in idx.common or w in idx.tokens for w in words]
        used = [False] * len(seg)
        for n in (4, 3, 2, 1):
            for i in range(len(seg) - n + 1):
                if not any(unknown[i : i + n]) or any(used[i : i + n]):
                    continue
                key = "".join(words[i : i + n])
                names, how = idx.exact.get(key), "exact"
                if not names and len(key) >= 4 and all(unknown[i : i + n]):
                    pref = {nm for k, nm in idx.full_keys.items() if k.startswith(key)}
                    names, how = (pref, "prefix") if pref else (None, "")
                    if not names and n <= 3:
                        found = process.extract(
                            key, idx.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=6
                        )
                        if found:
                            best = found[0][1]
                            names, how = {idx.fuzzy_names[j] for _, sc, j in found if sc >= best - 2}, "fuzzy"
                if (
                    not names
                    and n == 1
                    and key in idx.parts
                    and not (i and unknown[i - 1])
                    and not (i + 1 < len(seg) and unknown[i + 1])
                ):
                    names, how = idx.parts[key], "part"
                if names:
                    hits.append(NameHit(seg[i][1], seg[i + n - 1][2], sorted(names), how))
                    used[i : i + n] = [True] * n
    hits.sort(key=lambda h: h.start)
    return hits


def best_match(
    text: str, names: list[str] | tuple[str, ...], cutoff: float = FUZZY_CUTOFF
) -> tuple[str | None, list[str]]:
    """The one name `text` means, or (None, did-you-mean suggestions).

    Whole-name or core-name matches win; a fragment that fits several names is ambiguous (they are the
    suggestions); otherwise a clear fuzzy winner (ratio on the name's fuzzy keys, as find_names scores
    them, FUZZY_MARGIN ahead of the next) is accepted."""
    if not text or not names:
        return None, []
    key = name_key(text)
    if len(key) < MIN_KEY:
        return None, []
    idx = name_index(tuple(names))
    if key in idx.full_keys:
        return idx.full_keys[key], []
    if key in idx.core_keys:
        return idx.core_keys[key], []
    containing = [n for k, n in idx.full_keys.items() if key in k]
    if len(containing) == 1 and name_key(containing[0]).startswith(key):
        return containing[0], []
    if len(containing) > 1:
        return None, containing[:3]
    scored = sorted(
        ((max(fuzz.ratio(key, k) for k in idx.fuzzy_of.get(n, (k,))), n) for k, n in idx.full_keys.items()),
        reverse=True,
    )
    best, runner = scored[0], (scored[1] if len(scored) > 1 else (0, None))
    if best[0] >= cutoff and best[0] - runner[0] >= FUZZY_MARGIN:
        return best[1], []
    return None, [n for score, n in scored[:3] if score >= SUGGEST_CUTOFF]
