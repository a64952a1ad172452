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
from .money import money, number
from .period_words import bucket_label, compare_words, dates, partial_dates, partial_days, partial_words, period_words
from .queries import describe_filters
from .runner import Answer, run_measures
from .compiler import WORKSPACE_DIMENSION
from .semantic import QueryProblem, SemanticQuery, check_against
from . import tables
from .results import AnalysisData

TEXT_GROUPS = 10  # groups named in the answer; the table has them all
TIES_SHOWN = 10  # "which vendor has the most...": every group tied for first, up to this many


class AnalyzeParams(SemanticQuery):
    """A semantic query to analyse. With no measures, the dataset's count and default measure
    (e.g. number of invoices and total value) are used."""


# -- words --------------------------------------------------------------------------------------------
def label(ds: Dataset, name: str) -> str:
    if name in ds.measures:
        return ds.measures[name].label or name.replace("_", " ")
    if name in ds.dimensions:
        return ds.dimensions[name].label or name.replace("_", " ")
    return name.replace("_", " ")


def fmt(ds: Dataset, name: str, value: Any) -> str:
    """A measure's value in words: ₹4,90,901 / 1,234 / 6.9% / 32.5 days."""
    if value is None:
        return "none"
    kind = (
        ds.measures[name].format
        if name in ds.measures
        else (ds.dimensions[name].format if name in ds.dimensions else None)
    )
    if kind == "money":
        return money(value)
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "days":
        return f"{number(value, 1)} days"
    if kind == "count":
        return number(value, 0)
    return number(value)


def subject(ds: Dataset, q: SemanticQuery) -> str:
    """'failed invoices from IndiSky Airlines in the North' from the query's filters."""
    adjectives, tail = [], []
    for f in q.filters:
        if ds.field_kind(f.field) != "dimension":
            continue
        dim = ds.dimensions[f.field]
        values = f.value if isinstance(f.value, list) else [f.value]
        text = " or ".join(str(v).replace("_", " ") for v in values)
        if dim.values and f.op in ("eq", "in") and f.field.endswith("status"):
            adjectives.append(text)
        elif f.field == "region" and f.op in ("eq", "in"):
            tail.append(f"in the {text}")
        elif dim.lookup and f.op in ("eq", "in"):
            tail.append(f"{'to' if f.field == 'customer' else 'from' if f.field == 'vendor' else 'for'} {text}")
        elif f.op in ("gte", "gt"):
            tail.append(
                f"over {fmt(ds, f.field, f.value)}"
                if dim.format == "money"
                else f"{label(ds, f.field)} at least {f.value}"
            )
        elif f.op in ("lte", "lt"):
            tail.append(
                f"under {fmt(ds, f.field, f.value)}"
                if dim.format == "money"
                else f"{label(ds, f.field)} at most {f.value}"
            )
        else:
            op = {"eq": "", "ne": "not ", "not_in": "not ", "contains": "containing "}.get(f.op, f.op + " ")
            tail.append(f"with {label(ds, f.field)} {op}{text}")
    return " ".join([*adjectives, ds.words, *tail])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _change(now: float | None, before: float | None) -> tuple[float | None, float | None]:
    if now is None or before is None:
        return None, None
    diff = round(now - before, 2)
    return diff, (round(diff / before * 100, 1) if before else None)


def _change_words(ds: Dataset, m: str, now: Any, before: Any) -> str:
    diff, pct = _change(now, before)
    if diff is None:
        return "no comparison possible"
    if diff == 0:
        return "no change"
    direction = "up" if diff > 0 else "down"
    amount = fmt(ds, m, abs(diff)) if ds.measures[m].format != "percent" else f"{abs(diff):.1f} points"
    return f"{direction} {amount}" + (
        f" ({pct:+.1f}%)" if pct is not None and ds.measures[m].format != "percent" else ""
    )


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
    run = q.but(measures=q.measures + extra, limit=TIES_SHOWN + 1 if ties else q.limit)
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


def _is_total_money(ds: Dataset, name: str) -> bool:
    """A sum of money ('worth ₹x'), not an average or a maximum."""
    m = ds.measures[name]
    return m.format == "money" and (m.agg == "sum" or bool(m.derived and m.derived.op == "sum"))


