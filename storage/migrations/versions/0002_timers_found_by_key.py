"""timers: stopping a clock finds its timers by key; the (subject, clock) index goes

A case timer's key starts with `<case>/<clock>/<due>/`, so the unique key index already holds a
clock's timers together, and of one deadline: stopping a clock walks those instead of every
timer the clock ever had, and arming a timer writes one index fewer. The key is compared
byte-wise on PostgreSQL so that a prefix is an index range there too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_timer_subject', table_name='timer')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('timer', 'key', type_=sa.String(300, collation='C'),
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('timer', 'key', type_=sa.String(300), existing_nullable=False)
    op.create_index('ix_timer_subject', 'timer', ['subject', 'clock_id'], unique=False)
