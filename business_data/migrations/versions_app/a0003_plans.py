"""plans: business templates run as checkpointed threads (graph/templates/plans.py).

Skipped when the table is there already (made on first use before this migration existed).

Revision ID: a0003
Revises: a0002
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0003'
down_revision: Union[str, Sequence[str], None] = 'a0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if 'plans' in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table('plans',
    sa.Column('plan_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_index(op.f('ix_plans_user_id'), 'plans', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_plans_user_id'), table_name='plans')
    op.drop_table('plans')
