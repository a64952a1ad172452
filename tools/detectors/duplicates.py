"""Possible duplicate payments: the pairs pushed down to the database, weighed against chance.

A pair is two invoices of one vendor, amounts within the tolerance (0.5%), dated within the window
(7 days) of each other, different numbers, neither cancelled, the later one new (in the lookback).
Amount and date alone say little at volume: a vendor with hundreds of invoices a month makes many
such pairs by chance. So, as accounts-payable audit tools do in their "fuzzy duplicate" tests, a
pair is weighed on all its evidence, and flagged when chance would make fewer than
`duplicate_max_chance` pairs as close as this one in the vendor's volume:

- the amounts: how close (equal to the paisa is thousands of times rarer than within 0.5%);
- the invoice numbers (the dataset's key), normalised in the database (upper case, separators
  dropped, the look-alike letters O I L S B read as 0 1 1 5 8):
  * re-keyed: the same number once normalised ("INV-0042" and "INV0042", "O042" and "0042"), or one
    is the other plus a suffix of letters, or of a separator and digits ("0042-R", "0042A", "0042/1").
    Two different numbers of one numbering scheme never look like that: chance makes none;
  * transposed: two adjacent characters swapped ("0042" and "0024"). Sequential numbering does make
    those by chance (a vendor's 100012 and 100102), so it counts only as far as it is rare: chance
    makes as many as the vendor's transposed near pairs (this one included) among all its near pairs;
  * anything else (numbers one digit apart, as consecutive invoices always are): no evidence; the
    amount and the vendor's volume decide alone.

Each kind of evidence is its own equi-join over the lookback's invoices (a MATERIALIZED CTE), so the
database looks up only the pairs that have it, never a vendor-wide self-join: the same amount; the
marks of a swap (same length, same sum and sum of squares of the last characters' codes: the few such pairs are compared
in Python); the same normalised number; a number and the same without its suffix; and, for a vendor
quiet enough for the amount alone, amounts in the same or the next bucket as wide as the tolerance.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from tools.money import money

from .base import Candidate, Scan, days_between, num
from .sql import CANCELLED, _days, _fk, _vendor_names

SEPARATORS = "-/ ."
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
LOOKALIKES = ("OILSB", "01158")  # letters read as the digits they look like
TAIL = 8  # a transposition is looked for in the last TAIL characters, the rest equal


class normal_number(FunctionElement):
    """An invoice number, upper case, normalised: separators dropped, look-alike letters as digits."""

    type = sa.String()
    inherit_cache = True


@compiles(normal_number)
def _normal_translate(element, compiler, **kw):  # PostgreSQL: one translate()
    (x,) = list(element.clauses)
    src = LOOKALIKES[0] + SEPARATORS
    return f"translate({compiler.process(x, **kw)}, '{src}', '{LOOKALIKES[1]}')"


@compiles(normal_number, "sqlite")
def _normal_replace(element, compiler, **kw):  # SQLite has no translate(): nested replace()
    (x,) = list(element.clauses)
    out = compiler.process(x, **kw)
    for ch in SEPARATORS:
        out = f"replace({out}, '{ch}', '')"
    for letter, digit in zip(*LOOKALIKES, strict=True):
        out = f"replace({out}, '{letter}', '{digit}')"
    return out


class char_code(FunctionElement):
    """The code of a one-character string (SQLite unicode(), PostgreSQL ascii(); '' gives NULL or 0)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(char_code)
def _code_ascii(element, compiler, **kw):
    return f"ascii({compiler.process(list(element.clauses)[0], **kw)})"


@compiles(char_code, "sqlite")
def _code_unicode(element, compiler, **kw):
    return f"unicode({compiler.process(list(element.clauses)[0], **kw)})"


def normal(number: Any) -> str:
    """normal_number in Python (for the few pairs the database returns)."""
    x = str(number).strip().upper()
    for ch in SEPARATORS:
        x = x.replace(ch, "")
    return x.translate(str.maketrans(*LOOKALIKES))


def transposed(a: Any, b: Any) -> bool:
    """The two numbers, normalised, differ by two adjacent characters swapped."""
    x, y = normal(a), normal(b)
    diff = [i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q]
    return (
        len(x) == len(y)
        and len(diff) == 2
        and diff[1] == diff[0] + 1
        and x[diff[0]] == y[diff[1]]
        and x[diff[1]] == y[diff[0]]
    )


