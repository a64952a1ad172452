"""analyze_data: totals, counts, averages, breakdowns, rankings, shares, period comparisons and trends.

Takes a SemanticQuery (tools/semantic.py), runs it through the one compiler, and answers with the
figures in plain words, a table (`columns` + `rows`) and, for breakdowns and trends, a Vega-Lite
chart spec (`data["chart"]`) for clients to draw.
"""

from __future__ import annotations

from typing import Any

from business_data.datamodel import Dataset
from business_data.db import session_scope

from . import analytics_answer, charts
from .base import Source, ToolContext, ToolError, ToolResult, ToolSpec
from .period_words import dates, partial_dates, partial_days
from .queries import describe_filters
from .runner import Answer, run_measures
from .compiler import WORKSPACE_DIMENSION
from .semantic import QueryProblem, SemanticQuery, check_against
from . import tables
from .results import AnalysisData
from . import analytics_words
from .analytics_words import _cap, _change, label, words


class AnalyzeParams(SemanticQuery):
    """A semantic query to analyse. With no measures, the dataset's count and default measure
    (e.g. number of invoices and total value) are used."""


# -- the tool ------------------------------------------------------------------------------------------
def default_measures(ds: Dataset) -> list[str]:
    count = next((n for n, m in ds.measures.items() if m.agg == "count" and not m.filters), None)
    return [m for m in dict.fromkeys([count, ds.default_measure]) if m]


def analyze_data(ctx: ToolContext, p: AnalyzeParams) -> ToolResult:
    model = ctx.data_model
    q = SemanticQuery.model_validate(p.model_dump())
    if q.dataset not in model.datasets:
        raise ToolError(f"There is no dataset '{q.dataset}' here. Datasets: {', '.join(model.datasets)}.")
    ds = model.datasets[q.dataset]
    if not q.measures:
        q = q.but(measures=default_measures(ds))
    try:
        check_against(q, model, extra_dimensions=(WORKSPACE_DIMENSION,))
    except QueryProblem as e:
        raise ToolError(str(e)) from None
    extra = _components(ds, q)
    ties = _ranks_one(ds, q)
    run = q.but(measures=q.measures + extra, limit=analytics_words.TIES_SHOWN + 1 if ties else q.limit)
    with session_scope(ctx.business) as s:
        conn = s.connection()
        a = run_measures(conn, model, run, ctx.identity, ctx.today, shares=True)
        top = _top_contributor(conn, model, ds, a, ctx) if a.query.kind == "total" and not q.compare_to else None
    if ties:
        a.rows = _tied_first(a.rows, ties)
    q = a.query.but(measures=q.measures, limit=q.limit)  # names resolved, components kept out of the query
    columns, rows = table(ds, a, q)
    data: AnalysisData = {
        "kind": q.kind,
        "dataset": q.dataset,
        "query": q.as_params(),
        "period": a.compiled.period,
        "columns": columns,
        "rows": rows,
        "column_labels": {c: label(ds, c) for c in columns},
        "totals": a.grand,
        "workspace_id": a.compiled.workspace or "all",
    }
    chart = chart_for(ds, a, q)
    if chart:
        data["chart"] = chart
    data["dates"] = dates(a)  # the first and last day read (ISO), null at an open end
    typed = analytics_answer.typed_columns(ds, columns, data["column_labels"], q.time_grain)
    data["table"] = tables.of_rows(typed, rows)  # the same table, typed: formats from the data model
    data["figure"] = analytics_answer.typed_chart(ds, q, chart, typed)
    data["drill_dimensions"] = [d for d in analytics_answer.DRILL_DIMENSIONS if d in ds.dimensions]
    data["has_time"] = bool(ds.time)
    if a.previous is not None:
        data["previous"] = {"period": a.previous.compiled.period, "dates": dates(a.previous), "rows": a.previous.rows}
        data["same_days"] = bool(a.same_days)  # both periods cut to the days the unfinished one has had
    if a.partial:  # trend buckets only partly counted (the month so far): {period: [first day, last day]}
        data["partial"] = partial_dates(a)
    data["as_of"] = ctx.today.isoformat()  # the business day the figures were read on
    message = words(ds, a, q, extra, top)
    filters = describe_filters(q, a.compiled.workspace, a.compiled.period, bool(a.compiled.start or a.compiled.end))
    n = len(rows)
    return ToolResult(
        status="success",
        message=message,
        data=dict(data),
        sources=[
            Source(
                table=ds.table,
                filters={
                    **filters,
                    "measures": q.measures,
                    "group_by": q.group_by,
                    **({"time_grain": q.time_grain} if q.time_grain else {}),
                },
                rows=n,
            )
        ],
    )


def analysis_table(ctx: ToolContext, q: SemanticQuery) -> dict[str, Any]:
    """An analysis as rows of dicts (what an export writes): the same table analyze_data answers with."""
    res = analyze_data(ctx, AnalyzeParams.model_validate(q.model_dump()))
    d = res.data
    rows = [dict(zip(d["columns"], r)) for r in d["rows"]]
    return {
        "rows": rows,
        "matched": len(rows),
        "keys": [],
        "workspace_id": d["workspace_id"] if d["workspace_id"] != "all" else ctx.identity.workspace_id,
        "filters": {"query": d["query"]},
        "dataset": d["dataset"],
        "title": res.message[:200],
    }


