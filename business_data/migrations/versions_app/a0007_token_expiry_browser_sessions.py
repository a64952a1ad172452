"""api_tokens.expires_at (`finkraft token --expires 30d`) and browser_sessions (the session cookie's
own server-side record, instead of the token in the cookie).

Revision ID: a0007
Revises: a0006
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0007'
down_revision: Union[str, Sequence[str], None] = 'a0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if 'expires_at' not in {c['name'] for c in inspector.get_columns('api_tokens')}:
        with op.batch_alter_table('api_tokens') as batch:
            batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    if 'browser_sessions' in inspector.get_table_names():
        return  # a database adopted from create_all with the newer model already has it
    op.create_table('browser_sessions',
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], ),
    sa.PrimaryKeyConstraint('session_hash')
    )
    op.create_index(op.f('ix_browser_sessions_token_id'), 'browser_sessions', ['token_id'], unique=False)
    op.create_index(op.f('ix_browser_sessions_user_id'), 'browser_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_browser_sessions_user_id'), table_name='browser_sessions')
    op.drop_index(op.f('ix_browser_sessions_token_id'), table_name='browser_sessions')
    op.drop_table('browser_sessions')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
