"""What the detectors found, as GET /insights answers it (and a finding's dismiss or snooze)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

DetectorName = Literal[
    "failure_spike", "duplicate_payment", "gstin_mismatch", "overdue_growth", "unusual_amount", "sales_shortfall"
]


class InsightView(BaseModel):
    id: int
    detector: DetectorName
    label: str = Field(description="the detector in words: 'possible duplicate payment'")
    severity: Literal["low", "medium", "high"]
    workspace_id: str
    subject: str = Field(description="the vendor or region it is about")
    amount: float = Field(description="the money at stake, in rupees")
    amount_text: str = Field(description="the same, Indian style: ₹3.4 lakh")
    record_keys: list[str] = Field(description="the records concerned (invoice numbers)")
    query: dict[str, Any] = Field(description="a semantic query that shows it (POST /execute_tool analyze_data)")
    explanation: str
    status: Literal["open", "dismissed", "snoozed"]
    status_reason: str | None = None
    status_by: str | None = None
    snoozed_until: datetime | None = None
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = Field(None, description="set when the detectors stopped seeing it")


class InsightList(BaseModel):
    insights: list[InsightView]
    summary: str = Field(description="the findings in one line: '2 possible duplicate payments, ₹3.4 lakh; ...'")


class Subscription(BaseModel):
    subscribed: bool
