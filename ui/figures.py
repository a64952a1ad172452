"""The dashboard's figures: each one question to the semantic layer (`analyze_data` through POST
/execute_tool) with the data model's measures, so the chat gives the same number for the same question.
No figure is summed here, and the regions, vendors and months come from the answers (no Streamlit here).

  failed       "compare failed invoices this month with last month"   failed_count, failed_value
  outstanding  "total outstanding amount"                              outstanding (unpaid + overdue)
  by_vendor    "outstanding amount by vendor"                          unpaid_amount, overdue_amount
  sales        "compare sales this month with last month"              sales_value
  regions      "sales by region this month"                            sales_value by region
  trend        "monthly sales by region, the last six months"          sales_value by region and month

A comparison with a month not over yet reads the same days of both ("1–7 Dec vs 1–7 Nov"); a trend's
month so far comes back marked as partial.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from .api import Api
from schema.tickets import Ticket
from schema.toolnames import ANALYZE_DATA

TREND_MONTHS = 6
OUTSTANDING_PARTS = ("unpaid_amount", "overdue_amount")  # the outstanding measure's parts in the data model


def analyze(api: Api, **query) -> dict[str, Any]:
    """One analyze_data answer's data, with its table as a list of dicts under "records"."""
    data = api.tool(ANALYZE_DATA, **query)
    return {**data, "records": [dict(zip(data["columns"], r)) for r in data["rows"]]}


def _one(data: dict) -> dict:
    return data["records"][0] if data["records"] else {}


def _previous(data: dict) -> dict:
    rows = (data.get("previous") or {}).get("rows") or []
    return rows[0] if rows else {}


def _compared(data: dict, measures: tuple[str, ...]) -> dict[str, Any]:
    """A total compared with another period: each measure now and before, and which days each holds."""
    now, before = _one(data), _previous(data)
    out: dict[str, Any] = {m: now.get(m) or 0 for m in measures}
    out |= {f"{m}_previous": before.get(m) or 0 for m in measures}
    out |= {f"{m}_{k}": now.get(f"{m}_{k}") for m in measures for k in ("change", "change_pct")}  # (the API's)
    out["dates"], out["previous_dates"] = data.get("dates"), (data.get("previous") or {}).get("dates")
    out["same_days"] = bool(data.get("same_days"))
    return out


def failed_invoices(api: Api) -> dict:
    data = analyze(
        api,
        dataset="invoices",
        measures=["failed_count", "failed_value"],
        period="this_month",
        compare_to="last_month",
    )
    return {**_compared(data, ("failed_count", "failed_value")), "as_of": data.get("as_of")}


def outstanding(api: Api) -> dict:
    """{"outstanding": total, "parts": [(label, amount)]}: what is owed, and of which unpaid and overdue."""
    data = analyze(api, dataset="invoices", measures=["outstanding", *OUTSTANDING_PARTS])
    row, labels = _one(data), data.get("column_labels") or {}
    return {
        "outstanding": row.get("outstanding") or 0,
        "parts": [(labels.get(m, m), row.get(m) or 0) for m in OUTSTANDING_PARTS],
    }


def outstanding_by_vendor(api: Api) -> list[dict]:
    """[{vendor, part, amount}] per vendor that is owed money (largest first), one row per part of the
    outstanding measure (its label in the data model: "unpaid amount", "overdue amount")."""
    data = analyze(
        api,
        dataset="invoices",
        measures=["outstanding", *OUTSTANDING_PARTS],
        group_by=["vendor"],
        order_by=["-outstanding"],
    )
    labels = data.get("column_labels") or {}
    return [
        {"vendor": r["vendor"], "part": labels.get(m, m), "amount": r[m]}
        for r in data["records"]
        if r.get("outstanding")
        for m in OUTSTANDING_PARTS
        if r.get(m)
    ]


def sales(api: Api) -> dict:
    data = analyze(api, dataset="sales", measures=["sales_value"], period="this_month", compare_to="last_month")
    return _compared(data, ("sales_value",))


def sales_by_region(api: Api) -> list[dict]:
    """[{region, amount}] this month, the regions the data has."""
    data = analyze(api, dataset="sales", measures=["sales_value"], group_by=["region"], period="this_month")
    return [{"region": r["region"], "amount": r["sales_value"]} for r in data["records"]]


def trend_start(as_of: date, months: int = TREND_MONTHS) -> date:
    """The first day of the trend: `months` months with this one last."""
    return as_of.replace(day=1) - relativedelta(months=months - 1)


def sales_trend(api: Api, as_of: date) -> dict:
    """{"rows": [{month, region, amount}], "partial": {month: [first day, last day]}} for the last six
    months (this month so far marked partial by the API)."""
    data = analyze(
        api,
        dataset="sales",
        measures=["sales_value"],
        group_by=["region"],
        time_grain="month",
        date_from=trend_start(as_of).isoformat(),
    )
    rows = [{"month": r["period"], "region": r["region"], "amount": r["sales_value"]} for r in data["records"]]
    return {"rows": rows, "partial": data.get("partial") or {}}


def open_tickets(api: Api) -> list[Ticket]:
    return [t for t in api.tickets() if t.status in ("open", "in_progress")]


def all_figures(api: Api) -> dict:
    failed = failed_invoices(api)
    as_of = date.fromisoformat(failed["as_of"])  # the API's business day (India's calendar), not this machine's
    return {
        "as_of": as_of,
        "failed": failed,
        "outstanding": outstanding(api),
        "by_vendor": outstanding_by_vendor(api),
        "sales": sales(api),
        "regions": sales_by_region(api),
        "trend": sales_trend(api, as_of),
        "tickets": open_tickets(api),
    }


def days(dates: list | None, as_of: date | None = None) -> str:
    """[first, last] ISO days as people say them: '1–7 Dec', '1 Nov–7 Dec', '1–7 Dec 2025' (the year when
    it is not as_of's)."""
    if not dates or not dates[0] or not dates[1]:
        return ""
    first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[1])
    year = "" if as_of and first.year == last.year == as_of.year else f" {last.year}"
    if first == last:
        return f"{first.day} {first:%b}{year}"
    if first.year != last.year:
        return f"{first.day} {first:%b %Y}–{last.day} {last:%b %Y}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b}{year}"
    return f"{first.day} {first:%b}–{last.day} {last:%b}{year}"
