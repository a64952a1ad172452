"""The semantic data model: which datasets the business database holds, and what people call them.

A data model is a YAML file (`business_data/datamodels/demo.yaml` for the demo schema,
`reference.yaml` for the product's reference schema), validated with pydantic when it is
loaded. `FINKRAFT_DATA_MODEL` picks the file: a bundled name (`demo`, `reference`) or a path.

Each dataset declares
  - its `table`, and `joins` to other tables (by alias: `vendor: {table: vendors, column: vendor_id, references: id}`);
  - whose rows it is: `workspace_column` (multi-tenant) or a fixed `workspace` (a single-tenant
    database mapped to one workspace);
  - `dimensions`: what a row can be filtered and grouped by. `type` is `string` (categorical,
    the default), `time` (day/week/month/quarter/year grains), `number` or `boolean`. A
    `column` is `name` (on the dataset's table) or `alias.name` (on a join). `lookup: true`
    resolves what people type ("indisky") to a stored value ("IndiSky Airlines");
  - `measures`: `agg` (count, sum, avg, min, max, count_distinct) over a `column`, optionally
    restricted by `filters` (e.g. failed_count = count where status is failed), or `derived`
    from other measures (`ratio`, `percent`, `sum`, `difference`), e.g. failure_rate =
    percent(failed_count, invoice_count), outstanding = sum(unpaid_amount, overdue_amount);
  - `synonyms` for the dataset, each dimension and each measure: the vocabulary the parser
    and the model router pick from;
  - `key` (the dimension naming one record, e.g. invoice_number), `time` (the default time
    dimension), `amount` (the money dimension "over 50,000" compares), `list` (the dimensions
    a record listing shows, in order), `preview` (those in a one-line preview of a record),
    `order` (the default order of a listing) and
    `default_measure` (what "how much"/"total" means).

Names of datasets, dimensions and measures are the stable vocabulary: a customer's model maps
the same names to its own tables and columns (`vendor` -> `vendors.vendor_name`), so the parser,
the tools and the model router never see a physical column name.
"""

from __future__ import annotations

import builtins
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

BUNDLED = Path(__file__).resolve().parent / "datamodels"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
GRAINS = ("day", "week", "month", "quarter", "year")

DimensionType = Literal["string", "time", "number", "boolean"]
Aggregation = Literal["count", "sum", "avg", "min", "max", "count_distinct"]
DerivedOp = Literal["ratio", "percent", "sum", "difference"]
Format = Literal["money", "count", "percent", "number", "days"]
FilterOp = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "is_null", "not_null"]


Names = list[str]  # (inside Dataset, `list` is its field's name)


class DataModelError(ValueError):
    """A data model file that cannot be used, with every problem named."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Join(_Strict):
    """`<alias>: {table, column, references}`: LEFT JOIN table AS alias ON <column> = alias.<references>.
    `column` is a column of the dataset's table, or `other_alias.column` for a join through a join."""

    table: str
    column: str
    references: str = "id"
    kind: Literal["left", "inner"] = "left"


class FilterSpec(_Strict):
    """A condition on a dimension (measure filters in a model; the same shape as a query's filters)."""

    field: str
    op: FilterOp = "eq"
    value: Any = None


class Dimension(_Strict):
    column: str
    type: DimensionType = "string"
    label: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    values: list[str] | None = Field(None, description="the known values of a categorical dimension")
    lookup: bool = Field(False, description="resolve typed names to stored values (fuzzy)")
    format: Format | None = None


class Derived(_Strict):
    op: DerivedOp
    of: list[str] = Field(min_length=2, max_length=2)


class Measure(_Strict):
    agg: Aggregation | None = None
    column: str | None = None
    filters: list[FilterSpec] = Field(default_factory=list)
    derived: Derived | None = None
    label: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    format: Format = "number"

    @model_validator(mode="after")
    def _one_kind(self) -> Measure:
        if (self.agg is None) == (self.derived is None):
            raise ValueError(
                "a measure has either `agg` (with a column, except count) or `derived`, not both or neither"
            )
        if self.agg and self.agg != "count" and not self.column:
            raise ValueError(f"`{self.agg}` needs a `column`")
        return self


