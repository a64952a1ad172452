"""The dashboard's figures, computed through the API's existing endpoints (no Streamlit here).

Today the API has no aggregate endpoint, so these use `POST /execute_tool` with `filter_data`,
whose answers carry `filtered_records` and `total_amount` for every match, and group the
returned rows here when all of them came back (otherwise one call per group). When the API's
`analyze_data` tool (breakdowns and trends as `{columns, rows}` with a Vega-Lite chart) is
there, `outstanding_by_vendor` and `sales_by_region` become one call each.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from .api import Api

ROW_LIMIT = 1000  # filter_data returns at most this many rows per call
OUTSTANDING = ("unpaid", "overdue")  # what is still owed (partly paid invoices are not counted)
REGIONS = ("North", "South", "East", "West")


def _totals(api: Api, **params) -> tuple[int, float]:
    data = api.tool("filter_data", limit=1, **params)
    return int(data.get("filtered_records") or 0), float(data.get("total_amount") or 0.0)


def failed_invoices(api: Api) -> dict:
    """Failed invoices this month (count and value), and last month's for comparison."""
    n, value = _totals(api, dataset="invoices", period="this_month", status="failed")
    n_prev, value_prev = _totals(api, dataset="invoices", period="last_month", status="failed")
    return {"count": n, "value": value, "last_month_count": n_prev, "last_month_value": value_prev}


def _grouped(api: Api, key: str, amount: str, groups: list[str], group_param: str, **params) -> dict[str, float]:
    """Sum of `amount` per `key` over every matching row: one call when all rows fit, else one per group."""
    data = api.tool("filter_data", limit=ROW_LIMIT, **params)
    if int(data.get("filtered_records") or 0) <= len(data.get("results") or []):
        sums: dict[str, float] = defaultdict(float)
        for row in data.get("results") or []:
            sums[str(row.get(key))] += float(row.get(amount) or 0.0)
        return dict(sums)
    return {g: _totals(api, **params, **{group_param: g})[1] for g in groups}


def outstanding_by_vendor(api: Api) -> list[dict]:
    """[{vendor, payment_status, amount}] for unpaid and overdue invoices, largest vendors first."""
    vendors = [v["vendor"] for v in api.tool("filter_data", dataset="vendors", limit=1000).get("results") or []]
    rows: list[dict[str, Any]] = []
    for status in OUTSTANDING:
        sums = _grouped(api, "vendor", "total_amount", vendors, "vendor", dataset="invoices", payment_status=status)
        rows += [{"vendor": v, "payment_status": status, "amount": round(a, 2)} for v, a in sums.items() if a]
    total: defaultdict[str, float] = defaultdict(float)
    for r in rows:
        total[r["vendor"]] += r["amount"]
    return sorted(rows, key=lambda r: (-total[r["vendor"]], r["payment_status"]))


def months_back(today: date, n: int) -> list[str]:
    """The last n months as YYYY-MM, oldest first, this month last."""
    first = today.replace(day=1)
    return [(first - relativedelta(months=k)).strftime("%Y-%m") for k in range(n - 1, -1, -1)]


def sales_by_region(api: Api, today: date, months: int = 6) -> list[dict]:
    """[{month, region, amount}] for the last `months` months (this month so far included)."""
    rows = []
    for month in months_back(today, months):
        sums = _grouped(api, "region", "amount", list(REGIONS), "region", dataset="sales", period=month)
        rows += [{"month": month, "region": r, "amount": round(a, 2)} for r, a in sorted(sums.items())]
    return rows


def open_tickets(api: Api) -> list[dict]:
    return [t for t in api.tickets() if t.get("status") in ("open", "in_progress")]


def all_figures(api: Api, today: date) -> dict:
    return {
        "failed": failed_invoices(api),
        "outstanding": outstanding_by_vendor(api),
        "sales": sales_by_region(api, today),
        "tickets": open_tickets(api),
    }
