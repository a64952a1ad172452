"""Business templates as LangGraph subgraphs: invoice investigation, vendor analysis, monthly review.

`graph/builder.py` adds each compiled template as a node of the parent graph (so it shares the
parent's checkpointer and shows as a subgraph in `draw_mermaid(xray=True)` and in Studio).
"""
from __future__ import annotations

from .common import Template, TemplateParams, outcome_status, template_params
from .invoice_investigation import TEMPLATE as INVOICE_INVESTIGATION
from .monthly_review import TEMPLATE as MONTHLY_REVIEW
from .vendor_analysis import TEMPLATE as VENDOR_ANALYSIS

TEMPLATES: dict[str, Template] = {t.name: t for t in (INVOICE_INVESTIGATION, VENDOR_ANALYSIS, MONTHLY_REVIEW)}

__all__ = ["TEMPLATES", "Template", "TemplateParams", "outcome_status", "template_params"]


def template_plan(name: str, params: dict | None, analysis: dict) -> dict:
    """The plan node's update for a template: the plan (steps, reason), or a plain question/error."""
    from tools.base import ToolError
    t = TEMPLATES[name]
    try:
        p = template_params(params)
    except ToolError as e:
        return {"plan": {"mode": "answer", "steps": [], "reason": f"bad template parameters: {e.message}"}, "response": e.message}
    missing = [k for k in t.requires if not p.get(k)]
    if missing:
        q = f"Which {missing[0]} should the {t.title} cover? For example: '{t.title} for Metro Cabs'."
        return {"plan": {"mode": "answer", "steps": [], "reason": f"{name} needs a {missing[0]}"}, "response": q}
    return {"plan": {"mode": "template", "template": name, "params": p, "steps": t.plan_steps(),
                     "reason": analysis.get("reason", ""), "analysis": analysis}}
