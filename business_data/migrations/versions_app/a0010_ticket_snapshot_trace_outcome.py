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
        _backfill_traces()


def _backfill_traces() -> None:
    """Earlier traces: their outcome and tools from the tool calls they recorded (the last step)."""
    traces = sa.table('traces', sa.column('trace_id', sa.String), sa.column('steps', sa.JSON),
                      sa.column('outcome', sa.String), sa.column('tools', sa.String))
    bind = op.get_bind()
    for trace_id, steps in bind.execute(sa.select(traces.c.trace_id, traces.c.steps)).all():
        calls = next((s.get('tool_calls') or [] for s in (steps or []) if isinstance(s, dict)
                      and s.get('node') == '_tool_calls'), [])
        statuses = {c.get('status') for c in calls}
        outcome = 'refused' if 'denied' in statuses else ('failed' if statuses - {'success', None} else 'ok')
        names = list(dict.fromkeys(str(c.get('tool')) for c in calls if c.get('tool')))
        tools = (' ' + ' '.join(names) + ' ')[:300] if names else ''
        if outcome != 'ok' or tools:
            bind.execute(traces.update().where(traces.c.trace_id == trace_id).values(outcome=outcome, tools=tools))


def downgrade() -> None:
    op.drop_index('ix_traces_created_at', table_name='traces')
    with op.batch_alter_table('traces') as batch:
        batch.drop_column('tools')
        batch.drop_column('outcome')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('record_snapshot')
