"""vendor_profile: one vendor at a glance (GSTIN, category, payment terms, invoice counts and amounts).

A read-only tool, and the worked example of "how to add a tool" in docs/ARCHITECTURE.md: this
module, one line in tools.yaml, and tests/unit/test_vendor_profile.py.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict
from sqlalchemy import func, select

from business_data.db import session_scope
from business_data.models import Invoice

from .base import Source, ToolContext, ToolResult, ToolSpec
from .money import money
from .vendors import resolve_vendor


class VendorProfileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vendor: str = Field(..., min_length=1, max_length=200, description="the vendor's name (a close spelling is fine)")


class VendorProfile(TypedDict):
    vendor: str
    gstin: str | None
    category: str
    state: str
    contact_email: str | None
    payment_terms_days: int | None
    invoices: int
    invoices_by_status: dict[str, int]
    amount_by_status: dict[str, float]
    total_amount: float
    last_invoice_date: str | None  # ISO


class VendorProfileData(TypedDict):
    """What vendor_profile puts in `ToolResult.data` (its `data_type`)."""

    profile: VendorProfile


def vendor_profile(ctx: ToolContext, p: VendorProfileParams) -> ToolResult:
    ws = ctx.identity.workspace_id
    with session_scope(ctx.business) as s:
        v = resolve_vendor(s, ws, p.vendor)  # ToolError with "did you mean" when unknown
        by_status = s.execute(
            select(
                Invoice.status,
                func.count(),
                func.coalesce(func.sum(Invoice.total_amount), 0.0),
                func.max(Invoice.invoice_date),
            )
            .where(Invoice.workspace_id == ws, Invoice.vendor_id == v.id)
            .group_by(Invoice.status)
            .order_by(Invoice.status)
        ).all()
    counts = {status: n for status, n, _, _ in by_status}
    amounts = {status: round(float(total), 2) for status, _, total, _ in by_status}
    last = max((d for *_, d in by_status if d is not None), default=None)
    total = sum(counts.values())
    profile: VendorProfile = {
        "vendor": v.name,
        "gstin": v.gstin,
        "category": v.category,
        "state": v.state,
        "contact_email": v.contact_email,
        "payment_terms_days": v.payment_terms_days,
        "invoices": total,
        "invoices_by_status": counts,
        "amount_by_status": amounts,
        "total_amount": round(sum(amounts.values()), 2),
        "last_invoice_date": last.isoformat() if last else None,
    }
    status_text = ", ".join(f"{n:,} {status}" for status, n in counts.items()) or "no invoices yet"
    message = (
        f"{v.name} ({v.category}, {v.state}): GSTIN {v.gstin or 'not on file'}, pays in {v.payment_terms_days} days. "
        f"{total:,} invoice{'s' if total != 1 else ''} ({status_text})"
        + (
            f", {money(round(sum(amounts.values()), 2))} in all, the latest on {profile['last_invoice_date']}."
            if total
            else "."
        )
    )
    return ToolResult(
        status="success",
        message=message,
        data=dict(VendorProfileData(profile=profile)),
        sources=[
            Source(table="vendors", filters={"vendor": v.name}, rows=1),
            Source(table="invoices", filters={"vendor": v.name}, rows=total),
        ],
    )


TOOLS = [
    ToolSpec(
        "vendor_profile",
        "One vendor at a glance: GSTIN, category, payment terms, invoice counts and amounts by status.",
        VendorProfileParams,
        vendor_profile,
        data_type=VendorProfileData,
        roles=("Viewer", "Manager", "Admin"),
        action="view vendor profiles",
        topic="vendor profiles",
        step="Looked up the profile of {vendor}, {ms}.",
        phrases=("vendor profile for IndiSky", "tell me about Metro Cabs"),
        slots=(("vendor", "vendor"),),
        reads_data=True,
    ),
]
