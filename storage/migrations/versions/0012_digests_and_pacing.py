"""deliveries: digests at set times, and a rate limit per robot shared by every deliverer

A subscription says how its messages go out (`delivery`: at once, or held for a digest) and may
override its channel kind's rate limit (`rate_limit`). A delivery waiting for a digest is a row
of status `held`; once sent in one, `digested` with `digest_id` naming the digest's delivery.
`rate_limited_count` and `delayed_until` show what the robot's limit held a delivery back.
`rate_window` keeps each robot's recent sends (deadlines.pacing).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _json(name: str, default: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                  'postgresql'),
                     server_default=sa.text(f"'{default}'"), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(_json('delivery', '{}'))
        batch_op.add_column(_json('rate_limit', '{}'))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_limited_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('delayed_until', storage.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_delivery_digest_id'), ['digest_id'], unique=False)
    op.create_table(
        'rate_window',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('sent', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                 'postgresql'), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('rate_window')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_digest_id'))
        batch_op.drop_column('digest_id')
        batch_op.drop_column('delayed_until')
        batch_op.drop_column('rate_limited_count')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_column('rate_limit')
        batch_op.drop_column('delivery')
