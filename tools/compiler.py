"""The one query compiler: a SemanticQuery (tools/semantic.py) -> one parameterised SQLAlchemy Core
SELECT over the tables the data model (business_data/datamodel.py) names. SQLite and PostgreSQL.

The caller's workspace is applied here and only here: `compile_query` takes the caller's
Identity, not a workspace, and derives the scope itself (`workspace_scope`). A query may name
another workspace (or "all") only when the caller is an Admin; every statement it builds carries
the condition. Values always travel as bound parameters; the only SQL text rendered inline is
the fixed date formats of the time buckets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from collections.abc import Callable

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from business_data.datamodel import DataModel, Dataset

from .base import ToolDenied, ToolError
from .measures import coerce, condition, decomposable, leaves, measure_expr, measure_refs, rollup, shared_filters
from .money import parse_amount
from .periods import PeriodError, date_range, describe, resolve_period
from .rbac import Identity
from .semantic import ALL_WORKSPACES, QueryProblem, SemanticQuery, check_against

PERIOD_COLUMN = "period"  # the time bucket's column name in trends
WORKSPACE_DIMENSION = "workspace"  # implicit dimension (Admins' cross-workspace breakdowns)
DEFAULT_GROUP_LIMIT = 1000  # a breakdown returns at most this many groups unless asked
_SQL_TYPES = {"time": sa.Date, "number": sa.Float, "boolean": sa.Boolean, "string": sa.String}


# -- time buckets: one construct, compiled per dialect -------------------------------------------
class time_bucket(FunctionElement):
    """The label of the day/week/month/quarter/year a date falls in: '2026-11-03', '2026-11-02'
    (the Monday of its week), '2026-11', '2026-Q4', '2026'. Sorts in time order as text."""

    type = sa.String()
    inherit_cache = True
    name = "time_bucket"

    def __init__(self, expr, grain: str):
        self.grain = grain
        super().__init__(expr)


_SQLITE_BUCKETS = {
    "day": "strftime('%Y-%m-%d', {c})",
    "week": "date({c}, 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m', {c})",
    "quarter": "(strftime('%Y', {c}) || '-Q' || ((CAST(strftime('%m', {c}) AS INTEGER) + 2) / 3))",
    "year": "strftime('%Y', {c})",
}
_PG_BUCKETS = {
    "day": "to_char({c}, 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', {c}), 'YYYY-MM-DD')",
    "month": "to_char({c}, 'YYYY-MM')",
    "quarter": "to_char({c}, 'YYYY-\"Q\"Q')",
    "year": "to_char({c}, 'YYYY')",
}


@compiles(time_bucket, "sqlite")
def _bucket_sqlite(element, compiler, **kw):
    return _SQLITE_BUCKETS[element.grain].format(c=compiler.process(list(element.clauses)[0], **kw))


@compiles(time_bucket, "postgresql")
def _bucket_pg(element, compiler, **kw):
    return _PG_BUCKETS[element.grain].format(c=compiler.process(list(element.clauses)[0], **kw))


@compiles(time_bucket)
def _bucket_other(element, compiler, **kw):  # pragma: no cover - other databases
    raise NotImplementedError(f"time buckets are written for SQLite and PostgreSQL, not {compiler.dialect.name}")


# -- scope ----------------------------------------------------------------------------------------
def workspace_scope(identity: Identity, requested: str | None) -> str | None:
    """The workspace a query runs in: the caller's own; another (or None = all) only for an Admin who asked."""
    if not requested or requested == identity.workspace_id:
        return identity.workspace_id
    if not identity.is_admin:
        raise ToolDenied(f"You can only see data in your own workspace ({identity.workspace_id}).")
    return None if requested.lower() == ALL_WORKSPACES else requested


