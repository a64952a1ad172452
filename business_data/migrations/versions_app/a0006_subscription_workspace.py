"""ticket_subscriptions.workspace_id: a subscription belongs to the workspace it was made in (the
ticket's), so moving a user to another workspace ends it and no read crosses workspaces.

Existing rows take their ticket's workspace. Skipped when the column is there already (a database
made by create_all with the newer model).

Revision ID: a0006
Revises: a0005
Create Date: 2026-12-07
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "a0006"
down_revision: Union[str, Sequence[str], None] = "a0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if "workspace_id" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("ticket_subscriptions")}:
        return  # a database adopted from create_all with the newer model already has it
    with op.batch_alter_table("ticket_subscriptions") as batch:
        batch.add_column(sa.Column("workspace_id", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE ticket_subscriptions SET workspace_id = (SELECT t.workspace_id FROM tickets t "
        "WHERE t.ticket_id = ticket_subscriptions.ticket_id)"
    )
    op.execute("DELETE FROM ticket_subscriptions WHERE workspace_id IS NULL")  # a ticket that is gone
    with op.batch_alter_table("ticket_subscriptions") as batch:
        batch.alter_column("workspace_id", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("ix_ticket_subscriptions_user_ws", ["user_id", "workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_subscriptions") as batch:
        batch.drop_index("ix_ticket_subscriptions_user_ws")
        batch.drop_column("workspace_id")
