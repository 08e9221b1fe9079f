"""calendar: years an office adds from the State Council's notice; provisional dates

`calendar_year` holds each version of a year's statutory schedule added with `paicha calendar
add` or PUT /calendar/{year}. An obligation whose deadline was counted over a year nobody covered
yet records the first such day (`provisional_day`, indexed where set) so that it is recomputed
when the year is added; provisional case clocks and phase deadlines wait as timer rows of status
'watch', indexed by that day.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.types

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_year',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('notice', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('notice_date', sa.Date(), nullable=False),
        sa.Column('schedule', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                 'postgresql'), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('added_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year', 'version'),
    )
    op.create_index('ix_calendar_year_year', 'calendar_year', ['year'], unique=False)
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisional_day', sa.Date(), nullable=True))
        batch_op.create_index('ix_obligation_provisional', ['provisional_day'], unique=False,
                              sqlite_where=sa.text('provisional_day IS NOT NULL'),
                              postgresql_where=sa.text('provisional_day IS NOT NULL'))
    op.create_index('ix_timer_watch', 'timer', ['due_date', 'id'], unique=False,
                    sqlite_where=sa.text("status = 'watch'"),
                    postgresql_where=sa.text("status = 'watch'"))


def downgrade() -> None:
    op.drop_index('ix_timer_watch', table_name='timer')
    # watches mean nothing to the code before this revision
    op.execute("DELETE FROM timer WHERE status = 'watch'")
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_provisional')
        batch_op.drop_column('provisional_day')
    op.drop_index('ix_calendar_year_year', table_name='calendar_year')
    op.drop_table('calendar_year')
