"""Does a data model fit a live database? Every table and column the model uses, checked by reflection."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from .datamodel import DataModel


def check_model(engine: Engine, model: DataModel) -> list[str]:
    """One line per problem: a missing table, or a missing column (with the dataset that needs it)."""
    insp = inspect(engine)
    tables = set(insp.get_table_names())
    problems: list[str] = []
    columns: dict[str, set[str]] = {}
    for name, ds in model.datasets.items():
        for table, cols in sorted(ds.physical_columns().items()):
            if table not in tables:
                line = f"missing table '{table}' (dataset {name})"
                if line not in problems:
                    problems.append(line)
                continue
            if table not in columns:
                columns[table] = {c["name"] for c in insp.get_columns(table)}
            for col in sorted(cols - columns[table]):
                problems.append(f"missing column '{table}.{col}' (dataset {name})")
    return list(dict.fromkeys(problems))


def checked_columns(model: DataModel) -> int:
    return len({(t, c) for ds in model.datasets.values() for t, cols in ds.physical_columns().items() for c in cols})
