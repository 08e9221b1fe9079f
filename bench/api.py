"""Benchmark: the two API quality bars — lifecycle events over HTTP, and memory at 1M cases.

Bar 1, events: requests per second of ``POST /cases/{id}/events`` on SQLite, one uvicorn worker,
against a bare FastAPI app whose one ``async def`` route (the same path, so the same request
bytes) returns ``{"ok": true}``. Both run as ``python -m uvicorn --factory … --workers 1
--log-level warning --no-access-log`` in a subprocess, started once (each factory ends with
``api.app.freeze_startup_heap``, as ``paicha serve`` does before serving), and are driven in
turn by the same load generator (``wrk`` with a Lua script when installed, else Python
processes: see bench/loadgen.py) with the same connections and durations: a warm-up each, then
``--rounds`` rounds of bare then events, so that a busy spell of a shared machine hits both
alike; each side's rate is its responses over its seconds, summed over the rounds. The events
database is a fresh file with the bundled campaigns and the demo (paicha.demo), where hazards of
the demo's chemical plant were opened and planned through ``storage.cases.CaseStore``
(``--pool`` for each round and ``--warm-pool`` for the warm-up, each set used by one run only);
the generator cycles ``submit`` (the principal's token) → ``reject`` (the acceptance team's,
with a reason and a new deadline) on them, so every request is a real transition that answers
200. ``version`` is not sent (the optimistic check is skipped; the guarded update still runs).
Any other answer counts as an error and makes the run invalid. Ratio = events/s ÷ bare/s; the
bar is 0.4. ``--profile FILE`` samples the events server with py-spy during round 1 and
summarizes where the samples are.

Bar 2, memory: bench/seed.py writes ``--cases`` hazards (1M) over 10k units (or ``--seeded``
names a file seeded before); the API serves that file while ``--mix-threads`` clients list
cases (filters, pagination), read cases, their history and triggers, and fire events for
``--mix-seconds`` (bench/loadgen.py: ``mix_client``). VmRSS is sampled from /proc every 0.1 s;
VmHWM is the process's peak. The bar: peak ≤ 300 MB, with no error in the mix.

The API runs on a clock that starts at ``--clock`` (2024-03-01 09:00 in Shanghai) and then
moves with real time, so that new deadlines lie ahead and inside the statutory calendar.

Prints one JSON object to stdout; progress goes to stderr. Exit status 0 whenever it measured,
also when a bar is missed or a run had errors (``valid`` says so); 1 when it could not measure.

Run from the repository root::

    .venv/bin/python -m bench.api [--quick] [--generator auto|wrk|python] [--only events|memory]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BAR_RATIO, BAR_RSS_MB = 0.4, 300.0
CLOCK_ENV = "PAICHA_BENCH_CLOCK"
DEFAULT_CLOCK = "2024-03-01T01:00:00+00:00"  # 09:00 in Shanghai
PREPARED_AT = dt.datetime(2024, 2, 26, 1, 0, tzinfo=dt.UTC)  # the pool is opened and planned
EVENTS_CAMPAIGN, EVENTS_UNIT = "special-action-2023-linyin", "u-chem-01"
OPEN_DATA = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
             "description": "储罐区可燃气体报警装置失效", "location": "罐区",
             "found_on": "2024-02-20", "found_by": "企业自查"}
PLAN_DATA = {"goals_and_tasks": "恢复报警装置并接入中控室", "measures": "更换探头，校验联锁",
             "funds_and_materials": "企业自筹", "funds_amount": 12.5, "responsible": "设备部",
             "deadline": "2024-03-29", "safety_measures": "整改期间人工巡检，启用应急预案"}
# Rejects set deadlines from here on: after the plan's, and a new one on every round.
REJECT_DEADLINES = (dt.date(2024, 6, 3), dt.date(2025, 12, 31))
MB = 1024.0


# -- the two apps, as uvicorn factories ----------------------------------------------------------

def bare_app() -> FastAPI:
    """The reference: one `async def` route returning a small JSON, on the events' path."""
    from api.app import freeze_startup_heap

    app = FastAPI()

    @app.post("/cases/{case_id}/events", response_model=None)
    async def bare_event() -> dict[str, bool]:
        return {"ok": True}

    freeze_startup_heap()  # as the API does: the same serving for both
    return app


