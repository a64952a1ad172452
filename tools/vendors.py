"""A workspace's vendor and customer names, and resolving what a user typed ("indisky", "IndiSky's")
to a vendor record. The matching itself is tools/names.py (shared with the offline parser)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from business_data.models import Vendor

from .base import ToolError
from .names import best_match

if TYPE_CHECKING:
    from .runner import Reader


def _model_names(
    session: Reader, workspace_id: str, datasets: tuple[str, ...], dimension: str, model=None
) -> list[str]:
    """The stored values of a lookup dimension of the data model in a workspace (cached a few seconds
    in tools/runner.py), from the first of `datasets` that has it; [] when none has."""
    from business_data.datamodel import get_data_model

    from .runner import lookup_values

    model = model or get_data_model()
    for name in datasets:
        ds = model.datasets.get(name)
        if ds is not None and dimension in ds.dimensions:
            return lookup_values(session, model, ds, dimension, workspace_id)
    return []


def workspace_vendor_names(session: Reader, workspace_id: str, model=None) -> list[str]:
    """Vendor names in the workspace (what the parser resolves "IndiSky" against), via the data model."""
    return _model_names(session, workspace_id, ("vendors", "invoices"), "vendor", model)


def workspace_customer_names(session: Reader, workspace_id: str, model=None) -> list[str]:
    """The customers that appear in the workspace's sales (what the parser resolves "sales to X" against)."""
    return _model_names(session, workspace_id, ("sales",), "customer", model)


def workspace_lookups(session: Reader, workspace_id: str, model=None, cap: int = 300) -> dict[str, list[str]]:
    """The stored values of every other lookup dimension ("sales.product": Laptop, Monitor ...), for the
    parser to read "laptop sales" as a filter; a dimension with more than `cap` values is left out."""
    from business_data.datamodel import get_data_model

    from .runner import lookup_values

    model = model or get_data_model()
    out: dict[str, list[str]] = {}
    for ds_name, ds in model.datasets.items():
        for dim_name, dim in ds.dimensions.items():
            if not dim.lookup or dim_name in ("vendor", "customer"):
                continue
            values = lookup_values(session, model, ds, dim_name, workspace_id)
            if 0 < len(values) <= cap:
                out[f"{ds_name}.{dim_name}"] = [str(v) for v in values]
    return out


def resolve_vendor(session: Session, workspace_id: str, text: str) -> Vendor:
    names = workspace_vendor_names(session, workspace_id)
    name, suggestions = best_match(text, names)
    if name is None:
        hint = (
            f" Did you mean {' or '.join(suggestions[:3])}?"
            if suggestions
            else f" Vendors here: {', '.join(names[:10])}."
        )
        raise ToolError(f"I couldn't find a vendor called '{text}'.{hint}", suggestions=suggestions)
    return session.scalars(select(Vendor).where(Vendor.workspace_id == workspace_id, Vendor.name == name)).one()
