"""Filter parameters (what filter_data, explain_failures and export_report take) as semantic queries.

`FilterParams` is the flat, familiar form ("vendor=IndiSky, status=failed, last month");
`to_query` turns it into a SemanticQuery over the data model, and `select_rows` runs it through
the one compiler (tools/compiler.py via tools/runner.py), inside the caller's workspace.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic_core import PydanticCustomError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .base import ToolContext, ToolError
from .compiler import workspace_scope
from .money import parse_amount
from .runner import first_keys, run_records
from .semantic import Filter, SemanticQuery, problem_text

DATASETS = ("invoices", "sales", "vendors", "transactions", "invoice_items", "products")
MAX_KEYS = 10_000  # records a ticket or an explicit list may name
KEY_CAP = 1_000  # keys a result keeps; a larger result is referred to by its query


# The parameters of FilterParams that pick records by a named filter (the parser's slots, the plan's "does this
# message name its own records?"). Not a filter: dataset, workspace, limit, date_field (which date a period is
# on); `where` (declared values, added by the understanding step) is not counted. tests/unit/test_queries.py
# checks the list against FilterParams: a new parameter fails it until it is put on one side or the other.
FILTER_KEYS = frozenset(
    {
        "period",
        "date_from",
        "date_to",
        "vendor",
        "status",
        "payment_status",
        "min_amount",
        "max_amount",
        "region",
        "customer",
        "invoice_numbers",
    }
)


class FilterParams(BaseModel):
    """Filters for filter_data / export_report. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # min_amount: Infinity is a 400

    dataset: str = Field("invoices", description="invoices, sales, vendors, transactions, invoice_items or products")
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
    invoice_numbers: list[str] | None = Field(
        None, description="restrict to these invoice numbers", max_length=MAX_KEYS
    )
    workspace: str | None = Field(None, description="another workspace (Admin only)")
    where: dict[str, str | bool] | None = Field(
        None,
        description="other dimensions of the dataset by a value the data model declares, e.g. "
        "{'status': 'inactive'} for vendors, {'method': 'UPI'} for transactions, {'gstin_verified': false}",
        max_length=10,
    )
    date_field: str | None = Field(
        None, description="the date the period applies to, when not the dataset's own (e.g. due_date, paid_date)"
    )
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("vendor", "customer", "period")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        v = v.strip() if isinstance(v, str) else v
        return v or None

    @model_validator(mode="after")
    def _bounds(self) -> FilterParams:
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise ValueError(
                f"the minimum amount ({self.min_amount:,.0f}) is above the maximum ({self.max_amount:,.0f})"
            )
        return self

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        """One of the data model's datasets (the configured model; tools check again against theirs)."""
        from business_data.datamodel import get_data_model

        names = list(get_data_model().datasets)
        if v not in names:
            quoted = [repr(n) for n in names]
            expected = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return v

    @field_validator("min_amount", "max_amount", mode="before")
    @classmethod
    def _amount(cls, v: Any) -> Any:
        """Amounts as people write them: 50000, "50,000", "₹4,90,901", "4.9 lakh", "2 cr", "50k"."""
        if isinstance(v, str):
            parsed = parse_amount(v)
            if parsed is None:
                raise ValueError(f"'{v}' is not an amount (try 50000, 4.9 lakh or 2 cr)")
            return parsed
        return v

    def to_query(self, ctx: ToolContext) -> SemanticQuery:
        """The same filter as a semantic query over the data model (ToolError if the dataset lacks a field)."""
        model = ctx.data_model
        if self.dataset not in model.datasets:
            raise ToolError(f"There is no dataset '{self.dataset}' here. Datasets: {', '.join(model.datasets)}.")
        ds = model.datasets[self.dataset]
        filters: list[Filter] = []
        wanted = {
            "vendor": self.vendor,
            "status": self.status,
            "payment_status": self.payment_status,
            "region": self.region,
        }
        for name, value in wanted.items():
            if value is not None:
                filters.append(Filter(field=name, value=value))
        if self.customer is not None:
            filters.append(Filter(field="customer", op="contains", value=self.customer))
        if self.min_amount is not None or self.max_amount is not None:
            if not ds.amount:
                raise ToolError(f"{ds.words.capitalize()} have no amount to compare.")
            if self.min_amount is not None:
                filters.append(Filter(field=ds.amount, op="gte", value=self.min_amount))
            if self.max_amount is not None:
                filters.append(Filter(field=ds.amount, op="lte", value=self.max_amount))
        if self.invoice_numbers is not None:
            filters.append(Filter(field="invoice_number", op="in", value=list(self.invoice_numbers)))
        for dim, val in (self.where or {}).items():
            if any(f.field == dim for f in filters):
                raise ToolError(f"'{dim.replace('_', ' ')}' is given twice; give it once.")
            filters.append(Filter(field=dim, value=val))
        missing = [f.field for f in filters if f.field not in ds.dimensions]
        if missing:
            if self.dataset == "invoices" and "customer" in missing:
                raise ToolError("Invoices are from vendors, not customers. Did you mean sales for that customer?")
            shown = (["period"] if ds.time else []) + [n.replace("_", " ") for n in FILTERABLE if n in ds.dimensions]
            raise ToolError(
                f"{ds.words.capitalize()} have no {' or '.join(m.replace('_', ' ') for m in missing)}; "
                f"filter {ds.words} by {', '.join(shown)}."
            )
        if (self.period or self.date_from or self.date_to) and not ds.time:
            raise ToolError(f"{ds.words.capitalize()} have no date to filter by period.")
        try:
            return SemanticQuery(
                dataset=self.dataset,
                filters=filters,
                period=self.period,
                date_from=self.date_from,
                date_to=self.date_to,
                workspace=self.workspace,
                time_dimension=self.date_field,
            )
        except ValidationError as e:
            raise ToolError(problem_text(e)) from None


