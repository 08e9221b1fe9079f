"""Benchmark: the deadline bars — arming timers against APScheduler's job store, and the sweep of
due timers at 100k and 1M pending.

**Arming.** 100k timers of the special-action-2023 hazard's 整改期限 clock (20k cases × the five
timers ``engine.clocks.arm`` makes for a deadline: three reminders, overdue, escalation), built
once by the core before any timing, each case with an ``Owner`` of its own unit. They are stored
through ``storage.timers`` three ways, each into a fresh copy of a migrated database:

* ``per_case_calls`` (the bar): ``storage.timers.arm`` once per case, as an event arms its clock,
  the calls of a round inside one write transaction — an event's transaction exists anyway, so
  arming costs the call, not a commit;
* ``transaction_per_case``: the same calls, each in its own ``Database.write()`` transaction;
* ``one_executemany``: ``storage.timers.rows_for`` for every case of a round, then the Core
  ``insert(timer)`` executemany that ``arm`` runs, once per round (a bulk path).

The reference adds the same 100k (id = the timer key, run date = the timer's instant, moved 20
years ahead so that none is due) as date jobs of a module-level function to APScheduler 3.11's
``SQLAlchemyJobStore``, through ``scheduler.add_job`` on a ``BackgroundScheduler`` started paused
(a scheduler that is not started keeps added jobs in memory and never reaches its store). On
SQLite the store gets the engine of ``storage.db.Database`` for a separate file: WAL,
``synchronous=NORMAL``, as paicha's own — the fair comparison, and kinder to APScheduler than its
default; a small sample with the store's own default engine (rollback journal,
``synchronous=FULL``) is reported beside it. The four sides take turns in 10 rounds of 10k
(after a warm-up of 500 each), so that a busy spell of a shared machine hits all of them alike;
each side's seconds are summed over its rounds. Ratio = APScheduler seconds ÷ paicha seconds
(wall clock; the ratio of this process's CPU seconds is reported beside it); the bar is ≥ 10.

**Sweep.** A database with N pending timers (100k, then 1M), of which D (10k) are due at a fixed
``NOW`` (09:05 in Shanghai on a Tuesday, five minutes after that day's 09:00 reminders) and the rest
due later, swept by ``deadlines.sweep.Sweeper(db, registry, clock=lambda: NOW)`` with its production
batch size. The due timers are a mix, by rows: 60% case timers, 39% obligation reminders, 1% phase
deadlines. Case timers belong to real case rows: one hazard opened and planned through
``storage.cases.CaseStore`` (so with its audit entries), then copied with Core executemany under new
ids, units and deadlines — each copy has the row and running clock the store writes for that
deadline, without audit entries (the sweep reads none). Each due case has the timers its running
clock has stored by today: the reminders before today ``done`` (history rows, outside the partial
index) and today's, due and its one pending timer; handling it, the sweep arms the clock's next
timer (storage.timers keeps one pending timer per running clock), so that cost is in the bar.
Obligation timers belong to obligation rows inserted with Core; phase timers need no row. Nothing in
storage arms obligation or phase timers yet, so their rows follow what the sweep reads. The future
timers are of the same three shapes (a future case by the first timer of its schedule); their
subjects are not stored (no sweep in the run reaches them). Due and future rows are interleaved at
random, so the due rows are spread through the table as they would be when armed over months. Two
subscriptions exist: a webhook for the whole tree (every message goes to the log and to it) and a
WeCom robot for one street and overdue notices only (none of today's).

Seeding: Core ``insert(timer)`` executemany in batches of 10k rows, one transaction per batch,
rows built by ``storage.timers.rows_for`` for case timers; timed and reported, not part of a bar.
After seeding SQLite's WAL is checkpointed and PostgreSQL's tables are vacuumed and analyzed (the
steady state autovacuum keeps), so no sweep pays for the seeding. Before timing, the campaign
registry holds the campaign version (as in a sweeper that has run once). Both sizes are seeded
first, then swept in turns, ``--repeat`` times each (the due timers reset to pending and the
outbox emptied in between, untimed); the median is the figure. Bars: median sweep at 1M ≤ 2 s,
and median(1M) ≤ 1.5 × median(100k).

The claim query is the one the sweeper sends, captured from the engine during a sweep of the
freshly copied database (nothing due yet) and explained on the seeded one with the same
parameters: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` and ``EXPLAIN (ANALYZE, BUFFERS)`` (in a
rolled-back transaction) on PostgreSQL, plus its generic plan (``plan_cache_mode =
force_generic_plan``), the one a prepared statement could fall back to.

PostgreSQL runs when ``--postgres URL`` or $PAICHA_TEST_POSTGRES_URL names a server where the user
may create databases; the run creates scratch databases ``paicha_bench_…`` and drops them. There
APScheduler's store is a scratch PostgreSQL database too.

Prints one JSON object to stdout (progress goes to stderr). Exit status 0 when measured, bars
passed or not; 1 when the benchmark itself broke (a count off, a sweep that did not handle what
was due).

Run from the repository root::

    .venv/bin/python -m bench.deadlines [--quick] [--postgres URL] [--only arming|sweep]
        [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script, bench/ leads sys.path; the repository root must instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import psycopg
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from api.services import campaign_loader
from deadlines.sweep import Sweeper, SweepResult
from engine import clocks
from engine.access import Principal
from engine.dates import REMINDER_TIME, Deadlines, local_instant
from engine.model import Campaign, CaseType, Clock
from paicha.files import bundled_dir
from storage import timers
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore, case_t
from storage.db import Database, normalize_url
from storage.tables import Delivery, Deployment, Obligation, Org, Subscription, Unit

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
deployment_t = Deployment.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
timer_t = timers.timer_t

PG_ENV = "PAICHA_TEST_POSTGRES_URL"
CAMPAIGN_ID = "special-action-2023"
CASE_TYPE = "hazard"
CLOCK_ID = "rectification"
TIMEZONE = "Asia/Shanghai"
STREETS, UNITS = 10, 1000
SEED_BATCH = 10_000
ARM_ROUNDS = 10
DEFAULT_REPEAT = 3
ARM_BAR, SWEEP_BAR_S, SCALING_BAR = 10.0, 2.0, 1.5
GENERATION = 1
# APScheduler's run dates are the timers' instants moved this far ahead of 2023: a job already
# due would be run by the paused scheduler's thread as it shuts down.
APS_SHIFT = dt.timedelta(days=20 * 364)

SETUP_AT = dt.datetime(2023, 5, 20, 1, 0, tzinfo=dt.UTC)
ARMED_AT = dt.datetime(2023, 6, 1, 1, 0, tzinfo=dt.UTC)  # when the due cases' clocks started
DAY = dt.date(2023, 8, 8)  # a Tuesday, a working day
DUE_AT = local_instant(DAY, REMINDER_TIME, TIMEZONE)  # today's 09:00 reminders
NOW = DUE_AT + dt.timedelta(minutes=5)
FUTURE_DAYS = (1, 180)  # future obligation and phase timers: this many days after DAY
FUTURE_DEADLINE_DAYS = (9, 180)  # future cases' deadlines: all five timers still ahead
FUTURE_OBLIGATION_BASE = 100_000_000  # ids of obligations that future timers name (not stored)

# Due timers by rows: case timers, obligation reminders, phase deadlines.
MIX = (("case", 0.60), ("obligation", 0.39), ("phase", 0.01))
DESTINATIONS = 2  # every message: the log channel and the tree-wide webhook

PRINCIPAL = Principal(0, "bench.deadlines", frozenset({"principal"}), "admin")
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "location": "罐区",
          "found_on": "2023-05-30", "found_by": "企业自查"}
PLAN = {"goals_and_tasks": "恢复报警装置并接入中控室", "measures": "更换探头，校验联锁",
        "funds_and_materials": "企业自筹", "funds_amount": 12.5, "responsible": "设备部 张工",
        "deadline": "2023-09-28", "safety_measures": "整改期间人工巡检每2小时一次"}


def remind(key: str) -> None:
    """The APScheduler jobs' function (never run: the scheduler stays paused)."""


