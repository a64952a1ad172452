"""run_template: the permission to run a business template (invoice investigation, vendor analysis,
monthly review). The templates themselves are subgraphs in graph/templates/; the graph runs them,
so this declaration has no function of its own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .base import ToolSpec
from .results import TemplateRunData


class TemplateParams(BaseModel):
    """What a template run may be given (the parser's Intent.params, or the Plans API body)."""

    model_config = ConfigDict(extra="ignore")
    vendor: str | None = Field(None, description="vendor name (vendor_analysis needs one)")
    period: str | None = Field(None, description="last_month, 2026-03, last_6_months, ...")
    status: str | None = Field(None, description="invoice status to investigate (default: all, failures analysed)")
    format: str = Field("csv", description="export format: csv, xlsx or pdf")


TOOLS = [
    ToolSpec(
        "run_template",
        "Run a business template (invoice investigation, vendor analysis, monthly review).",
        TemplateParams,
        None,
        data_type=TemplateRunData,  # built by graph/templates/common.py
        roles=("Manager", "Admin"),
        action="run business templates",
        topic="investigations and reviews",
        step="Ran the steps of a business template, {ms}.",
        writes=True,
        phrases=("investigate the IndiSky failures", "vendor analysis for Metro Cabs", "do the monthly review"),
    ),
]
