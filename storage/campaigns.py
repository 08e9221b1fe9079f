"""Published campaign versions: publishing, loading a version with the parent it was resolved
against, and a cache of built lifecycles (one set of machines per version, never per case).

A version's lifecycles count working days on the statutory calendar with the years offices
added (storage.calendars): when a year is added, each cached version is rebuilt on the new
calendar at its next use (within the calendar cache's refresh bound in other processes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from engine import texts
from engine.dates import Deadlines, local_date
from engine.errors import CampaignInvalid, NotFound, Problem
from engine.lifecycle import Lifecycle
from engine.loader import CampaignLoader, Loaded
from engine.texts import listed
from engine.vocabulary import Vocabulary
from engine.workdays import StatutoryCalendar
from storage import audit
from storage.calendars import CalendarCache
from storage.query import Days, ancestor_paths
from storage.tables import CampaignVersion, Deployment

version_t = CampaignVersion.__table__  # type: ignore[attr-defined]
deployment_t = Deployment.__table__  # type: ignore[attr-defined]

# A version's `source`: "api" for one published through the API, "campaigns/<file>" for one
# `paicha serve` published from the bundled folder (the only two publishers).
API_SOURCE = "api"
BUNDLED_SOURCE = "campaigns/"


@dataclass(frozen=True)
class VersionRow:
    id: int
    campaign_id: str
    number: int
    title: str
    source: str
    text: str
    sha256: str
    parent_version_id: int | None
    published_at: dt.datetime
    published_by: str
    owner_org_id: str | None

    @property
    def bundled(self) -> bool:
        """Whether `paicha serve` published it from the bundled folder."""
        return self.source.startswith(BUNDLED_SOURCE)

    def summary(self) -> dict[str, Any]:
        return {"campaign": self.campaign_id, "version": self.number, "version_id": self.id,
                "title": self.title, "sha256": self.sha256, "source": self.source,
                "published_at": self.published_at, "published_by": self.published_by,
                "owner_org": self.owner_org_id}


@dataclass(frozen=True)
class Published:
    """A loaded version: its row, the validated campaign, its deadlines on the statutory
    calendar of `calendar_stamp` (storage.calendars.stamp) and one lifecycle per case type."""

    row: VersionRow
    loaded: Loaded
    lifecycles: dict[str, Lifecycle]
    deadlines: Deadlines
    calendar_stamp: int = 0


def built(row: VersionRow, loaded: Loaded, calendar: StatutoryCalendar,
          stamp: int) -> Published:
    """A version's deadlines and lifecycles on `calendar`."""
    campaign = loaded.campaign
    deadlines = Deadlines.for_campaign(campaign, calendar)
    return Published(row, loaded, {name: Lifecycle(campaign, case_type, deadlines)
                                   for name, case_type in campaign.cases.items()},
                     deadlines, stamp)


def _row(result: Any) -> VersionRow:
    return VersionRow(**{k: getattr(result, k) for k in VersionRow.__dataclass_fields__})


class _LatestParents:
    """Parents by id: the newest published version of each (at publish time)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.used: dict[str, int] = {}

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        row = latest(self.conn, campaign_id)
        if row is None:
            return None
        self.used[campaign_id] = row.id
        return row.text, f"{row.source}@v{row.number}"

    def ids(self) -> Sequence[str]:
        return [r[0] for r in self.conn.execute(select(version_t.c.campaign_id).distinct())]


class _PinnedParents:
    """Parents by id as they were when a version was published: its recorded parent chain."""

    def __init__(self, conn: Connection, first_parent: int | None) -> None:
        self.rows: dict[str, VersionRow] = {}
        next_id = first_parent
        while next_id is not None:
            row = by_id(conn, next_id)
            self.rows[row.campaign_id] = row
            next_id = row.parent_version_id

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        row = self.rows.get(campaign_id)
        return None if row is None else (row.text, f"{row.source}@v{row.number}")

    def ids(self) -> Sequence[str]:
        return list(self.rows)


def latest(conn: Connection, campaign_id: str) -> VersionRow | None:
    found = conn.execute(select(version_t).where(version_t.c.campaign_id == campaign_id)
                         .order_by(version_t.c.number.desc()).limit(1)).one_or_none()
    return None if found is None else _row(found)


def by_id(conn: Connection, version_id: int) -> VersionRow:
    found = conn.execute(select(version_t).where(version_t.c.id == version_id)).one_or_none()
    if found is None:
        raise NotFound("campaign version", version_id)
    return _row(found)


def by_number(conn: Connection, campaign_id: str, number: int | None) -> VersionRow:
    """A campaign's version `number`, or its newest when None."""
    if number is None:
        row = latest(conn, campaign_id)
    else:
        found = conn.execute(select(version_t).where(version_t.c.campaign_id == campaign_id,
                                                     version_t.c.number == number)).one_or_none()
        row = None if found is None else _row(found)
    if row is None:
        known = listed(list_ids(conn)) or texts.t("errors.hint.none_published")
        raise NotFound("campaign", campaign_id if number is None else f"{campaign_id}@v{number}",
                       texts.t("errors.hint.campaigns", known=known))
    return row


