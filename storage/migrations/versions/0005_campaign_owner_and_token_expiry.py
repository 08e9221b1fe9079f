"""campaign versions record their owner org; tokens may expire

A campaign's next version may be published only by the safety office of the org that
published its first one (or an office above it), or by an admin; `owner_org_id` records that
org on every version. Versions stored before this migration get none: who published them
through the API is known only by a token's name, so only an admin may publish their next
versions until then (the safe reading). A token may carry an expiry (`paicha token create
--expires 90d`); existing tokens keep none and work until revoked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_org_id',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('campaign_version', schema=None) as batch_op:
        batch_op.drop_column('owner_org_id')
