"""Covering indexes on invoices for the query compiler at a million rows: by period, by vendor, by status,
each carrying the columns counts, sums and breakdowns read (status, vendor_id, total_amount).

Revision ID: b0003
Revises: b0002
Create Date: 2026-11-28
"""
from typing import Sequence, Union

from alembic import op

revision: str = 'b0003'
down_revision: Union[str, Sequence[str], None] = 'b0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_index('ix_invoices_ws_date', table_name='invoices')
    op.drop_index('ix_invoices_ws_vendor_status', table_name='invoices')
    op.create_index('ix_invoices_ws_date', 'invoices', ['workspace_id', 'invoice_date', 'status', 'vendor_id', 'total_amount'])
    op.create_index('ix_invoices_ws_vendor_status', 'invoices', ['workspace_id', 'vendor_id', 'status', 'invoice_date', 'total_amount'])
    op.create_index('ix_invoices_ws_status_date', 'invoices', ['workspace_id', 'status', 'invoice_date', 'vendor_id', 'total_amount'])


def downgrade() -> None:
    op.drop_index('ix_invoices_ws_status_date', table_name='invoices')
    op.drop_index('ix_invoices_ws_vendor_status', table_name='invoices')
    op.drop_index('ix_invoices_ws_date', table_name='invoices')
    op.create_index('ix_invoices_ws_vendor_status', 'invoices', ['workspace_id', 'vendor_id', 'status'])
    op.create_index('ix_invoices_ws_date', 'invoices', ['workspace_id', 'invoice_date'])
