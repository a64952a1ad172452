"""Start-up, written once: migrate the application database, add the demo users (and their dev
tokens when FINKRAFT_ENV=dev), migrate the business database and seed it when it is empty.

Everything that starts FinkraftAI calls `prepare`: `Services.prepare` (notebooks, Studio, tests),
the server's lifespan (through it) and `finkraft seed`; `finkraft migrate` calls `migrate_all`.
Both run under the one start-up lock (business_data/db.py `startup_lock`), so several processes
may start at once: the first does the work, the others wait and then find nothing to do. The
schema comes from the migrations alone (no create_all).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from collections.abc import Iterator

from sqlalchemy.engine import Engine

from .datamodel import DataModel, DataModelError, get_data_model
from .db import startup_lock
from .demo_users import ensure_demo_users, ensure_dev_tokens
from .migrations import SCHEMAS, migrate
from .modelcheck import check_model
from .seed import seed
from .settings import Settings


@contextmanager
def locked(app: Engine, business: Engine) -> Iterator[None]:
    """The start-up lock of both databases (always taken in this order; held together)."""
    with ExitStack() as stack:
        stack.enter_context(startup_lock(app, "startup:app"))
        stack.enter_context(startup_lock(business, "startup:business"))
        yield


def migrate_all(
    app: Engine, business: Engine, schemas: tuple[str, ...] = tuple(SCHEMAS), revision: str = "head"
) -> dict[str, tuple[str | None, str | None]]:
    """Migrate the named schemas ("app" on the application database, "business" on the business
    database) to `revision`. Returns {schema: (before, after)}."""
    engines = {"app": app, "business": business}
    with locked(app, business):
        return {name: migrate(engines[name], name, revision) for name in schemas}


def prepare(
    settings: Settings,
    app: Engine,
    business: Engine,
    *,
    reset: bool = False,
    model: DataModel | None = None,
    plant_anomalies: bool = True,
) -> dict[str, int]:
    """Everything a first start needs, idempotent. `reset` regenerates the demo business data.
    Returns the row counts seeded ({} when the business database held data already).

    The data model (FINKRAFT_DATA_MODEL) is validated first. A model FinkraftAI manages (the demo)
    gets its migrations and demo data; any other describes the customer's database, which is only
    read: it is never migrated or seeded, and it must fit the model (DataModelError naming every
    missing table or column otherwise)."""
    model = model or get_data_model(settings.data_model)
    with locked(app, business):
        migrate(app, "app")
        ensure_demo_users(app)
        if settings.env == "dev":
            ensure_dev_tokens(app)
        if not model.managed:
            ensure_fits(business, model)
            return {}
        migrate(business, "business")
        return seed(business, seed=settings.seed, reset=reset, plant_anomalies=plant_anomalies)


def ensure_fits(business: Engine, model: DataModel) -> None:
    problems = check_model(business, model)
    if problems:
        raise DataModelError(
            f"The business database does not fit the data model '{model.name}': "
            + "; ".join(problems)
            + ". Run `finkraft model check` for details."
        )
