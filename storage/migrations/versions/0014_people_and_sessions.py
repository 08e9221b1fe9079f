"""people who sign in to the screens, and their sessions

Accounts hold the same roles and org or unit scope as tokens, with an Argon2id hash of the
password and the count of failed sign-ins that locks it; a session is the hash of a browser
cookie's secret with its CSRF token (storage.users).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from storage.types import UTCDateTime, json_type

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('roles', json_type(), nullable=False),
        sa.Column('scope_kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('scope_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('disabled_at', UTCDateTime(), nullable=True),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
        sa.Column('password_changed_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('login'),
    )
    op.create_table(
        'web_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('hash'),
    )
    op.create_index('ix_web_session_user_id', 'web_session', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_session_user_id', table_name='web_session')
    op.drop_table('web_session')
    op.drop_table('user_account')
