"""The Prometheus series (docs/operations.md lists them with their meaning).

Two kinds:

- counted by this process as the work happens, in prometheus-client's default registry:
  requests (api.telemetry), events fired, timers claimed, deliveries by outcome. Each process
  (`paicha serve`, every `paicha scheduler`) counts its own; Prometheus adds them up.
- read from the database when scraped (`DatabaseCollector`): sweep lag, outbox depth, dead
  letters, the last sweep. They are the same whichever process is scraped, since every process
  shares the database, and each is one index walk: their cost follows what is due or unsent,
  not the size of the history.

Labels are bounded: route templates (never raw paths), campaign ids, case types, triggers,
channels and outcomes are all finite sets declared by the deployment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, literal_column, select

from storage import heartbeat
from storage.db import Database
from storage.tables import Delivery, Timer

log = logging.getLogger("paicha.metrics")

# no `…_created` twin of every series: the start time of a counter is the process's, which
# `process_start_time_seconds` already says
disable_created_metrics()  # type: ignore[no-untyped-call]

timer_t = Timer.__table__  # type: ignore[attr-defined]
delivery_t = Delivery.__table__  # type: ignore[attr-defined]

REQUESTS = Counter("paicha_http_requests", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("paicha_http_request_duration_seconds",
                    "Time from a request's arrival to the end of its response",
                    ["method", "route"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
EVENTS = Counter("paicha_events_fired", "Lifecycle events decided on cases (API and sweep)",
                 ["campaign", "case_type", "trigger"])
TIMERS_CLAIMED = Counter("paicha_timers_claimed", "Due timers claimed by this process's sweeps")
SWEEPS = Counter("paicha_sweeps", "Sweeps this process finished")
DELIVERIES = Counter("paicha_deliveries", "Delivery attempts by channel and outcome "
                     "(delivered, retry, dead, cancelled)", ["channel", "outcome"])

# the unsent statuses of the outbox (storage.deliveries.UNSENT)
UNSENT = ("pending", "sending", "dead")


def request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request answered."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def event_fired(campaign: str, case_type: str, trigger: str) -> None:
    EVENTS.labels(campaign, case_type, trigger).inc()


def timers_claimed(count: int) -> None:
    TIMERS_CLAIMED.inc(count)


def swept() -> None:
    SWEEPS.inc()


def delivery(channel: str, outcome: str) -> None:
    DELIVERIES.labels(channel, outcome).inc()


class DatabaseCollector(Collector):
    """The series read from the database at scrape time; `now` is the app's clock."""

    def __init__(self, db: Database, now: Callable[[], dt.datetime]) -> None:
        self.db = db
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("paicha_database_up",
                               "1 when the scrape could read the database, else 0")
        try:
            found = list(self._read())
        except Exception as exc:  # the process's own series are still worth a scrape
            log.warning("metrics: the database could not be read",
                        extra={"action": "metrics_unreadable", "error": repr(exc)})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> Iterator[Metric]:
        now = self.now()
        with self.db.read() as conn:
            # the partial index of pending due times: its first entry is the oldest
            oldest = conn.execute(select(func.min(timer_t.c.due_at)).where(
                timer_t.c.status == literal_column("'pending'"),
                timer_t.c.due_at <= now)).scalar()
            depth: dict[str, int] = dict(conn.execute(
                select(delivery_t.c.status, func.count()).where(
                    delivery_t.c.status.in_(UNSENT)).group_by(delivery_t.c.status)).all())
            beat = heartbeat.last(conn)
        lag = GaugeMetricFamily(
            "paicha_sweep_lag_seconds",
            "Age of the oldest pending timer that is due: 0 when the sweep keeps up")
        lag.add_metric([], max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0)
        yield lag
        outbox = GaugeMetricFamily("paicha_outbox_depth", "Deliveries not yet sent, by status",
                                   labels=["status"])
        for status in UNSENT:
            outbox.add_metric([status], int(depth.get(status, 0)))
        yield outbox
        dead = GaugeMetricFamily("paicha_dead_letters",
                                 "Deliveries that gave up, waiting for a redrive")
        dead.add_metric([], int(depth.get("dead", 0)))
        yield dead
        if beat is not None:
            last = GaugeMetricFamily("paicha_last_sweep_timestamp_seconds",
                                     "When a sweeper last finished a sweep (Unix time)")
            last.add_metric([], _aware(beat.swept_at).timestamp())
            yield last


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _Process(Collector):
    """This process's own series (the default registry), beside the database's."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(db: Database, now: Callable[[], dt.datetime]) -> bytes:
    """The text Prometheus scrapes: this process's series and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    registry.register(DatabaseCollector(db, now))
    return generate_latest(registry)
