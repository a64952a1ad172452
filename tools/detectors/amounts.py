"""Amounts: invoices far above the vendor's usual size, and a region's sales shortfall this month.

Each query takes a `Scan` and returns `Candidate`s (see tools/detectors/failures.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from tools.money import money

from .base import Candidate, Scan, num
from .sql import CANCELLED, _fk, _pct, _vendor_names, _when


# -- unusual amount -------------------------------------------------------------------------------
def _median(part_by, order):
    """avg of the middle one or two rows of each partition, as a subquery (part, med)."""
    ranked = sa.select(
        part_by.label("part"),
        order.label("x"),
        sa.func.row_number().over(partition_by=part_by, order_by=order).label("rn"),
        sa.func.count().over(partition_by=part_by).label("n"),
    ).subquery()
    return (
        sa.select(ranked.c.part, sa.func.avg(ranked.c.x).label("med"), sa.func.max(ranked.c.n).label("n"))
        .where(sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
        .group_by(ranked.c.part)
    )


def unusual_amount(s: Scan) -> list[Candidate]:
    """New invoices far above the vendor's usual size: a robust z-score of the log amount against the
    vendor's median and MAD over the months before (at least `unusual_min_history` invoices)."""
    cfg, today = s.settings, s.today
    since = today - timedelta(days=cfg.detect_lookback_days - 1)
    hist_from = since - timedelta(days=cfg.unusual_history_days)
    d, st, amt, fk = s.col(s.time), s.col("status"), s.col(s.amount), _fk(s)
    src = s.source("status")
    hist = (
        sa.select(fk.label("fk"), sa.func.ln(amt).label("x"))
        .select_from(src)
        .where(s.scope, d >= hist_from, d < since, st != CANCELLED, amt > 0)
        .cte("hist")
    )
    med = _median(hist.c.fk, hist.c.x).cte("med")
    dev = (
        sa.select(hist.c.fk.label("fk"), sa.func.abs(hist.c.x - med.c.med).label("dx"))
        .select_from(hist.join(med, hist.c.fk == med.c.part))
        .cte("dev")
    )
    mad = _median(dev.c.fk, dev.c.dx).cte("mad")
    key = s.col(s.ds.key)
    z = (sa.func.ln(amt) - med.c.med) / (1.4826 * mad.c.med)
    stmt = (
        sa.select(
            key.label("key"),
            fk.label("fk"),
            amt.label("amount"),
            d.label("day"),
            sa.func.exp(med.c.med).label("typical"),
            med.c.n.label("n"),
            z.label("z"),
        )
        .select_from(src.join(med, fk == med.c.part).join(mad, fk == mad.c.part))
        .where(
            s.scope,
            d >= since,
            d <= today,
            st != CANCELLED,
            amt > 0,
            med.c.n >= cfg.unusual_min_history,
            mad.c.med > 0,
            z >= cfg.unusual_z,
        )
        .limit(1000)
    )
    rows = s.conn.execute(stmt).mappings().all()
    names = _vendor_names(s, {r["fk"] for r in rows})
    out = []
    for r in rows:
        vendor = names.get(r["fk"], str(r["fk"]))
        value, typical = num(r["amount"]), num(r["typical"])
        out.append(
            Candidate(
                identity=(str(r["key"]),),
                severity="high" if value >= 500_000 else "medium",
                amount=value - typical,
                keys=[str(r["key"])],
                query={"dataset": s.ds_name, "filters": [{"field": s.ds.key, "value": str(r["key"])}]},
                explanation=(
                    f"{r['key']} from {vendor} is {money(value)}, {value / typical:.1f} times its usual "
                    f"{money(typical)} (median of {int(r['n'])} invoices; robust z {num(r['z']):.1f})."
                ),
                subject=vendor,
                details={"typical": typical, "z": round(num(r["z"]), 2), "history": int(r["n"])},
            )
        )
    return out


# -- sales shortfall ------------------------------------------------------------------------------


# -- sales shortfall ------------------------------------------------------------------------------
def sales_shortfall(s: Scan) -> list[Candidate]:
    """A region's month-to-date sales against the same days of last month (day 1 to today's day),
    flagged when the drop is large and beyond chance (compound-Poisson z on the two sums)."""
    cfg, today = s.settings, s.today
    start = today.replace(day=1)
    prev_start = start - relativedelta(months=1)
    prev_end = min(prev_start + timedelta(days=today.day - 1), start - timedelta(days=1))
    d, amt, region = s.col(s.time), s.col(s.amount), s.col("region")
    now, prev = sa.and_(d >= start, d <= today), sa.and_(d >= prev_start, d <= prev_end)
    where = [s.scope, d >= prev_start, d <= today]
    if s.has("status"):
        where.append(s.col("status") != CANCELLED)
    stmt = (
        sa.select(
            region.label("region"),
            sa.func.sum(sa.case((now, amt), else_=0)).label("now"),
            sa.func.sum(sa.case((prev, amt), else_=0)).label("prev"),
            sa.func.sum(sa.case((now, amt * amt), else_=0)).label("now2"),
            sa.func.sum(sa.case((prev, amt * amt), else_=0)).label("prev2"),
        )
        .select_from(s.source("region"))
        .where(*where)
        .group_by(region)
    )
    out = []
    days = f"{start:%d}–{today:%d %b}" if today.day > 1 else f"{today:%d %b}"
    prev_days = f"{prev_start:%d}–{prev_end:%d %b}" if prev_end > prev_start else f"{prev_start:%d %b}"
    for r in s.conn.execute(stmt).mappings():
        cur, before = num(r["now"]), num(r["prev"])
        spread = (num(r["now2"]) + num(r["prev2"])) ** 0.5
        if before <= 0 or spread <= 0:
            continue
        drop = (before - cur) / before
        zscore = (before - cur) / spread
        if drop < cfg.shortfall_drop or zscore < cfg.shortfall_z:
            continue
        measure = s.ds.default_measure or next(iter(s.ds.measures), None)
        out.append(
            Candidate(
                identity=(r["region"], start.isoformat()),
                severity="high" if drop >= 0.6 else "medium",
                amount=before - cur,
                keys=[],
                query={
                    "dataset": s.ds_name,
                    "measures": [measure] if measure else [],
                    "filters": [{"field": "region", "value": r["region"]}],
                    **_when(start, today),
                },
                explanation=(
                    f"Sales in the {r['region']} are {money(cur)} this month so far ({days}), "
                    f"{_pct(drop)} below the same days of last month ({prev_days}: {money(before)})."
                ),
                subject=str(r["region"]),
                details={"now": cur, "before": before, "drop": round(drop, 4), "z": round(zscore, 2)},
            )
        )
    return out