class Dataset(_Strict):
    table: str
    label: str = Field(description="one record, in words: 'invoice'")
    plural: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    workspace_column: str | None = None
    workspace: str | None = Field(None, description="single-tenant: every row belongs to this workspace")
    key: str
    time: str | None = None
    amount: str | None = None
    default_measure: str | None = None
    list: list[str]
    preview: Names = Field(
        default_factory=builtins.list,
        description="the dimensions of a one-line preview of a record (default: list[:5])",
    )
    order: Names = Field(default_factory=builtins.list)
    joins: dict[str, Join] = Field(default_factory=dict)
    dimensions: dict[str, Dimension]
    measures: dict[str, Measure] = Field(default_factory=dict)

    @property
    def words(self) -> str:
        return self.plural or self.label + "s"

    def column_parts(self, ref: str) -> tuple[str | None, str]:
        """'vendor.name' -> ('vendor', 'name'); 'status' -> (None, 'status')."""
        alias, _, col = ref.rpartition(".")
        return alias or None, col

    def field_kind(self, name: str) -> Literal["dimension", "measure"] | None:
        return "dimension" if name in self.dimensions else "measure" if name in self.measures else None

    def time_dimensions(self) -> Names:
        return [n for n, d in self.dimensions.items() if d.type == "time"]

    def tables(self) -> dict[str, str]:
        """alias -> physical table, the dataset's own table under its own name."""
        return {self.table: self.table, **{a: j.table for a, j in self.joins.items()}}

    def physical_columns(self) -> dict[str, set[str]]:
        """Every physical column the dataset uses, by table (what `finkraft model check` verifies)."""
        out: dict[str, set[str]] = {self.table: set()}
        tables = self.tables()

        def add(ref: str) -> None:
            alias, col = self.column_parts(ref)
            out.setdefault(tables[alias or self.table], set()).add(col)

        if self.workspace_column:
            add(self.workspace_column)
        for j in self.joins.values():
            add(j.column)
            out.setdefault(j.table, set()).add(j.references)
        for d in self.dimensions.values():
            add(d.column)
        for m in self.measures.values():
            if m.column:
                add(m.column)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Dataset:
        problems: list[str] = []
        if (self.workspace_column is None) == (self.workspace is None):
            problems.append(
                "give exactly one of `workspace_column` (rows carry their workspace) or `workspace` (single tenant)"
            )
        for kind, names in (("dimension", self.dimensions), ("measure", self.measures), ("join", self.joins)):
            problems += [f"{kind} name '{n}' must be lower_snake_case" for n in names if not NAME.match(n)]
        both = set(self.dimensions) & set(self.measures)
        if both:
            problems.append(f"{', '.join(sorted(both))}: a name is a dimension or a measure, not both")
        aliases = set(self.joins) | {self.table}

        def check_ref(where: str, ref: str) -> None:
            alias, _ = self.column_parts(ref)
            if alias and alias not in aliases:
                problems.append(
                    f"{where}: '{ref}' uses the unknown join '{alias}' (joins: {', '.join(sorted(self.joins)) or 'none'})"
                )

        for a, j in self.joins.items():
            check_ref(f"join {a}", j.column)
        for n, d in self.dimensions.items():
            check_ref(f"dimension {n}", d.column)
        for attr in ("key", "time", "amount"):
            v = getattr(self, attr)
            if v is not None and v not in self.dimensions:
                problems.append(f"`{attr}: {v}` is not a dimension")
        if self.time and self.dimensions.get(self.time) and self.dimensions[self.time].type != "time":
            problems.append(f"`time: {self.time}` must be a dimension of type time")
        problems += [
            f"`{attr}` names '{n}', which is not a dimension"
            for attr in ("list", "preview")
            for n in getattr(self, attr)
            if n not in self.dimensions
        ]
        for o in self.order:
            name = o.split()[0]
            if name not in self.dimensions:
                problems.append(f"`order` names '{name}', which is not a dimension")
        if self.default_measure and self.default_measure not in self.measures:
            problems.append(f"`default_measure: {self.default_measure}` is not a measure")
        for n, m in self.measures.items():
            if m.column:
                check_ref(f"measure {n}", m.column)
            for f in m.filters:
                if f.field not in self.dimensions:
                    problems.append(f"measure {n}: filter on '{f.field}', which is not a dimension")
            if m.derived:
                problems += [
                    f"measure {n}: derived from '{o}', which is not a measure"
                    for o in m.derived.of
                    if o not in self.measures
                ]
        problems += self._cycles()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _cycles(self) -> Names:
        def visit(name: str, path: tuple[str, ...]) -> str | None:
            m = self.measures.get(name)
            if m is None or m.derived is None:
                return None
            if name in path:
                return " -> ".join(path + (name,))
            for o in m.derived.of:
                if found := visit(o, path + (name,)):
                    return found
            return None

        return [f"derived measures loop: {c}" for n in self.measures if (c := visit(n, ()))][:1]