@dataclass(frozen=True)
class Sizes:
    arm: int
    due: int
    pending: tuple[int, ...]
    apscheduler_default_sample: int


FULL = Sizes(arm=100_000, due=10_000, pending=(100_000, 1_000_000),
             apscheduler_default_sample=2_000)
QUICK = Sizes(arm=10_000, due=1_000, pending=(10_000, 100_000), apscheduler_default_sample=200)


class BenchBroken(RuntimeError):
    """A count or a result is not what the benchmark set up: a broken run, not a figure."""


def _progress(message: str) -> None:
    print(f"bench.deadlines: {message}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    """Wall seconds, and CPU seconds of this process (a database server's are not in them)."""

    wall: float = 0.0
    cpu: float = 0.0


@contextlib.contextmanager
def _timing() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall
        timing.cpu = time.process_time() - cpu


# -- databases ------------------------------------------------------------------------------


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


class Backend:
    """Where the databases live: a migrated template, and fresh copies of it."""

    name = ""

    def template(self, build: Callable[[str], World]) -> World:
        raise NotImplementedError

    def copy(self) -> contextlib.AbstractContextManager[str]:
        raise NotImplementedError

    def scratch(self) -> contextlib.AbstractContextManager[str]:
        """An empty database (for APScheduler's store)."""
        raise NotImplementedError

    def close(self) -> None:
        """Remove whatever this backend made."""


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._template = folder / "template.db"
        self._made = 0

    def _path(self, stem: str) -> Path:
        self._made += 1
        return self.folder / f"{stem}-{self._made}.db"

    def template(self, build: Callable[[str], World]) -> World:
        return build(f"sqlite:///{self._template}")

    @contextlib.contextmanager
    def copy(self) -> Iterator[str]:
        path = self._path("copy")
        shutil.copy(self._template, path)
        try:
            yield f"sqlite:///{path}"
        finally:
            _remove_sqlite(path)

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        path = self._path("scratch")
        try:
            yield f"sqlite:///{path}"
        finally:
            _remove_sqlite(path)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, base_url: str) -> None:
        self.base = normalize_url(base_url)
        self.prefix = f"paicha_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._template = f"{self.prefix}_tpl"
        self._made: list[str] = []
        self._count = 0

    def _url(self, name: str) -> str:
        return make_url(self.base).set(database=name).render_as_string(hide_password=False)

    def _create(self, suffix: str, template: str | None = None) -> str:
        self._count += 1
        name = f"{self.prefix}_{suffix}{self._count}" if suffix else self._template
        self._made.append(name)
        _admin(self.base, f'CREATE DATABASE "{name}"'
               + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def _drop(self, name: str) -> None:
        _admin(self.base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.remove(name)

    def template(self, build: Callable[[str], World]) -> World:
        return build(self._url(self._create("")))

    @contextlib.contextmanager
    def copy(self) -> Iterator[str]:
        name = self._create("c", self._template)
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        name = self._create("s")
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    def close(self) -> None:
        for name in list(self._made):
            self._drop(name)


def _checkpoint_or_vacuum(db: Database) -> None:
    """Leave the database as it stands between sweeps: WAL folded in, or vacuumed and analyzed."""
    if db.is_sqlite:
        raw = db.engine.raw_connection()  # autocommit: a checkpoint runs outside transactions
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("timer", "delivery", "case_record", "obligation"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


# -- the world every database copy starts from ------------------------------------------------


@dataclass(frozen=True)
class World:
    """What the template holds: the published campaign, units, subscriptions and one real case."""

    registry: CampaignRegistry
    version_id: int
    campaign: Campaign
    case_type: CaseType
    clock: Clock
    deadlines: Deadlines
    root_path: str
    owners: tuple[timers.Owner, ...]
    case_row: Mapping[str, Any]  # the planned hazard, as CaseStore wrote it
    pending_at_start: int  # the real case's own timers

    def case_timers(self, case_id: str, due: dt.date, now: dt.datetime) -> tuple[clocks.Timer, ...]:
        return clocks.arm(self.campaign, self.clock, case_id, due, now, self.deadlines).timers


def _orgs_and_units(conn: Connection) -> tuple[str, list[tuple[str, str]]]:
    root = "/bench/"
    orgs = [{"id": "bench", "name": "基准区", "level": "county", "parent_id": None,
             "path": root, "version": 1, "created_at": SETUP_AT, "updated_at": SETUP_AT}]
    orgs += [{"id": f"s{s:02d}", "name": f"第{s}街道", "level": "street", "parent_id": "bench",
              "path": f"{root}s{s:02d}/", "version": 1, "created_at": SETUP_AT,
              "updated_at": SETUP_AT} for s in range(STREETS)]
    conn.execute(insert(org_t), orgs)
    units = [(f"u{u:05d}", f"{root}s{u % STREETS:02d}/") for u in range(UNITS)]
    conn.execute(insert(unit_t), [
        {"id": uid, "name": f"基准企业{uid}", "org_id": path.strip("/").split("/")[-1],
         "org_path": path, "industry": "hazardous_chemicals", "tags": [], "version": 1,
         "created_at": SETUP_AT, "updated_at": SETUP_AT} for uid, path in units])
    conn.execute(insert(deployment_t).values(campaign_id=CAMPAIGN_ID, org_id="bench",
                                             org_path=root, created_at=SETUP_AT))
    conn.execute(insert(subscription_t), [
        {"name": "全区 webhook", "channel": "webhook", "org_id": "bench", "org_path": root,
         "config": {"url": "http://127.0.0.1:9/paicha", "secret": "bench-secret"},
         "campaign_id": None, "kinds": [], "roles": [], "created_by": "bench",
         "created_at": SETUP_AT},
        {"name": "第0街道 企业微信", "channel": "wecom", "org_id": "s00", "org_path": f"{root}s00/",
         "config": {"key": "bench-key"}, "campaign_id": None, "kinds": ["overdue", "escalate"],
         "roles": [], "created_by": "bench", "created_at": SETUP_AT}])
    return root, units


def _build_world(url: str) -> World:
    db = Database(url)
    registry = CampaignRegistry(campaign_loader)
    try:
        prepare(db, registry, bundled_dir(), now=SETUP_AT)
        with db.write() as conn:
            root, units = _orgs_and_units(conn)
            published = registry.newest(conn, CAMPAIGN_ID)
            store = CaseStore(registry)
            stored, _ = store.open(conn, PRINCIPAL, campaign_id=CAMPAIGN_ID, case_type=CASE_TYPE,
                                   unit_id=units[0][0], data=HAZARD, now=ARMED_AT)
            store.fire(conn, PRINCIPAL, stored.id, trigger="plan", data=PLAN,
                       expected_version=1, now=ARMED_AT)
            row = conn.execute(select(case_t).where(case_t.c.id == stored.id)).one()
            pending = conn.execute(select(func.count()).where(
                timer_t.c.status == timers.PENDING)).scalar_one()
    finally:
        db.dispose()
    campaign = published.loaded.campaign
    case_type = campaign.cases[CASE_TYPE]
    if CLOCK_ID not in row.clocks:
        raise BenchBroken(f"the planned hazard runs no {CLOCK_ID} clock: {row.clocks}")
    owners = tuple(timers.Owner(CAMPAIGN_ID, path, uid, case_type) for uid, path in units)
    return World(registry, published.row.id, campaign, case_type,
                 next(c for c in case_type.clocks if c.id == CLOCK_ID),
                 Deadlines.for_campaign(campaign), root, owners, dict(row._mapping),
                 int(pending))


def _count(conn: Connection, *conditions: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(timer_t).where(*conditions))
               .scalar_one())


# -- arming ------------------------------------------------------------------------------------


ArmWork = list[tuple[timers.Owner, tuple[clocks.Timer, ...]]]
MODES = ("per_case_calls", "transaction_per_case", "one_executemany")


def _arm_work(world: World, count: int, prefix: str) -> ArmWork:
    """`count` timers: whole cases of five, deadlines spread over the months ahead."""
    rng = random.Random(7)
    work: ArmWork = []
    made, i = 0, 0
    while made < count:
        due = DAY + dt.timedelta(days=rng.randint(*FUTURE_DEADLINE_DAYS))
        found = world.case_timers(f"{prefix}{i:07d}", due, NOW)[: count - made]
        work.append((world.owners[i % len(world.owners)], found))
        made += len(found)
        i += 1
    return work


def _arm_in(db: Database, work: ArmWork, mode: str) -> None:
    if mode == "per_case_calls":
        with db.write() as conn:
            for owner, found in work:
                timers.arm(conn, found, GENERATION, owner)
    elif mode == "transaction_per_case":
        for owner, found in work:
            with db.write() as conn:
                timers.arm(conn, found, GENERATION, owner)
    else:
        with db.write() as conn:
            rows = [r for owner, found in work for r in timers.rows_for(found, GENERATION, owner)]
            conn.execute(insert(timer_t), rows)


def _jobs(work: ArmWork) -> list[tuple[str, dt.datetime]]:
    """APScheduler's side of the same timers: (job id, run date)."""
    return [(timers.timer_key(t, GENERATION), t.at + APS_SHIFT) for _, found in work
            for t in found]


def _add_jobs(scheduler: Any, jobs: Sequence[tuple[str, dt.datetime]]) -> None:
    for key, at in jobs:
        scheduler.add_job(remind, "date", run_date=at, id=key, args=(key,))


@contextlib.contextmanager
def _paused_scheduler(store: Any) -> Iterator[Any]:
    """A scheduler whose add_job reaches `store` (it is running) and runs nothing (paused)."""
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def _stored_jobs(store: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(store.jobs_t)).scalar_one())


def _rounds(work: ArmWork, count: int) -> list[ArmWork]:
    size = -(-len(work) // count)
    return [work[i:i + size] for i in range(0, len(work), size)]


def _measure_arming(backend: Backend, world: World, sizes: Sizes) -> dict[str, Any]:
    work = _arm_work(world, sizes.arm, "arm")
    warm = _arm_work(world, 500, "warm")
    rounds = _rounds(work, ARM_ROUNDS)
    spent = {mode: Timing() for mode in (*MODES, "apscheduler")}
    with contextlib.ExitStack() as stack:
        dbs = {mode: Database(stack.enter_context(backend.copy())) for mode in MODES}
        aps_db = Database(stack.enter_context(backend.scratch()))
        for db in (*dbs.values(), aps_db):
            stack.callback(db.dispose)
        store = SQLAlchemyJobStore(engine=aps_db.engine)
        scheduler = stack.enter_context(_paused_scheduler(store))
        # Warm-up: compiled statements, pickling, the pools' connections.
        for mode, db in dbs.items():
            _arm_in(db, warm, mode)
        _add_jobs(scheduler, _jobs(warm))
        # Interleaved rounds, so that a busy spell of a shared machine hits every side alike.
        for n, chunk in enumerate(rounds, 1):
            for mode, db in dbs.items():
                with _timing() as timing:
                    _arm_in(db, chunk, mode)
                spent[mode].wall += timing.wall
                spent[mode].cpu += timing.cpu
            jobs = _jobs(chunk)
            with _timing() as timing:
                _add_jobs(scheduler, jobs)
            spent["apscheduler"].wall += timing.wall
            spent["apscheduler"].cpu += timing.cpu
            _progress(f"{backend.name}: arming round {n}/{len(rounds)}: "
                      + ", ".join(f"{k} {v.wall:.2f} s" for k, v in spent.items()))
        for mode, db in dbs.items():
            with db.read() as conn:
                stored = _count(conn, timer_t.c.key.like("arm%"))
            if stored != sizes.arm:
                raise BenchBroken(f"arming {mode}: {stored} rows stored, {sizes.arm} armed")
        if _stored_jobs(store) != sizes.arm + 500:
            raise BenchBroken(f"APScheduler stored {_stored_jobs(store)} jobs")
    aps = spent.pop("apscheduler")
    report: dict[str, Any] = {
        "timers": sizes.arm, "cases": len(work), "rounds": len(rounds),
        "paicha_seconds": {k: round(v.wall, 3) for k, v in spent.items()},
        "paicha_cpu_seconds": {k: round(v.cpu, 3) for k, v in spent.items()},
        "paicha_timers_per_s": {k: round(sizes.arm / v.wall, 1) for k, v in spent.items()},
        "apscheduler_seconds": round(aps.wall, 3),
        "apscheduler_cpu_seconds": round(aps.cpu, 3),
        "apscheduler_jobs_per_s": round(sizes.arm / aps.wall, 1),
        "apscheduler_store": ("SQLAlchemyJobStore(engine=storage.db.Database(url).engine), "
                              "BackgroundScheduler.start(paused=True), add_job(remind, 'date')"),
        "ratios": {k: round(aps.wall / v.wall, 2) for k, v in spent.items()},
        "cpu_ratios": {k: round(aps.cpu / v.cpu, 2) for k, v in spent.items()},
    }
    report["ratio"] = report["ratios"]["per_case_calls"]
    report["passed_by_mode"] = {k: v >= ARM_BAR for k, v in report["ratios"].items()}
    report["bar"] = f"apscheduler_seconds / paicha_seconds.per_case_calls >= {ARM_BAR:g}"
    report["passed"] = report["ratio"] >= ARM_BAR
    if backend.name == "sqlite":
        report["apscheduler_default_engine_sample"] = _default_engine_sample(
            backend, _jobs(work)[: sizes.apscheduler_default_sample], aps.wall / sizes.arm,
            spent["per_case_calls"].wall / sizes.arm)
    return report


def _default_engine_sample(backend: Backend, jobs: Sequence[tuple[str, dt.datetime]],
                           aps_per_job: float, paicha_per_timer: float) -> dict[str, Any]:
    """APScheduler's store on its own default SQLite engine, for a few jobs (informative)."""
    with backend.scratch() as url:
        _progress(f"sqlite: {len(jobs)} APScheduler jobs, the store's default engine")
        store = SQLAlchemyJobStore(url=url)
        try:
            with _paused_scheduler(store) as scheduler, _timing() as timing:
                _add_jobs(scheduler, jobs)
            if _stored_jobs(store) != len(jobs):
                raise BenchBroken("APScheduler's default engine lost jobs")
        finally:
            store.engine.dispose()
    per_job = timing.wall / len(jobs)
    return {"jobs": len(jobs), "seconds": round(timing.wall, 3),
            "us_per_job": round(per_job * 1e6, 1),
            "us_per_job_same_settings_as_paicha": round(aps_per_job * 1e6, 1),
            "ratio_per_case_calls_extrapolated": round(per_job / paicha_per_timer, 2),
            "note": "SQLAlchemyJobStore(url=...): rollback journal, synchronous=FULL; "
                    "not in the bar"}


# -- seeding the sweep -------------------------------------------------------------------------


@dataclass
class Group:
    """The timer rows of one subject, and how many of them are pending."""

    rows: list[dict[str, Any]]
    pending: int


def _split(total: int) -> dict[str, int]:
    counts = {kind: int(total * share) for kind, share in MIX}
    counts["case"] += total - sum(counts.values())
    return counts


def _due_deadlines(world: World) -> list[dt.date]:
    """Deadlines with a reminder at today's 09:00 (today's, tomorrow's, next week's …)."""
    found = [DAY + dt.timedelta(days=k) for k in range(15)
             if any(t.at == DUE_AT for t in world.case_timers("x", DAY + dt.timedelta(days=k),
                                                                  ARMED_AT))]
    if not found:
        raise BenchBroken(f"no deadline of {CLOCK_ID} reminds at {DUE_AT}")
    return found


def _case_group(world: World, case_id: str, owner: timers.Owner,
                found: Sequence[clocks.Timer]) -> Group:
    # A running clock keeps one pending timer (storage.timers): the earlier reminders are done,
    # today's is pending, the later ones are armed by the sweep as it handles today's.
    rows = []
    for row in timers.rows_for(found, GENERATION, owner):
        if row["due_at"] < DUE_AT:  # an earlier reminder: sent already
            row.update(status=timers.DONE, attempts=1, handled_at=row["due_at"])
        rows.append(row)
        if row["status"] == timers.PENDING:
            break
    return Group(rows, 1)


def _obligation_timer(obligation_id: int, owner: timers.Owner, role: str, due: dt.date,
                      at: dt.datetime) -> dict[str, Any]:
    kind = "check_due" if local_instant(due, REMINDER_TIME, TIMEZONE) == at else "check_reminder"
    label = "0d" if kind == "check_due" else f"-{(due - DAY).days}d"
    return {"key": f"obligation:{obligation_id}/{due}/{kind}/{label}",
            "subject": f"obligation:{obligation_id}", "clock_id": "", "kind": kind,
            "campaign_id": CAMPAIGN_ID, "org_path": owner.org_path, "unit_id": owner.unit_id,
            "roles": [role], "due_date": due, "due_at": at, "status": timers.PENDING,
            "attempts": 0, "payload": {"label": label}}


def _phase_timer(world: World, i: int, org_path: str, due: dt.date,
                 at: dt.datetime) -> dict[str, Any]:
    phase = world.campaign.phases[i % len(world.campaign.phases)]
    return {"key": f"phase:{CAMPAIGN_ID}/{phase.id}/{i}/{due}",
            "subject": f"phase:{CAMPAIGN_ID}/{phase.id}", "clock_id": "", "kind": "phase_due",
            "campaign_id": CAMPAIGN_ID, "org_path": org_path, "unit_id": None,
            "roles": ["safety_office"], "due_date": due, "due_at": at,
            "status": timers.PENDING, "attempts": 0,
            "payload": {"name": phase.name, "phase": phase.id, "due": due.isoformat(),
                        "nominal": due.isoformat()}}


def _due_subjects(conn: Connection, world: World, counts: Mapping[str, int]) -> list[Group]:
    """Insert the due cases and obligations; the due timer groups of every subject."""
    groups: list[Group] = []
    deadlines = _due_deadlines(world)
    cases: list[dict[str, Any]] = []
    for i in range(counts["case"]):
        owner = world.owners[i % len(world.owners)]
        due = deadlines[i % len(deadlines)]
        case_id = f"due{i:07d}"
        cases.append({**world.case_row, "id": case_id, "unit_id": owner.unit_id,
                      "org_path": owner.org_path,
                      "data": {**world.case_row["data"], "deadline": due.isoformat()},
                      "clocks": {CLOCK_ID: {"due": due.isoformat(), "gen": GENERATION}},
                      "next_due": due})
        groups.append(_case_group(world, case_id, owner,
                                  world.case_timers(case_id, due, ARMED_AT)))
    for start in range(0, len(cases), SEED_BATCH):
        conn.execute(insert(case_t), cases[start:start + SEED_BATCH])

    first_id = int(conn.execute(select(func.coalesce(func.max(obligation_t.c.id), 0)))
                   .scalar_one()) + 1
    checks = world.campaign.checks
    obligations: list[dict[str, Any]] = []
    for i in range(counts["obligation"]):
        owner = world.owners[i % len(world.owners)]
        check = checks[(i // len(world.owners)) % len(checks)]
        due = deadlines[(i // (len(world.owners) * len(checks))) % len(deadlines)]
        obligation_id = first_id + i
        obligations.append({
            "id": obligation_id, "campaign_id": CAMPAIGN_ID,
            "campaign_version_id": world.version_id, "check_id": check.id, "name": check.name,
            "role": check.who, "subject_kind": "unit", "subject_id": owner.unit_id,
            "org_path": owner.org_path, "period": "", "due": due, "times": 1, "done": 0,
            "variant": None, "report": None, "completed_at": None})
        groups.append(Group([_obligation_timer(obligation_id, owner, check.who, due, DUE_AT)],
                            1))
    for start in range(0, len(obligations), SEED_BATCH):
        conn.execute(insert(obligation_t), obligations[start:start + SEED_BATCH])
    for i in range(counts["phase"]):
        groups.append(Group([_phase_timer(world, i, world.root_path, DAY, DUE_AT)], 1))
    return groups


def _future_rows(world: World, budget: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Exactly `budget` pending rows due after NOW, of the mix's shapes (a case's running clock
    by its one pending timer, the first of its schedule)."""
    shares = dict(MIX)
    weights = [shares["case"], shares["obligation"], shares["phase"]]
    templates: dict[dt.date, tuple[clocks.Timer, ...]] = {}
    made, i = 0, 0
    while made < budget:
        owner = world.owners[i % len(world.owners)]
        [kind] = rng.choices(("case", "obligation", "phase"), weights)
        if kind == "case":
            due = DAY + dt.timedelta(days=rng.randint(*FUTURE_DEADLINE_DAYS))
            if due not in templates:
                templates[due] = world.case_timers("x", due, NOW)
            case_id = f"future{i:08d}"
            rows = timers.rows_for([dataclasses.replace(templates[due][0], case_id=case_id)],
                                   GENERATION, owner)
        else:
            due = DAY + dt.timedelta(days=rng.randint(*FUTURE_DAYS))
            at = local_instant(due - dt.timedelta(days=rng.choice((0, 0, 1, 3))),
                               REMINDER_TIME, TIMEZONE)
            at = max(at, NOW + dt.timedelta(hours=1))
            rows = [_obligation_timer(FUTURE_OBLIGATION_BASE + i, owner, "principal", due, at)
                    if kind == "obligation" else
                    _phase_timer(world, i, owner.org_path, due, at)]
        for row in rows[: budget - made]:
            yield row
            made += 1
        i += 1


def _seed(db: Database, world: World, pending: int, due: int) -> dict[str, Any]:
    rng = random.Random(pending)
    start = time.perf_counter()
    with db.write() as conn:
        groups = _due_subjects(conn, world, _split(due))
    due_pending = sum(g.pending for g in groups)
    budget = pending - world.pending_at_start - due_pending
    if budget < 0:
        raise BenchBroken(f"{pending} pending cannot hold {due_pending} of the due subjects")
    rng.shuffle(groups)
    places = sorted(rng.randrange(budget + 1) for _ in groups)
    written = history = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written
        with db.write() as conn:
            conn.execute(insert(timer_t), batch)
        written += len(batch)
        batch.clear()

    def take(rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:  # executemany wants the same keys in every row
            row.setdefault("handled_at", None)
        batch.extend(rows)
        if len(batch) >= SEED_BATCH:
            flush()
            if written // SEED_BATCH % 20 == 0:
                _progress(f"  {written} timer rows, {time.perf_counter() - start:.1f} s")

    g = 0
    for n, row in enumerate(_future_rows(world, budget, rng)):
        while g < len(groups) and places[g] <= n:
            take(groups[g].rows)
            history += len(groups[g].rows) - groups[g].pending
            g += 1
        take([row])
    for group in groups[g:]:
        take(group.rows)
        history += len(group.rows) - group.pending
    if batch:
        flush()
    seeded = time.perf_counter() - start
    with db.read() as conn:
        stored_pending = _count(conn, timer_t.c.status == timers.PENDING)
        stored_due = _count(conn, timer_t.c.status == timers.PENDING, timer_t.c.due_at <= NOW)
    if (stored_pending, stored_due) != (pending, due):
        raise BenchBroken(f"seeded {stored_pending} pending, {stored_due} due; "
                          f"meant {pending}, {due}")
    start = time.perf_counter()
    _checkpoint_or_vacuum(db)
    return {"seconds": round(seeded, 3), "rows": written,
            "rows_per_s": round(written / seeded, 1), "history_rows_done": history,
            "due_by_subject": _split(due),
            "checkpoint_or_vacuum_seconds": round(time.perf_counter() - start, 3)}


# -- the claim query ---------------------------------------------------------------------------


@dataclass
class Captured:
    statement: str = ""
    parameters: Any = None


def _capture_claim(db: Database, world: World) -> Captured:
    """The claim query as the sweeper sends it at NOW (run before anything is due)."""
    captured = Captured()

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        head = statement.lstrip().upper()
        if not captured.statement and head.startswith("SELECT") and "FROM TIMER" in head:
            captured.statement, captured.parameters = statement, parameters

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        result = Sweeper(db, world.registry, clock=lambda: NOW).sweep()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    if result.claimed or not captured.statement:
        raise BenchBroken(f"claim capture: {result.claimed} claimed, "
                          f"statement {captured.statement!r}")
    return captured


def _plan_lines(conn: Connection, sql: str, parameters: Any) -> list[str]:
    rows = conn.exec_driver_sql(sql, parameters).all()
    if conn.dialect.name == "sqlite":
        return [str(r[3]) for r in rows]
    return [str(r[0]) for r in rows]


def _generic_plan(conn: Connection, captured: Captured) -> list[str]:
    """PostgreSQL's generic plan of the claim query: the plan a prepared statement (psycopg
    prepares a query it has run five times) may switch to, with no parameter values known."""
    params = captured.parameters
    if not isinstance(params, Mapping):
        raise TypeError(f"expected named parameters, got {params!r}")
    sql = captured.statement
    for n, name in enumerate(params, 1):
        sql = sql.replace(f"%({name})s", f"${n}")
    # Client-side binding: a PREPARE's own $n must not be taken for the protocol's parameters.
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"expected a psycopg connection, got {raw!r}")
    cursor = psycopg.ClientCursor(raw)
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute(f"PREPARE bench_claim AS {sql}")
    try:
        cursor.execute("EXPLAIN EXECUTE bench_claim({})".format(", ".join(["%s"] * len(params))),
                       list(params.values()))
        return [str(r[0]) for r in cursor.fetchall()]
    finally:
        cursor.execute("DEALLOCATE bench_claim")


def _explain(db: Database, captured: Captured) -> dict[str, Any]:
    report: dict[str, Any] = {"sql": " ".join(captured.statement.split()),
                              "parameters": repr(captured.parameters)}
    if db.is_sqlite:
        with _rolled_back(db) as conn:
            lines = _plan_lines(conn, f"EXPLAIN QUERY PLAN {captured.statement}",
                                captured.parameters)
        report["explain_query_plan"] = lines
        report["uses_partial_index"] = any("ix_timer_pending_due" in x for x in lines)
        report["sorts"] = any("TEMP B-TREE" in x for x in lines)
        return report
    with _rolled_back(db) as conn:  # the analyzed run locks the rows it claims
        lines = _plan_lines(conn, f"EXPLAIN {captured.statement}", captured.parameters)
        report["explain"] = lines
        report["explain_analyze"] = _plan_lines(
            conn, f"EXPLAIN (ANALYZE, BUFFERS) {captured.statement}", captured.parameters)
    report["uses_partial_index"] = any("ix_timer_pending_due" in x for x in lines)
    report["sorts"] = any(x.strip().startswith(("Sort", "->  Sort")) for x in lines)
    try:
        with _rolled_back(db) as conn:
            report["generic_plan"] = _generic_plan(conn, captured)
    except Exception as exc:  # informative only; the sweep does not depend on it
        report["generic_plan_error"] = f"{type(exc).__name__}: {exc}"
    return report


@contextlib.contextmanager
def _rolled_back(db: Database) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back, whatever happens."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


def _claim_query_ms(db: Database, captured: Captured, repeat: int = 5) -> float:
    """Median time of the claim query alone, fetching its batch (rolled back)."""
    times: list[float] = []
    for _ in range(repeat):
        with _rolled_back(db) as conn:
            start = time.perf_counter()
            conn.exec_driver_sql(captured.statement, captured.parameters).all()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


# -- sweeping ----------------------------------------------------------------------------------


def _check_sweep(db: Database, result: SweepResult, due: int) -> None:
    expected = (due, due, 0, 0, due * DESTINATIONS)
    with db.read() as conn:
        queued = int(conn.execute(select(func.count()).select_from(delivery_t)).scalar_one())
    # The outbox rows are counted, not taken from SweepResult.queued: on PostgreSQL the
    # executemany's rowcount is -1 (SQLAlchemy's insertmanyvalues), so queued is -1 per batch.
    got = (result.claimed, result.notified, result.stale, result.fired, queued)
    if got != expected or result.refusals:
        raise BenchBroken(f"sweep (claimed, notified, stale, fired, queued) = {got}, "
                          f"meant {expected}; refusals {result.refusals[:3]}")


def _reset(db: Database, pending: int, last_seeded_id: int) -> None:
    """Put the swept timers back to pending, drop the ones it armed and empty the outbox
    (untimed)."""
    with db.write() as conn:
        conn.execute(delete(timer_t).where(timer_t.c.id > last_seeded_id))
        conn.execute(update(timer_t).where(
            timer_t.c.status.in_((timers.DONE, timers.CANCELLED)), timer_t.c.handled_at == NOW)
            .values(status=timers.PENDING, attempts=0, handled_at=None))
        conn.execute(delete(delivery_t))
        if _count(conn, timer_t.c.status == timers.PENDING) != pending:
            raise BenchBroken("reset did not restore every pending timer")
    _checkpoint_or_vacuum(db)


@dataclass
class Swept:
    """One seeded database of a size, and what its sweeps measured."""

    db: Database
    pending: int
    due: int
    last_seeded_id: int  # timers above it were armed by a sweep
    report: dict[str, Any]
    wall: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)


def _prepared(url: str, world: World, pending: int, due: int, backend: str) -> Swept:
    db = Database(url)
    captured = _capture_claim(db, world)
    _progress(f"{backend}: seeding {pending} pending timers, {due} due")
    seeding = _seed(db, world, pending, due)
    _progress(f"{backend}: seeded in {seeding['seconds']} s")
    report = {"pending": pending, "due": due, "seeding": seeding,
              "claim_query_ms": round(_claim_query_ms(db, captured), 3),
              "plan": _explain(db, captured)}
    with db.read() as conn:
        last_id = int(conn.execute(select(func.max(timer_t.c.id))).scalar_one())
    return Swept(db, pending, due, last_id, report)


def _sweep_once(swept: Swept, world: World, first: bool) -> None:
    sweeper = Sweeper(swept.db, world.registry, clock=lambda: NOW)
    with _timing() as timing:
        result = sweeper.sweep()
    swept.wall.append(timing.wall)
    swept.cpu.append(timing.cpu)
    _check_sweep(swept.db, result, swept.due)
    swept.report.update(batch=sweeper.batch, batches=result.batches,
                        queued_as_reported_by_the_sweep=result.queued)
    swept.report.update(next_timers_armed=result.armed)
    if first:
        again = sweeper.sweep()
        with swept.db.read() as conn:
            left = _count(conn, timer_t.c.status == timers.PENDING)
        meant = swept.pending - swept.due + result.armed
        if again.claimed or left != meant or result.armed_due:
            raise BenchBroken(f"second sweep claimed {again.claimed}; {left} pending left, "
                              f"meant {meant}; {result.armed_due} armed due at once")


def _measure_sweeps(backend: Backend, world: World, sizes: Sizes,
                    repeat: int) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        all_swept: list[Swept] = []
        for pending in sizes.pending:
            swept = _prepared(stack.enter_context(backend.copy()), world, pending, sizes.due,
                              backend.name)
            stack.callback(swept.db.dispose)
            all_swept.append(swept)
        with all_swept[0].db.read() as conn:
            world.registry.get(conn, world.version_id)  # as in a sweeper that has run once
        # The sizes take turns, so that a busy spell of a shared machine hits both alike.
        for n in range(repeat):
            for swept in all_swept:
                _sweep_once(swept, world, first=n == 0)
                _progress(f"{backend.name}: swept {swept.due} of {swept.pending} in "
                          f"{swept.wall[-1]:.3f} s")
            if n < repeat - 1:
                for swept in all_swept:
                    _reset(swept.db, swept.pending, swept.last_seeded_id)
    runs = []
    for swept in all_swept:
        median = statistics.median(swept.wall)
        runs.append({**swept.report, "seconds_median": round(median, 3),
                     "seconds_runs": [round(x, 3) for x in swept.wall],
                     "cpu_seconds_runs": [round(x, 3) for x in swept.cpu],
                     "due_per_s": round(swept.due / median, 1),
                     "queued_deliveries": swept.due * DESTINATIONS})
    small, large = runs[0], runs[-1]
    scaling = large["seconds_median"] / small["seconds_median"]
    return {
        "runs": runs,
        "scaling_ratio": round(scaling, 3),
        "cpu_scaling_ratio": round(statistics.median(all_swept[-1].cpu)
                                   / statistics.median(all_swept[0].cpu), 3),
        "bars": {"seconds_at_largest": f"<= {SWEEP_BAR_S:g} s ({large['pending']} pending)",
                 "scaling": f"seconds({large['pending']}) <= {SCALING_BAR:g} x "
                            f"seconds({small['pending']})"},
        "passed_time": large["seconds_median"] <= SWEEP_BAR_S,
        "passed_scaling": scaling <= SCALING_BAR,
        "full_size": sizes == FULL,
    }


# -- the run -----------------------------------------------------------------------------------


def _run_backend(backend: Backend, sizes: Sizes, repeat: int, only: str | None
                 ) -> dict[str, Any]:
    _progress(f"{backend.name}: building the template database")
    start = time.perf_counter()
    world = backend.template(_build_world)
    report: dict[str, Any] = {"template_seconds": round(time.perf_counter() - start, 3)}
    passed = True
    if only in (None, "arming"):
        report["arming"] = _measure_arming(backend, world, sizes)
        passed = passed and report["arming"]["passed"]
    if only in (None, "sweep"):
        report["sweep"] = _measure_sweeps(backend, world, sizes, repeat)
        passed = passed and report["sweep"]["passed_time"] and report["sweep"]["passed_scaling"]
    report["passed"] = bool(passed)
    return report


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench.deadlines",
        description="Time arming timers against APScheduler's job store, and the due-timer "
                    "sweep at 100k and 1M pending.")
    parser.add_argument("--quick", action="store_true",
                        help="smoke sizes: 10k armed; 1k due among 10k and 100k pending")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get(PG_ENV),
                        help=f"also run on PostgreSQL (default ${PG_ENV}); the user must be "
                             "allowed to create databases")
    parser.add_argument("--only", choices=("arming", "sweep"),
                        help="measure one of the two (default: both)")
    parser.add_argument("--repeat", type=_positive, default=DEFAULT_REPEAT, metavar="N",
                        help=f"sweeps per size, the median counts (default {DEFAULT_REPEAT})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = QUICK if args.quick else FULL
    load = [round(x, 2) for x in os.getloadavg()]  # these machines are shared: say how busy
    report: dict[str, Any] = {
        "benchmark": "deadlines", "quick": args.quick, "sizes": dataclasses.asdict(sizes),
        "repeat": args.repeat, "only": args.only, "now": NOW.isoformat(), "mix_of_due": dict(MIX),
        "seeding_method": f"SQLAlchemy Core insert(timer) executemany, {SEED_BATCH} rows "
                          "per transaction; case timer rows from storage.timers.rows_for",
        "bars": {"arming_ratio": f">= {ARM_BAR:g}", "sweep_seconds_at_1m": f"<= {SWEEP_BAR_S:g}",
                 "sweep_scaling_1m_over_100k": f"<= {SCALING_BAR:g}"},
        "backends": {},
    }
    backends: list[Backend] = []
    try:
        with tempfile.TemporaryDirectory(prefix="paicha-bench-deadlines-") as folder:
            backends.append(SqliteBackend(Path(folder)))
            if args.postgres:
                backends.append(PostgresBackend(args.postgres))
            for backend in backends:
                try:
                    found = _run_backend(backend, sizes, args.repeat, args.only)
                    report["backends"][backend.name] = found
                finally:
                    backend.close()
    except BenchBroken as exc:
        print(f"bench.deadlines: broken run: {exc}", file=sys.stderr)
        return 1
    report["passed"] = all(b["passed"] for b in report["backends"].values())
    report["load_average_at_start_and_end"] = [load, [round(x, 2) for x in os.getloadavg()]]
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