# -- the physical side of one dataset -------------------------------------------------------------
class Tables:
    """Lightweight SQLAlchemy tables (no reflection) for a dataset's table and its joins, typed from the model."""

    def __init__(self, ds: Dataset):
        self.ds = ds
        types: dict[str, dict[str, Any]] = {}
        aliases = ds.tables()

        def need(ref: str, type_=sa.types.NullType):
            alias, col = ds.column_parts(ref)
            slot = types.setdefault(alias or ds.table, {})
            if slot.get(col) in (None, sa.types.NullType):
                slot[col] = type_

        for d in ds.dimensions.values():
            need(d.column, _SQL_TYPES[d.type])
        for m in ds.measures.values():
            if m.column:
                need(m.column)
        for a, j in ds.joins.items():
            need(j.column)
            need(f"{a}.{j.references}")
        if ds.workspace_column:
            need(ds.workspace_column, sa.String)
        self.by_alias: dict[str, Any] = {}
        for alias, physical in aliases.items():
            cols = [sa.column(c, t) for c, t in types.get(alias, {}).items()]
            t = sa.table(physical, *cols)
            self.by_alias[alias] = t if alias == ds.table else t.alias(alias)
        self.base = self.by_alias[ds.table]

    def col(self, ref: str) -> ColumnElement:
        alias, col = self.ds.column_parts(ref)
        return self.by_alias[alias or self.ds.table].c[col]

    def aliases_of(self, ref: str) -> set[str]:
        """The joins a column needs, including joins that a join goes through."""
        alias, _ = self.ds.column_parts(ref)
        out: set[str] = set()
        while alias and alias not in out:
            out.add(alias)
            alias, _ = self.ds.column_parts(self.ds.joins[alias].column)
        return out

    def semi_join(self, ref: str, op: str, value: Any) -> ColumnElement | None:
        """A positive condition on a column of a directly joined table, as `fk IN (SELECT key FROM table
        WHERE ...)`: the same rows as filtering through the join, but planners use the fact table's
        indexes on the foreign key (and no join is needed unless the column is also shown)."""
        alias, col = self.ds.column_parts(ref)
        if alias is None or op not in ("eq", "in"):
            return None
        j = self.ds.joins[alias]
        if self.ds.column_parts(j.column)[0] is not None:
            return None  # a join through a join: filter through the joins
        target = self.by_alias[alias]
        inner = sa.table(j.table, sa.column(j.references), sa.column(col, target.c[col].type))
        sub = sa.select(inner.c[j.references]).where(condition(inner.c[col], op, value))
        return self.col(j.column).in_(sub)

    def from_clause(self, needed: set[str]):
        """The base table with the joins that are needed (inner joins always: they can drop rows)."""
        needed = set(needed) | {a for a, j in self.ds.joins.items() if j.kind == "inner"}
        for a in list(needed):
            needed |= self.aliases_of(f"{a}.x")
        src = self.base
        for a, j in self.ds.joins.items():  # declaration order: a join through a join comes after it
            if a in needed:
                target = self.by_alias[a]
                src = src.join(target, self.col(j.column) == target.c[j.references], isouter=j.kind == "left")
        return src


# -- periods --------------------------------------------------------------------------------------
def query_period(q: SemanticQuery, today: date) -> tuple[date | None, date | None]:
    try:
        return date_range(q.period, q.date_from, q.date_to, today)
    except PeriodError as e:
        raise ToolError(str(e)) from None


