"""APScheduler wiring: two interval jobs per process — sweep due timers, send due deliveries.

The jobs hold no state of their own: every timer and delivery lives in the database, so a
restarted process (or a second one) carries on where the last left off. APScheduler only keeps
the jobs' rhythm; nothing is pickled into a job store.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from deadlines.outbox import Deliverer
from deadlines.sweep import Sweeper, database_now
from storage import heartbeat, metrics
from storage.campaigns import CampaignRegistry
from storage.db import Database

log = logging.getLogger("paicha.scheduler")


@dataclass(frozen=True)
class Rhythm:
    sweep_seconds: float = 10.0
    deliver_seconds: float = 5.0


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeadlineJobs:
    """The sweep and the deliverer over one database, for one scheduler."""

    def __init__(self, db: Database, registry: CampaignRegistry, *,
                 clock: Callable[[], dt.datetime] | None = None,
                 outbound: OutboundPolicy = PUBLIC_ONLY) -> None:
        # The sweep decides what is due by the database's clock unless told otherwise, so
        # that sweepers on several machines agree; delivery retries only need a local clock.
        self.sweeper = Sweeper(db, registry, clock=clock)
        self.deliverer = Deliverer(db, clock=clock or system_clock, outbound=outbound,
                                   calendars=registry.calendars)

    def sweep(self) -> None:
        try:
            self.sweeper.sweep()
            # the heartbeat `/ready` reads: this process sweeps (storage.heartbeat)
            with self.sweeper.db.write() as conn:
                clock = self.sweeper.clock
                heartbeat.record(conn, now=clock() if clock else database_now(conn))
            metrics.swept()
        except Exception:  # keep the rhythm: the next run retries what this one could not
            log.exception("sweep failed", extra={"action": "sweep_failed"})

    def deliver(self) -> None:
        try:
            self.deliverer.deliver()
        except Exception:
            log.exception("delivery run failed", extra={"action": "deliver_failed"})

    def close(self) -> None:
        self.deliverer.close()

    def add_to(self, scheduler: BaseScheduler, rhythm: Rhythm) -> None:
        now = dt.datetime.now(dt.UTC)
        scheduler.add_job(self.sweep, "interval", seconds=rhythm.sweep_seconds, id="sweep",
                          max_instances=1, coalesce=True, next_run_time=now)
        scheduler.add_job(self.deliver, "interval", seconds=rhythm.deliver_seconds,
                          id="deliver", max_instances=1, coalesce=True, next_run_time=now)


def background(jobs: DeadlineJobs, rhythm: Rhythm = Rhythm()) -> BackgroundScheduler:
    """A started scheduler running the jobs in threads of this process (`paicha serve`)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    jobs.add_to(scheduler, rhythm)
    scheduler.start()
    return scheduler


def blocking(jobs: DeadlineJobs, rhythm: Rhythm = Rhythm()) -> BlockingScheduler:
    """A scheduler that runs the jobs in the foreground until stopped (`paicha scheduler`)."""
    scheduler = BlockingScheduler(timezone="UTC")
    jobs.add_to(scheduler, rhythm)
    return scheduler
