"""Sweepers in separate processes: one killed with SIGKILL mid-batch loses nothing and queues
nothing twice once restarted (SQLite and PostgreSQL); two at once on PostgreSQL share 10k due
timers with no timer handled twice and none left over."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from storage.db import Database
from storage.tables import Delivery, Org
from storage.tables import Timer as TimerRow
from tests.support.db import postgres_url

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parents[2]
DUE = dt.datetime(2023, 6, 30, 1, 0, tzinfo=dt.UTC)
NOW = DUE + dt.timedelta(minutes=5)


def phase_timers(db: Database, count: int) -> None:
    """`count` due phase-deadline timers (they need no case), spread over one org."""
    with db.write() as conn:
        conn.execute(insert(org_t).values(id="street", name="街道", level="street",
                                          parent_id=None, path="/street/", version=1,
                                          created_at=DUE, updated_at=DUE))
        rows = [{"key": f"phase:c/p{i}/2023-06-30", "subject": f"phase:c/p{i}",
                 "clock_id": "", "kind": "phase_due", "campaign_id": "c",
                 "org_path": "/street/", "unit_id": None, "roles": ["safety_office"],
                 "due_date": dt.date(2023, 6, 30), "due_at": DUE, "status": "pending",
                 "attempts": 0, "payload": {"name": f"阶段{i}", "phase": f"p{i}",
                                            "due": "2023-06-30", "nominal": "2023-06-30"}}
                for i in range(count)]
        for start in range(0, count, 2000):
            conn.execute(insert(timer_t), rows[start:start + 2000])


def start_sweeper(url: str, *, pause: float = 0.0, batch: int = 100) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.deadlines.sweeper_process", url, "--now", NOW.isoformat(),
         "--batch", str(batch), "--pause", str(pause)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ}, start_new_session=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr.read() if \
        process.stderr else ""
    return process


def finish(process: subprocess.Popen[str]) -> int:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    return int(json.loads(out)["claimed"])


def counts(db: Database) -> tuple[int, int, int, int]:
    with db.read() as conn:
        queued = conn.execute(select(func.count()).select_from(delivery_t)).scalar_one()
        keys = conn.execute(select(func.count(func.distinct(delivery_t.c.key)))).scalar_one()
        done = conn.execute(select(func.count()).where(timer_t.c.status == "done")
                            ).scalar_one()
        twice = conn.execute(select(func.count()).where(timer_t.c.attempts > 1)).scalar_one()
    return int(queued), int(keys), int(done), int(twice)


def test_a_sweeper_killed_mid_batch_loses_nothing_and_queues_nothing_twice(
    database_url: str,
) -> None:
    total = 1500
    db = Database(database_url)
    try:
        phase_timers(db, total)
        slow = start_sweeper(database_url, pause=0.004, batch=200)
        deadline = time.monotonic() + 120
        while counts(db)[2] < 400:  # a couple of batches are in; one is under way
            assert time.monotonic() < deadline and slow.poll() is None
            time.sleep(0.05)
        os.killpg(slow.pid, signal.SIGKILL)
        slow.communicate(timeout=30)  # reaps it and closes its pipes
        queued, _, done, _ = counts(db)
        assert 0 < done < total and queued == done  # the killed batch left no trace
        restarted = start_sweeper(database_url)
        assert finish(restarted) == total - done
        assert counts(db) == (total, total, total, 0)
    finally:
        db.dispose()


def test_two_sweepers_share_ten_thousand_due_timers(database_url: str) -> None:
    if postgres_url() is None or not database_url.startswith("postgresql"):
        pytest.skip("several sweepers at once is a PostgreSQL deployment (SKIP LOCKED); "
                    "SQLite runs one at a time")
    total = 10_000
    db = Database(database_url)
    try:
        phase_timers(db, total)
        first = start_sweeper(database_url, batch=250, pause=0.0005)
        second = start_sweeper(database_url, batch=250, pause=0.0005)
        claimed = [finish(first), finish(second)]
        assert sum(claimed) == total and min(claimed) > 0, claimed
        assert counts(db) == (total, total, total, 0)
    finally:
        db.dispose()