def duplicate_payment(s: Scan) -> list[Candidate]:
    """See the module's docstring."""
    cfg, today = s.settings, s.today
    since = today - timedelta(days=cfg.detect_lookback_days - 1)
    first = since - timedelta(days=cfg.duplicate_days)
    d, st, amt, key, fk = s.col(s.time), s.col("status"), s.col(s.amount), s.col(s.ds.key), _fk(s)
    width = math.log1p(max(cfg.duplicate_tolerance, 1e-6))
    live = [s.scope, d >= first, d <= today, st != CANCELLED, amt >= cfg.duplicate_min_amount]
    upper = sa.func.upper(sa.func.trim(sa.cast(key, sa.String)))
    rows = (
        sa.select(
            key.label("k"),
            fk.label("fk"),
            d.label("d"),
            amt.label("amt"),
            sa.func.floor(sa.func.ln(amt) / width).label("bucket"),
            upper.label("u"),
            normal_number(upper).label("n"),
        )
        .select_from(s.source("status"))
        .where(*live)
        .cte("dup_rows")
        .prefix_with("MATERIALIZED")  # the normalised number computed once per row, not once per use
    )
    n = rows.c.n
    tails = (  # the codes of the last TAIL characters of the normalised number (0 before a short one's start)
        sa.select(
            *rows.c,
            *[
                sa.case(
                    (
                        sa.func.length(n) - TAIL + 1 + j >= 1,
                        char_code(sa.func.substr(n, sa.func.length(n) - TAIL + 1 + j, 1)),
                    ),
                    else_=0,
                ).label(f"c{j}")
                for j in range(TAIL)
            ],
        )
        .cte("dup_tails")
        .prefix_with("MATERIALIZED")
    )
    codes = [tails.c[f"c{j}"] for j in range(TAIL)]
    letters_off = sa.func.rtrim(tails.c.u, LETTERS)
    cand = (
        sa.select(
            *[tails.c[c] for c in ("k", "fk", "d", "amt", "bucket", "u", "n")],
            (tails.c.bucket - 1).label("bucket_below"),  # plain columns to join on, so either side's
            (tails.c.bucket + 1).label("bucket_above"),  # index serves (an expression only one way)
            sa.func.length(tails.c.u).label("ulen"),
            sa.func.length(tails.c.n).label("nlen"),
            # the last characters as a multiset (sum and sum of squares of their codes): equal for two
            # numbers that differ by a swap; the few pairs with equal ones are compared in Python
            sum(codes, sa.literal(0)).label("sig1"),
            sum((c * c for c in codes), sa.literal(0)).label("sig2"),
            # the number without its suffix: trailing letters ('A', '-DUP'), else a separator and digits
            # ('/1'; a number ending in digits without one has no suffix, and this is no number then)
            sa.case(
                (letters_off != tails.c.u, sa.func.rtrim(letters_off, SEPARATORS)),
                else_=sa.func.rtrim(sa.func.rtrim(tails.c.u, DIGITS), SEPARATORS),
            ).label("base"),
        )
        .cte("dup_cand")
        .prefix_with("MATERIALIZED")  # computed once (SQLite then indexes it for each join; PostgreSQL hashes it)
    )
    per_r = _chance_per_vendor(s, fk, amt, live)
    near_ok = sorted(v for v, k in per_r.items() if k * cfg.duplicate_tolerance < cfg.duplicate_max_chance)

    a, b = cand.alias("dup_a"), cand.alias("dup_b")
    gap = days_between(a.c.d, b.c.d)
    near = sa.func.abs(a.c.amt - b.c.amt) <= cfg.duplicate_tolerance * (a.c.amt + b.c.amt) / 2
    ordered = [  # `a` the earlier (same day: the smaller number), `b` new
        a.c.k != b.c.k,
        b.c.d >= since,
        gap >= 0,
        gap <= cfg.duplicate_days,
        sa.or_(gap > 0, a.c.k < b.c.k),
        near,
    ]
    cols = [
        a.c.k.label("a_key"),
        b.c.k.label("b_key"),
        b.c.fk.label("fk"),
        a.c.amt.label("a_amt"),
        b.c.amt.label("b_amt"),
        a.c.d.label("a_date"),
        b.c.d.label("b_date"),
    ]
    # each kind of evidence is its own equi-join, so the database looks up only the pairs that have it:
    # 1. the same amount; the marks of a swap in the numbers (same length, same tail multiset)
    pairs = [
        sa.select(*cols, sa.literal(0).label("rekeyed"))
        .select_from(a.join(b, sa.and_(a.c.fk == b.c.fk, *[a.c[c] == b.c[c] for c in on])))
        .where(*ordered)
        for on in (("bucket", "amt"), ("nlen", "sig1", "sig2"))
    ]
    # 2. near amounts of a vendor quiet enough for the amount alone (a pair in the same or the next bucket)
    if near_ok:
        pairs += [
            sa.select(*cols, sa.literal(0).label("rekeyed"))
            .select_from(a.join(b, sa.and_(a.c.fk == b.c.fk, a.c.bucket == b.c[bucket])))
            .where(*ordered, b.c.fk.in_(near_ok), a.c.amt != b.c.amt)
            for bucket in ("bucket_below", "bucket", "bucket_above")
        ]
    # 3. by number: the same once normalised; one the other plus a suffix (either may be the earlier)
    pairs.append(
        sa.select(*cols, sa.literal(1).label("rekeyed"))
        .select_from(a.join(b, sa.and_(a.c.fk == b.c.fk, a.c.n == b.c.n)))
        .where(*ordered)
    )
    either_new = [a.c.k != b.c.k, sa.or_(a.c.d >= since, b.c.d >= since), sa.func.abs(gap) <= cfg.duplicate_days, near]
    pairs.append(
        sa.select(*cols, sa.literal(1).label("rekeyed"))
        .select_from(a.join(b, sa.and_(a.c.fk == b.c.fk, a.c.u == b.c.base)))
        .where(*either_new, b.c.ulen - a.c.ulen <= 4, a.c.n != b.c.n)
    )
    # SQLite plans the member that materialises the CTEs with a guess at their size, and may choose a
    # nested loop without an index there (seen at 100,000 invoices: 25 s). So the first member is one that
    # finds nothing at the cost of one scan (the condition is on the outer table), the others are planned
    # on the materialised CTE
    nothing = (
        sa.select(*cols, sa.literal(0).label("rekeyed")).select_from(a.join(b, a.c.k == b.c.k)).where(a.c.k.is_(None))
    )
    found = s.conn.execute(sa.union_all(nothing, *pairs).limit(10_000)).mappings().all()
    return _candidates(s, found, per_r)


