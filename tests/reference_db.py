"""A customer's database in the reference schema (tests/fixtures/reference_schema.sql), filled from the
demo generator's `acme` rows so the sample scenario holds: 7 failed IndiSky invoices last month, GSTIN missing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from business_data.db import make_engine
from business_data.seed import generate

DDL = Path(__file__).with_name("fixtures") / "reference_schema.sql"
WORKSPACE = "acme"


def statements(drop_columns: tuple[str, ...] = ()) -> list[str]:
    """The DDL's statements; `drop_columns` ("invoices.gstin_verified") leaves columns out (a database that doesn't fit)."""
    lines = [line for line in DDL.read_text().splitlines() if not line.strip().startswith("--")]
    for ref in drop_columns:
        _table, col = ref.split(".")
        lines = [line for line in lines if not line.strip().startswith(col + " ")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def build(url: str, today: date, seed: int = 20261124):
    """Create the reference tables from the DDL and load one tenant's rows. Returns the engine."""
    engine = make_engine(url)
    rows = generate(today, seed)
    vendors = [v for v in rows["vendors"] if v["workspace_id"] == WORKSPACE]
    gstin_of = {v["id"]: v["gstin"] for v in vendors}
    with engine.begin() as conn:
        for stmt in statements():
            conn.exec_driver_sql(stmt)
        conn.execute(
            text(
                "INSERT INTO vendors (id, vendor_code, vendor_name, gstin, status) VALUES "
                "(:id, :vendor_code, :name, :gstin, :status)"
            ),
            vendors,
        )
        conn.execute(
            text(
                "INSERT INTO invoices (id, invoice_number, vendor_id, invoice_date, total_amount, status, payment_status, "
                "gstin_verified, error_message) VALUES (:id, :invoice_number, :vendor_id, :invoice_date, :total_amount, "
                ":status, :payment_status, :gstin_verified, :error_message)"
            ),
            [
                {**i, "gstin_verified": i["vendor_gstin"] is not None and i["vendor_gstin"] == gstin_of[i["vendor_id"]]}
                for i in rows["invoices"]
                if i["workspace_id"] == WORKSPACE
            ],
        )
        conn.execute(
            text(
                "INSERT INTO sales (id, sale_date, customer_name, product_id, total_amount, region, status) VALUES "
                "(:id, :sale_date, :customer, :product_id, :amount, :region, :status)"
            ),
            [s for s in rows["sales"] if s["workspace_id"] == WORKSPACE],
        )
    return engine
