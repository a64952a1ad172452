"""What the detectors' queries share: the statuses, the record keys kept on a finding, a vendor's name by
foreign key, and the words for rates, windows and gaps. The queries themselves, one module per family:
`failures.py` (failure-rate spike, GSTIN mismatch), `payments.py` (possible duplicate payment, overdue
growth), `amounts.py` (unusual amount, sales shortfall)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from .base import Scan

# the helpers keep their leading underscores: the query bodies moved here from one module unchanged
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
