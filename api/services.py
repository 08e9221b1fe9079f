"""What the routes work with: the database, the campaign registry, the stores and the clock,
built once per app from its settings (never at import time).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from api.event_writes import EventWrites
from deadlines.outbound import OutboundPolicy
from engine.access import Principal
from engine.loader import CampaignLoader
from engine.texts import t
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


# How long a process may answer from its token cache: the bound on a revocation made
# elsewhere (another replica, `paicha token revoke`) taking effect here.
TOKEN_CACHE_DEFAULT = 10.0
TOKEN_CACHE_MAX = 300.0


def token_cache_seconds() -> float:
    """$PAICHA_TOKEN_CACHE_SECONDS: 0 (check every request) to 300; 10 by default."""
    raw = os.environ.get("PAICHA_TOKEN_CACHE_SECONDS", "").strip()
    if not raw:
        return TOKEN_CACHE_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= TOKEN_CACHE_MAX:  # NaN too
        raise ValueError(t("api.settings.token_cache", raw=raw, max=f"{TOKEN_CACHE_MAX:g}",
                           default=f"{TOKEN_CACHE_DEFAULT:g}"))
    return value


@dataclass(frozen=True)
class Settings:
    """A deployment's settings; every field has a working default for the embedded case."""

    database_url: str = field(default_factory=database_url)
    campaigns_dir: Path = field(default_factory=bundled_dir)
    token_cache_seconds: float = field(default_factory=token_cache_seconds)
    # the audit log's key (storage.audit_key); None: $PAICHA_AUDIT_KEY or the key file, if any
    audit_key: AuditKey | None = None
    # Where deliveries may go: public addresses, and what PAICHA_OUTBOUND_ALLOW lists.
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy.from_env)
    # the time budget of a request, and of an import (a file of 100,000 rows takes a while);
    # past it the caller gets 503 time_budget_exceeded (api.guard)
    request_seconds: float = field(default_factory=lambda: _seconds("PAICHA_REQUEST_SECONDS",
                                                                    "30"))
    import_seconds: float = field(default_factory=lambda: _seconds("PAICHA_IMPORT_SECONDS",
                                                                   "300"))
    # `/metrics` wants `Authorization: Bearer <this>` when set; without it, anyone who reaches
    # the server may scrape it (docs/operations.md)
    metrics_token: str | None = field(
        default_factory=lambda: os.environ.get("PAICHA_METRICS_TOKEN") or None)
    # the language of answers to requests that name none in Accept-Language (engine.texts);
    # None: Chinese
    language: str | None = field(default_factory=lambda: os.environ.get("PAICHA_LANG") or None)
    # the screens' cookies carry Secure even on a plain-HTTP request: set where a proxy ends
    # TLS without telling uvicorn (X-Forwarded-Proto from an address it trusts does)
    secure_cookies: bool = field(default_factory=lambda: os.environ.get(
        "PAICHA_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes"))
    # `/ready` fails once no sweeper has finished a sweep for this long; 0: not checked
    ready_sweep_seconds: float = field(
        default_factory=lambda: _seconds("PAICHA_READY_SWEEP_SECONDS", "300"))

    def __post_init__(self) -> None:
        for name in ("request_seconds", "import_seconds"):
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ValueError(t("api.settings.positive", name=name, value=value))
        if not 0 <= self.ready_sweep_seconds < float("inf"):
            raise ValueError(t("api.settings.ready_sweep", value=self.ready_sweep_seconds))


def _seconds(variable: str, default: str) -> float:
    text = os.environ.get(variable, default)
    try:
        return float(text)
    except ValueError:
        raise ValueError(t("api.settings.not_seconds", variable=variable, text=text)) from None


def campaign_loader(parents: Any) -> CampaignLoader:
    return CampaignLoader(campaign_schema(), parents)


class TokenCache:
    """Tokens' verdicts for a few seconds, so the hot path skips three lookups per request.

    A token revoked through this process (`DELETE /tokens/{id}`) stops at once: `forget`
    empties the cache, and a lookup that raced the revocation does not store its answer. One
    revoked elsewhere (another replica, `paicha token revoke`) stops within `seconds`. No
    answer outlives the token's expiry.
    """

    def __init__(self, db: Database, seconds: float, clock: Clock = system_clock) -> None:
        self.db = db
        self.seconds = seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, tokens.Verdict]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def _live(self, hit: tuple[float, tokens.Verdict] | None, moment: float
              ) -> tokens.Verdict | None:
        if hit is None or hit[0] <= moment:
            return None
        verdict = hit[1]
        if verdict.expires_at is not None and verdict.expires_at <= self.clock():
            return None
        return verdict

    def cached(self, secret: str) -> Principal | None:
        """The principal of a token resolved recently, without touching the database."""
        # on every request: inline, and the clock is read only for tokens that expire
        with self._lock:
            hit = self._cache.get(secret)
        if hit is None or hit[0] <= time.monotonic():
            return None
        verdict = hit[1]
        if verdict.expires_at is not None and verdict.expires_at <= self.clock():
            return None
        return verdict.principal

    def resolve(self, secret: str) -> tokens.Verdict:
        """The token's verdict: from the cache while it is fresh, else from the database."""
        moment = time.monotonic()
        with self._lock:
            hit = self._cache.get(secret)
            generation = self._generation
        verdict = self._live(hit, moment)
        if verdict is not None:
            return verdict
        with self.db.read() as conn:
            verdict = tokens.check(conn, secret, now=self.clock())
        with self._lock:
            # a `forget` since the lookup began may be a revocation this answer predates
            if self.seconds > 0 and generation == self._generation:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[secret] = (moment + self.seconds, verdict)
        return verdict

    def forget(self) -> None:
        """Drop every cached answer (after a revocation through this process)."""
        with self._lock:
            self._cache.clear()
            self._generation += 1


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: CampaignRegistry
    cases: CaseStore
    tokens: TokenCache
    clock: Clock
    events: EventWrites
    # set when the server starts stopping (SIGTERM): long work on threads ends at its next
    # checkpoint (api.offload) instead of holding the shutdown up
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings, clock: Clock = system_clock) -> Services:
        db = Database(settings.database_url, audit_key=settings.audit_key
                      or audit_key.configured(settings.database_url))
        registry = CampaignRegistry(campaign_loader)
        cases = CaseStore(registry)
        return cls(settings, db, registry, cases,
                   TokenCache(db, settings.token_cache_seconds, clock), clock,
                   EventWrites(db, cases, clock))

    def now(self) -> dt.datetime:
        return self.clock()

    def close(self) -> None:
        """Finish the queued writes and release the database."""
        self.stopping.set()
        self.events.close()
        self.db.dispose()


async def run_db(work: Callable[..., T], *args: object) -> T:
    """Run blocking database work for an `async def` route, in the thread pool: waiting for
    a lock (another writer's import) must not stall the event loop and every other request."""
    return await run_in_threadpool(work, *args)
