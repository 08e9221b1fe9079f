"""What the routes work with: the database, the campaign registry, the stores and the clock,
built once per app from its settings (never at import time).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from api.event_writes import EventWrites
from engine.access import Principal
from engine.loader import CampaignLoader
from paicha.files import bundled_dir, campaign_schema
from storage import audit_key, tokens
from storage.audit_key import AuditKey
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore
from storage.db import Database, database_url

Clock = Callable[[], dt.datetime]
T = TypeVar("T")

# The day "today" is for list filters that span campaigns (overdue, missed); a case's own
# `overdue` flag uses its campaign's time zone.
DEFAULT_TIMEZONE = "Asia/Shanghai"


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Settings:
    """A deployment's settings; every field has a working default for the embedded case."""

    database_url: str = field(default_factory=database_url)
    campaigns_dir: Path = field(default_factory=bundled_dir)
    token_cache_seconds: float = field(
        default_factory=lambda: float(os.environ.get("PAICHA_TOKEN_CACHE_SECONDS", "10")))
    # the audit log's key (storage.audit_key); None: $PAICHA_AUDIT_KEY or the key file, if any
    audit_key: AuditKey | None = None


def campaign_loader(parents: Any) -> CampaignLoader:
    return CampaignLoader(campaign_schema(), parents)


class TokenCache:
    """Resolved tokens for a few seconds, so the hot path skips three lookups per request; a
    revoked token stops working within that time."""

    def __init__(self, db: Database, seconds: float) -> None:
        self.db = db
        self.seconds = seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def cached(self, secret: str) -> Principal | None:
        """The principal of a token resolved recently, without touching the database."""
        with self._lock:
            hit = self._cache.get(secret)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def resolve(self, secret: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(secret)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.read() as conn:
            principal = tokens.resolve(conn, secret)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[secret] = (now + self.seconds, principal)
        return principal

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: CampaignRegistry
    cases: CaseStore
    tokens: TokenCache
    clock: Clock
    events: EventWrites

    @classmethod
    def build(cls, settings: Settings, clock: Clock = system_clock) -> Services:
        db = Database(settings.database_url, audit_key=settings.audit_key
                      or audit_key.configured(settings.database_url))
        registry = CampaignRegistry(campaign_loader)
        cases = CaseStore(registry)
        return cls(settings, db, registry, cases, TokenCache(db, settings.token_cache_seconds),
                   clock, EventWrites(db, cases, clock))

    def now(self) -> dt.datetime:
        return self.clock()

    def close(self) -> None:
        """Finish the queued writes and release the database."""
        self.events.close()
        self.db.dispose()


async def run_db(work: Callable[..., T], *args: object) -> T:
    """Run blocking database work for an `async def` route, in the thread pool: waiting for
    a lock (another writer's import) must not stall the event loop and every other request."""
    return await run_in_threadpool(work, *args)
