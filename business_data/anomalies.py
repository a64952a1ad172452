"""Planted anomalies: a known set of every kind the detectors look for, added to the demo rows.

`plant(rows, today, seed)` appends rows (never changes one) from its own random generator, after the
ordinary rows are made, so the ordinary rows are the same with or without it. It returns the truth,
`Planted` records a test scores the detectors against; `planted(today, seed)` recomputes it.
Nothing touches IndiSky Airlines in acme (the sample scenario: its 7 failed invoices of last month).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from . import gstin

PLANT_SALT = 0x5EED  # the planter's generator is Random(seed ^ PLANT_SALT): independent of the ordinary rows


@dataclass(frozen=True)
class Planted:
    detector: str
    workspace: str
    subject: str  # the vendor or region
    keys: tuple[str, ...] = ()  # the invoices planted (a region's shortfall has none)
    # the sample scenario (acme's IndiSky, 7 failed last month) is a failure spike by construction: a finding
    # about it is right, but whether it falls in the last 30 days depends on the day, so recall leaves it out
    optional: bool = False


# vendor per kind and workspace (none is acme's IndiSky Airlines)
PLAN = {
    "acme": {
        "failure_spike": ["Apex Office Supplies"],
        "duplicate_payment": ["Ganga Logistics", "SkyHigh Hotels", "Vayu Travels"],
        "gstin_mismatch": ["Konark Caterers", "Ganga Logistics", "Zenith Telecom"],
        "overdue_growth": ["Vayu Travels"],
        "unusual_amount": ["Metro Cabs", "SkyHigh Hotels", "Apex Office Supplies"],
        "sales_shortfall": ["East"],
    },
    "globex": {
        "failure_spike": ["Orbit Freight"],
        "duplicate_payment": ["Orbit Freight", "IndiSky Airlines"],
        "gstin_mismatch": ["Sunrise Stationers", "Polar Cooling Systems"],
        "overdue_growth": ["Sunrise Stationers"],
        "unusual_amount": ["Orbit Freight", "Sunrise Stationers"],
        "sales_shortfall": ["West"],
    },
}


class _Planter:
    def __init__(self, rows: dict[str, list[dict]], today: date, seed: int):
        self.rows, self.today = rows, today
        self.rng = random.Random(seed ^ PLANT_SALT)
        self.next_id = {k: max((r["id"] for r in v), default=0) + 1 for k, v in rows.items()}
        self.counter = 0
        self.truth: list[Planted] = []
        self.lookback = today - timedelta(days=25)

    def add(self, table: str, row: dict) -> dict:
        row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append(row)
        return row

    def vendor(self, ws: str, name: str) -> dict:
        return next(v for v in self.rows["vendors"] if v["workspace_id"] == ws and v["name"] == name)

    def invoices_of(self, vendor: dict) -> list[dict]:
        return [i for i in self.rows["invoices"] if i["vendor_id"] == vendor["id"]]

    def clear_amount(self, vendor: dict, day: date, amount: float, ignore: tuple[str, ...] = ()) -> bool:
        """No other live invoice of the vendor within 8 days is within 1% of `amount` (no accidental duplicate)."""
        for i in self.invoices_of(vendor):
            if i["invoice_number"] in ignore or i["status"] == "cancelled":
                continue
            if abs((i["invoice_date"] - day).days) <= 8 and abs(i["total_amount"] - amount) <= 0.01 * amount:
                return False
        return True

    def invoice(self, ws: str, vendor: dict, day: date, total: float, **over) -> dict:
        self.counter += 1
        amount = round(total / 1.18, 2)
        row = {
            "workspace_id": ws,
            "invoice_number": f"INV-{ws[:3].upper()}-{day:%y%m}-9{self.counter:04d}",  # 9xxxx: apart from the ordinary numbers
            "vendor_id": vendor["id"],
            "invoice_date": day,
            "due_date": day + timedelta(days=vendor["payment_terms_days"]),
            "amount": amount,
            "tax_amount": round(total - amount, 2),
            "total_amount": round(total, 2),
            "currency": "INR",
            "status": "processed",
            "error_message": None,
            "payment_status": "unpaid",
            "paid_date": None,
            "vendor_gstin": vendor["gstin"],
            "region": self.rng.choice(("North", "South", "East", "West")),
            "description": f"{vendor['category']} services from {vendor['name']}",
        }
        row.update(over)
        return self.add("invoices", row)

    def typical(self, vendor: dict) -> float:
        amounts = sorted(i["total_amount"] for i in self.invoices_of(vendor))
        return amounts[len(amounts) // 2]

    def fresh_amount(self, vendor: dict, day: date, scale: float = 1.0) -> float:
        while True:
            total = round(self.typical(vendor) * scale * self.rng.uniform(0.7, 1.3), 2)
            if self.clear_amount(vendor, day, total):
                return total

    def recent_day(self, back_from: int, back_to: int) -> date:
        return self.today - timedelta(days=self.rng.randint(back_from, back_to))

    # -- one method per kind ---------------------------------------------------------------------
    def failure_spike(self, ws: str, name: str) -> None:
        v = self.vendor(ws, name)
        keys = []
        for k in range(10):
            day = self.recent_day(0, 5)
            failed = k < 8
            row = self.invoice(
                ws,
                v,
                day,
                self.fresh_amount(v, day),
                status="failed" if failed else "processed",
                error_message="Tax amount mismatch" if failed else None,
            )
            if failed:
                keys.append(row["invoice_number"])
        self.truth.append(Planted("failure_spike", ws, name, tuple(keys)))

    def duplicate_payment(self, ws: str, name: str) -> None:
        v = self.vendor(ws, name)
        originals = [
            i
            for i in self.invoices_of(v)
            if self.lookback <= i["invoice_date"] <= self.today - timedelta(days=2)
            and i["status"] in ("processed", "pending")
            and i["vendor_gstin"] == v["gstin"]
            and self.clear_amount(v, i["invoice_date"], i["total_amount"], ignore=(i["invoice_number"],))
        ]
        if not originals:  # too early in the data: plant the original as well
            day = self.recent_day(3, 10)
            originals = [self.invoice(ws, v, day, self.fresh_amount(v, day))]
        orig = self.rng.choice(originals)
        day = min(self.today, orig["invoice_date"] + timedelta(days=self.rng.randint(0, 5)))
        # how a duplicate gets a second number: the same paper keyed again with a slip (the same amount),
        # or re-issued by the vendor with a suffix (the amount equal or corrected by a few paise in the rupee)
        form = self.rng.choice(("suffix", "separators", "lookalike", "transposed"))
        change = self.rng.choice((0.0, 0.002, -0.003)) if form == "suffix" else 0.0
        total = round(orig["total_amount"] * (1 + change), 2)
        number = self.rekeyed(ws, orig["invoice_number"], form)
        copy = self.invoice(ws, v, day, total, status="pending", invoice_number=number)
        self.truth.append(
            Planted("duplicate_payment", ws, name, tuple(sorted([orig["invoice_number"], copy["invoice_number"]])))
        )

    def rekeyed(self, ws: str, number: str, form: str) -> str:
        """A second number for the same invoice: a suffix ('-R', 'A', '/1'), the separators dropped, a
        look-alike letter for a digit (O for 0, I for 1), or two adjacent digits swapped; never one in use."""
        taken = {i["invoice_number"] for i in self.rows["invoices"] if i["workspace_id"] == ws}
        digits = [k for k, c in enumerate(number) if c.isdigit()][-5:]  # the serial's digits
        options: list[str] = []
        if form == "suffix":
            options = [number + self.rng.choice(("-R", "A", "/1", "-DUP"))]
        elif form == "separators":
            options = [number.replace("-", "")]
        elif form == "lookalike":
            options = [
                number[:k] + {"0": "O", "1": "I"}[number[k]] + number[k + 1 :] for k in digits if number[k] in "01"
            ]
        pairs = [(k, k + 1) for k in digits if k + 1 in digits and number[k] != number[k + 1]]
        swaps = [number[:i] + number[j] + number[i] + number[j + 1 :] for i, j in pairs]
        if form == "transposed":
            options = swaps
        self.rng.shuffle(options)
        options += [number + "A"]  # (a form that is not possible for this number, or taken)
        return next(o for o in options if o not in taken)

    def gstin_mismatch(self, ws: str, name: str) -> None:
        v = self.vendor(ws, name)
        other = gstin.make(self.rng, v["gstin"][:2])
        if self.rng.random() < 0.4:  # a typo: the checksum fails
            other = v["gstin"][:14] + next(c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != v["gstin"][14])
        day = self.recent_day(1, 20)
        row = self.invoice(ws, v, day, self.fresh_amount(v, day), vendor_gstin=other)
        self.truth.append(Planted("gstin_mismatch", ws, name, (row["invoice_number"],)))

    def overdue_growth(self, ws: str, name: str) -> None:
        """Invoices falling due since the same day last month, left unpaid: at least doubling the overdue."""
        v = self.vendor(ws, name)
        then = self.today - relativedelta(months=1)

        def overdue_on(day: date) -> float:
            return sum(
                i["total_amount"]
                for i in self.invoices_of(v)
                if i["status"] not in ("failed", "cancelled")
                and i["invoice_date"] <= day
                and i["due_date"] < day
                and (i["paid_date"] is None or i["paid_date"] > day)
            )

        target = max(overdue_on(then) * 2.0, 450_000.0)
        keys = []
        terms = v["payment_terms_days"]
        while overdue_on(self.today) - overdue_on(then) < target:
            due = then + timedelta(days=self.rng.randint(2, max(3, (self.today - then).days - 2)))
            day = due - timedelta(days=terms)
            row = self.invoice(ws, v, day, self.fresh_amount(v, day), payment_status="overdue")
            keys.append(row["invoice_number"])
        self.truth.append(Planted("overdue_growth", ws, name, tuple(keys)))

    def unusual_amount(self, ws: str, name: str) -> None:
        v = self.vendor(ws, name)
        day = self.recent_day(1, 20)
        total = round(self.typical(v) * self.rng.uniform(20, 40), 2)
        row = self.invoice(ws, v, day, total, status="pending", due_date=self.today + timedelta(days=20))
        self.truth.append(Planted("unusual_amount", ws, name, (row["invoice_number"],)))

    def sales_shortfall(self, ws: str, region: str) -> None:
        """Sales added on the same days of last month, until this month so far is well behind them."""
        start = self.today.replace(day=1)
        prev_start = start - relativedelta(months=1)
        prev_end = min(prev_start + timedelta(days=self.today.day - 1), start - timedelta(days=1))
        live = [s for s in self.rows["sales"] if s["workspace_id"] == ws and s["region"] == region]
        live = [s for s in live if s["status"] != "cancelled"]
        now = [s["amount"] for s in live if start <= s["sale_date"] <= self.today]
        prev = [s["amount"] for s in live if prev_start <= s["sale_date"] <= prev_end]
        products = [p for p in self.rows["products"] if p["workspace_id"] == ws]
        customers = sorted({s["customer"] for s in self.rows["sales"] if s["workspace_id"] == ws})

        def behind() -> bool:
            before, cur = sum(prev), sum(now)
            spread = (sum(x * x for x in prev) + sum(x * x for x in now)) ** 0.5
            return before > 0 and (before - cur) / before >= 0.55 and (before - cur) / max(spread, 1) >= 3.6

        while not behind():
            p = self.rng.choice(products)
            qty = self.rng.randint(5, 15)
            unit = round(p["unit_price"] * self.rng.uniform(0.95, 1.1), 2)
            day = prev_start + timedelta(days=self.rng.randint(0, (prev_end - prev_start).days))
            row = {
                "workspace_id": ws,
                "sale_date": day,
                "region": region,
                "customer": self.rng.choice(customers),
                "product_id": p["id"],
                "quantity": qty,
                "unit_price": unit,
                "amount": round(qty * unit, 2),
                "status": "completed",
            }
            self.add("sales", row)
            prev.append(row["amount"])
        self.truth.append(Planted("sales_shortfall", ws, region))


def plant(rows: dict[str, list[dict]], today: date, seed: int) -> list[Planted]:
    """Append the planted anomalies to `rows` (generate()'s output) and return the truth."""
    p = _Planter(rows, today, seed)
    p.truth.append(Planted("failure_spike", "acme", "IndiSky Airlines", optional=True))
    for ws, kinds in PLAN.items():
        for kind, subjects in kinds.items():
            for subject in subjects:
                getattr(p, kind)(ws, subject)
    return p.truth


def planted(today: date, seed: int) -> list[Planted]:
    """The planted truth of the demo seed for this day and seed (recomputed, deterministic)."""
    from .seed import generate  # noqa: PLC0415

    truth: list[Planted] = []
    generate(today, seed, plant_anomalies=True, truth=truth)
    return truth


VENDOR_LEVEL = ("failure_spike", "overdue_growth", "sales_shortfall")  # one finding per vendor or region


@dataclass
class Score:
    precision: float
    recall: float
    found: int
    planted: int
    false_positives: list[tuple[str, str, str]]  # (detector, workspace, subject)
    missed: list[Planted]


def matches(p: Planted, detector: str, workspace: str, subject: str, keys: list[str] | tuple[str, ...]) -> bool:
    """A finding is about a planted anomaly: same kind and workspace, and a planted record among its
    records (a vendor's spike or overdue growth, a region's shortfall: the same vendor or region)."""
    if p.detector != detector or p.workspace != workspace:
        return False
    if detector in VENDOR_LEVEL or not p.keys:
        return p.subject == subject
    return bool(set(p.keys) & set(keys))


def score(found: list[tuple[str, str, str, list[str]]], truth: list[Planted]) -> Score:
    """Precision and recall of findings (detector, workspace, subject, keys) against the planted truth."""
    hits = [any(matches(p, *f) for p in truth) for f in found]
    truth = [p for p in truth if not p.optional]
    caught = [p for p in truth if any(matches(p, *f) for f in found)]
    return Score(
        precision=sum(hits) / len(found) if found else 1.0,
        recall=len(caught) / len(truth) if truth else 1.0,
        found=len(found),
        planted=len(truth),
        false_positives=[(f[0], f[1], f[2]) for f, hit in zip(found, hits, strict=True) if not hit],
        missed=[p for p in truth if p not in caught],
    )
