"""Where a message goes: the log channel always, and every subscription whose org subtree holds
the subject and whose campaign, kinds and roles filters let it through; each in its language
(the subscription's `lang`, the deployment's default for the log)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from engine import texts
from storage.tables import Subscription

subscription_t = Subscription.__table__  # type: ignore[attr-defined]

LOG = "log"
# Notices about the whole deployment rather than a subtree: the missing calendar year
# (deadlines.recompute).
DEPLOYMENT_WIDE = frozenset({"calendar_missing"})


@dataclass(frozen=True)
class Destination:
    """One place a message is delivered: the log, or a subscription's channel."""

    channel: str
    subscription_id: int | None
    digest: bool = False  # held for the subscription's digest (deadlines.digests)
    lang: str = texts.DEFAULT  # the language its messages are worded in

    @property
    def label(self) -> str:
        return LOG if self.subscription_id is None else f"sub{self.subscription_id}"


class Subscriptions:
    """Every live subscription, read once per sweep batch (there are few; messages are
    many); a deleted one is kept as a row but gets nothing."""

    def __init__(self, conn: Connection) -> None:
        self.rows: Sequence[Any] = conn.execute(
            select(subscription_t).where(subscription_t.c.deleted_at.is_(None))
            .order_by(subscription_t.c.id)).all()

    def destinations(self, *, org_path: str, campaign_id: str, kind: str,
                     roles: Sequence[str]) -> list[Destination]:
        """The log channel, then the matching subscriptions in id order."""
        return _matching(self.rows, org_path, campaign_id, kind, roles)


def _matching(rows: Sequence[Any], org_path: str, campaign_id: str, kind: str,
              roles: Sequence[str]) -> list[Destination]:
    found = [Destination(LOG, None, lang=texts.default())]
    for row in rows:
        # A subscription for an org receives what happens anywhere in its subtree; a notice
        # for the whole deployment (the administrator's) only where its kind is named.
        if kind in DEPLOYMENT_WIDE:
            if kind not in row.kinds:
                continue
        elif not org_path.startswith(row.org_path):
            continue
        if row.campaign_id and row.campaign_id != campaign_id:
            continue
        if row.kinds and kind not in row.kinds:
            continue
        if row.roles and not set(row.roles) & set(roles):
            continue
        found.append(Destination(row.channel, row.id,
                                 digest=row.delivery.get("mode") == "digest",
                                 lang=row.lang or texts.DEFAULT))
    return found