FILTERABLE = ("vendor", "status", "payment_status", "region", "customer", "amount", "total_amount")


def workspace_for(ctx: ToolContext, requested: str | None) -> str:
    """The one workspace a filter runs in (ToolDenied for another, unless Admin)."""
    return workspace_scope(ctx.identity, requested) or ctx.identity.workspace_id


def describe_filters(q: SemanticQuery, workspace: str | None, period: str, has_dates: bool) -> dict[str, Any]:
    """The filters in words, for answers and for 'show your work' (Source.filters)."""
    out: dict[str, Any] = {"workspace_id": workspace or "all"}
    if has_dates:
        out["dates"] = period
    names = {"gte": "min_amount", "lte": "max_amount"}
    for f in q.filters:
        if f.field == "invoice_number" and f.op == "in":
            out["invoice_numbers"] = len(f.value)
        elif f.op in names and f.field not in ("invoice_number",):
            out[names[f.op]] = f.value
        else:
            out[f.field] = f.value
    return out


def select_rows(
    ctx: ToolContext,
    session: Session | Connection,
    p: FilterParams,
    *,
    limit: int | None = None,
    key_cap: int | None = None,
) -> dict[str, Any]:
    """Run the filter. Returns rows, counts, the keys of the matches (up to key_cap, default KEY_CAP) and the query."""
    key_cap = key_cap or KEY_CAP
    q = p.to_query(ctx)
    a = run_records(
        session.connection() if isinstance(session, Session) else session,
        ctx.data_model,
        q,
        ctx.identity,
        ctx.today,
        limit=limit or p.limit,
        key_cap=key_cap,
    )
    c = a.compiled
    filters = describe_filters(a.query, c.workspace, c.period, bool(c.start or c.end))
    return {
        "dataset": p.dataset,
        "workspace_id": c.workspace or ctx.identity.workspace_id,
        "matched": a.matched,
        "total": a.total,
        "rows": a.rows,
        "keys": a.keys,
        "keys_complete": a.keys_complete,
        "amount": a.amount,
        "filters": filters,
        "vendor": a.query.filter_value("vendor") if isinstance(a.query.filter_value("vendor"), str) else None,
        "period": c.period if not p.date_field else f"{_date_label(ctx, p)} {c.period}",
        "query": a.query.as_params(),
    }


def _date_label(ctx: ToolContext, p: FilterParams) -> str:
    """ "due date": the date a period applies to when it is not the dataset's own."""
    dim = ctx.data_model.datasets[p.dataset].dimensions.get(p.date_field or "")
    return (dim.label if dim and dim.label else str(p.date_field).replace("_", " ")) if p.date_field else ""


def keys_for(ctx: ToolContext, params: dict[str, Any], cap: int = MAX_KEYS) -> list[Any]:
    """The keys of every record a filter matches (up to `cap`): fixes a record set where one must be
    fixed (a ticket is about exactly these invoices), when the result only kept its query. Beyond
    `cap`, the first `cap` in the listing's order."""
    p = FilterParams.model_validate(
        {k: v for k, v in params.items() if k in FilterParams.model_fields and k != "limit"} | {"limit": 1}
    )
    with ctx.business.connect() as conn:
        return first_keys(conn, ctx.data_model, p.to_query(ctx), ctx.identity, ctx.today, cap=cap)
