"""Invoice investigation: filter -> analyse the failures -> propose a ticket -> create it once confirmed."""

from __future__ import annotations

from typing import Any, cast

from tools.results import FailuresData
from tools.tickets import summarise_records

from .common import Step, StepFailed, Template, money


def _filters(step: Step) -> dict[str, Any]:
    p = step.params
    return {
        "dataset": "invoices",
        "vendor": p.get("vendor"),
        "period": p.get("period") or "last_month",
        "status": p.get("status"),
    }


def filter_invoices(step: Step) -> str:
    r = step.rows(**_filters(step))
    step.data["filter"] = {"matched": r["matched"], "amount": r["amount"], "vendor": r["vendor"], "period": r["period"]}
    who = f" from {r['vendor']}" if r["vendor"] else ""
    return f"{r['matched']} invoices{who}, {r['period']}, totalling {money(r['amount'] or 0)}"


def analyse_failures(step: Step) -> str:
    f = _filters(step)
    res = step.tool("explain_failures", {k: v for k, v in f.items() if v is not None and k != "dataset"})
    if res.status != "success":
        raise StepFailed(res.message)
    d = cast(FailuresData, res.data)
    total, failed = d.get("total", 0), d.get("failed", 0)
    step.data["figures"] = {
        "invoices": total,
        "failed": failed,
        "failure_rate": round(failed / total * 100, 1) if total else 0.0,
        "amount_at_stake": d.get("amount_at_stake", 0.0),
        "by_reason": [{k: r[k] for k in ("reason", "count", "amount")} for r in d.get("by_reason", [])],
        "by_vendor": d.get("by_vendor", []),
    }
    step.data["failed_invoices"] = d.get("invoice_numbers", [])
    step.data["explanation"] = res.message
    return (
        f"{failed} of {total} failed, {money(d.get('amount_at_stake', 0.0) or 0.0)} at stake"
        if total
        else "no invoices to analyse"
    )


def propose_ticket(step: Step) -> list[dict[str, Any]]:
    numbers = step.data.get("failed_invoices") or []
    if not numbers:
        return []
    title, _, _ = summarise_records(step.ctx, numbers)
    priority = "high" if step.data["figures"]["amount_at_stake"] >= 500_000 else "medium"
    return [
        {
            "tool": "create_ticket",
            "summary": f"Create ticket '{title}' for {step.ctx.identity.user_id}?",
            "params": {"title": title, "invoice_numbers": numbers, "notify_me": True, "priority": priority},
        }
    ]


def report(data: dict[str, Any]) -> str:
    fig, flt = data.get("figures") or {}, data.get("filter") or {}
    if not fig.get("invoices"):
        return f"Invoice investigation: no invoices match ({flt.get('period', 'that period')}), so there is nothing to investigate."
    head = f"Invoice investigation ({flt.get('vendor') or 'all vendors'}, {flt.get('period')}): "
    if not fig.get("failed"):
        return head + f"none of the {fig['invoices']} invoices failed, so there is nothing to fix."
    reasons = ", ".join(f"{r['reason']} {r['count']} ({money(r['amount'])})" for r in fig["by_reason"])
    vendors = ", ".join(f"{v['vendor']} {v['count']}" for v in fig["by_vendor"][:5])
    return (
        head
        + f"{fig['failed']} of {fig['invoices']} failed ({fig['failure_rate']}%), {money(fig['amount_at_stake'])} at stake.\n"
        f"By reason: {reasons}. By vendor: {vendors}.\n{data.get('explanation', '')}"
    )


TEMPLATE = Template(
    name="invoice_investigation",
    title="invoice investigation",
    steps=[("filter", "filter_data", filter_invoices), ("analyse", "explain_failures", analyse_failures)],
    propose=propose_ticket,
    write_step="create_ticket",
    write_tool="create_ticket",
    report=report,
    cues=[
        (r"\binvestigat\w*", 2),
        (r"\broot[- ]cause\b", 2),
        (r"\bdig into\b", 2),
        (r"\bfail\w*\b", 1),
        (r"\bticket\b", 1),
    ],
)
