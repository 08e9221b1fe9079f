"""subscriptions: the language their messages are worded in

A subscription's reminders, digests and calendar notices are worded in its `lang` (zh, the
default and what every subscription made before spoke, or en); the log channel speaks the
deployment's default (engine.texts).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      server_default='zh', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_column('lang')
