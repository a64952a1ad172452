"""Invoice processing: a vendor's failure-rate spike, and GSTIN mismatches against the vendor master.

Each query takes a `Scan` (dataset, workspace, day, thresholds) and returns `Candidate`s with the words a
person reads, the records concerned, and a semantic query that shows them (one statement or two, pushed
down to the business database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from business_data import gstin as gstin_rules
from tools.money import money

from .base import Candidate, Scan, num, two_proportion_z, wilson
from .sql import CANCELLED, FAILED, _fk, _keys, _pct, _vendor_names, _when


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


# -- possible duplicate payment -------------------------------------------------------------------


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
