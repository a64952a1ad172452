"""Payments: a vendor's growing overdue amount (possible duplicate payments are in duplicates.py).

Each query takes a `Scan` and returns `Candidate`s (see tools/detectors/failures.py)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from tools.money import money

from .base import Candidate, Scan, num
from .sql import CANCELLED, FAILED, _fk, _keys, _vendor_names


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
