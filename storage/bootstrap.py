"""Getting a database ready: migrate it, add the bundled calendar years nobody added yet, and
publish the bundled campaigns that are new.

`paicha serve` runs this at every start. A bundled campaign is published when its id is new,
or, so that an upgrade of paicha can bring a corrected text, when every stored version of it
came from the bundled folder. It is never published over a version published through the API:
an office's edit must survive a restart (and a bundled text never turns back the clock to a
version the office replaced).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from engine import texts
from engine.errors import CampaignInvalid, Problem
from storage import obligations
from storage.calendars import add_folder
from storage.campaigns import (
    BUNDLED_SOURCE,
    CampaignRegistry,
    VersionRow,
    latest,
    version_t,
)
from storage.db import Database, upgrade

_EXTENDS = re.compile(r"^extends:\s*['\"]?([a-z][a-z0-9_-]*)", re.MULTILINE)
_ID = re.compile(r"^id:\s*['\"]?([a-z][a-z0-9_-]*)", re.MULTILINE)

BUNDLED_BY = "paicha serve"


@dataclass(frozen=True)
class Bundled:
    """What became of one bundled campaign file: its newest stored version afterwards,
    whether this start published it, and why not when it was left alone."""

    campaign_id: str
    row: VersionRow
    created: bool
    skipped: str | None = None


def prepare(db: Database, registry: CampaignRegistry, campaigns_dir: Path, *,
            now: dt.datetime) -> list[Bundled]:
    """Apply migrations, then publish the bundled campaigns that may be (parents first)."""
    upgrade(db.url)
    with db.write() as conn:
        added = add_folder(conn, campaigns_dir / "calendars", by=BUNDLED_BY, now=now)
        if any(created for _, created in added):
            registry.calendars.invalidate()
        return publish_folder(registry, conn, campaigns_dir, by=BUNDLED_BY, now=now)


def publish_folder(
    registry: CampaignRegistry, conn: Connection, folder: Path, *, by: str, now: dt.datetime
) -> list[Bundled]:
    """Publish every campaign file of a folder that may be, parents before children."""
    pending: dict[str, tuple[str, str, str | None]] = {}
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        found_id = _ID.search(text)
        extends = _EXTENDS.search(text)
        key = found_id.group(1) if found_id else path.stem
        pending[key] = (text, f"{BUNDLED_SOURCE}{path.name}",
                        extends.group(1) if extends else None)
    done: list[Bundled] = []
    handled: set[str] = set()
    while pending:
        ready = [k for k, (_, _, p) in pending.items()
                 if p is None or p in handled or p not in pending]
        if not ready:
            raise CampaignInvalid([Problem(pending[k][1], 1, 1, "$.extends",
                                           texts.t("errors.extends_cycle"))
                                   for k in pending])
        for key in sorted(ready):
            text, source, parent = pending.pop(key)
            handled.add(key)
            current = latest(conn, key)
            reason = None if current is None else _kept(conn, current, text, parent)
            if current is not None and reason is not None:
                done.append(Bundled(key, current, False, reason))
                continue
            row, created = registry.publish(conn, text, source, by=by, now=now)
            if created:  # a check the previous version lacked reaches the units where it runs
                obligations.after_publishing(conn, registry, row, now=now)
            done.append(Bundled(row.campaign_id, row, created))
    return done


def _kept(conn: Connection, current: VersionRow, text: str, parent: str | None) -> str | None:
    """Why the stored versions of a bundled campaign stay as they are; None when the bundled
    text may be published (it is then a no-op if it is the newest version already)."""
    campaign_id = current.campaign_id
    by_api = conn.execute(
        select(version_t.c.number, version_t.c.published_by, version_t.c.published_at)
        .where(version_t.c.campaign_id == campaign_id,
               ~version_t.c.source.startswith(BUNDLED_SOURCE, autoescape=True))
        .order_by(version_t.c.number.desc()).limit(1)).first()
    if by_api is not None:
        return (f"version {by_api.number} was published through the API (by "
                f"{by_api.published_by}, {by_api.published_at:%Y-%m-%d %H:%M} UTC); the "
                f"bundled text is never published over it (publish it through the API to "
                f"go back to it)")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != current.sha256:
        older = conn.execute(select(version_t.c.number).where(
            version_t.c.campaign_id == campaign_id, version_t.c.sha256 == digest)
            .order_by(version_t.c.number.desc()).limit(1)).scalar()
        if older is not None:
            return (f"the bundled text is version {older}, older than the newest version "
                    f"{current.number}: an older paicha does not turn it back")
        return None
    newest_parent = latest(conn, parent) if parent else None
    if (newest_parent is not None and newest_parent.id != current.parent_version_id
            and not newest_parent.bundled):
        return (f"its text is unchanged; its parent {parent} has version "
                f"{newest_parent.number} published through the API, which {campaign_id} "
                f"adopts when it is published again through the API")
    return None
