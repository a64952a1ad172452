"""Payments: possible duplicate payments, and a vendor's growing overdue amount.

Each query takes a `Scan` and returns `Candidate`s (see tools/detectors/failures.py)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from tools.money import money

from .base import Candidate, Scan, days_between, num
from .sql import CANCELLED, FAILED, _days, _fk, _keys, _vendor_names


# -- possible duplicate payment -------------------------------------------------------------------
def duplicate_payment(s: Scan) -> list[Candidate]:
    """Two invoices of one vendor, amounts within the tolerance, dated within the window of each other,
    different numbers, neither cancelled; the later one is new (in the lookback).

    The pairs come from an equi-join on (vendor, amount bucket): buckets as wide as the tolerance on the
    log of the amount, a pair in the same or the next bucket, then the exact conditions (no vendor-wide
    self-join). A pair whose amounts are near but not equal is flagged only for a vendor where chance
    near-pairs are rare (expected fewer than `duplicate_max_chance` in the lookback, from its volume and
    the spread of its amounts): with hundreds of invoices a month, two within 0.5% of each other say nothing."""
    cfg, today = s.settings, s.today
    since = today - timedelta(days=cfg.detect_lookback_days - 1)
    first = since - timedelta(days=cfg.duplicate_days)
    d, st, amt, key, fk = s.col(s.time), s.col("status"), s.col(s.amount), s.col(s.ds.key), _fk(s)
    width = math.log1p(max(cfg.duplicate_tolerance, 1e-6))
    live = [s.scope, d >= first, d <= today, st != CANCELLED, amt >= cfg.duplicate_min_amount]
    cand = (
        sa.select(
            key.label("k"),
            fk.label("fk"),
            d.label("d"),
            amt.label("amt"),
            sa.func.floor(sa.func.ln(amt) / width).label("bucket"),
        )
        .select_from(s.source("status"))
        .where(*live)
        .cte("dup_cand")
        .prefix_with("MATERIALIZED")  # computed once (SQLite then indexes it for the join; PostgreSQL hashes it)
    )
    # each vendor's volume and the spread of its log amounts: how many near-pairs chance alone would make
    x = sa.func.ln(amt)
    stats = s.conn.execute(
        sa.select(fk, sa.func.count(), sa.func.avg(x), sa.func.avg(x * x))
        .select_from(s.source("status"))
        .where(*live)
        .group_by(fk)
    ).all()
    window = (today - first).days + 1
    # expected chance pairs of a vendor within relative difference r: (pairs dated close) x P(|d log| <= r),
    # P ~ r / (sigma sqrt(pi)) for log amounts spread by sigma (equal amounts: r = one paisa in the amount)
    per_r: dict[Any, float] = {}
    for v, n, mean, mean2 in stats:
        sigma = max(math.sqrt(max(num(mean2) - num(mean) ** 2, 0.0)), 0.05)
        neighbours = n * (2 * cfg.duplicate_days + 1) / window
        per_r[v] = n * neighbours / 2 / (sigma * math.sqrt(math.pi))
    chance = {v: k * cfg.duplicate_tolerance for v, k in per_r.items()}
    near_ok = sorted(v for v, c in chance.items() if c < cfg.duplicate_max_chance)
    a, b = cand.alias("dup_a"), cand.alias("dup_b")
    gap = days_between(a.c.d, b.c.d)
    pairs = []
    for step in (-1, 0, 1):
        pairs.append(
            sa.select(
                a.c.k.label("a_key"),
                b.c.k.label("b_key"),
                b.c.fk.label("fk"),
                a.c.amt.label("a_amt"),
                b.c.amt.label("b_amt"),
                a.c.d.label("a_date"),
                b.c.d.label("b_date"),
            )
            .select_from(a.join(b, sa.and_(a.c.fk == b.c.fk, a.c.bucket == b.c.bucket - step)))
            .where(
                a.c.k != b.c.k,
                b.c.d >= since,
                gap >= 0,
                gap <= cfg.duplicate_days,
                sa.or_(gap > 0, a.c.k < b.c.k),  # the earlier of the two is `a` (same day: the smaller number)
                sa.func.abs(a.c.amt - b.c.amt) <= cfg.duplicate_tolerance * (a.c.amt + b.c.amt) / 2,
                # equal amounts from any vendor; near ones only where chance rarely makes them
                sa.or_(a.c.amt == b.c.amt, b.c.fk.in_(near_ok)) if near_ok else a.c.amt == b.c.amt,
            )
        )
    rows = s.conn.execute(sa.union_all(*pairs).limit(10_000)).mappings().all()
    if not rows:
        return []
    names = _vendor_names(s, {r["fk"] for r in rows})
    out = []
    for r in rows:
        a_amt, b_amt = num(r["a_amt"]), num(r["b_amt"])
        close = max(abs(a_amt - b_amt), 0.01) / max((a_amt + b_amt) / 2, 0.01)
        pair_chance = per_r.get(r["fk"], 0.0) * close
        if pair_chance >= cfg.duplicate_max_chance:  # as close as chance makes them in this vendor's volume
            continue
        vendor = names.get(r["fk"], str(r["fk"]))
        same = f"the same amount ({money(a_amt)})" if a_amt == b_amt else f"{money(a_amt)} and {money(b_amt)}"
        pair = sorted([str(r["a_key"]), str(r["b_key"])])
        out.append(
            Candidate(
                identity=tuple(pair),
                severity="high" if a_amt == b_amt or b_amt >= 100_000 else "medium",
                amount=min(a_amt, b_amt),
                keys=pair,
                query={"dataset": s.ds_name, "filters": [{"field": s.ds.key, "op": "in", "value": pair}]},
                explanation=(
                    f"{vendor} billed {same} {_days(r['a_date'], r['b_date'])} "
                    f"({pair[0]} and {pair[1]}); one may be a duplicate payment."
                ),
                subject=vendor,
                details={"chance_pairs": round(pair_chance, 4)},
            )
        )
    return out


# -- overdue growth -------------------------------------------------------------------------------
def overdue_growth(s: Scan) -> list[Candidate]:
    """A vendor's overdue amount today against the same day last month, both rebuilt from due and paid
    dates (overdue on a day: due before it, not paid by then, neither failed nor cancelled)."""
    cfg, today = s.settings, s.today
    then = today - relativedelta(months=1)
    d, due, paid, st, amt, vendor = (
        s.col(s.time),
        s.col("due_date"),
        s.col("paid_date"),
        s.col("status"),
        s.col(s.amount),
        s.col("vendor"),
    )

    def overdue_on(day: date):
        return sa.and_(d <= day, due < day, sa.or_(paid.is_(None), paid > day))

    fk = _fk(s)
    stmt = (  # grouped by the foreign key, no join: the vendors' names come after, for the few flagged
        sa.select(
            fk.label("fk"),
            sa.func.sum(sa.case((overdue_on(today), amt), else_=0)).label("now"),
            sa.func.sum(sa.case((overdue_on(then), amt), else_=0)).label("then"),
        )
        .select_from(s.source("status"))
        .where(s.scope, st.not_in([FAILED, CANCELLED]), due < today, sa.or_(paid.is_(None), paid > then))
        .group_by(fk)
    )
    grown = [
        r
        for r in s.conn.execute(stmt).mappings()
        if num(r["now"]) - num(r["then"]) >= cfg.overdue_min_increase
        and num(r["now"]) >= cfg.overdue_growth_ratio * num(r["then"])
    ]
    names = _vendor_names(s, {r["fk"] for r in grown})
    out = []
    for g in grown:
        now, before = num(g["now"]), num(g["then"])
        r = {"vendor": names.get(g["fk"], str(g["fk"]))}
        growth = f"{now / before:.1f} times" if before > 0 else "from nothing"
        out.append(
            Candidate(
                identity=(r["vendor"],),
                severity="high" if now - before >= 1_000_000 else "medium",
                amount=now - before,
                keys=_keys(s, vendor == r["vendor"], st.not_in([FAILED, CANCELLED]), overdue_on(today), due >= then),
                query={
                    "dataset": s.ds_name,
                    "filters": [
                        {"field": "vendor", "value": r["vendor"]},
                        {"field": "payment_status", "value": "overdue"},
                    ],
                },
                explanation=(
                    f"Overdue to {r['vendor']} is {money(now)} today against {money(before)} on "
                    f"{then:%d %b} ({growth}, up {money(now - before)})."
                ),
                subject=str(r["vendor"]),
                details={"now": now, "then": before, "then_date": then.isoformat()},
            )
        )
    return out
