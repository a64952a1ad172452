"""findings and insight_subscriptions: anomalies the detectors found (tools/detectors), who is told.

Revision ID: a0008
Revises: a0007
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0008'
down_revision: Union[str, Sequence[str], None] = 'a0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if 'findings' not in have:
        op.create_table('findings',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('workspace_id', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('detector', sa.String(length=32), nullable=False),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('record_keys', sa.JSON(), nullable=False),
        sa.Column('query', sa.JSON(), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('status_by', sa.String(length=64), nullable=True),
        sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace_id', 'fingerprint', name='uq_findings_fingerprint')
        )
        op.create_index('ix_findings_ws_status_seen', 'findings', ['workspace_id', 'status', 'last_seen'], unique=False)
    if 'insight_subscriptions' not in have:
        op.create_table('insight_subscriptions',
        sa.Column('workspace_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('subscribed', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('workspace_id', 'user_id')
        )


def downgrade() -> None:
    op.drop_table('insight_subscriptions')
    op.drop_index('ix_findings_ws_status_seen', table_name='findings')
    op.drop_table('findings')
