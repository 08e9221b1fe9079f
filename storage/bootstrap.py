"""Getting a database ready: migrate it, publish the bundled campaigns that are new, and add
the bundled calendar years nobody added yet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from storage.calendars import add_folder
from storage.campaigns import CampaignRegistry, VersionRow, publish_folder
from storage.db import Database, upgrade


def prepare(db: Database, registry: CampaignRegistry, campaigns_dir: Path, *,
            now: dt.datetime) -> list[tuple[VersionRow, bool]]:
    """Apply migrations, then publish every bundled campaign whose text is not the newest
    version already (parents first). Returns what was published or found."""
    upgrade(db.url)
    with db.write() as conn:
        added = add_folder(conn, campaigns_dir / "calendars", by="paicha serve", now=now)
        if any(created for _, created in added):
            registry.calendars.invalidate()
        return publish_folder(registry, conn, campaigns_dir, by="paicha serve", now=now)
