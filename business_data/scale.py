"""`finkraft seed --scale N`: the demo data grown to N invoices, for benchmarks, in minutes.

The ordinary demo seed runs first; then synthetic invoices are added to both workspaces (nine in
ten to acme) until there are N: the demo vendors with their own volumes, amounts and failure
rates, dates over the same 18 months. The sample scenario still holds (no extra failed IndiSky
invoice is dated last month in acme). Columns are generated with numpy and written in bulk:
`COPY` on PostgreSQL, one `executemany` transaction on SQLite. Only invoices grow (line items,
sales and transactions stay as the demo seed made them). ANALYZE (PostgreSQL: VACUUM ANALYZE) runs at the end.
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import numpy as np
from dateutil.relativedelta import relativedelta
from sqlalchemy import case, delete, func, select, text
from sqlalchemy.engine import Engine

from . import clock
from .models import FAILURE_REASONS, REGIONS, Invoice, Vendor
from .seed import MONTHS_OF_HISTORY, SAMPLE_VENDOR, WORKSPACES, GST_RATE, seed

CHUNK = 100_000
COLUMNS = (
    "id",
    "workspace_id",
    "invoice_number",
    "vendor_id",
    "invoice_date",
    "due_date",
    "amount",
    "tax_amount",
    "total_amount",
    "currency",
    "status",
    "error_message",
    "payment_status",
    "paid_date",
    "vendor_gstin",
    "region",
    "description",
)
STATUSES = np.array(["processed", "failed", "pending", "cancelled"])


def seed_scale(
    engine: Engine,
    invoices: int,
    *,
    today: date | None = None,
    seed_value: int = 20261124,
    reset: bool = False,
    plant_anomalies: bool = True,
    log=print,
) -> dict[str, int | float]:
    """Grow the business database to `invoices` invoices (the demo seed first). Returns counts and seconds.
    With `plant_anomalies` (the default) the demo seed's planted anomalies are kept and the vendor-level
    ones (a failure-rate spike, overdue growth) are grown with the vendor's volume, so they stand out
    at any scale (business_data/anomalies.py; a separate generator, after the ordinary rows)."""
    today = today or clock.today()
    t0 = time.perf_counter()
    seed(engine, today=today, seed=seed_value, reset=reset, plant_anomalies=plant_anomalies)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Invoice)).scalar_one()
        next_id = (conn.execute(select(func.max(Invoice.id))).scalar() or 0) + 1
        vendors = conn.execute(
            select(
                Vendor.id, Vendor.workspace_id, Vendor.name, Vendor.gstin, Vendor.payment_terms_days, Vendor.category
            )
        ).all()
    missing = invoices - have
    if missing <= 0:
        return {"invoices": have, "added": 0, "seconds": round(time.perf_counter() - t0, 1)}
    rng = np.random.default_rng(seed_value)
    specs = {(ws, s.name): s for ws, specs in WORKSPACES.items() for s in specs}
    added = 0
    while added < missing:
        n = min(CHUNK, missing - added)
        rows = _generate(rng, n, next_id + added, vendors, specs, today)
        _insert(engine, rows)
        added += n
        log(f"  {have + added:,} invoices ({time.perf_counter() - t0:.0f} s)")
    if plant_anomalies:
        planted = _plant_at_scale(engine, today, seed_value, next_id + added, vendors, specs)
        if planted:  # still N invoices: as many of the last ordinary rows (random noise) make room for them
            with engine.begin() as conn:
                conn.execute(
                    delete(Invoice).where(
                        Invoice.id >= next_id + added - min(planted, added), Invoice.id < next_id + added
                    )
                )
            next_id += planted
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('invoices', 'id'), {next_id + added})"))
        else:
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # VACUUM as well as ANALYZE: a million fresh rows have no visibility map or hint bits yet, and the
        # first queries over them ran 3-10x slower (measured: a breakdown 522 ms before, 60 ms after)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {"invoices": have + added, "added": added, "seconds": round(time.perf_counter() - t0, 1)}


def _generate(rng: np.random.Generator, n: int, first_id: int, vendors, specs, today: date) -> list[tuple]:
    weight = np.array(
        [
            specs[(v.workspace_id, v.name)].monthly_invoices * (9.0 if v.workspace_id == "acme" else 1.0)
            for v in vendors
        ],
        dtype=float,
    )
    pick = rng.choice(len(vendors), size=n, p=weight / weight.sum())
    start = today.replace(day=1) - relativedelta(months=MONTHS_OF_HISTORY)
    days = (today - start).days + 1
    day = rng.integers(0, days, size=n)
    typical = np.array([specs[(v.workspace_id, v.name)].typical_amount for v in vendors])[pick]
    amount = np.round(np.maximum(500.0, rng.lognormal(0, 0.45, size=n) * typical), 2)
    tax = np.round(amount * GST_RATE, 2)
    fail = np.array([specs[(v.workspace_id, v.name)].failure_rate for v in vendors])[pick]
    u = rng.random(n)
    status = np.where(u < fail, 1, np.where(u < fail + 0.05, 2, np.where(u < fail + 0.08, 3, 0)))
    last_month = today.replace(day=1) - relativedelta(months=1)
    lm0, lm1 = (last_month - start).days, (today.replace(day=1) - start).days
    sample = np.array([v.workspace_id == "acme" and v.name == SAMPLE_VENDOR for v in vendors])[pick]
    status[(status == 1) & sample & (day >= lm0) & (day < lm1)] = 0  # the sample scenario keeps its 7
    reason = rng.integers(0, len(FAILURE_REASONS), size=n)
    region = rng.integers(0, len(REGIONS), size=n)
    delay = rng.normal(30, 9, size=n).astype(int)
    paid_roll = rng.random(n)
    rows = []
    for i in range(n):
        v = vendors[pick[i]]
        d = start + timedelta(days=int(day[i]))
        due = d + timedelta(days=v.payment_terms_days)
        st = STATUSES[status[i]]
        err = FAILURE_REASONS[reason[i]] if st == "failed" else None
        paid = None
        if st == "processed" and d + timedelta(days=max(1, int(delay[i]))) <= today and paid_roll[i] < 0.93:
            paid, pay = d + timedelta(days=max(1, int(delay[i]))), "paid"
        elif st == "cancelled":
            pay = "unpaid"
        else:
            pay = "overdue" if due < today and st != "failed" else "unpaid"
        ident = first_id + i
        prefix = v.workspace_id[:3].upper()
        rows.append(
            (
                ident,
                v.workspace_id,
                f"INV-{prefix}-{d:%y%m}-S{ident:08d}",
                v.id,
                d,
                due,
                float(amount[i]),
                float(tax[i]),
                round(float(amount[i] + tax[i]), 2),
                "INR",
                st,
                err,
                pay,
                paid,
                None if err == "GSTIN missing" else v.gstin,
                REGIONS[region[i]],
                f"{v.category} services from {v.name}",
            )
        )
    return rows


def _plant_at_scale(engine: Engine, today: date, seed_value: int, first_id: int, vendors, specs) -> int:
    """The planted failure-rate spikes and overdue growth, sized to each vendor's volume at this scale:
    failures enough to take the last week past half its invoices; unpaid invoices falling due since the
    same day last month enough to more than double the vendor's overdue. Returns the rows added."""
    from .anomalies import PLAN, PLANT_SALT

    rng = np.random.default_rng(seed_value ^ PLANT_SALT)
    then = today - relativedelta(months=1)
    by_name = {(v.workspace_id, v.name): v for v in vendors}
    live = Invoice.status.not_in(["failed", "cancelled"])

    def overdue_on(day: date):
        return (
            (Invoice.invoice_date <= day)
            & (Invoice.due_date < day)
            & (Invoice.paid_date.is_(None) | (Invoice.paid_date > day))
        )

    rows: list[tuple] = []

    def add(v, d: date, total: float, status: str, err: str | None, pay: str, due: date | None = None) -> None:
        ident = first_id + len(rows)
        amount = round(total / (1 + GST_RATE), 2)
        rows.append(
            (
                ident,
                v.workspace_id,
                f"INV-{v.workspace_id[:3].upper()}-{d:%y%m}-Q{ident:08d}",
                v.id,
                d,
                due or d + timedelta(days=v.payment_terms_days),
                amount,
                round(total - amount, 2),
                round(total, 2),
                "INR",
                status,
                err,
                pay,
                None,
                v.gstin,
                REGIONS[int(rng.integers(0, len(REGIONS)))],
                f"{v.category} services from {v.name}",
            )
        )

    with engine.connect() as conn:
        for ws, kinds in PLAN.items():
            for name in kinds["failure_spike"]:
                v = by_name[(ws, name)]
                week = today - timedelta(days=6)
                n7 = conn.execute(
                    select(func.count()).where(
                        Invoice.vendor_id == v.id, Invoice.invoice_date >= week, Invoice.status != "cancelled"
                    )
                ).scalar_one()
                typical = specs[(ws, name)].typical_amount * (1 + GST_RATE)
                for _ in range(max(0, n7 - 10)):  # the demo seed planted 8 failed of 10 already
                    d = today - timedelta(days=int(rng.integers(0, 6)))
                    add(v, d, float(typical * rng.lognormal(0, 0.3)), "failed", "Tax amount mismatch", "unpaid")
            for name in kinds["overdue_growth"]:
                v = by_name[(ws, name)]
                mine = (Invoice.vendor_id == v.id) & live
                now_amt, then_amt = conn.execute(
                    select(
                        func.coalesce(func.sum(case((overdue_on(today), Invoice.total_amount), else_=0)), 0),
                        func.coalesce(func.sum(case((overdue_on(then), Invoice.total_amount), else_=0)), 0),
                    ).where(mine)
                ).one()
                need = max(2.0 * float(then_amt), 450_000.0) - (float(now_amt) - float(then_amt))
                typical = specs[(ws, name)].typical_amount * (1 + GST_RATE)
                fail = specs[(ws, name)].failure_rate
                while need > 0:  # (with the vendor's usual share failed: its failure rate stays as it was)
                    due = then + timedelta(days=int(rng.integers(2, max(3, (today - then).days - 2))))
                    total = float(typical * rng.lognormal(0, 0.3))
                    day = due - timedelta(days=v.payment_terms_days)
                    if rng.random() < fail:
                        add(v, day, total, "failed", "GSTIN mismatch", "unpaid", due)
                        continue
                    add(v, day, total, "processed", None, "overdue", due)
                    need -= total
    if rows:
        _insert(engine, rows)
    return len(rows)


def _insert(engine: Engine, rows: list[tuple]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            buf = io.StringIO()
            for r in rows:
                buf.write("\t".join("\\N" if v is None else str(v) for v in r) + "\n")
            buf.seek(0)
            with cur.copy(f"COPY invoices ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(buf.read())
        else:
            cur.executemany(
                f"INSERT INTO invoices ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in rows],
            )
        raw.commit()
    finally:
        raw.close()
