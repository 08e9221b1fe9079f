"""operations: the sweepers' heartbeat, which `/ready` reads

One row: when a sweeper last finished a sweep, and which one (storage.heartbeat).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sweep_heartbeat',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('swept_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('swept_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('sweep_heartbeat')
