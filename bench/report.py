"""Benchmark: the dispatch report bar — the national 调度表 of special-action-2023 with every
child's figures, over 1M hazards, on SQLite and PostgreSQL.

**The data.** A four-level tree: one province (`/p/`), ``CITIES`` cities (`/p/c01/`), 10
counties or districts each (`/p/c01/c01-d03/`), 10 streets each (`/p/c01/c01-d03/c01-d03-s07/`),
1,111 rows in ``org``; ``--units`` units (10k) spread over the 1,000 streets (``bench.seed``'s
unit rows); the bundled campaigns published by ``storage.bootstrap.prepare`` and
special-action-2023 deployed at the province (its ``deployment`` row: the dispatch form has no
``count_checks`` row, so no obligations are expanded). Then ``--cases`` hazards (1M) written
straight into ``case_record`` with Core ``executemany`` in batches of 10k: states reported /
rectifying / supervised / awaiting_acceptance / closed (half closed, ``final``), grade major for
~10%, source self_inspection / department_inspection / supervised (the department's carry
``found_by_path``, the county that registered them), ``found_on``, a plan's ``funds_amount`` and
deadline where one was made, a ``supervision_document`` where one was issued, ``next_due`` for
running clocks; opened over 2023-05-01..2023-12-20 and last changed up to 60 days later (not after
2023-12-31 noon UTC). ``--history`` (100k) older versions go into ``case_history`` for cases
picked at random among those with more than one version, each such case with every earlier
version, chained ``valid_from`` < ``valid_to`` from its opening to its last change, as the
trigger would have kept them. (The other cases have no stored past: at a past date they count
from their last change. The figures are not checked; the query's work is what is measured.)

SQLite is loaded with ``journal_mode=OFF`` and ``synchronous=OFF`` on a plain engine and put back
in WAL afterwards; PostgreSQL with ``synchronous_commit=off``. Both are then analyzed (SQLite
``ANALYZE``, PostgreSQL ``VACUUM (ANALYZE)``). ``--keep DIR`` keeps the SQLite file (and the
PostgreSQL database) with a manifest and reuses them on the next run with the same sizes.

**The measurements** (each warmed once, then ``--repeat`` runs, default 5; median and min):

* ``whole_tree_s``: ``storage.reports.compute(conn, Scope(campaign, '/p/', 2023-12-31, tz,
  period), engine.reports.measured(dispatch), children=True)`` in a read transaction of
  ``storage.db.Database`` — the province's figures and each city's. Bar ≤ 2 s (goal 1 s).
* ``street_s``: the same for one street (the one with the most cases). Bar ≤ 0.2 s.
* ``past_whole_tree_s``: the province at 2023-08-31, where many history rows apply (no bar).
* the reference ``bare_group_by_s``: ``SELECT substr(org_path, 1, 7), count(*) FROM case_record
  GROUP BY 1`` over the same table (the cities' counts); ``ratio`` = whole_tree_s ÷ it.

``cpu_s`` holds this process's CPU seconds (medians): on SQLite all of the work, so a figure
that a busy shared machine stretches can be told apart; on PostgreSQL only the client's. The
JSON holds each query's plan (``EXPLAIN QUERY PLAN`` / PostgreSQL ``EXPLAIN``), captured
from the statements ``compute`` sent. PostgreSQL runs unless ``--skip-postgres``, on ``--postgres
URL`` (default $PAICHA_TEST_POSTGRES_URL, else the local server); the scratch database is
``paicha_bench_report`` (dropped at the end unless ``--keep``).

Prints one JSON object to stdout (progress to stderr); exit 0 when measured, bars passed or not.

Run from the repository root::

    .venv/bin/python -m bench.report [--cases N] [--units N] [--history N] [--repeat N]
        [--keep DIR] [--postgres URL | --skip-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from api.services import campaign_loader
from bench.deadlines import _admin
from bench.seed import HAZARDS, PLACES, SOURCES, _hex_id, _insert, _positive, _units
from engine import reports as core
from engine.access import Principal
from engine.dates import local_date
from paicha.files import bundled_dir
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.db import Database, json_text, json_value, normalize_url
from storage.reports import Scope, compute
from storage.tables import Case as CaseRow
from storage.tables import CaseHistory, Deployment, Org
from storage.tables import Unit as UnitRow

case_t = CaseRow.__table__  # type: ignore[attr-defined]
history_t = CaseHistory.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = UnitRow.__table__  # type: ignore[attr-defined]
deployment_t = Deployment.__table__  # type: ignore[attr-defined]

PG_ENV = "PAICHA_TEST_POSTGRES_URL"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "paicha_bench_report"
CAMPAIGN_ID = "special-action-2023"
CASE_TYPE = "hazard"
PROVINCE = "/p/"
CITIES = COUNTIES = STREETS = 10  # cities; counties per city; streets per county
DEFAULT_CASES, DEFAULT_UNITS, DEFAULT_HISTORY, DEFAULT_REPEAT = 1_000_000, 10_000, 100_000, 5
BATCH = 10_000
BAR_WHOLE_TREE_S, GOAL_WHOLE_TREE_S, BAR_STREET_S = 2.0, 1.0, 0.2
SETUP_AT = dt.datetime(2023, 4, 20, 1, 0, tzinfo=dt.UTC)
OPENED = (dt.datetime(2023, 5, 1, tzinfo=dt.UTC), dt.datetime(2023, 12, 20, tzinfo=dt.UTC))
LAST_CHANGE = dt.datetime(2023, 12, 31, 4, 0, tzinfo=dt.UTC)
AS_OF, PAST_AS_OF = dt.date(2023, 12, 31), dt.date(2023, 8, 31)
CHILD_PREFIX = len("/p/c01/")  # the reference groups by city

# state, weight, versions (the fewest and most events that lead to it, 登记 included)
STATES = (("reported", 0.10, (1, 1)), ("rectifying", 0.22, (2, 3)),
          ("supervised", 0.06, (2, 3)), ("awaiting_acceptance", 0.12, (3, 4)),
          ("closed", 0.50, (4, 8)))
EARLIER = ("reported", "rectifying", "awaiting_acceptance", "rectifying", "awaiting_acceptance",
           "awaiting_acceptance", "awaiting_acceptance")  # a case's state at version 1, 2, …


def _progress(message: str) -> None:
    print(f"bench.report: {message}", file=sys.stderr, flush=True)


# -- the data -------------------------------------------------------------------------------


def _orgs() -> list[dict[str, Any]]:
    def org(oid: str, name: str, level: str, parent: str | None, path: str) -> dict[str, Any]:
        return {"id": oid, "name": name, "level": level, "parent_id": parent, "path": path,
                "version": 1, "created_at": SETUP_AT, "updated_at": SETUP_AT}

    orgs = [org("p", "基准省", "province", None, PROVINCE)]
    for c in range(1, CITIES + 1):
        city = f"c{c:02d}"
        city_path = f"{PROVINCE}{city}/"
        orgs.append(org(city, f"第{c}市", "city", "p", city_path))
        for d in range(1, COUNTIES + 1):
            county = f"{city}-d{d:02d}"
            county_path = f"{city_path}{county}/"
            orgs.append(org(county, f"第{c}市第{d}区", "county", city, county_path))
            for s in range(1, STREETS + 1):
                street = f"{county}-s{s:02d}"
                orgs.append(org(street, f"第{c}市第{d}区第{s}街道", "street", county,
                                f"{county_path}{street}/"))
    return orgs


@dataclass(frozen=True)
class Placed:
    id: str
    industry: str
    path: str  # the street's
    county: str  # the county's path: who registers department-found hazards


class Cases:
    """Random hazard rows and their earlier versions."""

    def __init__(self, units: Sequence[dict[str, Any]], version_id: int, timezone: str,
                 history_share: float, rng: random.Random) -> None:
        self.units = [Placed(u["id"], u["industry"], u["org_path"],
                             "/".join(u["org_path"].split("/")[:4]) + "/") for u in units]
        self.version_id = version_id
        self.tz = timezone
        self.history_share = history_share
        self.rng = rng
        self.states = [s for s, _, _ in STATES]
        self.weights = [w for _, w, _ in STATES]
        self.versions = {s: v for s, _, v in STATES}

    def chunk(self, size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        older: list[dict[str, Any]] = []
        for _ in range(size):
            row = self.case()
            rows.append(row)
            if row["version"] > 1 and self.rng.random() < self.history_share:
                older.extend(self.history(row))
        return rows, older

    def case(self) -> dict[str, Any]:
        rng = self.rng
        unit = self.units[int(len(self.units) * rng.random() ** 2)]  # some units have many
        state = rng.choices(self.states, self.weights)[0]
        low, high = self.versions[state]
        version = rng.randint(low, high)
        span = (OPENED[1] - OPENED[0]).total_seconds()
        opened = OPENED[0] + dt.timedelta(seconds=rng.random() * span)
        updated = opened if version == 1 else min(
            opened + dt.timedelta(seconds=rng.random() * 60 * 86_400), LAST_CHANGE)
        grade = "major" if rng.random() < 0.1 else "general"
        source = rng.choices(SOURCES, cum_weights=(0.6, 0.92, 1.0))[0]
        data: dict[str, Any] = {
            "source": source, "grade": grade, "industry": unit.industry,
            "description": rng.choice(HAZARDS), "location": rng.choice(PLACES),
            "found_on": local_date(opened, self.tz).isoformat(),
            "found_by": "企业自查" if source == "self_inspection" else "区应急管理局"}
        if grade == "major":
            data["criterion"] = f"重大事故隐患判定标准第{rng.randint(1, 20)}条"
        planned = state != "reported" and rng.random() < 0.8
        if planned:
            data.update(goals_and_tasks="消除隐患，恢复安全状态", measures="停用整改，更换部件",
                        responsible="安全管理部",
                        deadline=(local_date(updated, self.tz)
                                  + dt.timedelta(days=rng.randint(15, 90))).isoformat())
            if rng.random() < 0.7:
                data["funds_amount"] = rng.randint(1, 400) / 4
        if state == "supervised" or (grade == "major" and rng.random() < 0.3):
            data["supervision_document"] = f"应急督〔2023〕{rng.randint(1, 999)}号"
        if state in ("awaiting_acceptance", "closed"):
            data["rectified_on"] = local_date(updated, self.tz).isoformat()
            data["rectification_result"] = "已整改完毕"
        next_due = None
        if state in ("rectifying", "supervised") and "deadline" in data:
            next_due = dt.date.fromisoformat(data["deadline"])
        return {
            "id": _hex_id(rng), "campaign_id": CAMPAIGN_ID, "campaign_version_id": self.version_id,
            "type": CASE_TYPE, "unit_id": unit.id, "org_path": unit.path, "state": state,
            "final": state == "closed", "data": data, "signatures": [],
            "clocks": ({"rectification": {"due": next_due.isoformat(), "gen": 1}}
                       if next_due else {}),
            "next_due": next_due, "version": version,
            "opened_by": (f"principal {unit.id}" if source == "self_inspection"
                          else "regulator"),
            "opened_at": opened, "updated_at": updated, "audit_seq": version,
            "audit_hash": "", "found_by_path": (unit.county if source == "department_inspection"
                                                else None)}

    def history(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Versions 1 … version-1 of the case, chained from its opening to its last change."""
        rng = self.rng
        count = row["version"] - 1
        start, end = row["opened_at"], row["updated_at"]
        cuts = sorted(start + (end - start) * rng.random() for _ in range(count - 1))
        bounds = [start, *cuts, end]
        first = {k: v for k, v in row["data"].items()
                 if k not in ("rectified_on", "rectification_result", "deadline",
                              "funds_amount", "goals_and_tasks", "measures", "responsible")}
        older = []
        for n in range(1, count + 1):
            state = EARLIER[n - 1]
            older.append({
                "case_id": row["id"], "version": n, "campaign_id": CAMPAIGN_ID,
                "type": CASE_TYPE, "unit_id": row["unit_id"], "org_path": row["org_path"],
                "found_by_path": row["found_by_path"], "state": state, "final": False,
                "data": first if n == 1 else row["data"],
                "next_due": row["next_due"] if state == "rectifying" else None,
                "opened_at": start, "valid_from": bounds[n - 1], "valid_to": bounds[n]})
        return older


