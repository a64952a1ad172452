"""The customer's business tables (the seed schema). Every row carries a workspace_id."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class BusinessBase(DeclarativeBase):
    pass


class Vendor(BusinessBase):
    __tablename__ = "vendors"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    vendor_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    gstin: Mapped[str | None] = mapped_column(String(15), nullable=True)
    status: Mapped[str] = mapped_column(
        String(16), default="active", server_default="active"
    )  # active | inactive | blocked
    category: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    contact_email: Mapped[str] = mapped_column(String(200))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)


class Product(BusinessBase):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[float] = mapped_column(Float)


class Invoice(BusinessBase):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("workspace_id", "invoice_number"),
        # covering indexes for the compiler's usual questions (migration b0003; docs/BENCHMARKS.md):
        # a period, a vendor, a status; counts and sums of total_amount read from the index alone
        Index("ix_invoices_ws_date", "workspace_id", "invoice_date", "status", "vendor_id", "total_amount"),
        Index("ix_invoices_ws_vendor_status", "workspace_id", "vendor_id", "status", "invoice_date", "total_amount"),
        Index("ix_invoices_ws_status_date", "workspace_id", "status", "invoice_date", "vendor_id", "total_amount"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    invoice_number: Mapped[str] = mapped_column(String(40))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)
    tax_amount: Mapped[float] = mapped_column(Float)
    total_amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    status: Mapped[str] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payment_status: Mapped[str] = mapped_column(String(16))
    paid_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    vendor_gstin: Mapped[str | None] = mapped_column(String(15), nullable=True)
    region: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text, default="")


class InvoiceItem(BusinessBase):
    __tablename__ = "invoice_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), nullable=True)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Float)
    line_total: Mapped[float] = mapped_column(Float)


class Sale(BusinessBase):
    __tablename__ = "sales"
    __table_args__ = (Index("ix_sales_ws_date", "workspace_id", "sale_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    sale_date: Mapped[date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(8))
    customer: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Float)
    amount: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(
        String(16), default="completed", server_default="completed"
    )  # completed | returned | cancelled


class Transaction(BusinessBase):
    __tablename__ = "transactions"
    __table_args__ = (Index("ix_tx_ws_date", "workspace_id", "transaction_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True, index=True)
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), nullable=True)
    transaction_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)
    type: Mapped[str] = mapped_column(String(16))  # payment | refund
    method: Mapped[str] = mapped_column(String(16))  # NEFT | RTGS | UPI | cheque
    reference: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # completed | failed


class SeedInfo(BusinessBase):
    """When and how the demo data was generated (so 'last month' can be checked)."""

    __tablename__ = "seed_info"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seeded_on: Mapped[date] = mapped_column(Date)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


REGIONS = ("North", "South", "East", "West")
FAILURE_REASONS = (
    "GSTIN missing",
    "GSTIN mismatch",
    "Duplicate invoice number",
    "Tax amount mismatch",
    "Invalid invoice date",
)
