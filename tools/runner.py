"""Running semantic queries: typed names resolved to stored values, the compiled statements
executed, rows returned as JSON-ready dicts. Every statement comes from tools/compiler.py.

  run_records(...)   a record listing: the rows (up to a limit), how many match, their amount,
                     the total in the workspace and the keys of the matches (bounded)
  first_keys(...)    the keys of the first matches in the listing's order (a fixed record set)
  run_measures(...)  totals, breakdowns, rankings and trends; with compare_to also the other
                     period; with shares=True the grand totals the shares are taken of
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from business_data.datamodel import DataModel, Dataset

from .base import ToolError
from .money import parse_amount
from .compiler import (
    PERIOD_COLUMN,
    Compiled,
    Tables,
    compile_query,
    compare_period,
    plain,
    plain_rows,
    workspace_condition,
    workspace_scope,
)
from .rbac import Identity
from .semantic import Filter, SemanticQuery
from .names import best_match
from .periods import bucket_range, same_days

LOOKUP_TTL_S = 5.0
_lookup_cache: dict[tuple, tuple[list[str], float]] = {}
ADDITIVE = ("count", "sum", "count_distinct")


Reader = Connection | Session | Engine  # where a read may run: a connection is taken only when needed


def lookup_values(conn: Reader, model: DataModel, ds: Dataset, name: str, ws: str | None) -> list[str]:
    """The distinct stored values of a lookup dimension in a workspace (kept a few seconds).

    A dimension on a joined table that is itself a dataset (vendor -> vendors) is read from that
    table under its own workspace rule, so no scan of the (large) fact table is needed. Given a
    session or an engine, a connection is taken only when the values are not kept (the parser asks
    every turn)."""
    dim = ds.dimensions[name]
    alias, col = ds.column_parts(dim.column)
    table = ds.tables()[alias or ds.table]
    owner = ds if alias is None else next((d for d in model.datasets.values() if d.table == table), None)
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    key = (str(bind.engine.url), table, col, ws, owner is None and ds.table)
    hit = _lookup_cache.get(key)
    now = time.monotonic()
    if hit and hit[1] > now:
        return hit[0]
    if owner is not None:
        c = sa.table(table, sa.column(col), *([sa.column(owner.workspace_column)] if owner.workspace_column else []))
        stmt = sa.select(c.c[col]).where(c.c[col].is_not(None)).distinct().order_by(c.c[col])
        if ws is not None:
            stmt = stmt.where(
                c.c[owner.workspace_column] == ws
                if owner.workspace_column
                else (sa.true() if owner.workspace == ws else sa.false())
            )
    else:
        t = Tables(ds)
        value = t.col(dim.column)
        stmt = (
            sa.select(value)
            .select_from(t.from_clause(t.aliases_of(dim.column)))
            .where(value.is_not(None))
            .distinct()
            .order_by(value)
        )
        scope = workspace_condition(ds, t, ws)
        if scope is not None:
            stmt = stmt.where(scope)
    given = conn.connection() if isinstance(conn, Session) else conn
    opened: AbstractContextManager[Connection] = given.connect() if isinstance(given, Engine) else nullcontext(given)
    with opened as db:
        names = [str(v) for v in db.execute(stmt).scalars()]
    _lookup_cache[key] = (names, now + LOOKUP_TTL_S)
    return names


def resolve_lookups(conn: Connection, model: DataModel, q: SemanticQuery, identity: Identity) -> SemanticQuery:
    """Filters on lookup dimensions ("indisky") with the stored names ("IndiSky Airlines");
    ToolError with suggestions when a name matches nothing or several things."""
    ds = model.datasets.get(q.dataset)
    if ds is None:
        return q
    q = _amounts(ds, q)
    if not any(ds.dimensions.get(f.field) and ds.dimensions[f.field].lookup for f in q.filters):
        return q
    ws = workspace_scope(identity, q.workspace)
    filters = []
    for f in q.filters:
        dim = ds.dimensions.get(f.field)
        if dim is None or not dim.lookup or f.op not in ("eq", "ne", "in", "not_in"):
            filters.append(f)
            continue
        names = lookup_values(conn, model, ds, f.field, ws)
        values = f.value if isinstance(f.value, list) else [f.value]
        resolved = [_match(f.field, str(v), names) for v in values]
        filters.append(Filter(field=f.field, op=f.op, value=resolved if isinstance(f.value, list) else resolved[0]))
    return q.but(filters=filters)


def _amounts(ds: Dataset, q: SemanticQuery) -> SemanticQuery:
    """Number filters typed as text ("4.9 lakh", "50k") as numbers, so answers can show them as money."""

    def num(v):
        parsed = parse_amount(v) if isinstance(v, str) else None
        return parsed if parsed is not None else v

    changed = False
    filters = []
    for f in q.filters:
        if ds.field_kind(f.field) == "measure" or (
            f.field in ds.dimensions and ds.dimensions[f.field].type == "number"
        ):
            value = [num(v) for v in f.value] if isinstance(f.value, list) else num(f.value)
            changed |= value != f.value
            f = Filter(field=f.field, op=f.op, value=value)
        filters.append(f)
    return q.but(filters=filters) if changed else q


def _match(field_name: str, text: str, names: list[str]) -> str:
    if text in names:
        return text
    name, suggestions = best_match(text, names)
    if name is None:
        what = field_name.replace("_", " ")
        hint = (
            f" Did you mean {' or '.join(suggestions[:3])}?"
            if suggestions
            else f" {what.capitalize()}s here: {', '.join(names[:10])}."
            if names
            else f" There are no {what}s here."
        )
        raise ToolError(f"I couldn't find a {what} called '{text}'.{hint}", suggestions=suggestions)
    return name


def _rows(conn: Connection, compiled: Compiled) -> list[dict[str, Any]]:
    return plain_rows(conn.execute(compiled.statement))


@dataclass
class Answer:
    """What a query returned."""

    query: SemanticQuery  # as run (names resolved)
    compiled: Compiled
    rows: list[dict[str, Any]]
    matched: int | None = None  # records: how many match
    total: int | None = None  # records: how many the dataset holds in the workspace
    amount: float | None = None  # records: the sum of the dataset's amount over the matches
    keys: list[Any] = field(default_factory=list)
    keys_complete: bool = True  # keys hold every match (else: the query defines the set)
    previous: Answer | None = None  # compare_to: the other period
    # compare_to: both periods cut to the same days because one is not over yet: which ("current" or "previous")
    same_days: str | None = None
    partial: dict[str, tuple[date, date]] = field(default_factory=dict)  # trends: buckets only partly counted
    as_of: date | None = None  # the business day it was read on
    grand: dict[str, Any] | None = None  # shares: the measures over all groups

    @property
    def columns(self) -> list[str]:
        return self.compiled.columns

    @property
    def dataset(self) -> Dataset:
        return self.compiled.dataset


def run_records(
    conn: Connection, model: DataModel, q: SemanticQuery, identity: Identity, today: date, *, limit: int, key_cap: int
) -> Answer:
    """Up to `limit` records, the count and amount of all matches, and up to `key_cap` of their keys.

    The keys (and amounts) of at most key_cap + 1 matches come first, with no ORDER BY, so the
    planner takes the most selective index and stops early. A small result (at most key_cap matches)
    is counted and summed from them and its rows fetched by key; a large one is counted by the
    database and listed in the listing's order, where an index on the time dimension lets the
    database stop after `limit` rows. A large result keeps the listed rows' keys, then other matches'
    in no set order (it is referred to by its query; `first_keys` gives the first ones in order):
    reading the first key_cap in order cost another scan of the table when the filter has no index
    and matches just over key_cap records."""
    q, c, t, key_col = _listing(conn, model, q, identity, today, limit)
    ds = c.dataset
    amount_col = t.col(ds.dimensions[ds.amount].column) if ds.amount else None

    def first_matches():
        cols = [key_col] + ([amount_col] if amount_col is not None else [])
        return sa.select(*cols).select_from(t.from_clause(c.where_joins)).where(*c.where).limit(key_cap + 1)

    def count():
        aggs = [sa.func.count()] + ([sa.func.coalesce(sa.func.sum(amount_col), 0)] if amount_col is not None else [])
        return sa.select(*aggs).select_from(t.from_clause(c.where_joins)).where(*c.where)

    found = conn.execute(c.derive(("first_matches", key_cap), first_matches)).all()
    if len(found) <= key_cap:  # the whole set: its count and amount, then its rows by key
        matched = len(found)
        amount = _sum(r[1] for r in found) if amount_col is not None else None
        keys = [plain(r[0]) for r in found]
        rows = plain_rows(conn.execute(_by_key(c, key_col, keys), {"keys": keys})) if keys else []
        order = {k: i for i, k in enumerate(r[ds.key] for r in rows)} if ds.key in c.columns else None
        keys = sorted(keys, key=lambda k: order.get(k, len(order))) if order is not None else keys
    else:  # counted by the database; the keys kept are the listed rows', then other matches the probe found
        got = conn.execute(c.derive("count", count)).one()
        matched, amount = got[0], (round(float(got[1]), 2) if amount_col is not None else None)
        rows = _rows(conn, c)
        listed = [r[ds.key] for r in rows] if ds.key in c.columns else []
        keys = list(dict.fromkeys([*listed, *(plain(r[0]) for r in found)]))[:key_cap]
    return Answer(
        q,
        c,
        rows,
        matched=matched,
        total=workspace_total(conn, c),
        amount=amount,
        keys=keys,
        keys_complete=matched <= len(keys),
    )


def _listing(
    conn: Connection, model: DataModel, q: SemanticQuery, identity: Identity, today: date, limit: int
) -> tuple[SemanticQuery, Compiled, Tables, Any]:
    """A record listing's query with its names resolved, compiled, its tables and its key column."""
    q = resolve_lookups(conn, model, q.but(measures=[], group_by=[], time_grain=None), identity)
    c = compile_query(model, q, identity, today, limit=limit)
    t = c.tables or Tables(c.dataset)  # (compile_query always sets them)
    return q, c, t, t.col(c.dataset.dimensions[c.dataset.key].column)


