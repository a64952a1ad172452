"""What a detector declares, what it is given and what it returns.

A detector is one `Detector` declaration (its name, words, the dataset and the dimensions it needs
from the data model) plus one query function `(Scan) -> list[Candidate]`. The query is pushed down
to the database (SQLAlchemy Core on the data model's tables, SQLite and PostgreSQL alike); only
aggregates or the flagged records come back to Python.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from business_data.datamodel import DataModel, Dataset
from business_data.settings import Settings
from tools.compiler import Tables, workspace_condition

SEVERITIES = ("low", "medium", "high")


@dataclass
class Candidate:
    """One anomaly as a detector found it (before it is stored as a finding)."""

    identity: tuple[Any, ...]  # what makes it the same issue on the next run (with detector and workspace)
    severity: str
    amount: float  # the money at stake
    keys: list[str]  # the records (the dataset's keys) it is about
    query: dict[str, Any]  # a semantic query (analyze_data / filter_data) that shows it
    explanation: str
    subject: str = ""  # vendor or region, in words
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scan:
    """What a query function is given: one dataset of the model, one workspace, one day, the thresholds."""

    model: DataModel
    ds_name: str
    ds: Dataset
    t: Tables
    conn: Connection
    workspace: str
    today: date
    settings: Settings

    def col(self, dimension: str) -> ColumnElement:
        return self.t.col(self.ds.dimensions[dimension].column)

    def has(self, dimension: str) -> bool:
        return dimension in self.ds.dimensions

    @property
    def scope(self) -> ColumnElement:
        cond = workspace_condition(self.ds, self.t, self.workspace)
        return cond if cond is not None else sa.true()

    def source(self, *dimensions: str):
        """The FROM clause with the joins these dimensions need."""
        needed: set[str] = set()
        for d in dimensions:
            needed |= self.t.aliases_of(self.ds.dimensions[d].column)
        return self.t.from_clause(needed)

    @property
    def time(self) -> str:
        assert self.ds.time
        return self.ds.time

    @property
    def amount(self) -> str:
        assert self.ds.amount
        return self.ds.amount


@dataclass(frozen=True)
class Detector:
    name: str  # failure_spike
    label: str  # "failure-rate spike"
    plural: str  # "failure-rate spikes"
    dataset: str
    needs: tuple[str, ...]  # dimensions of the dataset it reads (besides its time and amount)
    query: Callable[[Scan], list[Candidate]]
    description: str = ""

    def missing(self, model: DataModel) -> list[str]:
        """What the model lacks for this detector ([] = applicable)."""
        if self.dataset not in model.datasets:
            return [f"dataset {self.dataset}"]
        ds = model.datasets[self.dataset]
        out = [f"{self.dataset}.{d}" for d in self.needs if d not in ds.dimensions]
        if not ds.time:
            out.append(f"{self.dataset} time dimension")
        if not ds.amount:
            out.append(f"{self.dataset} amount")
        return out


def fingerprint(detector: str, workspace: str, identity: tuple[Any, ...]) -> str:
    raw = json.dumps([detector, workspace, *identity], default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(f1: int, n1: int, f0: int, n0: int) -> float:
    """The pooled two-proportion z statistic of f1/n1 against f0/n0 (positive: the first is higher)."""
    if n1 <= 0 or n0 <= 0:
        return 0.0
    p = (f1 + f0) / (n1 + n0)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    return (f1 / n1 - f0 / n0) / se if se > 0 else 0.0


class days_between(FunctionElement):
    """Whole days from `a` to `b` (b - a) for DATE columns, on SQLite (ISO text) and PostgreSQL."""

    type = sa.Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"(julianday({compiler.process(b, **kw)}) - julianday({compiler.process(a, **kw)}))"


@compiles(days_between)
def _days_default(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"({compiler.process(b, **kw)} - {compiler.process(a, **kw)})"


def num(value: Any) -> float:
    return float(value or 0)
