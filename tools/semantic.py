"""The semantic query: what the offline parser, the model router and the tools ask of the data.

A `SemanticQuery` names things from the data model (business_data/datamodel.py: datasets,
dimensions, measures), never tables or SQL. `tools/compiler.py` turns it into one
parameterised SQL statement, always inside the caller's workspace.

What a query means, by shape:

  measures=[]  group_by=[]            a record listing (the dataset's `list` dimensions), like filter_data
  measures=[m] group_by=[]            totals: one row ("total value of failed invoices last month")
  measures=[m] group_by=[d]           a breakdown ("sales by region"); with order_by + limit a ranking
                                      ("top 3 customers by sales": order_by=[-sales_value], limit=3);
                                      ties break on the groups, and limit=1 answers with every group tied first
  measures=[m] time_grain=month       a trend: grouped by the month of the time dimension, oldest first
  compare_to="previous_period"        the same query for another period, with the change in amount and %

Examples (JSON, as a model router would send them):

  {"dataset": "invoices", "measures": ["total_value"], "filters": {"status": "failed"}, "period": "last_month"}
  {"dataset": "invoices", "measures": ["failed_count"], "group_by": ["vendor"], "period": "this_year",
   "order_by": ["-failed_count"], "limit": 1}
  {"dataset": "sales", "measures": ["sales_value"], "group_by": ["customer"], "period": "last_quarter",
   "order_by": ["-sales_value"], "limit": 3}
  {"dataset": "sales", "measures": ["sales_value"], "period": "this_month", "compare_to": "last_month"}
  {"dataset": "invoices", "measures": ["outstanding"], "filters": [{"field": "vendor", "value": "Metro Cabs"}]}
  {"dataset": "sales", "measures": ["sales_value"], "time_grain": "month", "period": "last_6_months"}

Filters may be given as a list of {field, op, value} or as a mapping {field: value}
(a list value means `in`). A filter on a measure applies to the groups (HAVING). Values of
`lookup` dimensions (vendor, customer, product) may be typed loosely ("indisky"); the compiler
resolves them to stored names, or fails with suggestions. Money values accept Indian forms
("4.9 lakh", "2 cr", "50k", "₹4,90,901"; tools/money.py).

The workspace is never a free choice: the compiler applies the caller's. `workspace` names
another workspace, or "all", and only an Admin may use it (an explicit, visible choice).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from business_data.datamodel import GRAINS, DataModel, FilterOp

Grain = Literal["day", "week", "month", "quarter", "year"]
ALL_WORKSPACES = "all"
MAX_LIMIT = 10_000

COMPARE_HELP = (
    "previous_period (the same length just before), previous_year (the same dates a year earlier), "
    "or any period such as last_month or 2026-Q2"
)


class Filter(BaseModel):
    """One condition: `field` is a dimension (row filter) or a measure (group filter, HAVING).

    ops: eq, ne, in, not_in (value: a list), gt, gte, lt, lte, between (value: [low, high]),
    contains (text), is_null, not_null (no value)."""

    model_config = ConfigDict(extra="forbid")
    field: str
    op: FilterOp = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Filter:
        if self.op in ("in", "not_in") and not isinstance(self.value, (list, tuple)):
            self.value = [self.value]
        if self.op == "between" and not (isinstance(self.value, (list, tuple)) and len(self.value) == 2):
            raise ValueError(f"{self.field}: 'between' needs two values [low, high]")
        if self.op not in ("is_null", "not_null") and self.value is None:
            raise ValueError(f"{self.field}: '{self.op}' needs a value")
        return self


class Order(BaseModel):
    """Sort by a measure or a grouped dimension ("period" for the time bucket). Strings work too:
    "-sales_value" or "sales_value desc" (descending), "vendor" or "vendor asc"."""

    model_config = ConfigDict(extra="forbid")
    field: str
    direction: Literal["asc", "desc"] = "asc"


class SemanticQuery(BaseModel):
    """A question about one dataset of the data model. See the module docstring for examples."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field("invoices", description="a dataset of the data model: invoices, sales, vendors, ...")
    measures: list[str] = Field(default_factory=list, description="measure names; none = list records")
    group_by: list[str] = Field(
        default_factory=list, max_length=3, description="dimension names to break the measures down by"
    )
    filters: list[Filter] = Field(
        default_factory=list, description="conditions on dimensions (rows) or measures (groups)"
    )
    period: str | None = Field(
        None, description="on the time dimension: last_month, this_quarter, last_30_days, 2026-03, 2026-Q2, ..."
    )
    date_from: date | None = Field(None, description="first day to include (YYYY-MM-DD)")
    date_to: date | None = Field(None, description="last day to include (YYYY-MM-DD)")
    time_dimension: str | None = Field(
        None, description="which time dimension period and time_grain use (default: the dataset's)"
    )
    time_grain: Grain | None = Field(
        None, description="group by day, week, month, quarter or year of the time dimension (a trend)"
    )
    order_by: list[Order] = Field(
        default_factory=list, description="e.g. ['-total_value']; default: first measure, largest first"
    )
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT, description="at most this many rows (top/bottom N)")
    compare_to: str | None = Field(None, description=f"compare with another period: {COMPARE_HELP}")
    workspace: str | None = Field(None, description="another workspace, or 'all' (Admin only)")

    @field_validator("filters", mode="before")
    @classmethod
    def _filters_mapping(cls, v: Any) -> Any:
        """{field: value} -> [{field, op: eq|in, value}] (a shorthand for people and models)."""
        if isinstance(v, dict):
            return [
                {"field": k, "op": "in" if isinstance(val, (list, tuple)) else "eq", "value": val}
                for k, val in v.items()
                if val is not None
            ]
        return v

    @field_validator("order_by", mode="before")
    @classmethod
    def _order_strings(cls, v: Any) -> Any:
        items = [v] if isinstance(v, (str, dict)) else (v or [])
        out = []
        for item in items:
            if isinstance(item, str):
                words = item.strip().split()
                name = words[0] if words else ""
                direction = "desc" if name.startswith("-") else (words[1].lower() if len(words) > 1 else "asc")
                out.append({"field": name.lstrip("-+"), "direction": direction})
            else:
                out.append(item)
        return out

    @field_validator("measures", "group_by", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _shape(self) -> SemanticQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the date range is empty: {self.date_from} is after {self.date_to}")
        if self.compare_to and not (self.period or self.date_from or self.date_to):
            raise ValueError("compare_to needs a period to compare (e.g. period=this_month, compare_to=last_month)")
        if self.compare_to and not self.measures:
            raise ValueError("compare_to compares measures: name at least one (e.g. total_value)")
        return self

    # -- conveniences ----------------------------------------------------------------------
    @property
    def kind(self) -> Literal["records", "total", "breakdown", "trend"]:
        """What the answer is: a record listing, totals, a breakdown (or ranking) or a trend."""
        if not self.measures:
            return "records"
        if self.time_grain:
            return "trend"
        return "breakdown" if self.group_by else "total"

    def filter_value(self, field: str) -> Any:
        """The value of the first eq/in filter on `field` (None if there is none)."""
        for f in self.filters:
            if f.field == field and f.op in ("eq", "in"):
                return f.value
        return None

    def but(self, **changes: Any) -> SemanticQuery:
        """A validated copy with some fields changed (shorthands such as order_by=['-x'] work)."""
        return SemanticQuery.model_validate({**self.model_dump(), **changes})

    def with_filter(self, field: str, value: Any, op: str = "eq") -> SemanticQuery:
        """A copy with `field` filtered to `value` (replacing earlier filters on it)."""
        rest = [f for f in self.filters if f.field != field]
        return self.model_copy(update={"filters": rest + [Filter(field=field, op=op, value=value)]})

    def as_params(self) -> dict[str, Any]:
        """Compact JSON (what a result reference stores)."""
        return self.model_dump(mode="json", exclude_defaults=True) | {"dataset": self.dataset}


def problem_text(e: ValidationError) -> str:
    """A SemanticQuery validation error in a sentence (for messages to people)."""
    parts = []
    for err in e.errors():
        where = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class QueryProblem(ValueError):
    """The query names something the data model does not have (message lists what there is)."""


def check_against(q: SemanticQuery, model: DataModel, extra_dimensions: tuple[str, ...] = ()) -> None:
    """Every name in the query exists in the model and fits where it is used (QueryProblem if not).
    `extra_dimensions`: implicit group_by names the compiler adds (e.g. 'workspace' for Admins)."""
    if q.dataset not in model.datasets:
        raise QueryProblem(f"There is no dataset '{q.dataset}' here. Datasets: {', '.join(model.datasets)}.")
    ds = model.datasets[q.dataset]
    what = ds.words
    for m in q.measures:
        if m not in ds.measures:
            raise QueryProblem(f"{what.capitalize()} have no measure '{m}'. Measures: {', '.join(ds.measures)}.")
    for d in q.group_by:
        if d not in ds.dimensions and d not in extra_dimensions:
            raise QueryProblem(
                f"{what.capitalize()} can't be broken down by '{d}'. Dimensions: {', '.join(ds.dimensions)}."
            )
    for f in q.filters:
        if ds.field_kind(f.field) is None:
            raise QueryProblem(
                f"{what.capitalize()} have no '{f.field}' to filter on. You can filter on: {', '.join(ds.dimensions)}."
            )
        if ds.field_kind(f.field) == "measure" and not (q.group_by or q.time_grain):
            raise QueryProblem(f"A condition on {f.field} needs a breakdown (group_by) to apply to.")
    time_dim = q.time_dimension or ds.time
    if q.time_dimension and (q.time_dimension not in ds.dimensions or ds.dimensions[q.time_dimension].type != "time"):
        raise QueryProblem(
            f"'{q.time_dimension}' is not a date of {what}. Dates: {', '.join(ds.time_dimensions()) or 'none'}."
        )
    if (q.period or q.date_from or q.date_to or q.time_grain) and not time_dim:
        raise QueryProblem(f"{what.capitalize()} have no date, so they can't be filtered by period or shown over time.")
    if q.time_grain and q.time_grain not in GRAINS:
        raise QueryProblem(f"time_grain must be one of {', '.join(GRAINS)}.")
    names = set(q.measures) | set(q.group_by) | ({"period"} if q.time_grain else set())
    if not q.measures:
        names |= set(ds.dimensions)
    for o in q.order_by:
        if o.field not in names:
            raise QueryProblem(
                f"I can only sort by what the answer shows ({', '.join(sorted(names))}), not '{o.field}'."
            )
