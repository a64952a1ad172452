"""Request analysis for the `plan` node: how complex is the request, and does a template fit it?

A direct tool call is the default. A template is chosen when the router said so
(Intent.kind == "template"), when the request names a template ("vendor analysis",
"monthly review", "investigate": a cue of weight 2 in its declaration, `Template.cues`), or when a
multi-step request (complexity >= 3) has a weaker cue (weight 1) for one. The decision and its reason go into state["plan"] (and the trace).
"""

from __future__ import annotations

import re
from typing import Any

ACTIONS = {
    "filter": r"\b(filter|show|list|find|get|gather|collect)\b",
    "explain": r"\b(why|explain|reasons?|analy[sz]\w*)\b",
    "ticket": r"\btickets?\b",
    "export": r"\b(export|download|excel|xlsx|csv|pdf)\b",
    "compare": r"\b(compare|comparison|trend|versus|vs|change)\b",
    "notify": r"\b(notify|let me know|alert me)\b",
}
SEQUENCE = r"\b(then|after that|and also|followed by)\b|;"


def analyse_request(text: str, intent: dict[str, Any]) -> dict[str, Any]:
    from . import TEMPLATES  # the package imports the templates; this module is imported by graph/nodes.py

    by_template = {name: tpl.cues for name, tpl in TEMPLATES.items()}
    t = (text or "").lower()
    actions = [name for name, pat in ACTIONS.items() if re.search(pat, t)]
    complexity = len(actions) + len(re.findall(SEQUENCE, t)) + (1 if intent.get("kind") == "template" else 0)
    scores = {name: sum(w for pat, w in cues if re.search(pat, t)) for name, cues in by_template.items()}
    best = max(scores, key=lambda k: scores[k])
    analysis: dict[str, Any] = {"complexity": complexity, "actions": actions, "template_scores": scores}
    if intent.get("kind") == "template":
        name = intent.get("template") if intent.get("template") in by_template else (best if scores[best] else None)
        reason = intent.get("reason") or "multi-step request"
        return {
            **analysis,
            "decision": "template" if name else "direct",
            "template": name,
            "reason": f"template {name}: {reason}" if name else f"no template fits: {reason}",
        }
    strong = {name for name, cues in by_template.items() if any(w == 2 and re.search(pat, t) for pat, w in cues)}
    upgradable = intent.get("kind") == "tool" and not intent.get("refs")  # "these"/"that ticket" stay direct
    if upgradable and strong:
        best = max(strong, key=lambda k: scores[k])
        return {
            **analysis,
            "decision": "template",
            "template": best,
            "reason": f"the request names the {best.replace('_', ' ')} template (match score {scores[best]})",
        }
    if upgradable and scores[best] >= 1 and complexity >= 3:
        return {
            **analysis,
            "decision": "template",
            "template": best,
            "reason": f"multi-step request (complexity {complexity}: {', '.join(actions)}) matching {best.replace('_', ' ')}",
        }
    tool = intent.get("tool")
    return {
        **analysis,
        "decision": "direct",
        "template": None,
        "reason": intent.get("reason") or f"single action: {tool} (complexity {complexity})",
    }