@dataclass
class Manifest:
    """What a built database holds (kept beside it to reuse it)."""

    url: str
    cases: int
    units: int
    history_wanted: int
    history_rows: int
    orgs: int
    street: str  # the street measured: the one with the most cases
    street_cases: int
    build_s: float

    def sizes(self) -> tuple[int, int, int]:
        return self.cases, self.units, self.history_wanted


def _history_share(cases: int, history: int) -> float:
    """The share of cases with more than one version that get their earlier versions, so that
    about `history` rows come out (versions are uniform within each state's range)."""
    per_case = sum(w * ((lo + hi) / 2 - 1) for _, w, (lo, hi) in STATES)
    return min(1.0, history / (cases * per_case))


def _bulk_engine(url: str) -> Any:
    """A plain engine for the load: no journal and no sync on SQLite, no commit wait on
    PostgreSQL; JSON encoded as the application does."""
    engine = create_engine(url, poolclass=NullPool, json_serializer=json_text,
                           json_deserializer=json_value)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144",
                           "foreign_keys=OFF"):
                cursor.execute(f"PRAGMA {pragma}")
        else:
            cursor.execute("SET synchronous_commit = off")
        cursor.close()
        if engine.dialect.name == "postgresql":
            dbapi_connection.commit()

    return engine


