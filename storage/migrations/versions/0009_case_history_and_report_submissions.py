"""reports: the cases' history kept by a trigger, the org that registered a case, submissions

`case_history` holds every version a case had before its latest (storage.case_history: a
trigger on `case_record` writes it, whichever path writes the case), so a report for a past date
counts the cases as they were then. `case_record.found_by_path` is the org whose member
registered the case (条 attribution); cases registered before this revision have none and count
for their unit's org only. `report_submission` keeps every submission of an org's report.

A later migration that rebuilds `case_record` on SQLite (batch "recreate") drops the trigger
with the table: it must create it again (storage.case_history.create_statements).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.types
from storage import case_history

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _path(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length=2000).with_variant(
        sa.String(length=2000, collation='C'), 'postgresql'), nullable=nullable)


def _json(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                  'postgresql'), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(_path('found_by_path', True))
        batch_op.create_index('ix_case_found_by', ['found_by_path'], unique=False,
                              sqlite_where=sa.text('found_by_path IS NOT NULL'),
                              postgresql_where=sa.text('found_by_path IS NOT NULL'))
    op.create_table(
        'case_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        _path('org_path', False),
        _path('found_by_path', True),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        _json('data'),
        sa.Column('next_due', sa.Date(), nullable=True),
        sa.Column('opened_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('valid_from', storage.types.UTCDateTime(), nullable=False),
        sa.Column('valid_to', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_history_campaign_valid_to', 'case_history',
                    ['campaign_id', 'valid_to'], unique=False)
    op.create_index('ix_case_history_case', 'case_history', ['case_id', 'version'],
                    unique=False)
    op.create_table(
        'report_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('campaign_version_id', sa.Integer(), nullable=False),
        sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('org_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        _path('org_path', False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        _json('figures'),
        _json('manual'),
        sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('submitted_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('obligation_id', sa.Integer(), nullable=True),
        sa.Column('replaces', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_version_id'], ['campaign_version.id']),
        sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id']),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['replaces'], ['report_submission.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_submission_period_path', 'report_submission',
                    ['campaign_id', 'report_id', 'period', 'org_path'], unique=False)
    for statement in case_history.create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in case_history.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index('ix_submission_period_path', table_name='report_submission')
    op.drop_table('report_submission')
    op.drop_index('ix_case_history_case', table_name='case_history')
    op.drop_index('ix_case_history_campaign_valid_to', table_name='case_history')
    op.drop_table('case_history')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_found_by')
        batch_op.drop_column('found_by_path')