class DataModel(_Strict):
    name: str
    description: str = ""
    managed: bool = Field(
        False,
        description="FinkraftAI owns the schema: its migrations and the demo seed apply "
        "(the demo model); otherwise the database is the customer's and is only read",
    )
    datasets: dict[str, Dataset]

    @field_validator("datasets")
    @classmethod
    def _names(cls, v: dict[str, Dataset]) -> dict[str, Dataset]:
        bad = [n for n in v if not NAME.match(n)]
        if bad:
            raise ValueError(f"dataset names must be lower_snake_case: {', '.join(bad)}")
        if not v:
            raise ValueError("a data model needs at least one dataset")
        return v

    def dataset(self, name: str) -> Dataset:
        """The dataset, or a DataModelError naming the ones there are."""
        try:
            return self.datasets[name]
        except KeyError:
            raise DataModelError(f"There is no dataset '{name}' here. Datasets: {', '.join(self.datasets)}.") from None

    def vocabulary(self) -> dict[str, dict[str, list[str]]]:
        """Synonyms by dataset: {dataset: {"dataset": [...], "<dimension or measure>": [...]}} (for parsers)."""
        out: dict[str, dict[str, list[str]]] = {}
        for n, ds in self.datasets.items():
            words = {"dataset": [n, ds.label, ds.words, *ds.synonyms]}
            for name, d in ds.dimensions.items():
                words[name] = [name.replace("_", " "), *([d.label] if d.label else []), *d.synonyms]
            for name, m in ds.measures.items():
                words[name] = [name.replace("_", " "), *([m.label] if m.label else []), *m.synonyms]
            out[n] = {k: list(dict.fromkeys(w.lower() for w in v)) for k, v in words.items()}
        return out


def _describe(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        where = ".".join(str(x) for x in err["loc"])
        lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}" if where else err["msg"])
    return "\n".join(lines)


def resolve_path(name_or_path: str | Path) -> Path:
    """A bundled model name ('demo', 'reference') or a path to a YAML file."""
    p = Path(name_or_path).expanduser()
    if p.suffix in (".yaml", ".yml"):
        return p
    bundled = BUNDLED / f"{name_or_path}.yaml"
    if bundled.exists():
        return bundled
    names = ", ".join(sorted(f.stem for f in BUNDLED.glob("*.yaml")))
    raise DataModelError(f"No data model '{name_or_path}': give a .yaml path or one of {names}.")


def parse_model(text: str, source: str = "<string>") -> DataModel:
    """Validate a model from YAML text; DataModelError lists every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise DataModelError(f"{source} is not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise DataModelError(f"{source} must be a mapping with `name` and `datasets`.")
    try:
        return DataModel.model_validate(raw)
    except ValidationError as e:
        raise DataModelError(f"{source} is not a valid data model:\n{_describe(e)}") from None


def load_model(name_or_path: str | Path = "demo") -> DataModel:
    """Load and validate a data model file (see the module docstring for what it declares)."""
    path = resolve_path(name_or_path)
    if not path.exists():
        raise DataModelError(f"Data model file {path} does not exist.")
    return parse_model(path.read_text(encoding="utf-8"), str(path))


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> DataModel:
    return load_model(path)


def get_data_model(name_or_path: str | Path | None = None) -> DataModel:
    """The model in use: `name_or_path`, else the `FINKRAFT_DATA_MODEL` setting (default `demo`). Cached."""
    if name_or_path is None:
        from .settings import get_settings

        name_or_path = get_settings().data_model
    path = resolve_path(name_or_path).resolve()
    return _cached(str(path), path.stat().st_mtime if path.exists() else 0.0)