def build(url: str, *, cases: int, units: int, history: int, rng_seed: int = 2023) -> Manifest:
    """Migrate and publish, then load orgs, units, cases and older versions into `url`."""
    began = time.perf_counter()
    db = Database(url)
    registry = CampaignRegistry(campaign_loader)
    try:
        prepare(db, registry, bundled_dir(), now=SETUP_AT)
        with db.read() as conn:
            published = registry.newest(conn, CAMPAIGN_ID)
    finally:
        db.dispose()
    _progress(f"migrated and published in {time.perf_counter() - began:.1f} s")
    rng = random.Random(rng_seed)
    orgs = _orgs()
    streets = [o for o in orgs if o["level"] == "street"]
    unit_rows = _units(units, streets, rng)
    engine = _bulk_engine(url)
    written = older = 0
    try:
        with engine.begin() as conn:
            _insert(conn, org_t, orgs, BATCH)
            _insert(conn, unit_t, unit_rows, BATCH)
            conn.execute(insert(deployment_t).values(
                campaign_id=CAMPAIGN_ID, org_id="p", org_path=PROVINCE, created_at=SETUP_AT))
        maker = Cases(unit_rows, published.row.id, published.loaded.campaign.timezone,
                      _history_share(cases, history), rng)
        step = time.perf_counter()
        while written < cases:
            rows, versions = maker.chunk(min(BATCH, cases - written))
            with engine.begin() as conn:
                conn.execute(insert(case_t), rows)
                if versions:
                    conn.execute(insert(history_t), versions)
            written += len(rows)
            older += len(versions)
            if written % 100_000 < BATCH or written == cases:
                _progress(f"{written} cases, {older} older versions, "
                          f"{time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        _analyze(engine)
        _progress(f"analyzed in {time.perf_counter() - step:.1f} s")
        with engine.connect() as conn:
            street, street_cases = conn.execute(text(
                "SELECT org_path, count(*) FROM case_record GROUP BY org_path "
                "ORDER BY count(*) DESC, org_path LIMIT 1")).one()
    finally:
        engine.dispose()
    return Manifest(url, cases, units, history, older, len(orgs), str(street),
                    int(street_cases), round(time.perf_counter() - began, 1))


def _analyze(engine: Any) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("case_record", "case_history", "unit", "org"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


# -- the measurements ---------------------------------------------------------------------


@dataclass
class Timed:
    median_s: float
    min_s: float
    runs: list[float]
    cpu_s: float  # this process's CPU, median: all of SQLite's work, none of PostgreSQL's


def _time(call: Callable[[], Any], repeat: int) -> tuple[Timed, Any]:
    result = call()  # warm
    runs, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = call()
        runs.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return Timed(round(statistics.median(runs), 4), round(min(runs), 4),
                 [round(r, 4) for r in runs], round(statistics.median(cpu), 4)), result


@contextlib.contextmanager
def _captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        if "case_record" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def _plan(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.read() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [f"{r[0]}:{r[1]} {r[3]}" for r in rows]
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return [r[0] for r in rows]


def measure(url: str, manifest: Manifest, repeat: int) -> dict[str, Any]:
    db = Database(url)
    registry = CampaignRegistry(campaign_loader)
    try:
        with db.read() as conn:
            campaign = registry.newest(conn, CAMPAIGN_ID).loaded.campaign
        form = campaign.reports["dispatch"]
        measures = core.measured(form)

        def report(path: str, day: dt.date) -> Callable[[], Any]:
            scope = Scope(CAMPAIGN_ID, path, day, campaign.timezone,
                          core.period_of(form.period, day))

            def run() -> Any:
                with db.read() as conn:
                    return compute(conn, scope, measures, children=True)
            return run

        def bare() -> Any:
            with db.read() as conn:
                return conn.execute(text(
                    f"SELECT substr(org_path, 1, {CHILD_PREFIX}), count(*) FROM case_record "
                    "GROUP BY 1")).all()

        _progress(f"{db.dialect}: the reference")
        reference, groups = _time(bare, repeat)
        _progress(f"{db.dialect}: the province at {AS_OF}")
        whole, figures = _time(report(PROVINCE, AS_OF), repeat)
        _progress(f"{db.dialect}: the street {manifest.street}")
        street, street_figures = _time(report(manifest.street, AS_OF), repeat)
        _progress(f"{db.dialect}: the province at {PAST_AS_OF}")
        past, past_figures = _time(report(PROVINCE, PAST_AS_OF), repeat)
        with _captured(db) as statements:
            report(PROVINCE, AS_OF)()
        plans = [_plan(db, s, p) for s, p in statements]
        with db.read() as conn:
            version = conn.exec_driver_sql(
                "SELECT sqlite_version()" if db.is_sqlite else "SHOW server_version").scalar()
    finally:
        db.dispose()
    if sum(n for _, n in groups) != manifest.cases:
        raise RuntimeError(f"the table holds {sum(n for _, n in groups)} cases, "
                           f"not {manifest.cases}")
    passed = whole.median_s <= BAR_WHOLE_TREE_S and street.median_s <= BAR_STREET_S
    keys = ("self_found", "self_fixed", "dept_found", "dept_fixed", "supervised",
            "supervised_fixed")
    return {
        "server_version": version, "cases": manifest.cases, "units": manifest.units,
        "orgs": manifest.orgs, "history_rows": manifest.history_rows,
        "build_s": manifest.build_s, "figures": len(measures), "as_of": AS_OF.isoformat(),
        "whole_tree_s": whole.median_s, "whole_tree_min_s": whole.min_s,
        "whole_tree_runs": whole.runs, "whole_tree_children": len(figures.by_child),
        "street": manifest.street, "street_cases": manifest.street_cases,
        "street_s": street.median_s, "street_min_s": street.min_s, "street_runs": street.runs,
        "past_as_of": PAST_AS_OF.isoformat(), "past_whole_tree_s": past.median_s,
        "past_whole_tree_min_s": past.min_s, "past_whole_tree_runs": past.runs,
        "bare_group_by_s": reference.median_s, "bare_group_by_min_s": reference.min_s,
        "cpu_s": {"whole_tree": whole.cpu_s, "street": street.cpu_s, "past_whole_tree": past.cpu_s,
                  "bare_group_by": reference.cpu_s},
        "ratio": round(whole.median_s / reference.median_s, 2),
        "bar_whole_tree_s": BAR_WHOLE_TREE_S, "goal_whole_tree_s": GOAL_WHOLE_TREE_S,
        "bar_street_s": BAR_STREET_S, "passed": passed,
        "totals": {k: figures.total.get(k) for k in keys},
        "street_totals": {k: street_figures.total.get(k) for k in keys},
        "past_totals": {k: past_figures.total.get(k) for k in keys},
        "plans": plans,
    }


# -- where the databases live ---------------------------------------------------------------


def _manifest_path(keep: Path, backend: str) -> Path:
    return keep / f"report-{backend}.manifest.json"


def _reusable(keep: Path | None, backend: str, sizes: tuple[int, int, int], url: str
              ) -> Manifest | None:
    if keep is None or not _manifest_path(keep, backend).exists():
        return None
    manifest = Manifest(**json.loads(_manifest_path(keep, backend).read_text()))
    if manifest.sizes() != sizes or manifest.url != url:
        return None
    try:
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            count = conn.execute(select(text("count(*)")).select_from(case_t)).scalar()
        engine.dispose()
    except Exception:  # gone or broken: build again
        return None
    return manifest if count == manifest.cases else None


def _run_sqlite(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    sizes = (args.cases, args.units, args.history)
    path = folder / f"report-{args.cases}-{args.units}-{args.history}.db"
    url = f"sqlite:///{path}"
    manifest = _reusable(args.keep, "sqlite", sizes, url)
    reused = manifest is not None
    if manifest is None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        _progress(f"sqlite: building {path}")
        manifest = build(url, cases=args.cases, units=args.units, history=args.history)
        if args.keep:
            _manifest_path(args.keep, "sqlite").write_text(json.dumps(asdict(manifest)))
    result = measure(url, manifest, args.repeat)
    result["reused"] = reused
    result["file_mb"] = round(path.stat().st_size / 2**20)
    return {"sqlite_module": sqlite3.sqlite_version, **result}


def _run_postgres(args: argparse.Namespace) -> dict[str, Any]:
    base = normalize_url(args.postgres)
    url = make_url(base).set(database=PG_DATABASE).render_as_string(hide_password=False)
    sizes = (args.cases, args.units, args.history)
    manifest = _reusable(args.keep, "postgresql", sizes, url)
    reused = manifest is not None
    try:
        if manifest is None:
            _admin(base, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            _admin(base, f'CREATE DATABASE "{PG_DATABASE}"')
            _progress(f"postgresql: building {PG_DATABASE}")
            manifest = build(url, cases=args.cases, units=args.units, history=args.history)
            if args.keep:
                _manifest_path(args.keep, "postgresql").write_text(json.dumps(asdict(manifest)))
        result = measure(url, manifest, args.repeat)
    finally:
        if not args.keep:
            _admin(base, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    result["reused"] = reused
    return result


# -- the 整改台账 of 10k cases: flat memory -----------------------------------------------------

LEDGER_CASES = 10_000
LEDGER_SMALL = 1_000
# Flat memory: what 10k cases take more than 1k, per case. The XLSX format lists every sheet
# in the zip's directory and the workbook part, so a sheet's name and its directory entry stay
# (~1 KB); a sheet's content must not (a workbook of openpyxl write-only sheets kept ~22 KB a
# sheet: 250 MB for 10k, measured 2026-12-07).
LEDGER_KB_PER_CASE_BAR = 2.0


def _ledger_peak(db: Database, limit: int, out: Path) -> tuple[float, float, int]:
    """Seconds and peak traced MB to write the 整改台账 (a sheet per case) of `limit` major
    hazards read from the database, and the cases written."""
    from paicha.forms.ledgers import LedgerHeading
    from paicha.forms.records import ledger_case
    from paicha.forms.rectification import write_rectification_ledger
    from storage import ledgers

    registry = CampaignRegistry(campaign_loader)
    admin = Principal(0, "bench", frozenset(), "admin")
    with db.read() as conn:
        campaign = registry.newest(conn, CAMPAIGN_ID).loaded.campaign
        gc.collect()
        tracemalloc.start()
        began = time.perf_counter()
        rows = ledgers.cases_of(conn, admin, campaign, "rectification_ledger",
                                org_path=PROVINCE, first=None, last=None)
        cases = (ledger_case(campaign, r, r.unit_name, r.industry)
                 for r in itertools.islice(rows, limit))
        with out.open("wb") as handle:
            written = write_rectification_ledger(cases, handle,
                                                 LedgerHeading("全省", SETUP_AT.date()))
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak, written


def measure_ledger(folder: Path) -> dict[str, Any]:
    """The 整改台账 of 10k major hazards as XLSX, against the same of 1k: memory stays flat."""
    path = folder / "ledger.db"
    path.unlink(missing_ok=True)
    # about one hazard in ten is major: 10k major ones among 110k
    manifest = build(f"sqlite:///{path}", cases=LEDGER_CASES * 11, units=1_000, history=0)
    db = Database(manifest.url)
    try:
        small = _ledger_peak(db, LEDGER_SMALL, folder / "ledger-1k.xlsx")
        large = _ledger_peak(db, LEDGER_CASES, folder / "ledger-10k.xlsx")
    finally:
        db.dispose()
    per_case = (large[1] - small[1]) * 1024 / (large[2] - small[2])
    return {"cases": large[2], "seconds": round(large[0], 2),
            "peak_traced_mb": round(large[1], 2), "reference_cases": small[2],
            "reference_seconds": round(small[0], 2),
            "reference_peak_traced_mb": round(small[1], 2),
            "kb_per_case": round(per_case, 2), "bar_kb_per_case": LEDGER_KB_PER_CASE_BAR,
            "xlsx_mb": round((folder / "ledger-10k.xlsx").stat().st_size / 2**20, 1),
            "passed": large[2] == LEDGER_CASES and per_case <= LEDGER_KB_PER_CASE_BAR}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.report", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=_positive, default=DEFAULT_CASES, metavar="N")
    parser.add_argument("--units", type=_positive, default=DEFAULT_UNITS, metavar="N")
    parser.add_argument("--history", type=int, default=DEFAULT_HISTORY, metavar="N",
                        help="older case versions in case_history (about)")
    parser.add_argument("--repeat", type=_positive, default=DEFAULT_REPEAT, metavar="N")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the SQLite file and the PostgreSQL database, and reuse "
                             "them when the sizes match")
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get(PG_ENV, DEFAULT_PG))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-ledger", action="store_true",
                        help="skip the 整改台账 of 10k cases (memory)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out: dict[str, Any] = {}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="paicha-report-")))
        if not args.skip_sqlite:
            out["sqlite"] = _run_sqlite(args, folder)
        if not args.skip_ledger:
            out["ledger"] = measure_ledger(folder)
    if not args.skip_postgres:
        out["postgresql"] = _run_postgres(args)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