def words(ds: Dataset, a: Answer, q: SemanticQuery, extra: list[str], top: dict | None) -> str:
    """The figures in plain words."""
    when = period_words(q, a)
    when_ = f" {when}" if when else ""
    what = subject(ds, q)
    filtered = what != ds.words
    if q.kind == "total":
        row = a.rows[0] if a.rows else {}
        if a.previous is not None:
            prev = a.previous.rows[0] if a.previous.rows else {}
            one = len(q.measures) == 1
            parts = [
                f"{'' if one else label(ds, m) + ' '}{fmt(ds, m, row.get(m))}, against {fmt(ds, m, prev.get(m))} "
                f"{compare_words(q, a)}: {_change_words(ds, m, row.get(m), prev.get(m))}"
                for m in q.measures
            ]
            return f"{_cap(what)}{when_}: " + "; ".join(parts) + "."
        ms = q.measures
        counts = [m for m in ms if ds.measures[m].format == "count"]
        if len(ms) == 2 and len(counts) == 1 and _is_total_money(ds, ms[1 - ms.index(counts[0])]):
            money_m = ms[1 - ms.index(counts[0])]
            text = f"{_cap(what)}{when_}: {fmt(ds, counts[0], row.get(counts[0]))}, worth {fmt(ds, money_m, row.get(money_m))}"
        else:
            figures = ", ".join(f"{label(ds, m)} {fmt(ds, m, row.get(m))}" for m in ms)
            text = f"{_cap(what)}{when_}: {figures}"
        if extra:
            text += " (" + ", ".join(f"{label(ds, m)} {fmt(ds, m, row.get(m))}" for m in extra) + ")"
        if top:
            m = top["measure"]
            share = round(top["value"] / top["total"] * 100, 1)
            one = len(top["names"]) == 1  # or two tied for first: "A and B account for 7 of them each"
            text += f"; {' and '.join(top['names'])} {'accounts' if one else 'account'} for {fmt(ds, m, top['value'])}"
            text += " of them" if ds.measures[m].format == "count" else f" ({share}%)"
            text += "" if one else " each"
        return text + "."
    m = q.measures[0]
    if not a.rows:
        return f"No {what}{when_}, so there is nothing to break down."
    if q.kind == "trend":
        return _trend_words(ds, a, q, what if filtered else "", when_)
    d = q.group_by[0]
    grand = (a.grand or {}).get(m)
    share_ok = grand and ds.measures[m].format != "percent"

    def item(r: dict) -> str:
        text = f"{r[d]} {fmt(ds, m, r[m])}"
        if share_ok and r[m] is not None:
            text += f" ({r[m] / grand * 100:.1f}%)"
        if a.previous is not None:
            before = next((p.get(m) for p in a.previous.rows if p.get(d) == r[d]), None)
            text += f", {_change_words(ds, m, r[m], before)}"
        return text

    shown = a.rows[:TEXT_GROUPS]
    more = f", and {len(a.rows) - len(shown)} more" if len(a.rows) > len(shown) else ""
    vs = f", compared with {compare_words(q, a)}" if a.previous is not None else ""
    of = f" for {what}" if filtered else ""
    if q.limit and q.limit < DEFAULT_RANK_CAP:
        desc = (q.order_by[0].direction == "desc") if q.order_by else True
        if q.limit == 1:
            r = a.rows[0]
            most = (
                ("most" if desc else "fewest")
                if ds.measures[m].format == "count"
                else ("highest" if desc else "lowest")
            )
            out_of = f" of {fmt(ds, m, grand)} ({r[m] / grand * 100:.1f}%)" if share_ok and r[m] is not None else ""
            noun = label(ds, m)
            if ds.measures[m].format == "count" and noun.startswith("number of "):  # "the most failed invoices",
                noun = what if filtered else noun.removeprefix("number of ")  # not "the most number of invoices"
            elif filtered:
                noun += f" among {what}"
            if len(a.rows) > 1:  # a tie: every group on the first place, each with the same figure
                names = [str(x[d]) for x in a.rows[:TIES_SHOWN]]
                others = len(a.rows) > TIES_SHOWN
                who = ", ".join(names) + " and others" if others else ", ".join(names[:-1]) + f" and {names[-1]}"
                return f"{who} tie for the {most} {noun}{when_}: {fmt(ds, m, r[m])}{out_of} each{vs}."
            return f"{r[d]} has the {most} {noun}{when_}: {fmt(ds, m, r[m])}{out_of}{vs}."
        head = f"{'Top' if desc else 'Bottom'} {len(a.rows)} {label(ds, d)}s by {label(ds, m)}{of}{when_}{vs}"
        return f"{head}: " + "; ".join(f"{i}. {item(r)}" for i, r in enumerate(shown, 1)) + "."
    total = f" Total {fmt(ds, m, grand)}." if share_ok else ""
    return (
        f"{_cap(label(ds, m))} by {label(ds, d)}{of}{when_}{vs}: "
        + "; ".join(item(r) for r in shown)
        + more
        + "."
        + total
    )


DEFAULT_RANK_CAP = 100  # a limit below this reads as a ranking ("top 5")


def _trend_words(ds: Dataset, a: Answer, q: SemanticQuery, what: str, when_: str) -> str:
    m = q.measures[0]
    head = f"{_cap(label(ds, m))} by {q.time_grain}{' for ' + what if what else ''}{',' + when_ if when_ else ''}"
    partial = partial_words(a, q.time_grain)
    if q.group_by:
        note = f"; {', '.join(partial.values())} partly counted" if partial else ""
        return f"{head}: {len(a.rows)} values over {len({r['period'] for r in a.rows})} {q.time_grain}s by {label(ds, q.group_by[0])}{note} (see the table and chart)."
    named = [r for r in a.rows if r[m] is not None]
    listed = "; ".join(
        f"{partial.get(str(r['period'])) or bucket_label(r['period'], q.time_grain)} {fmt(ds, m, r[m])}"
        for r in named[-12:]
    )
    text = f"{head}: {listed}."
    rows = [r for r in named if str(r["period"]) not in partial]  # a partial month is no high, low or drop
    if len(rows) >= 2:
        hi = max(rows, key=lambda r: r[m])
        lo = min(rows, key=lambda r: r[m])
        text += (
            f" Highest in {bucket_label(hi['period'], q.time_grain)} ({fmt(ds, m, hi[m])}), lowest in "
            f"{bucket_label(lo['period'], q.time_grain)} ({fmt(ds, m, lo[m])}); from first to last"
            f"{' full ' + str(q.time_grain) if partial else ''}: "
            f"{_change_words(ds, m, rows[-1][m], rows[0][m])}."
        )
    return text


TOOLS = [
    ToolSpec(
        "analyze_data",
        "Answer questions about the numbers: totals, counts, averages, breakdowns, top/bottom N, shares, "
        "period comparisons and trends over a dataset of the data model, with a table and a chart.",
        AnalyzeParams,
        analyze_data,
        roles=("Viewer", "Manager", "Admin"),
        action="analyse data",
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
