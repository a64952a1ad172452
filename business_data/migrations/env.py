"""Alembic environment shared by both schemas (configured in code by business_data.migrations; no alembic.ini).

The runner passes, in config.attributes:
  connection       an open SQLAlchemy Connection (inside the caller's transaction and lock)
  version_table    finkraft_business_version | finkraft_app_version (both schemas may share one database)
  target_metadata  only for autogenerate: the schema's models (business_data.migrations.metadata)
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    version_table=config.attributes["version_table"],
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite = copy-and-move
    compare_type=True,
    compare_server_default=False,
)

with context.begin_transaction():
    context.run_migrations()