def first_keys(
    conn: Connection, model: DataModel, q: SemanticQuery, identity: Identity, today: date, *, cap: int
) -> list[Any]:
    """The keys of the first `cap` matches in the listing's order: a record set fixed by its query
    (a ticket about "these" when the result kept only some of their keys)."""
    _, c, _, key_col = _listing(conn, model, q, identity, today, cap)
    kq = c.derive(("first_keys", cap), lambda: c.statement.with_only_columns(key_col).limit(cap))
    return [plain(k) for k in conn.execute(kq).scalars().all()]


def _sum(values: Iterable[Any]) -> float:
    """SUM(amount) of the fetched matches, as the database gives it (NULLs skipped, 0 for none),
    rounded to paise: exact decimals summed as decimals, floats without rounding drift."""
    vals = [v for v in values if v is not None]
    if vals and isinstance(vals[0], Decimal):  # (a column's values share one type)
        return round(float(sum(vals, Decimal(0))), 2)
    return round(math.fsum(vals), 2)


def _by_key(c: Compiled, key_col: Any, keys: list[Any]) -> sa.Select:
    """The listing's rows whose key is in the bound list `keys`. The model's columns carry no SQL
    types, so the list's type comes from its values (as `in_(keys)` infers it): PostgreSQL refuses
    `integer = character varying`."""
    return c.derive(
        ("rows_by_key", type(keys[0])),
        lambda: c.statement.where(key_col.in_(sa.bindparam("keys", expanding=True, type_=sa.literal(keys[0]).type))),
    )