class ShiftedClock:
    """Real time, moved so that it starts at `start`."""

    def __init__(self, start: dt.datetime) -> None:
        self.offset = start - dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def events_app() -> FastAPI:
    """The API as `paicha serve` builds it, on $PAICHA_DATABASE_URL and the bench's clock."""
    from api.app import create_app, freeze_startup_heap
    from api.services import Settings, system_clock

    start = os.environ.get(CLOCK_ENV, DEFAULT_CLOCK)
    clock = system_clock if start == "system" else ShiftedClock(dt.datetime.fromisoformat(start))
    app = create_app(Settings(), clock=clock)
    freeze_startup_heap()  # as paicha serve does before serving
    return app


# -- servers -------------------------------------------------------------------------------------

@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8", errors="replace")[-2000:]
    return ""


@contextlib.contextmanager
def serving(factory: str, env: Mapping[str, str], log: Path) -> Iterator[Server]:
    """`factory` served by one uvicorn worker; stopped (its process group) on the way out."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", HOST,
               "--port", str(port), "--workers", "1", "--log-level", "warning",
               "--no-access-log"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited ({process.returncode}): {_log_tail(log)}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not listen within 120 s: {_log_tail(log)}")
            time.sleep(0.05)
        yield Server(process, port)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _memory_kb(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def _server_settings() -> dict[str, Any]:
    return {"uvicorn": importlib.metadata.version("uvicorn"), "workers": 1,
            "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
            "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            "log_level": "warning", "access_log": False}


def _progress(message: str) -> None:
    print(f"bench.api: {message}", file=sys.stderr, flush=True)


# -- bar 1: events -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EventsDb:
    url: str
    warm: tuple[str, ...]
    pools: tuple[tuple[str, ...], ...]  # one per round
    submit_token: str
    reject_token: str
    deadlines: tuple[str, ...]


def prepare_events(folder: Path, *, rounds: int, pool: int, warm: int) -> EventsDb:
    """A fresh demo database with `warm + rounds * pool` hazards planned (in `rectifying`)."""
    from api.services import campaign_loader
    from paicha import demo
    from paicha.files import bundled_dir
    from storage import audit_key, audit_seal, tokens
    from storage.bootstrap import prepare
    from storage.campaigns import CampaignRegistry
    from storage.cases import CaseStore
    from storage.db import Database

    url = f"sqlite:///{folder / 'events.db'}"
    # as the first `paicha serve` does: a key file beside the database, which the API's
    # Settings find there, so that the events are signed as in a deployment
    db = Database(url, audit_key=audit_key.create(audit_key.key_file(url)))
    registry = CampaignRegistry(campaign_loader)
    store = CaseStore(registry)
    total = warm + rounds * pool
    try:
        prepare(db, registry, bundled_dir(), now=PREPARED_AT)
        with db.write() as conn:
            loaded = demo.load(conn, registry, now=PREPARED_AT)
            if loaded is None:
                raise RuntimeError("the events database had the demo already")
            principal = tokens.resolve(conn, loaded.tokens["principal"])
        if principal is None:
            raise RuntimeError("the demo principal token does not resolve")
        ids: list[str] = []
        while len(ids) < total:
            with db.write() as conn:
                for _ in range(min(200, total - len(ids))):
                    stored, _ = store.open(conn, principal, campaign_id=EVENTS_CAMPAIGN,
                                           case_type="hazard", unit_id=EVENTS_UNIT,
                                           data=OPEN_DATA, now=PREPARED_AT)
                    store.fire(conn, principal, stored.id, trigger="plan", data=PLAN_DATA,
                               expected_version=None, now=PREPARED_AT)
                    ids.append(stored.id)
        with db.write() as conn:
            audit_seal.seal(conn, now=PREPARED_AT, by="bench.api")
    finally:
        db.dispose()
    pools = tuple(tuple(ids[warm + r * pool:warm + (r + 1) * pool]) for r in range(rounds))
    return EventsDb(url, tuple(ids[:warm]), pools, loaded.tokens["principal"],
                    loaded.tokens["acceptance_team"], reject_deadlines())


def reject_deadlines() -> tuple[str, ...]:
    """Working days for the deadlines of rejects, one per round of a case (statutory calendar)."""
    from engine.dates import Deadlines
    from paicha.files import bundled_dir, display_name, loader_for

    path = bundled_dir() / "special-action-2023.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"),
                                       display_name(path)).campaign
    deadlines = Deadlines.for_campaign(campaign)
    first, last = REJECT_DEADLINES
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return tuple(d.isoformat() for d in days if deadlines.is_working_day(d))


def _applied(url: str, ids: Sequence[str]) -> int:
    """Events stored on `ids` since they were planned (each case stood at version 2)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
        total = 0
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            row = conn.execute(f"SELECT coalesce(sum(version), 0), count(*) FROM case_record "
                               f"WHERE id IN ({marks})", chunk).fetchone()
            total += int(row[0]) - 2 * int(row[1])
        return total


