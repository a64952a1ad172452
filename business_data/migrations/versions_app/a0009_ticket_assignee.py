"""tickets.assignee and the assignment columns of ticket_comments (PATCH /tickets/{id} with `assignee`).

Revision ID: a0009
Revises: a0008
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0009'
down_revision: Union[str, Sequence[str], None] = 'a0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NEW = {
    'tickets': ('assignee',),
    'ticket_comments': ('assignee_from', 'assignee_to'),
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table, columns in NEW.items():
        have = {c['name'] for c in inspector.get_columns(table)}
        missing = [c for c in columns if c not in have]  # a database made by create_all already has them
        if missing:
            with op.batch_alter_table(table) as batch:
                for column in missing:
                    batch.add_column(sa.Column(column, sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table, columns in NEW.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
