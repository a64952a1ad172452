"""The detectors' queries: each one statement (or two) pushed down to the business database.

Every function takes a `Scan` (dataset, workspace, day, thresholds) and returns `Candidate`s with
the words a person reads, the records concerned, and a semantic query that shows them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from business_data import gstin as gstin_rules
from tools.money import money

from .base import Candidate, Scan, num, two_proportion_z, wilson

FAILED, CANCELLED = "failed", "cancelled"
KEYS_KEPT = 50  # record keys kept on one finding


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x >= 0.1 else f"{x * 100:.1f}%"


def _when(start: date, end: date) -> dict[str, str]:
    return {"date_from": start.isoformat(), "date_to": end.isoformat()}


def _fk(s: Scan) -> sa.ColumnElement:
    """The invoices' own vendor column (the join's foreign key)."""
    return s.t.col(s.ds.joins["vendor"].column)


def _keys(s: Scan, *conds: Any, limit: int = KEYS_KEPT) -> list[str]:
    """The keys of the records matching `conds` (joins to the vendor when they name it), newest first."""
    key = s.col(s.ds.key)
    stmt = (
        sa.select(key)
        .select_from(s.source(s.ds.key, *(["vendor"] if "vendor" in s.ds.dimensions else [])))
        .where(s.scope, *conds)
        .order_by(s.col(s.time).desc(), key)
        .limit(limit)
    )
    return [str(k) for k in s.conn.execute(stmt).scalars()]


# -- failure-rate spike ---------------------------------------------------------------------------
def failure_spike(s: Scan) -> list[Candidate]:
    """A vendor's failure rate in the last 7 or 30 days against its own 90 days before those 30,
    flagged when the recent rate's Wilson interval lies wholly above the baseline's."""
    st, d, amt, vendor = s.col("status"), s.col(s.time), s.col(s.amount), s.col("vendor")
    today, cfg = s.today, s.settings
    windows = {7: today - timedelta(days=6), 30: today - timedelta(days=29)}
    base_from, base_to = today - timedelta(days=119), today - timedelta(days=30)
    failed = st == FAILED
    fk = _fk(s)
    cols: list[Any] = [fk.label("fk")]
    for w, start in windows.items():
        recent = d >= start
        cols += [
            sa.func.sum(sa.case((recent, 1), else_=0)).label(f"n{w}"),
            sa.func.sum(sa.case((sa.and_(recent, failed), 1), else_=0)).label(f"f{w}"),
            sa.func.sum(sa.case((sa.and_(recent, failed), amt), else_=0)).label(f"v{w}"),
        ]
    base = d <= base_to
    cols += [
        sa.func.sum(sa.case((base, 1), else_=0)).label("nb"),
        sa.func.sum(sa.case((sa.and_(base, failed), 1), else_=0)).label("fb"),
    ]
    stmt = (
        sa.select(*cols)
        .select_from(s.source("status"))
        .where(s.scope, d >= base_from, d <= today, st != CANCELLED)
        .group_by(fk)
    )
    rows = s.conn.execute(stmt).mappings().all()
    names = _vendor_names(s, {r["fk"] for r in rows})
    out = []
    for g in rows:
        r = {**g, "vendor": names.get(g["fk"], str(g["fk"]))}
        nb, fb = int(r["nb"] or 0), int(r["fb"] or 0)
        if nb < cfg.spike_min_baseline:
            continue
        base_rate = fb / nb
        best = None
        for w in windows:
            n, f = int(r[f"n{w}"] or 0), int(r[f"f{w}"] or 0)
            if n < cfg.spike_min_invoices or f < cfg.spike_min_failed:
                continue
            lo, _ = wilson(f, n, cfg.spike_z)  # the recent rate, surely above the usual one
            z = two_proportion_z(f, n, fb, nb)  # and the difference beyond chance for both counts
            if lo > base_rate and z >= cfg.spike_z and (best is None or z > best[0]):
                best = (z, w, n, f, num(r[f"v{w}"]))
        if best is None:
            continue
        _, w, n, f, value = best
        rate = f / n
        times = rate / base_rate if base_rate > 0 else None
        by = f"{times:.1f} times" if times else "up from none"
        start = windows[w]
        out.append(
            Candidate(
                identity=(r["vendor"],),
                severity="high" if rate - base_rate >= 0.25 or value >= 1_000_000 else "medium",
                amount=value,
                keys=_keys(s, vendor == r["vendor"], failed, d >= start, d <= today),
                query={
                    "dataset": s.ds_name,
                    "filters": [{"field": "vendor", "value": r["vendor"]}, {"field": "status", "value": FAILED}],
                    **_when(start, today),
                },
                explanation=(
                    f"{r['vendor']}: {f} of {n} invoices failed in the last {w} days ({_pct(rate)}), "
                    f"{by} its usual {_pct(base_rate)} ({fb} of {nb} in the 90 days before); "
                    f"{money(value)} is held up."
                ),
                subject=str(r["vendor"]),
                details={"window_days": w, "failed": f, "invoices": n, "baseline_failed": fb, "baseline_invoices": nb},
            )
        )
    return out


def _days(a: Any, b: Any) -> str:
    try:
        n = abs((date.fromisoformat(str(b)[:10]) - date.fromisoformat(str(a)[:10])).days)
    except ValueError:
        return "within a week"
    return "on the same day" if n == 0 else f"{n} day{'s' if n > 1 else ''} apart"


def _vendor_names(s: Scan, ids: set[Any], dimension: str = "vendor") -> dict[Any, str]:
    """A vendor dimension (its name, or the master's GSTIN) of these vendors, by foreign key: asked
    after the grouping, for the few vendors concerned, instead of a join on every invoice row."""
    if not ids:
        return {}
    j = s.ds.joins["vendor"]
    vt = s.t.by_alias["vendor"]
    _, col = s.ds.column_parts(s.ds.dimensions[dimension].column)
    stmt = sa.select(vt.c[j.references], vt.c[col]).where(vt.c[j.references].in_(sorted(ids)))
    return {k: (str(n) if n is not None else "") for k, n in s.conn.execute(stmt).all()}


# -- GSTIN mismatch -------------------------------------------------------------------------------
def gstin_mismatch(s: Scan) -> list[Candidate]:
    """New invoices that went through (not failed, not cancelled) carrying a GSTIN that differs from the
    vendor master's or fails the GSTIN checksum. The database groups by (vendor, GSTIN); the checksum
    is checked on those few distinct values."""
    today = s.today
    since = today - timedelta(days=s.settings.detect_lookback_days - 1)
    d, st, g, vendor = s.col(s.time), s.col("status"), s.col("gstin"), s.col("vendor")
    amt = s.col(s.amount)
    where = [s.scope, d >= since, d <= today, st.not_in([FAILED, CANCELLED]), g.is_not(None), g != ""]
    stmt = (  # grouped by vendor key and GSTIN (a handful of rows); names and the master's GSTIN after
        sa.select(_fk(s).label("fk"), g.label("gstin"), sa.func.count(), sa.func.sum(amt))
        .select_from(s.source("gstin", "status"))
        .where(*where)
        .group_by(_fk(s), g)
    )
    groups = s.conn.execute(stmt).all()
    ids = {fk for fk, *_ in groups}
    names, masters = _vendor_names(s, ids), _vendor_names(s, ids, "vendor_gstin")
    out = []
    for fk, on_invoice, n, value in groups:
        vname, on_master = names.get(fk, str(fk)), masters.get(fk) or None
        valid = gstin_rules.is_valid(on_invoice)
        if valid and on_invoice == on_master:
            continue
        reason = (
            "fails the GSTIN checksum"
            if not valid
            else f"differs from the vendor master's {on_master}"
            if on_master
            else "while the vendor master has none"
        )
        n = int(n)
        keys = _keys(s, vendor == vname, g == on_invoice, *where[1:])
        noun = "1 invoice" if n == 1 else f"{n} invoices"
        out.append(
            Candidate(
                identity=(vname, on_invoice),
                severity="high" if not valid or num(value) >= 100_000 else "medium",
                amount=num(value),
                keys=keys,
                query={
                    "dataset": s.ds_name,
                    "filters": [{"field": "vendor", "value": vname}, {"field": "gstin", "value": on_invoice}],
                    **_when(since, today),
                },
                explanation=(
                    f"{noun} from {vname} went through with GSTIN {on_invoice}, which {reason} ({money(num(value))})."
                ),
                subject=str(vname),
                details={"gstin": on_invoice, "master_gstin": on_master, "checksum_ok": valid},
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