TOTAL_TTL_S = 30.0
_totals: dict[tuple, tuple[int, float]] = {}


def workspace_total(conn: Connection, c: Compiled) -> int:
    """How many records the dataset holds in the workspace (kept TOTAL_TTL_S: at a million rows a count
    costs tens of milliseconds, and the figure is context, not the answer)."""
    key = (str(conn.engine.url), c.dataset.table, c.workspace)
    now = time.monotonic()
    hit = _totals.get(key)
    if hit and hit[1] > now:
        return hit[0]
    tables = c.tables or Tables(c.dataset)  # (compile_query always sets them)
    scope = workspace_condition(c.dataset, tables, c.workspace)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(tables.from_clause(set())).where(*([scope] if scope is not None else []))
    ).scalar_one()
    _totals[key] = (total, now + TOTAL_TTL_S)
    return total


def run_measures(
    conn: Connection, model: DataModel, q: SemanticQuery, identity: Identity, today: date, *, shares: bool = False
) -> Answer:
    """Totals, breakdowns, rankings or trends (q.measures must not be empty)."""
    if not q.measures:
        raise ToolError("Which figure do you want (a total, a count, an average...)?")
    q = resolve_lookups(conn, model, q, identity)
    c = compile_query(model, q, identity, today)
    other = compare_period(q, c.start, c.end, today) if q.compare_to else None
    fair = same_days((c.start, c.end), other, today) if other and c.start and c.end else None
    running = None
    if fair:  # this month so far against the same days of last month, not against all of it
        running = "current" if c.start and c.end and c.start <= today < c.end else "previous"
        c = compile_query(model, q, identity, today, period=fair[0])
        other = fair[1]
    ans = Answer(q, c, _round(_rows(conn, c)), same_days=running, as_of=today)
    if other:
        pc = compile_query(model, q, identity, today, period=other)
        ans.previous = Answer(q, pc, _round(_rows(conn, pc)))
    if q.time_grain:
        ans.partial = partial_buckets(ans.rows, str(q.time_grain), c.start, c.end, today)
    ds = c.dataset
    if shares and q.group_by and not q.time_grain and any(_additive(ds, m) for m in q.measures):  # a breakdown's shares
        whole = q.but(
            group_by=[],
            time_grain=None,
            order_by=[],
            limit=None,
            compare_to=None,
            filters=[f for f in q.filters if ds.field_kind(f.field) == "dimension"],
        )
        gc = compile_query(model, whole, identity, today, period=(c.start, c.end) if fair else None)
        ans.grand = _round(_rows(conn, gc))[0]
    return ans


def partial_buckets(
    rows: list[dict[str, Any]], grain: str, start: date | None, end: date | None, today: date
) -> dict[str, tuple[date, date]]:
    """A trend's buckets that hold only some of their days (the month so far, or cut by the period's
    edge): label -> the half-open days counted, so the answer never reads a partial month as a drop."""
    last = min(end, today + timedelta(days=1)) if end else today + timedelta(days=1)
    out = {}
    for label in dict.fromkeys(str(r[PERIOD_COLUMN]) for r in rows if r.get(PERIOD_COLUMN) is not None):
        days = bucket_range(label, grain)
        if days is None:
            continue
        counted = (max(days[0], start) if start else days[0], min(days[1], last))
        if counted != days and counted[0] < counted[1]:
            out[label] = counted
    return out


def _additive(ds: Dataset, name: str) -> bool:
    m = ds.measures[name]
    return m.agg in ADDITIVE or bool(m.derived and m.derived.op == "sum")


def _round(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