def list_ids(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(version_t.c.campaign_id).distinct()
                                       .order_by(version_t.c.campaign_id))]


def _newest(*columns: Any) -> Any:
    """`columns` of each campaign's newest version, by campaign id."""
    newest = (select(version_t.c.campaign_id, func.max(version_t.c.number).label("n"))
              .group_by(version_t.c.campaign_id).subquery())
    return select(*columns).join(
        newest, (version_t.c.campaign_id == newest.c.campaign_id)
        & (version_t.c.number == newest.c.n)).order_by(version_t.c.campaign_id)


def newest_versions(conn: Connection) -> list[VersionRow]:
    return [_row(r) for r in conn.execute(_newest(version_t))]


def versions_of(conn: Connection, campaign_id: str) -> list[VersionRow]:
    rows = conn.execute(select(version_t).where(version_t.c.campaign_id == campaign_id)
                        .order_by(version_t.c.number))
    return [_row(r) for r in rows]


class CampaignRegistry:
    """Validates and publishes campaigns, and keeps built versions in a bounded cache."""

    def __init__(self, loader_factory: Any, *, cache_size: int = 64,
                 calendars: CalendarCache | None = None) -> None:
        # loader_factory(parents) -> CampaignLoader: the schema is the adapter's to read.
        self._loader_factory = loader_factory
        self._cache: OrderedDict[int, Published] = OrderedDict()
        self._lock = threading.Lock()
        self._size = cache_size
        self.calendars = calendars or CalendarCache()
        self._words: tuple[tuple[int, ...], Vocabulary] | None = None

    def fork(self, *, calendar_seconds: float | None = None) -> CampaignRegistry:
        """A registry starting with this one's cache, for a copy of the same database (tests
        copy one migrated, published database many times); it reads its own calendar."""
        seconds = self.calendars.seconds if calendar_seconds is None else calendar_seconds
        forked = CampaignRegistry(self._loader_factory, cache_size=self._size,
                                  calendars=CalendarCache(seconds))
        with self._lock:
            forked._cache = OrderedDict(self._cache)
        return forked

    def loader(self, parents: Any, calendar: StatutoryCalendar | None = None) -> CampaignLoader:
        loader: CampaignLoader = self._loader_factory(parents)
        if calendar is not None:
            loader.calendar = calendar  # which years a period may reach without a warning
        return loader

    def calendar(self, conn: Connection) -> StatutoryCalendar:
        """The statutory calendar with the years offices added, as this process knows it."""
        return self.calendars.current(conn)[1]

    def check(self, conn: Connection, text: str, source: str) -> list[Problem]:
        """Every problem of a campaign text, parents taken from the published versions."""
        return self.loader(_LatestParents(conn), self.calendar(conn)).check(text, source)

    def publish(
        self, conn: Connection, text: str, source: str, *, by: str, now: dt.datetime,
        owner_org: str | None = None,
        authorize: Callable[[str, VersionRow | None], None] | None = None,
    ) -> tuple[VersionRow, bool]:
        """Publish `text` as the campaign's next version; (row, created). The same text as the
        newest version publishes nothing new. Raises CampaignInvalid with every problem;
        `authorize(campaign_id, newest version or None)` may refuse once the id is known.
        `owner_org` owns a campaign whose first version this is; later versions keep the
        first one's owner."""
        parents = _LatestParents(conn)
        loaded = self.loader(parents, self.calendar(conn)).load(text, source)
        campaign = loaded.campaign
        current = latest(conn, campaign.id)
        if authorize is not None:
            authorize(campaign.id, current)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        parent_version = parents.used.get(campaign.extends) if campaign.extends else None
        if current is not None and current.sha256 == digest and (
            current.parent_version_id == parent_version
        ):
            return current, False
        number = 1 if current is None else current.number + 1
        owner = owner_org if current is None else current.owner_org_id
        new_id = conn.execute(insert(version_t).values(
            campaign_id=campaign.id, number=number, title=campaign.title, source=source,
            text=text, sha256=digest, parent_version_id=parent_version, published_at=now,
            published_by=by, owner_org_id=owner).returning(version_t.c.id)).scalar_one()
        audit.append(conn, stream=f"campaign:{campaign.id}", at=now, actor=by, role=None,
                     action="publish", data={"version": number, "sha256": digest,
                                             "parent_version_id": parent_version,
                                             "owner_org": owner, "source": source})
        return by_id(conn, new_id), True

    def get(self, conn: Connection, version_id: int) -> Published:
        """A version, built once and cached (versions never change), on the current calendar:
        rebuilt when a year was added since."""
        stamp, calendar = self.calendars.current(conn)
        with self._lock:
            found = self._cache.get(version_id)
            if found is not None:
                self._cache.move_to_end(version_id)
                if found.calendar_stamp == stamp:
                    return found
        if found is not None:
            published = built(found.row, found.loaded, calendar, stamp)
        else:
            row = by_id(conn, version_id)
            try:
                loaded = self.loader(_PinnedParents(conn, row.parent_version_id), calendar).load(
                    row.text, row.source)
            except CampaignInvalid as exc:  # a published version was valid when published
                raise RuntimeError(f"stored campaign version {version_id} no longer loads: "
                                   f"{exc}") from exc
            published = built(row, loaded, calendar, stamp)
        with self._lock:
            self._cache[version_id] = published
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return published

    def vocabulary(self, version_ids: tuple[int, ...],
                   build: Callable[[], Vocabulary]) -> Vocabulary:
        """The vocabulary of these versions (storage.campaigns.vocabulary), built once: the
        words of a version never change, and the calendar does not bear on them."""
        with self._lock:
            if self._words is not None and self._words[0] == version_ids:
                return self._words[1]
        words = build()
        with self._lock:
            self._words = (version_ids, words)
        return words

    def newest(self, conn: Connection, campaign_id: str) -> Published:
        return self.get(conn, by_number(conn, campaign_id, None).id)


