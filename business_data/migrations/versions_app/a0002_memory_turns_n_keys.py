"""memory_turns.n_keys: how many record keys a turn's result reference holds.

Lets "the last result sets" skip key-less references without parsing JSON. Existing rows are
backfilled from result_ref["keys"]. Skipped when
the column is there already (a database made by create_all before migrations existed, adopted at a0001).

Revision ID: a0002
Revises: a0001
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0002'
down_revision: Union[str, Sequence[str], None] = 'a0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if 'n_keys' in {c['name'] for c in sa.inspect(bind).get_columns('memory_turns')}:
        return  # a database adopted from create_all with the newer model already has it
    with op.batch_alter_table('memory_turns') as batch:
        batch.add_column(sa.Column('n_keys', sa.Integer(), nullable=False, server_default='0'))
    if bind.dialect.name == 'postgresql':
        op.execute("UPDATE memory_turns SET n_keys = json_array_length(result_ref -> 'keys') "
                   "WHERE json_typeof(result_ref -> 'keys') = 'array'")
    elif bind.dialect.name == 'sqlite':
        op.execute("UPDATE memory_turns SET n_keys = json_array_length(result_ref, '$.keys') "
                   "WHERE json_type(result_ref, '$.keys') = 'array'")


def downgrade() -> None:
    with op.batch_alter_table('memory_turns') as batch:
        batch.drop_column('n_keys')
