"""The reference schema's columns the demo schema lacked: vendors.vendor_code, vendors.status, sales.status.

Existing rows get vendor_code 'V<id>', status 'active' (vendors) and 'completed' (sales).

Revision ID: b0002
Revises: b0001
Create Date: 2026-11-28
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'b0002'
down_revision: Union[str, Sequence[str], None] = 'b0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('vendors', sa.Column('vendor_code', sa.String(length=32), nullable=True))
    op.add_column('vendors', sa.Column('status', sa.String(length=16), nullable=False, server_default='active'))
    op.add_column('sales', sa.Column('status', sa.String(length=16), nullable=False, server_default='completed'))
    op.execute("UPDATE vendors SET vendor_code = 'V' || CAST(id AS VARCHAR(12)) WHERE vendor_code IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('sales') as batch:
        batch.drop_column('status')
    with op.batch_alter_table('vendors') as batch:
        batch.drop_column('status')
        batch.drop_column('vendor_code')
