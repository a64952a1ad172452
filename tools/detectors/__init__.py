"""Anomaly detectors: declared here, queried in one module per family (`failures.py`, `payments.py`,
`amounts.py`; shared helpers in `sql.py`), stored as findings by `store.py`.

A new detector is one `Detector` line below plus at most one query function. Each declares the
dataset and the dimensions it needs from the data model; a model without them (the reference
schema has no GSTIN on its invoices, nor due or paid dates) makes that detector "not applicable",
said in the run's summary, never an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine

from business_data.datamodel import DataModel
from business_data.settings import Settings, get_settings
from tools.compiler import Tables

from . import amounts, failures, payments
from .duplicates import duplicate_payment
from .base import Candidate, Detector, Scan, fingerprint

DETECTORS: tuple[Detector, ...] = (
    Detector(
        "failure_spike",
        "failure-rate spike",
        "failure-rate spikes",
        "invoices",
        ("vendor", "status"),
        failures.failure_spike,
        "a vendor's failure rate in the last 7 or 30 days, significantly above its own 90 days before",
    ),
    Detector(
        "duplicate_payment",
        "possible duplicate payment",
        "possible duplicate payments",
        "invoices",
        ("vendor", "status"),
        duplicate_payment,
        "same vendor, amount within 0.5%, dated within 7 days, different invoice numbers, neither cancelled",
    ),
    Detector(
        "gstin_mismatch",
        "GSTIN mismatch",
        "GSTIN mismatches",
        "invoices",
        ("vendor", "status", "gstin", "vendor_gstin"),
        failures.gstin_mismatch,
        "an invoice that went through with a GSTIN unlike the vendor master's, or failing the checksum",
    ),
    Detector(
        "overdue_growth",
        "overdue growth",
        "vendors with sharply more overdue",
        "invoices",
        ("vendor", "status", "due_date", "paid_date"),
        payments.overdue_growth,
        "a vendor's overdue amount up sharply against the same day last month",
    ),
    Detector(
        "unusual_amount",
        "unusual amount",
        "unusually large invoices",
        "invoices",
        ("vendor", "status"),
        amounts.unusual_amount,
        "an invoice far above the vendor's usual size (robust z-score of the median and MAD)",
    ),
    Detector(
        "sales_shortfall",
        "sales shortfall",
        "regions behind on sales",
        "sales",
        ("region",),
        amounts.sales_shortfall,
        "a region's month-to-date sales against the same days of last month",
    ),
)
BY_NAME = {d.name: d for d in DETECTORS}


@dataclass
class Found:
    """A candidate with its detector, workspace and stable fingerprint."""

    detector: Detector
    workspace: str
    fingerprint: str
    candidate: Candidate


@dataclass
class DetectorRun:
    workspace: str
    found: list[Found] = field(default_factory=list)
    not_applicable: dict[str, list[str]] = field(default_factory=dict)  # detector -> what the model lacks
    timings_ms: dict[str, float] = field(default_factory=dict)


def applicable(model: DataModel) -> tuple[list[Detector], dict[str, list[str]]]:
    ok, skipped = [], {}
    for d in DETECTORS:
        missing = d.missing(model)
        if missing:
            skipped[d.name] = missing
        else:
            ok.append(d)
    return ok, skipped


def workspaces_of(model: DataModel, engine: Engine) -> list[str]:
    """The workspaces a model's business data holds (a single-tenant model: its one workspace)."""
    import sqlalchemy as sa

    ds = model.datasets.get("invoices") or next(iter(model.datasets.values()))
    if not ds.workspace_column:
        return [ds.workspace] if ds.workspace else []
    t = Tables(ds)
    with engine.connect() as conn:
        col = t.col(ds.workspace_column)
        return [str(w) for w in conn.execute(sa.select(col).select_from(t.base).distinct().order_by(col)).scalars()]


def detect(
    engine: Engine,
    model: DataModel,
    workspace: str,
    today: date,
    *,
    settings: Settings | None = None,
    only: list[str] | None = None,
) -> DetectorRun:
    """Run every applicable detector (or `only` these) on one workspace; nothing is stored."""
    settings = settings or get_settings()
    run = DetectorRun(workspace)
    detectors, run.not_applicable = applicable(model)
    with engine.connect() as conn:
        for det in detectors:
            if only and det.name not in only:
                continue
            ds = model.datasets[det.dataset]
            scan = Scan(model, det.dataset, ds, Tables(ds), conn, workspace, today, settings)
            t0 = time.perf_counter()
            for c in det.query(scan):
                run.found.append(Found(det, workspace, fingerprint(det.name, workspace, c.identity), c))
            run.timings_ms[det.name] = round((time.perf_counter() - t0) * 1000, 1)
    return run


__all__ = ["BY_NAME", "DETECTORS", "Candidate", "Detector", "DetectorRun", "Found", "detect", "workspaces_of"]
