"""deliveries: bound to their subscription by a foreign key; subscriptions marked deleted

A delivery found its destination by `subscription_id` when it was sent, and a deleted
subscription's row was removed: SQLite hands the id out again, so a redriven dead letter of one
street went to another street's new subscription. Subscriptions now stay (`deleted_at`), and
`delivery.subscription_id` refers to `subscription.id`.

Rows already bound to the wrong place are untied first: a delivery whose subscription is gone,
was made after the delivery was queued (the id was reused), or does not reach the delivery's
org loses the link, and is cancelled unless it was delivered. Failure texts kept so far quote
the receiver's reply; only what precedes the first colon of each is kept ("HTTP 500",
"errcode 93000", "connection failed").

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FK_NAME = 'fk_delivery_subscription_id_subscription'

# Deliveries whose subscription_id does not name the subscription they were queued for.
_MISBOUND = (
    "subscription_id IS NOT NULL AND NOT EXISTS ("
    " SELECT 1 FROM subscription s WHERE s.id = delivery.subscription_id"
    " AND s.created_at <= delivery.created_at"
    " AND substr(delivery.org_path, 1, length(s.org_path)) = s.org_path)")


def upgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', storage.types.UTCDateTime(), nullable=True))
    op.execute("UPDATE delivery SET status = 'cancelled', lease_until = NULL, "
               "last_error = 'its subscription was deleted before this release' "
               f"WHERE status IN ('pending', 'sending', 'dead') AND {_MISBOUND}")
    op.execute(f"UPDATE delivery SET subscription_id = NULL WHERE {_MISBOUND}")
    position = ("strpos(last_error, ':')" if op.get_bind().dialect.name == "postgresql"
                else "instr(last_error, ':')")
    op.execute(f"UPDATE delivery SET last_error = substr(last_error, 1, {position} - 1) "
               f"WHERE last_error IS NOT NULL AND {position} > 0")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_foreign_key(FK_NAME, 'subscription', ['subscription_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_constraint(FK_NAME, type_='foreignkey')
    # A deleted subscription was removed before: what it held goes with it (its deliveries
    # keep their id, as they did then).
    op.execute("DELETE FROM subscription WHERE deleted_at IS NOT NULL")
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
