"""cases: the unit's industry and tags as registered when the case was opened

`case_record.unit_terms` holds them, and conditions on the unit (`when: {unit: …}`) are judged
by them rather than by the unit as it is now: re-tagging a unit mid-case no longer changes which
signatures its chain needs. Cases opened before this revision get their unit's terms as they
are at the upgrade (the best record there is).

On SQLite the column is added with ALTER TABLE, not a batch "recreate" of `case_record`: that
would drop the table's case_history trigger (0009).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# No version change, so the case_history trigger (0009) keeps no copy of the rows it fills.
_FILL = {
    'postgresql': "UPDATE case_record SET unit_terms = jsonb_build_object("
                  "'industry', unit.industry, 'tags', COALESCE(unit.tags, '[]'::jsonb)) "
                  "FROM unit WHERE unit.id = case_record.unit_id",
    'sqlite': "UPDATE case_record SET unit_terms = ("
              "SELECT json_object('industry', unit.industry, "
              "'tags', json(COALESCE(unit.tags, '[]'))) "
              "FROM unit WHERE unit.id = case_record.unit_id)",
}


def upgrade() -> None:
    op.add_column('case_record', sa.Column(
        'unit_terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                             'postgresql'), nullable=True))
    op.execute(_FILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_column('case_record', 'unit_terms')
