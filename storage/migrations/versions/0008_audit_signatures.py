"""audit: entries and stream heads signed with a key kept outside the database

Every entry gets `mac` (HMAC of its hash), every head its own (`audit_head.mac`, and
`case_record.audit_mac` for a case's head on its row), and `audit_seal` records that the log was
sealed: every entry written before signed, after its chain was checked, with the key it names.
Entries already in the log stay as they are, unsigned, until `paicha audit seal` (or the first
`paicha serve`, which makes the key) signs them. Going down drops the signatures and the seal
with them: the hash chains are untouched and verify as before; sealing again after coming back
up signs the log anew.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _mac(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(_mac('mac'))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(_mac('mac'))
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(_mac('audit_mac'))
    op.create_table(
        'audit_seal',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('sealed_at', UTCDateTime(), nullable=False),
        sa.Column('sealed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('audit_seal')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('audit_mac')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('mac')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('mac')
