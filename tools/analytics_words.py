"""analyze_data's answer in words: measure labels and values, the filters as a subject ("failed invoices
from IndiSky Airlines"), changes between periods, and the sentence for a total, a breakdown, a ranking or
a trend (the periods themselves are named in period_words.py)."""

from __future__ import annotations

from typing import Any

from business_data.datamodel import Dataset

from .money import money, number
from .period_words import bucket_label, compare_words, partial_words, period_words
from .runner import Answer
from .semantic import SemanticQuery

TEXT_GROUPS = 10  # groups named in the answer; the table has them all
TIES_SHOWN = 10  # "which vendor has the most...": every group tied for first, up to this many


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