@dataclass(frozen=True)
class Driver:
    """One generator, one set of settings, for every run on both servers."""

    kind: str
    connections: int
    db: EventsDb
    folder: Path

    def run(self, server: Server, cases: tuple[str, ...], seconds: float, *, track: bool
            ) -> dict[str, Any]:
        from bench import loadgen

        cycle = loadgen.EventCycle(server.port, cases, self.db.submit_token,
                                   self.db.reject_token, self.db.deadlines)
        user, system = _cpu_seconds(server.pid)
        result = loadgen.run(self.kind, cycle, connections=self.connections, duration=seconds,
                             folder=self.folder, track=track)
        user_after, system_after = _cpu_seconds(server.pid)
        summary = result.summary()
        summary["errors"] = result.errors
        cpu = user_after - user + system_after - system
        summary["server_cpu_cores"] = round(cpu / result.seconds, 3)
        if result.responses:
            summary["server_cpu_ms_per_request"] = {
                "user": round((user_after - user) * 1000 / result.responses, 3),
                "system": round((system_after - system) * 1000 / result.responses, 3)}
        return summary


@contextlib.contextmanager
def _profiling(pid: int, out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy samples `pid` into `out` (collapsed stacks) while the block runs: the thread that
    holds the GIL only, so the samples are Python's CPU time (not SQLite's, which runs without
    the GIL; `server_cpu_ms_per_request` counts both)."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise RuntimeError("--profile needs py-spy (.venv/bin/pip install py-spy)")
    process = subprocess.Popen([spy, "record", "--pid", str(pid), "--duration",
                                str(max(1, round(seconds))), "--rate", "200", "--format", "raw",
                                "--output", str(out), "--nonblocking", "--gil"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # attached before the load starts
        yield
    finally:
        try:
            process.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# Where a sample's innermost frame is, by the first part of its file's path.
_AREAS = {"sqlalchemy": "sqlalchemy (Core: statements, compile cache, results)",
          "storage": "storage (paicha)", "engine": "engine (paicha core)", "api": "api (paicha)",
          "fastapi": "fastapi/starlette/uvicorn/h11", "starlette": "fastapi/starlette/uvicorn/h11",
          "uvicorn": "fastapi/starlette/uvicorn/h11", "h11": "fastapi/starlette/uvicorn/h11",
          "pydantic": "pydantic", "pydantic_core": "pydantic", "jsonschema": "jsonschema",
          "json": "json", "transitions": "transitions", "anyio": "anyio (threadpool)",
          "asyncio": "asyncio", "threading.py": "thread waits/handoff",
          "queue.py": "thread waits/handoff", "selectors.py": "asyncio"}
_SQLITE = ("do_execute", "do_executemany", "do_commit")
_MARKS = ("fire_event (api/routes/cases.py)", "EventWrites._flush (api/event_writes.py)",
          "CaseStore.decide (storage/cases.py)",
          "CaseStore._load (storage/cases.py)", "draft (storage/audit.py)",
          "clock_writes (storage/timers.py)", "bind (storage/event_batch.py)",
          "BoundBatch.run (storage/event_batch.py)", "Lifecycle.fire (engine/lifecycle.py)",
          "Lifecycle._validate (engine/lifecycle.py)", "Database.write (storage/db.py)",
          "_sqlite_setup.<locals>._on_begin (storage/db.py)",
          "Transaction.commit (sqlalchemy/engine/base.py)",
          "ClauseElement._compile_w_cache (sqlalchemy/sql/elements.py)",
          "solve_dependencies (fastapi/dependencies/utils.py)",
          "serialize_response (fastapi/routing.py)", "TokenCache.resolve (api/services.py)",
          "CampaignRegistry.get (storage/campaigns.py)",
          "RequestResponseCycle.run_asgi (uvicorn/protocols/http/h11_impl.py)")


_IDLE = ("EpollSelector.select", "Condition.wait", "Event.wait")


def _profile_summary(path: Path) -> dict[str, Any]:
    """Shares of the busy samples (idle threads left out): innermost frame by area, and a few
    frames inclusive."""
    import re

    samples = busy = 0
    areas: dict[str, int] = {}
    marks: dict[str, int] = dict.fromkeys(_MARKS, 0)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        samples += n
        func, _, where = frames[-1].partition(" (")
        if func in _IDLE:
            continue
        busy += n
        if func.rsplit(".", 1)[-1] in _SQLITE:
            area = ("sqlite3: waiting for the write lock (BEGIN IMMEDIATE)"
                    if any("._on_begin (" in f for f in frames)
                    else "sqlite3 (C: statements, commit)")
        else:
            area = _AREAS.get(where.rstrip(")").split("/")[0], "other")
        areas[area] = areas.get(area, 0) + n
        for frame in set(frames).intersection(marks):
            marks[frame] += n

    def share(n: int) -> float:
        return round(100.0 * n / busy, 1) if busy else 0.0

    return {"file": str(path), "samples": samples, "busy_samples": busy,
            "innermost_frame_by_area_pct": dict(sorted(((k, share(v)) for k, v in areas.items()),
                                                       key=lambda kv: -kv[1])),
            "inclusive_pct": {k: share(v) for k, v in marks.items()}}


def _rate(runs: Sequence[Mapping[str, Any]]) -> float:
    seconds = sum(float(r["seconds"]) for r in runs)
    return sum(int(r["responses"]) for r in runs) / seconds if seconds else 0.0


def bar_events(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from bench import loadgen

    kind = args.generator
    if kind == "auto":
        kind = "wrk" if loadgen.wrk_path() else "python"
    elif kind == "wrk" and loadgen.wrk_path() is None:
        raise RuntimeError("--generator wrk, but wrk is not installed (apt-get install wrk)")
    _progress(f"events: preparing {args.rounds} x {args.pool} + {args.warm_pool} hazards")
    began = time.perf_counter()
    db = prepare_events(folder, rounds=args.rounds, pool=args.pool, warm=args.warm_pool)
    prepare_s = time.perf_counter() - began
    env = {"PAICHA_DATABASE_URL": db.url, CLOCK_ENV: args.clock}
    driver = Driver(kind, args.connections, db, folder)
    with contextlib.ExitStack() as servers:
        bare = servers.enter_context(serving("bench.api:bare_app", env, folder / "bare.log"))
        api = servers.enter_context(serving("bench.api:events_app", env,
                                            folder / "events.log"))
        _progress(f"warm-up: {kind}, {args.connections} connections, {args.warmup} s each")
        warm = {"bare": driver.run(bare, db.warm, args.warmup, track=False),
                "events": driver.run(api, db.warm, args.warmup, track=True)}
        rounds: list[dict[str, Any]] = []
        for number, pool in enumerate(db.pools, 1):
            _progress(f"round {number}/{args.rounds}: bare, then events, {args.duration} s each")
            ref = driver.run(bare, pool, args.duration, track=False)
            with _profiling(api.pid, args.profile if number == 1 else None, args.duration):
                events = driver.run(api, pool, args.duration, track=True)
            rounds.append({"bare": ref, "events": events,
                           "ratio": round(events["per_s"] / ref["per_s"], 4)
                           if ref["per_s"] else None})
        rss = {"bare_rss_mb": round(_memory_kb(bare.pid).get("VmRSS", 0) / MB, 1),
               "events_rss_mb": round(_memory_kb(api.pid).get("VmRSS", 0) / MB, 1)}
    profile = _profile_summary(args.profile) if args.profile else None
    events_s = _rate([r["events"] for r in rounds])
    bare_s = _rate([r["bare"] for r in rounds])
    errors = sum(int(r[k]["errors"]) for r in rounds for k in ("bare", "events"))
    warm_errors = sum(int(w["errors"]) for w in warm.values())
    responses = sum(int(r["events"]["responses"]) for r in rounds)
    ratio = events_s / bare_s if bare_s else 0.0
    return {
        "events_per_s": round(events_s, 1), "bare_per_s": round(bare_s, 1),
        "ratio": round(ratio, 4), "bar": BAR_RATIO,
        "passed": errors == 0 and ratio >= BAR_RATIO, "generator": kind,
        "errors": errors, "events_valid": errors == 0 and warm_errors == 0,
        "events_detail": {
            "cycle": "submit (principal) -> reject (acceptance_team, new deadline); "
                     "version not sent",
            "campaign": EVENTS_CAMPAIGN, "rounds": args.rounds, "pool_per_round": args.pool,
            "seconds_per_run": args.duration, "connections": args.connections,
            "prepare_seconds": round(prepare_s, 2), "warmup_errors": warm_errors,
            "responses_200": responses - sum(int(r["events"]["non_200"]) for r in rounds),
            "db_events_applied": _applied(db.url, [c for pool in db.pools for c in pool]),
            "per_round": rounds, "warmup": warm, **rss, "profile": profile,
            "bare_route": "POST /cases/{case_id}/events, async def, response_model=None, "
                          'returns {"ok": true}',
        },
    }


# -- bar 2: memory -------------------------------------------------------------------------------

def _sample_rss(pid: int, stop: threading.Event, samples: list[int]) -> None:
    for _ in range(10_000_000):
        if stop.wait(0.1):
            break
        with contextlib.suppress(OSError):
            samples.append(_memory_kb(pid).get("VmRSS", 0))


def bar_memory(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from bench import loadgen, seed

    if args.seeded is not None:
        path = args.seeded
        manifest = seed.Manifest.read(path.with_suffix(".manifest.json"))
        _progress(f"memory: reusing {manifest.cases} seeded cases in {path}")
    else:
        path = folder / "memory.db"
        _progress(f"memory: seeding {args.cases} cases into {path}")
        manifest = seed.seed(path, cases=args.cases, check=args.check)
        manifest.write(path.with_suffix(".manifest.json"))
    size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / MB / MB
    deadlines = reject_deadlines()
    env = {"PAICHA_DATABASE_URL": manifest.database, CLOCK_ENV: args.clock}
    _progress(f"memory: serving {args.cases} cases, {args.mix_threads} clients for "
              f"{args.mix_seconds} s")
    with serving("bench.api:events_app", env, folder / "memory.log") as server:
        idle = _memory_kb(server.pid)
        state = loadgen.MixState()
        samples: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(server.pid, stop, samples))
        sampler.start()
        until = time.monotonic() + args.mix_seconds
        roles = [loadgen.ROLES[i % len(loadgen.ROLES)] for i in range(args.mix_threads)]
        firers = max(1, roles.count("fire"))
        threads = [threading.Thread(target=loadgen.mix_client, args=(
            server.port, manifest, role, manifest.fire[roles[:i].count("fire")::firers],
            deadlines, i, until, state)) for i, role in enumerate(roles)]
        try:
            for thread in threads:
                thread.start()
        finally:
            for thread in threads:
                thread.join(timeout=args.mix_seconds + 600)
            stop.set()
            sampler.join(timeout=10)
        end = _memory_kb(server.pid)
    errors = sum(t.errors for t in state.tallies.values())
    rss = max(samples, default=end.get("VmRSS", 0)) / MB
    peak = end.get("VmHWM", 0) / MB
    return {
        "rss_mb": round(rss, 1), "rss_peak_mb": round(peak, 1), "cases": manifest.cases,
        "rss_bar_mb": BAR_RSS_MB, "rss_passed": errors == 0 and peak <= BAR_RSS_MB,
        "seed_seconds": manifest.seconds.get("total"), "seed_reused": args.seeded is not None,
        "mix_errors": errors,
        "memory_valid": errors == 0,
        "memory_detail": {
            "rss_idle_mb": round(idle.get("VmRSS", 0) / MB, 1),
            "rss_end_mb": round(end.get("VmRSS", 0) / MB, 1), "samples": len(samples),
            "database_mb": round(size_mb, 1), "units": manifest.units, "orgs": manifest.orgs,
            "audit_entries": manifest.audit_entries, "obligations": manifest.obligations,
            "seed": manifest.seconds, "seed_checked_cases": manifest.checked,
            "mix_seconds": args.mix_seconds, "mix_threads": args.mix_threads,
            "mix_roles": roles,
            "requests": {k: v.summary() for k, v in sorted(state.tallies.items())},
        },
    }


# -- main ----------------------------------------------------------------------------------------

def _positive(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 600:
        raise argparse.ArgumentTypeError(f"must be in (0, 600] seconds, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.api", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke check: 20k cases, 3 s runs, 1 s warm-up")
    parser.add_argument("--only", choices=("events", "memory"), help="measure one bar")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator for bar 1 (auto: wrk when installed)")
    parser.add_argument("--connections", type=_positive, default=8,
                        help="concurrent keep-alive connections (default 8)")
    parser.add_argument("--duration", type=_seconds, default=None,
                        help="seconds of each timed run (default 10, --quick 3)")
    parser.add_argument("--warmup", type=_seconds, default=None,
                        help="seconds of warm-up before each (default 3, --quick 1)")
    parser.add_argument("--rounds", type=_positive, default=None,
                        help="timed runs per server, bare and events in turn (default 3, "
                             "--quick 1)")
    parser.add_argument("--pool", type=_positive, default=1000,
                        help="hazards each round's events cycle over (default 1000)")
    parser.add_argument("--warm-pool", type=_positive, default=300,
                        help="hazards of the warm-up (default 300)")
    parser.add_argument("--cases", type=_positive, default=None,
                        help="cases stored for bar 2 (default 1000000, --quick 20000)")
    parser.add_argument("--seeded", type=Path, default=None, metavar="PATH",
                        help="serve this database seeded before (bench.seed, or --workdir of "
                             "an earlier run) instead of seeding; its .manifest.json beside it")
    parser.add_argument("--check", type=int, default=20,
                        help="seeded cases replayed through the storage layer (default 20)")
    parser.add_argument("--mix-seconds", type=_seconds, default=None,
                        help="seconds of the request mix of bar 2 (default 20, --quick 3)")
    parser.add_argument("--mix-threads", type=_positive, default=8)
    parser.add_argument("--clock", default=DEFAULT_CLOCK,
                        help="where the API's clock starts (ISO instant, or 'system')")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="py-spy (GIL holder) the events server during round 1 into FILE "
                             "(collapsed stacks) and summarize where its samples are")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the databases, scripts and server logs here (a new folder)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick: bool = args.quick
    args.duration = args.duration or (3.0 if quick else 10.0)
    args.rounds = args.rounds or (1 if quick else 3)
    args.warmup = args.warmup or (1.0 if quick else 3.0)
    args.cases = args.cases or (20_000 if quick else 1_000_000)
    args.mix_seconds = args.mix_seconds or (3.0 if quick else 20.0)
    if args.clock != "system":
        dt.datetime.fromisoformat(args.clock)  # refuse a bad value before any work

    report: dict[str, Any] = {"benchmark": "api", "quick": quick,
                              "server": _server_settings(), "cores": os.cpu_count()}
    steps: list[tuple[str, Callable[[argparse.Namespace, Path], dict[str, Any]]]] = []
    if args.only in (None, "events"):
        steps.append(("events", bar_events))
    if args.only in (None, "memory"):
        steps.append(("memory", bar_memory))
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=False)
            folder = args.workdir
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="paicha-bench-api-")))
        try:
            for _name, step in steps:
                report.update(step(args, folder))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(json.dumps(report, ensure_ascii=False, indent=2))
            print(f"bench.api: could not measure: {exc}", file=sys.stderr)
            return 1
    report["valid"] = bool(report.get("events_valid", True) and report.get("memory_valid", True))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
