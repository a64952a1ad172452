"""Deterministic demo data, dated relative to the day it is generated.

Same seed and same day -> the same rows. The sample scenario always holds: in `acme`,
IndiSky Airlines has exactly 7 failed invoices dated last month, all "GSTIN missing".
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, UTC

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from . import clock, gstin
from .anomalies import Planted, plant
from .db import reset_sequences
from .models import (
    FAILURE_REASONS,
    REGIONS,
    Invoice,
    InvoiceItem,
    Product,
    Sale,
    SeedInfo,
    Transaction,
    Vendor,
)

MONTHS_OF_HISTORY = 18


@dataclass(frozen=True)
class VendorSpec:
    name: str
    category: str
    state_code: str
    monthly_invoices: int
    typical_amount: float
    failure_rate: float
    terms_days: int = 30
    status: str = "active"


WORKSPACES: dict[str, list[VendorSpec]] = {
    "acme": [
        VendorSpec("IndiSky Airlines", "Travel", "07", 14, 42_000, 0.06),
        VendorSpec("SkyHigh Hotels", "Travel", "27", 12, 28_000, 0.08),
        VendorSpec("Metro Cabs", "Travel", "29", 20, 3_500, 0.04),
        VendorSpec("Apex Office Supplies", "Office", "24", 10, 15_000, 0.05),
        VendorSpec("Zenith Telecom", "Utilities", "27", 4, 60_000, 0.03, 15),
        VendorSpec("Konark Caterers", "Food", "21", 9, 18_000, 0.10),
        VendorSpec("Nimbus Cloud Services", "Software", "29", 3, 240_000, 0.02, 45),
        VendorSpec("Vayu Travels", "Travel", "09", 11, 22_000, 0.12),
        VendorSpec("Ganga Logistics", "Logistics", "10", 8, 35_000, 0.07),
        VendorSpec("Deccan Power Utilities", "Utilities", "36", 2, 90_000, 0.02, 15, "inactive"),
    ],
    "globex": [
        VendorSpec("IndiSky Airlines", "Travel", "07", 6, 39_000, 0.09),
        VendorSpec("Orbit Freight", "Logistics", "27", 9, 31_000, 0.06),
        VendorSpec("Sunrise Stationers", "Office", "33", 7, 6_500, 0.05),
        VendorSpec("Polar Cooling Systems", "Facilities", "19", 3, 75_000, 0.04),
        VendorSpec("Quantum Software Labs", "Software", "29", 2, 180_000, 0.03, 45),
        VendorSpec("Lotus Events", "Food", "32", 5, 26_000, 0.08, 30, "blocked"),
    ],
}

CUSTOMERS = {
    "acme": [
        "Bharat Retail",
        "Coastal Foods",
        "Everest Pharma",
        "Himalaya Textiles",
        "Indus Motors",
        "Jaipur Crafts",
        "Kaveri Agro",
        "Lakeview Hospitals",
        "Malabar Exports",
        "Narmada Steel",
        "Orchid Hotels",
        "Pioneer Schools",
    ],
    "globex": [
        "Aurora Labs",
        "Blue Ridge Mills",
        "Cedar Health",
        "Delta Marine",
        "Evergreen Farms",
        "Falcon Aviation",
        "Granite Builders",
    ],
}
PRODUCTS = [
    ("Laptop", "Hardware", 65_000),
    ("Monitor", "Hardware", 14_000),
    ("Office chair", "Furniture", 9_500),
    ("Cloud credits", "Software", 25_000),
    ("Support plan", "Services", 40_000),
    ("Printer paper (box)", "Office", 1_800),
    ("Router", "Hardware", 7_200),
    ("Training day", "Services", 30_000),
]
ITEM_LINES = {
    "Travel": ["Air fare", "Hotel stay", "Airport transfer", "Travel insurance", "Local conveyance"],
    "Office": ["A4 paper", "Toner cartridge", "Stationery kit", "Desk organiser"],
    "Utilities": ["Monthly plan", "Usage charges", "Line rental"],
    "Food": ["Team lunch", "Event catering", "Pantry supplies"],
    "Software": ["Compute hours", "Storage", "Support subscription"],
    "Logistics": ["Freight", "Warehousing", "Last-mile delivery"],
    "Facilities": ["AMC visit", "Spare parts", "Installation"],
}
GST_RATE = 0.18
SAMPLE_VENDOR, SAMPLE_FAILED, SAMPLE_REASON = "IndiSky Airlines", 7, "GSTIN missing"
SALE_STATUSES = (("completed", 92), ("returned", 5), ("cancelled", 3))


def month_start(d: date) -> date:
    return d.replace(day=1)


def generate(
    today: date, seed: int, *, plant_anomalies: bool = True, truth: list[Planted] | None = None
) -> dict[str, list[dict]]:
    """All demo rows as plain dicts, ids assigned, in insertion order. With `plant_anomalies` a known set
    of anomalies is appended after the ordinary rows (business_data/anomalies.py; `truth` receives it)."""
    rng = random.Random(seed)
    aux = random.Random(seed + 1)  # columns added later (sales.status) draw from here: the main stream stays as it was
    rows: dict[str, list[dict]] = {
        k: [] for k in ("vendors", "products", "invoices", "invoice_items", "sales", "transactions")
    }
    this_month = month_start(today)
    last_month = this_month - relativedelta(months=1)
    ids = {k: 0 for k in rows}

    def add(table: str, row: dict) -> int:
        ids[table] += 1
        row["id"] = ids[table]
        rows[table].append(row)
        return row["id"]

    for ws, vendors in WORKSPACES.items():
        prefix = ws[:3].upper()
        product_ids = [
            add(
                "products",
                {
                    "workspace_id": ws,
                    "sku": f"{prefix}-SKU-{i + 1:03d}",
                    "name": n,
                    "category": c,
                    "unit_price": float(p),
                },
            )
            for i, (n, c, p) in enumerate(PRODUCTS)
        ]
        product_prices = {pid: PRODUCTS[i][2] for i, pid in enumerate(product_ids)}
        counter = 0
        for spec in vendors:
            vendor_gstin = gstin.make(rng, spec.state_code)
            slug = "".join(ch for ch in spec.name.lower() if ch.isalnum())[:12]
            vendor_id = add(
                "vendors",
                {
                    "workspace_id": ws,
                    "name": spec.name,
                    "vendor_code": f"{prefix}-V{vendors.index(spec) + 1:03d}",
                    "status": spec.status,
                    "gstin": vendor_gstin,
                    "category": spec.category,
                    "state": gstin.STATE_CODES[spec.state_code],
                    "contact_email": f"accounts@{slug}.example.in",
                    "payment_terms_days": spec.terms_days,
                },
            )
            for back in range(MONTHS_OF_HISTORY, -1, -1):
                start = this_month - relativedelta(months=back)
                end = min(start + relativedelta(months=1) - timedelta(days=1), today)
                is_sample = ws == "acme" and spec.name == SAMPLE_VENDOR and start == last_month
                n = max(1, int(rng.gauss(spec.monthly_invoices, spec.monthly_invoices * 0.2)))
                if back == 0:
                    n = max(1, n * today.day // 30)
                plan: list[tuple[str, str | None]] = []
                for _ in range(n):
                    if is_sample:
                        status = rng.choices(["processed", "pending", "cancelled"], [85, 10, 5])[0]
                    else:
                        status = rng.choices(
                            ["processed", "failed", "pending", "cancelled"],
                            [
                                1 - spec.failure_rate - 0.08 - (0.25 if back == 0 else 0),
                                spec.failure_rate,
                                0.05 + (0.25 if back == 0 else 0),
                                0.03,
                            ],
                        )[0]
                    reason = rng.choice(FAILURE_REASONS) if status == "failed" else None
                    plan.append((status, reason))
                if is_sample:
                    plan += [("failed", SAMPLE_REASON)] * SAMPLE_FAILED
                    rng.shuffle(plan)
                for status, reason in plan:
                    counter += 1
                    inv_date = start + timedelta(days=rng.randrange((end - start).days + 1))
                    amount = round(max(500.0, rng.lognormvariate(0, 0.45) * spec.typical_amount), 2)
                    tax = round(amount * GST_RATE, 2)
                    if reason == "Tax amount mismatch":
                        tax = round(tax * rng.choice([0.5, 0.9, 1.1]), 2)
                    due = inv_date + timedelta(days=spec.terms_days)
                    on_invoice_gstin: str | None = vendor_gstin
                    if reason == "GSTIN missing":
                        on_invoice_gstin = None
                    elif reason == "GSTIN mismatch":
                        on_invoice_gstin = gstin.make(rng, spec.state_code)
                    paid_date = None
                    if status == "processed":
                        delay = int(rng.gauss(spec.terms_days * 0.9, 9))
                        if inv_date + timedelta(days=delay) <= today and rng.random() < 0.93:
                            paid_date = inv_date + timedelta(days=max(1, delay))
                            payment_status = rng.choices(["paid", "partially_paid"], [95, 5])[0]
                        else:
                            payment_status = "overdue" if due < today else "unpaid"
                    else:
                        payment_status = "unpaid" if (status != "pending" or due >= today) else "overdue"
                        if status == "cancelled":
                            payment_status = "unpaid"
                    line_names = ITEM_LINES[spec.category]
                    invoice_id = add(
                        "invoices",
                        {
                            "workspace_id": ws,
                            "invoice_number": f"INV-{prefix}-{inv_date:%y%m}-{counter:05d}",
                            "vendor_id": vendor_id,
                            "invoice_date": inv_date,
                            "due_date": due,
                            "amount": amount,
                            "tax_amount": tax,
                            "total_amount": round(amount + tax, 2),
                            "currency": "INR",
                            "status": status,
                            "error_message": reason,
                            "payment_status": payment_status,
                            "paid_date": paid_date,
                            "vendor_gstin": on_invoice_gstin,
                            "region": rng.choice(REGIONS),
                            "description": f"{spec.category} services from {spec.name}",
                        },
                    )
                    n_lines = rng.randint(1, 3)
                    remaining = amount
                    for li in range(n_lines):
                        line_total = round(remaining if li == n_lines - 1 else remaining * rng.uniform(0.3, 0.6), 2)
                        remaining = round(remaining - line_total, 2)
                        qty = rng.randint(1, 5)
                        add(
                            "invoice_items",
                            {
                                "workspace_id": ws,
                                "invoice_id": invoice_id,
                                "product_id": None,
                                "description": rng.choice(line_names),
                                "quantity": qty,
                                "unit_price": round(line_total / qty, 2),
                                "line_total": line_total,
                            },
                        )
                    if paid_date is not None:
                        paid = round(amount + tax, 2) if payment_status == "paid" else round((amount + tax) * 0.5, 2)
                        add(
                            "transactions",
                            {
                                "workspace_id": ws,
                                "invoice_id": invoice_id,
                                "vendor_id": vendor_id,
                                "transaction_date": paid_date,
                                "amount": paid,
                                "type": "payment",
                                "method": rng.choice(["NEFT", "RTGS", "UPI", "cheque"]),
                                "reference": f"TXN{ids['transactions'] + 1:08d}",
                                "status": "completed",
                            },
                        )
        customers = CUSTOMERS[ws]
        region_weight = {"North": 1.2, "South": 1.0, "East": 0.7, "West": 1.1}
        day = this_month - relativedelta(months=MONTHS_OF_HISTORY)
        while day <= today:
            for _ in range(rng.randint(3, 7) if ws == "acme" else rng.randint(1, 4)):
                region = rng.choices(REGIONS, [region_weight[r] for r in REGIONS])[0]
                pid = rng.choice(product_ids)
                qty = rng.randint(1, 20)
                unit = round(product_prices[pid] * rng.uniform(0.9, 1.15), 2)
                add(
                    "sales",
                    {
                        "workspace_id": ws,
                        "sale_date": day,
                        "region": region,
                        "customer": rng.choice(customers),
                        "product_id": pid,
                        "quantity": qty,
                        "unit_price": unit,
                        "amount": round(qty * unit, 2),
                        "status": aux.choices([st for st, _ in SALE_STATUSES], [w for _, w in SALE_STATUSES])[0],
                    },
                )
            day += timedelta(days=1)
    if plant_anomalies:
        found = plant(rows, today, seed)
        if truth is not None:
            truth.extend(found)
    return rows


TABLE_ORDER = [
    ("vendors", Vendor),
    ("products", Product),
    ("invoices", Invoice),
    ("invoice_items", InvoiceItem),
    ("sales", Sale),
    ("transactions", Transaction),
]


def is_seeded(engine: Engine) -> bool:
    """Whether the (migrated) business database holds data already."""
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(Invoice)).scalar())


def seed(
    engine: Engine,
    *,
    today: date | None = None,
    seed: int = 20261124,
    reset: bool = False,
    plant_anomalies: bool = True,
) -> dict[str, int]:
    """Load the demo data into a migrated business database, in one transaction (replacing what is there
    when `reset`; nothing to do when it holds data already). Returns row counts ({} when nothing was done).
    `plant_anomalies=False` leaves out the planted anomalies (business_data/anomalies.py)."""
    today = today or clock.today()
    if not reset and is_seeded(engine):
        return {}
    rows = generate(today, seed, plant_anomalies=plant_anomalies)
    with engine.begin() as conn:
        for _, model in reversed(TABLE_ORDER):
            conn.execute(delete(model))
        conn.execute(delete(SeedInfo))
        for name, model in TABLE_ORDER:
            batch = rows[name]
            for i in range(0, len(batch), 5000):
                conn.execute(insert(model), batch[i : i + 5000])
        conn.execute(insert(SeedInfo), [{"seeded_on": today, "seed": seed, "created_at": datetime.now(UTC)}])
        reset_sequences(conn, [model.__tablename__ for _, model in TABLE_ORDER])  # rows carry explicit ids
    return {name: len(rows[name]) for name, _ in TABLE_ORDER}


def seeded_on(engine: Engine) -> date | None:
    with engine.connect() as conn:
        return conn.execute(select(SeedInfo.seeded_on).order_by(SeedInfo.id.desc()).limit(1)).scalar()