def _chance_per_vendor(s: Scan, fk: Any, amt: Any, live: list[Any]) -> dict[Any, float]:
    """Each vendor's expected chance pairs within relative difference r, per unit of r: (pairs dated
    close) x P(|d log| <= r), P ~ r / (sigma sqrt(pi)) for log amounts spread by sigma."""
    cfg = s.settings
    x = sa.func.ln(amt)
    stats = s.conn.execute(
        sa.select(fk, sa.func.count(), sa.func.avg(x), sa.func.avg(x * x))
        .select_from(s.source("status"))
        .where(*live)
        .group_by(fk)
    ).all()
    window = cfg.detect_lookback_days + cfg.duplicate_days
    out: dict[Any, float] = {}
    for v, n, mean, mean2 in stats:
        sigma = max(math.sqrt(max(num(mean2) - num(mean) ** 2, 0.0)), 0.05)
        neighbours = n * (2 * cfg.duplicate_days + 1) / window
        out[v] = n * neighbours / 2 / (sigma * math.sqrt(math.pi))
    return out


def _candidates(s: Scan, rows: Sequence[Any], per_r: dict[Any, float]) -> list[Candidate]:
    cfg = s.settings
    pairs: dict[tuple[str, str], dict] = {}
    for r in rows:  # one pair may come both by amount and by number
        pair = tuple(sorted([str(r["a_key"]), str(r["b_key"])]))
        seen = pairs.setdefault(pair, {**r, "rekeyed": 0})  # type: ignore[arg-type]
        seen["rekeyed"] = seen["rekeyed"] or r["rekeyed"]
    for pair, r in pairs.items():
        r["transposed"] = not r["rekeyed"] and transposed(*pair)
    swaps = Counter(r["fk"] for r in pairs.values() if r["transposed"])
    names = _vendor_names(s, {r["fk"] for r in pairs.values()})
    out = []
    for pair, r in pairs.items():
        a_amt, b_amt = num(r["a_amt"]), num(r["b_amt"])
        close = max(abs(a_amt - b_amt), 0.01) / max((a_amt + b_amt) / 2, 0.01)
        # the share of chance pairs whose numbers look like these: none re-keyed; transposed, as many as the
        # vendor's transposed near pairs (this one included) among the near pairs chance makes; else all
        expected = per_r.get(r["fk"], 0.0) * cfg.duplicate_tolerance
        share = 0.0 if r["rekeyed"] else min(1.0, swaps[r["fk"]] / max(expected, 1e-9)) if r["transposed"] else 1.0
        pair_chance = per_r.get(r["fk"], 0.0) * close * share
        if pair_chance >= cfg.duplicate_max_chance:  # as close as chance makes them in this vendor's volume
            continue
        vendor = names.get(r["fk"], str(r["fk"]))
        same = f"the same amount ({money(a_amt)})" if a_amt == b_amt else f"{money(a_amt)} and {money(b_amt)}"
        keys = list(pair)
        out.append(
            Candidate(
                identity=pair,
                severity="high" if a_amt == b_amt or r["rekeyed"] or b_amt >= 100_000 else "medium",
                amount=min(a_amt, b_amt),
                keys=keys,
                query={"dataset": s.ds_name, "filters": [{"field": s.ds.key, "op": "in", "value": keys}]},
                explanation=(
                    f"{vendor} billed {same} {_days(r['a_date'], r['b_date'])} under {pair[0]} and "
                    f"{pair[1]}{_numbers_in_words(r)}; one may be a duplicate payment."
                ),
                subject=vendor,
                details={
                    "chance_pairs": round(pair_chance, 6),
                    "numbers": "re-keyed" if r["rekeyed"] else "transposed" if r["transposed"] else "unrelated",
                },
            )
        )
    return out


def _numbers_in_words(r: Any) -> str:
    a, b = sorted([str(r["a_key"]), str(r["b_key"])], key=len)
    if r["rekeyed"]:
        if b.upper().startswith(a.upper()) and len(b) > len(a):
            return f", the same number with '{b[len(a) :]}' added"
        return ", the same number typed differently"
    if r["transposed"]:
        return ", numbers that differ by two swapped characters"
    return ""
