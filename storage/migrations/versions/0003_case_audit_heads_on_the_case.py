"""cases: the head of a case's audit stream moves onto its row

An event on a case updated its row, its audit stream's head in audit_head and appended the
entry; with the head on the case row, the update the event makes anyway carries it, guarded by
the case's version. Other streams (orgs, units, campaigns …) keep their heads in audit_head.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('audit_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      server_default='', nullable=False))
    op.execute("UPDATE case_record SET "
               "audit_seq = (SELECT seq FROM audit_head "
               "             WHERE audit_head.stream = 'case:' || case_record.id), "
               "audit_hash = (SELECT hash FROM audit_head "
               "              WHERE audit_head.stream = 'case:' || case_record.id) "
               "WHERE EXISTS (SELECT 1 FROM audit_head "
               "              WHERE audit_head.stream = 'case:' || case_record.id)")
    op.execute("DELETE FROM audit_head WHERE stream IN "
               "(SELECT 'case:' || id FROM case_record)")


def downgrade() -> None:
    op.execute("INSERT INTO audit_head (stream, seq, hash) "
               "SELECT 'case:' || id, audit_seq, audit_hash FROM case_record "
               "WHERE audit_seq > 0")
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')
