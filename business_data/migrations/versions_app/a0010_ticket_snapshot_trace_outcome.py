"""tickets.record_snapshot (each record's state when the ticket was raised: the fixed report's "then")
and traces.outcome / traces.tools (the Admin trace explorer's filters: ok, refused, failed; which tools ran).

Revision ID: a0010
Revises: a0008 (a0009 `ticket_assignee` is on another branch; re-chained after it when merged)
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0010'
down_revision: Union[str, Sequence[str], None] = 'a0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if 'record_snapshot' not in {c['name'] for c in inspector.get_columns('tickets')}:
        with op.batch_alter_table('tickets') as batch:
            batch.add_column(sa.Column('record_snapshot', sa.JSON(), nullable=True))
    have = {c['name'] for c in inspector.get_columns('traces')}
    if 'outcome' not in have:
        with op.batch_alter_table('traces') as batch:
            batch.add_column(sa.Column('outcome', sa.String(length=16), nullable=False, server_default='ok'))
            batch.add_column(sa.Column('tools', sa.String(length=300), nullable=False, server_default=''))
        op.create_index('ix_traces_created_at', 'traces', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_traces_created_at', table_name='traces')
    with op.batch_alter_table('traces') as batch:
        batch.drop_column('tools')
        batch.drop_column('outcome')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('record_snapshot')