def compare_period(q: SemanticQuery, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The other period of a comparison: previous_period (same length, months kept whole),
    previous_year, or any named period."""
    start = start or date(1900, 1, 1)
    end = end or today + timedelta(days=1)
    c = (q.compare_to or "").strip().lower().replace(" ", "_")
    if c in ("previous_period", "previous", "prior_period", "period_before"):
        months = (end.year - start.year) * 12 + end.month - start.month
        if start.day == 1 and end.day == 1 and months > 0:
            return start - relativedelta(months=months), start
        return start - (end - start), start
    if c in ("previous_year", "same_period_last_year", "last_year_same_period", "year_before"):
        return start - relativedelta(years=1), end - relativedelta(years=1)
    try:
        return resolve_period(q.compare_to or "", today)
    except PeriodError as e:
        raise ToolError(f"I can't compare with '{q.compare_to}': {e}") from None


# -- compile --------------------------------------------------------------------------------------
@dataclass
class Compiled:
    """A statement ready to run, and what it means."""

    statement: sa.Select
    columns: list[str]
    dataset: Dataset
    workspace: str | None
    start: date | None
    end: date | None
    where: list[ColumnElement] = field(default_factory=list)
    where_joins: set[str] = field(default_factory=set)  # the joins the WHERE clause needs (counts)
    tables: Tables | None = None
    # statements derived from this one (count, keys, rows by key), built on first use: a Compiled is
    # cached per caller and day, and a kept statement skips SQLAlchemy's per-build cache-key work
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def derive(self, name: Any, build: Callable[[], Any]) -> Any:
        stmt = self.derived.get(name)
        if stmt is None:
            stmt = self.derived[name] = build()
        return stmt

    @property
    def period(self) -> str:
        return describe(self.start, self.end)


def workspace_condition(ds: Dataset, t: Tables, ws: str | None) -> ColumnElement | None:
    if ws is None:
        return None  # an Admin's explicit "all workspaces"
    if ds.workspace_column:
        return t.col(ds.workspace_column) == ws
    return sa.true() if ds.workspace == ws else sa.false()


def dimension_expr(ds: Dataset, t: Tables, name: str) -> ColumnElement:
    if name == WORKSPACE_DIMENSION and name not in ds.dimensions:
        return t.col(ds.workspace_column) if ds.workspace_column else sa.literal(ds.workspace)
    return t.col(ds.dimensions[name].column)


COMPILED_KEPT = 512  # compiled queries kept per process (building one costs ~1-2 ms of SQLAlchemy)
_compiled: dict[tuple, tuple[DataModel, Compiled]] = {}
_compiled_lock = threading.Lock()


def compile_query(
    model: DataModel,
    q: SemanticQuery,
    identity: Identity,
    today: date,
    *,
    period: tuple[date | None, date | None] | None = None,
    limit: int | None = None,
) -> Compiled:
    """The SELECT for `q` in the caller's workspace. `period` overrides the query's (comparisons).
    The same query for the same caller on the same day is built once (a Compiled is never changed
    after it is built: callers derive new statements from it); a refused query is never kept."""
    key = (id(model), q.model_dump_json(), identity, today, period, limit)
    hit = _compiled.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    c = _compile_query(model, q, identity, today, period=period, limit=limit)
    with _compiled_lock:
        if len(_compiled) >= COMPILED_KEPT:
            _compiled.clear()
        _compiled[key] = (model, c)
    return c


def _compile_query(
    model: DataModel,
    q: SemanticQuery,
    identity: Identity,
    today: date,
    *,
    period: tuple[date | None, date | None] | None,
    limit: int | None,
) -> Compiled:
    try:
        check_against(q, model, extra_dimensions=(WORKSPACE_DIMENSION,))
    except QueryProblem as e:
        raise ToolError(str(e)) from None
    ws = workspace_scope(identity, q.workspace)
    ds = model.datasets[q.dataset]
    t = Tables(ds)
    start, end = period if period is not None else query_period(q, today)
    needed: set[str] = set()
    where: list[ColumnElement] = []
    scope = workspace_condition(ds, t, ws)
    if scope is not None:
        where.append(scope)
    time_name = q.time_dimension or ds.time or ""
    if time_name and (start or end):
        tcol = t.col(ds.dimensions[time_name].column)
        needed |= t.aliases_of(ds.dimensions[time_name].column)
        if start:
            where.append(tcol >= start)
        if end:
            where.append(tcol < end)
    pushed = tuple(shared_filters(ds, q.measures)) if q.kind != "records" else ()
    for f in pushed:
        dim = ds.dimensions[f.field]
        value = coerce(ds, f.field, dim, f.value)
        semi = t.semi_join(dim.column, f.op, value)
        where.append(semi if semi is not None else condition(t.col(dim.column), f.op, value))
        needed |= set() if semi is not None else t.aliases_of(dim.column)
    having: list[ColumnElement] = []
    for f in q.filters:
        if ds.field_kind(f.field) == "measure":
            having.append(condition(measure_expr(ds, t, f.field), f.op, _number(f.field, f.value)))
            needed |= set().union(*(t.aliases_of(r) for r in measure_refs(ds, f.field)))
            continue
        dim = ds.dimensions[f.field]
        value = coerce(ds, f.field, dim, f.value)
        semi = t.semi_join(dim.column, f.op, value)
        if semi is not None:  # fk IN (SELECT id FROM vendors WHERE name = ...): the fact table's indexes apply
            where.append(semi)
            continue
        where.append(condition(t.col(dim.column), f.op, value))
        needed |= t.aliases_of(dim.column)
    where_joins = set(needed)

    cols: list[ColumnElement] = []
    group: list[ColumnElement] = []
    if q.kind == "records":
        names = ([WORKSPACE_DIMENSION] if ws is None else []) + list(ds.list)
        for n in names:
            cols.append(dimension_expr(ds, t, n).label(n))
            if n in ds.dimensions:
                needed |= t.aliases_of(ds.dimensions[n].column)
    elif q.kind == "trend" and not having and decomposable(ds, q.measures):
        # per day first (in the time index's order, no sort), then the days rolled up into buckets
        day = t.col(ds.dimensions[time_name].column)
        needed |= t.aliases_of(ds.dimensions[time_name].column)
        inner = [day.label("_day")] + [dimension_expr(ds, t, n).label(n) for n in q.group_by]
        for n in q.group_by:
            if n in ds.dimensions:
                needed |= t.aliases_of(ds.dimensions[n].column)
        for n in leaves(ds, q.measures):
            inner.append(measure_expr(ds, t, n, pushed).label(n))
            needed |= set().union(*(t.aliases_of(r) for r in measure_refs(ds, n)))
        daily = (
            sa.select(*inner)
            .select_from(t.from_clause(needed))
            .where(*where)
            .group_by(day, *[dimension_expr(ds, t, n) for n in q.group_by])
            .subquery("daily")
        )
        bucket = time_bucket(daily.c["_day"], str(q.time_grain))  # (a trend has a grain)
        cols = [bucket.label(PERIOD_COLUMN)] + [daily.c[n].label(n) for n in q.group_by]
        cols += [rollup(ds, n, daily).label(n) for n in q.measures]
        group = [bucket] + [daily.c[n] for n in q.group_by]
        stmt = sa.select(*cols).group_by(*group)
        return _finish(
            q, ds, stmt, cols, limit, Compiled(stmt, [c.name for c in cols], ds, ws, start, end, where, where_joins, t)
        )
    else:
        if q.time_grain:
            bucket = time_bucket(t.col(ds.dimensions[time_name].column), q.time_grain)
            cols.append(bucket.label(PERIOD_COLUMN))
            group.append(bucket)
        for n in q.group_by:
            expr = dimension_expr(ds, t, n)
            cols.append(expr.label(n))
            group.append(expr)
            if n in ds.dimensions:
                needed |= t.aliases_of(ds.dimensions[n].column)
        for n in q.measures:
            cols.append(measure_expr(ds, t, n, pushed).label(n))
            needed |= set().union(*(t.aliases_of(r) for r in measure_refs(ds, n)))
    stmt = sa.select(*cols).select_from(t.from_clause(needed)).where(*where)
    if group:
        stmt = stmt.group_by(*group)
    if having:
        stmt = stmt.having(*having)
    return _finish(
        q, ds, stmt, cols, limit, Compiled(stmt, [c.name for c in cols], ds, ws, start, end, where, where_joins, t)
    )


def _finish(q: SemanticQuery, ds: Dataset, stmt: sa.Select, cols: list, limit: int | None, c: Compiled) -> Compiled:
    """Order and limit, and the statement into its Compiled."""
    by_name = {col.name: col for col in cols}
    named = [o for o in q.order_by if o.field in by_name]
    order = [by_name[o.field].desc() if o.direction == "desc" else by_name[o.field].asc() for o in named]
    if not q.order_by and q.kind == "breakdown":  # the largest first
        order = [by_name[q.measures[0]].desc()]
    used = {o.field for o in named}
    order += _tie_break(q, ds, {k: v for k, v in by_name.items() if k not in used})
    if order:
        stmt = stmt.order_by(*order)
    n = limit or q.limit or (DEFAULT_GROUP_LIMIT if q.group_by else None)
    if n and q.kind != "total":
        stmt = stmt.limit(n)
    c.statement = stmt
    return c


def _number(name: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_number(name, v) for v in value]
    v = parse_amount(value)
    if v is None:
        raise ToolError(f"{name.replace('_', ' ').capitalize()} is compared with a number, not '{value}'.")
    return v


def _tie_break(q: SemanticQuery, ds: Dataset, by_name: dict[str, ColumnElement]) -> list:
    """The order within equal values, the same on every run and database (and the whole order when
    none is asked for): a listing's own `order`; else the period, then the groups, ascending."""
    if q.kind == "records":
        out = []
        for spec in ds.order:
            name, *direction = spec.split()
            if name in by_name:
                out.append(
                    by_name[name].desc() if direction and direction[0].lower() == "desc" else by_name[name].asc()
                )
        return out
    return [by_name[g].asc() for g in (PERIOD_COLUMN, *q.group_by) if g in by_name]


_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A database value as JSON: dates as ISO text, decimals as floats."""
    if type(value) in _AS_IS:  # most values: nothing to do (checked first, it runs for every cell)
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


def plain_rows(result: Any) -> list[dict[str, Any]]:
    """Every row of a query result as a dict of plain values (column name -> value). All rows are
    fetched at once, and only the columns whose values need it (dates, decimals: a column's values
    share one type) go through `plain`."""
    names = list(result.keys())
    raw = result.all()
    out = [dict(zip(names, row)) for row in raw]
    for i, name in enumerate(names):
        first = next((row[i] for row in raw if row[i] is not None), None)
        if type(first) not in _AS_IS:
            for d in out:
                d[name] = plain(d[name])
    return out
