"""Parameterised queries over the business tables, always scoped to a workspace.

The one place that turns filter parameters into SQL: filter_data, explain_failures,
export_report and the templates all go through `select_rows`.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from business_data.models import Invoice, Product, Sale, Transaction, Vendor

from .base import ToolContext, ToolDenied, ToolError
from .periods import PeriodError, date_range, describe
from .vendors import resolve_vendor

Dataset = Literal["invoices", "sales", "vendors", "transactions"]
DATASETS = ("invoices", "sales", "vendors", "transactions")
MAX_KEYS = 10_000


class FilterParams(BaseModel):
    """Filters for filter_data / export_report. Unknown keys are rejected."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # min_amount: Infinity is a 400

    dataset: Dataset = Field("invoices", description="invoices, sales, vendors or transactions")
    period: str | None = Field(None, description="last_month, this_quarter, last_30_days, 2026-03, 2026-Q2, ...")
    date_from: date | None = Field(None, description="first day to include (YYYY-MM-DD)")
    date_to: date | None = Field(None, description="last day to include (YYYY-MM-DD)")
    vendor: str | None = Field(None, description="vendor name; partial or misspelled names are resolved")
    status: Literal["pending", "processed", "failed", "cancelled"] | None = None
    payment_status: Literal["paid", "unpaid", "partially_paid", "overdue"] | None = None
    min_amount: float | None = Field(None, ge=0, description="minimum total amount in INR")
    max_amount: float | None = Field(None, ge=0, description="maximum total amount in INR")
    region: Literal["North", "South", "East", "West"] | None = None
    customer: str | None = None
    invoice_numbers: list[str] | None = Field(None, description="restrict to these invoice numbers", max_length=MAX_KEYS)
    workspace: str | None = Field(None, description="another workspace (Admin only)")
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("vendor", "customer", "period")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        v = v.strip() if isinstance(v, str) else v
        return v or None

    @model_validator(mode="after")
    def _bounds(self) -> "FilterParams":
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise ValueError(f"the minimum amount ({self.min_amount:,.0f}) is above the maximum ({self.max_amount:,.0f})")
        return self


def workspace_for(ctx: ToolContext, requested: str | None) -> str:
    if not requested or requested == ctx.identity.workspace_id:
        return ctx.identity.workspace_id
    if ctx.identity.is_admin:
        return requested
    raise ToolDenied(f"You can only see data in your own workspace ({ctx.identity.workspace_id}).")


INVOICE_COLUMNS = ["invoice_number", "vendor", "invoice_date", "due_date", "amount", "tax_amount",
                   "total_amount", "status", "error_message", "payment_status", "paid_date", "region"]


def _row(mapping: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in dict(mapping).items()}


