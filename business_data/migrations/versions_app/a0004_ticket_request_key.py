"""tickets.request_key: an idempotency key, so one confirmed request never makes two tickets.

Skipped when the column is there already (a database made by create_all, adopted at a0001).

Revision ID: a0004
Revises: a0003
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0004'
down_revision: Union[str, Sequence[str], None] = 'a0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if 'request_key' in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('tickets')}:
        return  # a database adopted from create_all with the newer model already has it
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_tickets_request_key', ['request_key'])


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_constraint('uq_tickets_request_key', type_='unique')
        batch.drop_column('request_key')
