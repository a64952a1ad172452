"""Business templates as LangGraph subgraphs: invoice investigation, vendor analysis, monthly review.

`graph/builder.py` adds each compiled template as a node of the parent graph (so it shares the
parent's checkpointer and shows as a subgraph in `draw_mermaid(xray=True)` and in Studio).
"""

from __future__ import annotations

from tools.base import ToolError

from ..state import answer_plan
from .common import Template, outcome_status, template_params
from .invoice_investigation import TEMPLATE as INVOICE_INVESTIGATION
from .monthly_review import TEMPLATE as MONTHLY_REVIEW
from .vendor_analysis import TEMPLATE as VENDOR_ANALYSIS

TEMPLATES: dict[str, Template] = {t.name: t for t in (INVOICE_INVESTIGATION, VENDOR_ANALYSIS, MONTHLY_REVIEW)}

__all__ = ["TEMPLATES", "Template", "outcome_status", "template_params"]


def template_plan(name: str, params: dict | None, analysis: dict) -> dict:
    """The plan node's update for a template: the plan (steps, reason), or a plain question/error."""
    t = TEMPLATES[name]
    try:
        p = template_params(params)
    except ToolError as e:
        return answer_plan(f"bad template parameters: {e.message}", e.message)
    missing = [k for k in t.requires if not p.get(k)]
    if missing:
        q = f"Which {missing[0]} should the {t.title} cover? For example: '{t.title} for Metro Cabs'."
        return answer_plan(f"{name} needs a {missing[0]}", q)
    return {
        "plan": {
            "mode": "template",
            "template": name,
            "params": p,
            "steps": t.plan_steps(),
            "reason": analysis.get("reason", ""),
            "analysis": analysis,
        }
    }