def select_rows(ctx: ToolContext, session: Session, p: FilterParams, *, limit: int | None = None) -> dict[str, Any]:
    """Run the filter. Returns rows, counts, the keys of every match and a description."""
    ws = workspace_for(ctx, p.workspace)
    try:
        start, end = date_range(p.period, p.date_from, p.date_to, ctx.today)
    except PeriodError as e:
        raise ToolError(str(e)) from None
    filters: dict[str, Any] = {"workspace_id": ws}
    if start or end:
        filters["dates"] = describe(start, end)
    vendor = resolve_vendor(session, ws, p.vendor) if p.vendor else None
    limit = limit or p.limit

    if p.dataset == "invoices":
        table = Invoice
        cols = [Invoice.invoice_number, Vendor.name.label("vendor"), Invoice.invoice_date, Invoice.due_date,
                Invoice.amount, Invoice.tax_amount, Invoice.total_amount, Invoice.status, Invoice.error_message,
                Invoice.payment_status, Invoice.paid_date, Invoice.region]
        conds = [Invoice.workspace_id == ws]
        if start: conds.append(Invoice.invoice_date >= start)
        if end: conds.append(Invoice.invoice_date < end)
        if vendor: conds.append(Invoice.vendor_id == vendor.id); filters["vendor"] = vendor.name
        if p.status: conds.append(Invoice.status == p.status); filters["status"] = p.status
        if p.payment_status: conds.append(Invoice.payment_status == p.payment_status); filters["payment_status"] = p.payment_status
        if p.min_amount is not None: conds.append(Invoice.total_amount >= p.min_amount); filters["min_amount"] = p.min_amount
        if p.max_amount is not None: conds.append(Invoice.total_amount <= p.max_amount); filters["max_amount"] = p.max_amount
        if p.region: conds.append(Invoice.region == p.region); filters["region"] = p.region
        if p.invoice_numbers is not None: conds.append(Invoice.invoice_number.in_(p.invoice_numbers)); filters["invoice_numbers"] = len(p.invoice_numbers)
        if p.customer: raise ToolError("Invoices are from vendors, not customers. Did you mean sales for that customer?")
        base = select(*cols).join(Vendor, Vendor.id == Invoice.vendor_id).where(*conds)
        order = (Invoice.invoice_date.desc(), Invoice.invoice_number)
        key_col, amount_col = Invoice.invoice_number, "total_amount"
    elif p.dataset == "sales":
        table = Sale
        cols = [Sale.id.label("sale_id"), Sale.sale_date, Sale.region, Sale.customer, Product.name.label("product"),
                Sale.quantity, Sale.unit_price, Sale.amount]
        conds = [Sale.workspace_id == ws]
        if start: conds.append(Sale.sale_date >= start)
        if end: conds.append(Sale.sale_date < end)
        if p.region: conds.append(Sale.region == p.region); filters["region"] = p.region
        if p.customer: conds.append(Sale.customer.ilike(f"%{p.customer}%")); filters["customer"] = p.customer
        if p.min_amount is not None: conds.append(Sale.amount >= p.min_amount); filters["min_amount"] = p.min_amount
        if p.max_amount is not None: conds.append(Sale.amount <= p.max_amount); filters["max_amount"] = p.max_amount
        if vendor or p.status or p.payment_status:
            raise ToolError("Sales have no vendor or status; filter sales by period, region, customer or amount.")
        base = select(*cols).join(Product, Product.id == Sale.product_id).where(*conds)
        order = (Sale.sale_date.desc(), Sale.id)
        key_col, amount_col = Sale.id, "amount"
    elif p.dataset == "transactions":
        table = Transaction
        cols = [Transaction.reference, Transaction.transaction_date, Vendor.name.label("vendor"),
                Invoice.invoice_number, Transaction.amount, Transaction.type, Transaction.method, Transaction.status]
        conds = [Transaction.workspace_id == ws]
        if start: conds.append(Transaction.transaction_date >= start)
        if end: conds.append(Transaction.transaction_date < end)
        if vendor: conds.append(Transaction.vendor_id == vendor.id); filters["vendor"] = vendor.name
        if p.min_amount is not None: conds.append(Transaction.amount >= p.min_amount); filters["min_amount"] = p.min_amount
        if p.max_amount is not None: conds.append(Transaction.amount <= p.max_amount); filters["max_amount"] = p.max_amount
        base = (select(*cols).join(Vendor, Vendor.id == Transaction.vendor_id, isouter=True)
                .join(Invoice, Invoice.id == Transaction.invoice_id, isouter=True).where(*conds))
        order = (Transaction.transaction_date.desc(), Transaction.reference)
        key_col, amount_col = Transaction.reference, "amount"
    else:  # vendors
        table = Vendor
        cols = [Vendor.name, Vendor.gstin, Vendor.category, Vendor.state, Vendor.contact_email, Vendor.payment_terms_days]
        conds = [Vendor.workspace_id == ws]
        if vendor: conds.append(Vendor.id == vendor.id); filters["vendor"] = vendor.name
        base = select(*cols).where(*conds)
        order = (Vendor.name,)
        key_col, amount_col = Vendor.name, None

    sub = base.subquery()
    totals = [func.count()] + ([func.coalesce(func.sum(sub.c[amount_col]), 0)] if amount_col is not None else [])
    matched, *amount = session.execute(select(*totals).select_from(sub)).one()
    amount = amount[0] if amount else None
    total = session.execute(select(func.count()).select_from(table).where(table.workspace_id == ws)).scalar_one()
    rows = [_row(r) for r in session.execute(base.order_by(*order).limit(limit)).mappings()]
    key_name = key_col.key if key_col is not Sale.id else "sale_id"
    if matched <= len(rows):  # every match is in hand: its keys too
        keys = [r[key_name] for r in rows]
    else:
        keys = list(session.scalars(base.with_only_columns(key_col).order_by(*order).limit(MAX_KEYS)))
    return {
        "dataset": p.dataset, "workspace_id": ws, "matched": matched, "total": total, "rows": rows,
        "keys": keys, "amount": round(float(amount), 2) if amount is not None else None,
        "filters": filters, "vendor": vendor.name if vendor else None,
        "period": describe(start, end),
    }
