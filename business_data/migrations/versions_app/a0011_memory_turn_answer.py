"""memory_turns.answer: an assistant turn's typed answer (schema.answer.AnswerPayload), to draw it again

Revision ID: a0011
Revises: a0010
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a0011'
down_revision: Union[str, Sequence[str], None] = 'a0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if 'answer' in {c['name'] for c in sa.inspect(bind).get_columns('memory_turns')}:
        return  # a database adopted from create_all with the newer model already has it
    with op.batch_alter_table('memory_turns') as batch:
        batch.add_column(sa.Column('answer', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('memory_turns') as batch:
        batch.drop_column('answer')
