"""timers: index the pending ones by subject and clock, not every timer ever armed

Stopping a clock cancels its pending timers by (subject, clock_id); the full index made that
walk every timer the clock ever had, and a hazard rejected again and again keeps adding five.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index('ix_timer_subject', table_name='timer')
    op.create_index('ix_timer_pending_subject', 'timer', ['subject', 'clock_id'], unique=False,
                    sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index('ix_timer_pending_subject', table_name='timer', sqlite_where=PENDING,
                  postgresql_where=PENDING)
    op.create_index('ix_timer_subject', 'timer', ['subject', 'clock_id'], unique=False)