def _ranks_one(ds: Dataset, q: SemanticQuery) -> str | None:
    """The measure a "which one has the most" question ranks by (limit 1, ordered by a measure): the
    answer then names every group tied for first, not the one a tie-break picked."""
    if q.kind != "breakdown" or q.limit != 1 or not q.order_by or q.compare_to:
        return None
    first = q.order_by[0].field
    return first if first in ds.measures else None


def _tied_first(rows: list[dict], m: str) -> list[dict]:
    """The first row and those equal to it on `m`."""
    return [r for r in rows if r[m] == rows[0][m]] if rows else []


def _components(ds: Dataset, q: SemanticQuery) -> list[str]:
    """The parts of a single derived sum (outstanding = unpaid + overdue), to name them in the answer."""
    if q.kind != "total" or len(q.measures) != 1 or q.compare_to:
        return []
    m = ds.measures[q.measures[0]]
    return [x for x in m.derived.of if x not in q.measures] if m.derived and m.derived.op == "sum" else []


def _top_contributor(conn, model, ds: Dataset, a: Answer, ctx: ToolContext) -> dict | None:
    """For a total: the biggest vendor/customer in it ('IndiSky Airlines accounts for 7 of them')."""
    m = a.query.measures[0]
    if ds.measures[m].agg not in ("count", "sum"):
        return None
    filtered = {f.field for f in a.query.filters if f.op == "eq"}
    dim = next((d for d in ("vendor", "customer") if d in ds.dimensions and d not in filtered), None)
    total = a.rows[0].get(m) if a.rows else None
    if dim is None or not total:
        return None
    r = run_measures(
        conn, model, a.query.but(measures=[m], group_by=[dim], order_by=[f"-{m}"], limit=3), ctx.identity, ctx.today
    )
    if len(r.rows) < 2 or not r.rows[0][m]:
        return None  # one contributor only: nothing to point out
    tied = [x[dim] for x in _tied_first(r.rows, m)]
    if len(tied) > 2 or len(tied) == len(r.rows):
        return None  # no one stands out
    return {"dimension": dim, "names": tied, "value": r.rows[0][m], "measure": m, "total": total}


def table(ds: Dataset, a: Answer, q: SemanticQuery) -> tuple[list[str], list[list[Any]]]:
    """The answer as {columns, rows}: group columns, measures, shares (%) and changes when compared."""
    keys = a.columns[: len(a.columns) - len(a.query.measures)]
    measures = q.measures
    columns = keys + measures
    share = next((m for m in measures if a.grand and a.grand.get(m) and ds.measures[m].format != "percent"), None)
    if share and (q.group_by or q.time_grain):
        columns.append(f"{share}_share")
    prev = {tuple(r[k] for k in keys): r for r in a.previous.rows} if a.previous is not None else None
    if prev is not None:
        for m in measures:
            columns += [f"{m}_previous", f"{m}_change", f"{m}_change_pct"]
    rows = []
    for r in a.rows:
        row = [r[c] for c in keys + measures]
        if share and (q.group_by or q.time_grain):
            row.append(round(r[share] / (a.grand or {})[share] * 100, 1) if r[share] is not None else None)
        if prev is not None:
            before = prev.get(tuple(r[k] for k in keys), {})
            for m in measures:
                row += [before.get(m), *_change(r[m], before.get(m))]
        rows.append(row)
    return columns, rows


def chart_for(ds: Dataset, a: Answer, q: SemanticQuery) -> dict | None:
    m = q.measures[0]
    values = [{k: v for k, v in r.items()} for r in a.rows]
    if q.kind == "trend":
        series = q.group_by[0] if q.group_by else None
        return charts.line(
            values,
            "period",
            str(q.time_grain),
            m,
            label(ds, m),
            title=f"{_cap(label(ds, m))} by {q.time_grain}",
            series=series,
            series_title=label(ds, series) if series else None,
            partial={k: f"{k} ({days})" for k, days in partial_days(a).items()} or None,
            value_format=ds.measures[m].format,
        )
    if q.kind == "breakdown":
        d = q.group_by[0]
        return charts.bar(
            values,
            d,
            label(ds, d),
            m,
            label(ds, m),
            title=f"{_cap(label(ds, m))} by {label(ds, d)}",
            value_format=ds.measures[m].format,
        )
    if q.kind == "total" and a.previous is not None and a.previous.rows:
        both = [
            {"period": a.previous.compiled.period, m: a.previous.rows[0][m]},
            {"period": a.compiled.period, m: a.rows[0][m]},
        ]
        return charts.bar(
            both,
            "period",
            "period",
            m,
            label(ds, m),
            title=f"{_cap(label(ds, m))}: comparison",
            sort_by_value=False,
            value_format=ds.measures[m].format,
        )
    return None


TOOLS = [
    ToolSpec(
        "analyze_data",
        "Answer questions about the numbers: totals, counts, averages, breakdowns, top/bottom N, shares, "
        "period comparisons and trends over a dataset of the data model, with a table and a chart.",
        AnalyzeParams,
        analyze_data,
        data_type=AnalysisData,
        roles=("Viewer", "Manager", "Admin"),
        action="analyse data",
        topic="totals, breakdowns and trends",
        step="Added up {scope}, {ms}.",
        progress="analysing {dataset}…",
        phrases=(
            "what's the total value of failed invoices last month?",
            "how much do we owe Metro Cabs?",
            "which vendor has the most failed invoices this year?",
            "top 3 customers by sales last quarter",
            "sales by region last month",
            "compare sales this month with last month",
            "monthly trend of sales",
        ),
        explained=True,
        reads_data=True,
        next_steps=analytics_answer.next_steps,
    ),
]
