"""thread_titles: names users give their conversations (PATCH /threads/{thread_id}).

Revision ID: a0005
Revises: a0004
Create Date: 2026-11-28
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0005'
down_revision: Union[str, Sequence[str], None] = 'a0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if 'thread_titles' in sa.inspect(op.get_bind()).get_table_names():
        return  # a database adopted from create_all with the newer model already has it
    op.create_table('thread_titles',
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('thread_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('workspace_id', 'user_id', 'thread_id')
    )


def downgrade() -> None:
    op.drop_table('thread_titles')