def deployments(conn: Connection, campaign_id: str | None = None) -> list[dict[str, Any]]:
    query = select(deployment_t).order_by(deployment_t.c.campaign_id, deployment_t.c.org_id)
    if campaign_id is not None:
        query = query.where(deployment_t.c.campaign_id == campaign_id)
    return [{"campaign": r.campaign_id, "org": r.org_id, "org_path": r.org_path,
             "created_at": r.created_at} for r in conn.execute(query)]


def deployed_campaigns_at(conn: Connection, path: str) -> list[str]:
    """Campaigns deployed to the org at `path` or one of its ancestors."""
    rows = conn.execute(select(deployment_t.c.campaign_id).distinct()
                        .where(deployment_t.c.org_path.in_(ancestor_paths(path))))
    return sorted(r[0] for r in rows)


def vocabulary(registry: CampaignRegistry, conn: Connection) -> Vocabulary:
    """The words (org levels, industries, tags, roles) of every published campaign's newest
    version, together: what orgs, units, imports and tokens are checked against. Built once
    per set of newest versions (every list of orgs or units asks for it): only their ids are
    read to tell whether one was published since."""
    ids = tuple(conn.execute(_newest(version_t.c.id)).scalars())
    return registry.vocabulary(ids, lambda: Vocabulary.of(
        registry.get(conn, version_id).loaded.campaign for version_id in ids))


def campaign_days(conn: Connection, registry: CampaignRegistry, now: dt.datetime,
                  default_zone: str = "Asia/Shanghai") -> Days:
    """Today in each published campaign's time zone (its newest version's), for lists that
    judge deadlines across campaigns (storage.query.Days)."""
    days = {row.campaign_id: local_date(now, registry.get(conn, row.id).loaded.campaign.timezone)
            for row in newest_versions(conn)}
    return Days(local_date(now, default_zone), days)
