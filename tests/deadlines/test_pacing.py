"""A robot's rate limit: 300 reminders to one WeCom robot go out at no more than 20 in any
minute, every one once — swept and delivered on a fake clock; with two deliverer processes
sharing the limit (PostgreSQL); and across a deliverer killed and started again."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select

from api.services import campaign_loader
from deadlines.outbox import Deliverer
from deadlines.pacing import Limit, limit_for, robot_key, take
from deadlines.sweep import Sweeper
from storage.campaigns import CampaignRegistry
from storage.db import Database
from storage.tables import Delivery, Subscription
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401
from tests.deadlines.test_crash_and_sharing import DUE, ROOT, phase_timers
from tests.support.db import postgres_url

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

TOTAL = 300
TICK = dt.timedelta(seconds=5)  # the deliverer's rhythm (deadlines.scheduler)
PHASE = re.compile(r"阶段(\d+)")


def wecom_robot(db: Database, receiver: Receiver, **columns: Any) -> int:
    """A WeCom subscription of the street whose robot is the local receiver; its id."""
    with db.write() as conn:
        return int(conn.execute(insert(subscription_t).values(
            name="街道安委办群", channel="wecom", org_id="street", org_path="/street/",
            config={"key": "robot-0001", "base_url": f"{receiver.url}/cgi-bin/webhook/send"},
            campaign_id=None, kinds=[], roles=[], created_by="test", created_at=DUE,
            **{"delivery": {}, "rate_limit": {}, **columns})
            .returning(subscription_t.c.id)).scalar_one())


def swept(db: Database, receiver: Receiver, **columns: Any) -> int:
    """300 phase deadlines due at 09:00, swept into the outbox for the street's robot."""
    phase_timers(db, TOTAL)
    subscription = wecom_robot(db, receiver, **columns)
    result = Sweeper(db, CampaignRegistry(campaign_loader), clock=lambda: DUE).sweep()
    assert result.claimed == TOTAL
    return subscription


def phases(receiver: Receiver) -> Counter[int]:
    """How often each phase's reminder reached the robot."""
    found: Counter[int] = Counter()
    for request in receiver.requests:
        content = request.json()["markdown"]["content"]
        # the phase is named in the title and again in the text: one message, one count
        found.update({int(n) for n in PHASE.findall(content)})
    return found


def busiest_minute(times: list[dt.datetime]) -> int:
    """The most sends in any minute-long stretch (a sliding window, not clock minutes)."""
    ordered = sorted(times)
    return max((sum(1 for t in ordered if at - dt.timedelta(minutes=1) < t <= at)
                for at in ordered), default=0)


def robot_rows(db: Database, subscription: int) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(delivery_t).where(
            delivery_t.c.subscription_id == subscription)).all())


def test_three_hundred_reminders_reach_one_robot_at_twenty_a_minute(
    database_url: str, receiver: Receiver,
) -> None:
    db = Database(database_url)
    try:
        subscription = swept(db, receiver)
        deliverer = Deliverer(db, clock=lambda: now, outbound=LOCAL)
        now, sent_at = DUE, []
        while now < DUE + dt.timedelta(minutes=30) and len(receiver.requests) < TOTAL:
            before = len(receiver.requests)
            deliverer.deliver()
            sent_at += [now] * (len(receiver.requests) - before)
            now += TICK
        deliverer.close()
        assert busiest_minute(sent_at) == 20
        assert phases(receiver) == Counter(range(TOTAL))  # each once
        rows = robot_rows(db, subscription)
        assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
        # waiting for the robot is no failed attempt, and it shows
        waited = [r for r in rows if r.rate_limited_count]
        assert len(waited) == TOTAL - 20
        assert all(r.delayed_until is not None and r.last_error is None for r in waited)
        assert sent_at[-1] - DUE < dt.timedelta(minutes=15)  # 20 a minute, not hours of backoff
    finally:
        db.dispose()


def test_the_window_frees_a_slot_when_its_oldest_send_leaves_it(database_url: str) -> None:
    db = Database(database_url)
    limit = Limit(3, 60)
    try:
        answers = []
        for seconds in (0, 10, 20, 30, 59, 60, 61, 70):
            with db.write() as conn:
                answers.append(take(conn, "robot", limit, DUE + dt.timedelta(seconds=seconds)))
        at = [None if a is None else (a - DUE).total_seconds() for a in answers]
        assert at == [None, None, None, 60, 60, None, 70, None]
        with db.write() as conn:  # another robot has its own window
            assert take(conn, "another", limit, DUE + dt.timedelta(seconds=70)) is None
    finally:
        db.dispose()


def test_one_robots_subscriptions_share_its_limit_and_each_may_set_its_own() -> None:
    config = {"key": "robot-0001"}
    assert robot_key("wecom", config) == robot_key("wecom", {**config, "timeout": 5})
    assert robot_key("wecom", config) != robot_key("wecom", {"key": "robot-0002"})
    assert "robot-0001" not in robot_key("wecom", config)  # the key is a secret
    assert limit_for("wecom", {}) == limit_for("dingtalk", {}) == Limit(20, 60)
    assert limit_for("webhook", {}) is None
    assert limit_for("webhook", {"messages": 5, "seconds": 1}) == Limit(5, 1)


class Process:
    """A deliverer process (tests/deadlines/deliverer_process.py) driven tick by tick."""

    def __init__(self, url: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.deadlines.deliverer_process", url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT, env={**os.environ}, start_new_session=True)
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline().strip()
        if not line and self.popen.stderr is not None:
            pytest.fail(self.popen.stderr.read())
        return line

    def tick(self, now: dt.datetime) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(f"tick {now.isoformat()}\n")
        self.popen.stdin.flush()

    def kill(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.communicate(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.communicate("quit\n", timeout=60)


@pytest.fixture(name="processes")
def processes_fixture() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.popen.poll() is None:
            process.kill()


def drive(processes: list[Process], receiver: Receiver, *, kill_at: int | None = None,
          url: str = "") -> list[dt.datetime]:
    """Tick every process at once until the robot has every reminder; the send times. With
    `kill_at`, the first process is killed (between two ticks) after that many sends and a new
    one started in its place."""
    now, sent_at = DUE, []
    while now < DUE + dt.timedelta(minutes=30) and len(receiver.requests) < TOTAL:
        before = len(receiver.requests)
        for process in processes:
            process.tick(now)
        for process in processes:
            assert process.read().startswith("done")
        sent_at += [now] * (len(receiver.requests) - before)
        if kill_at is not None and len(sent_at) >= kill_at:
            processes[0].kill()
            processes[0] = Process(url)
            kill_at = None
        now += TICK
    return sent_at


def test_two_deliverers_together_keep_the_robots_limit(
    database_url: str, receiver: Receiver, processes: list[Process],
) -> None:
    if postgres_url() is None or not database_url.startswith("postgresql"):
        pytest.skip("several deliverers at once is a PostgreSQL deployment (SKIP LOCKED); "
                    "SQLite runs one writer at a time")
    db = Database(database_url)
    try:
        subscription = swept(db, receiver)
        processes += [Process(database_url), Process(database_url)]
        sent_at = drive(processes, receiver)
        assert busiest_minute(sent_at) == 20
        assert phases(receiver) == Counter(range(TOTAL))
        assert {r.status for r in robot_rows(db, subscription)} == {"delivered"}
    finally:
        db.dispose()


def test_a_deliverer_killed_and_started_again_loses_nothing_and_keeps_the_limit(
    database_url: str, receiver: Receiver, processes: list[Process],
) -> None:
    db = Database(database_url)
    try:
        subscription = swept(db, receiver)
        processes.append(Process(database_url))
        # killed after the first minute's 20: its window is in the database, not in it
        sent_at = drive(processes, receiver, kill_at=20, url=database_url)
        assert busiest_minute(sent_at) == 20
        assert phases(receiver) == Counter(range(TOTAL))
        assert {(r.status, r.attempts) for r in robot_rows(db, subscription)} == {
            ("delivered", 1)}
    finally:
        db.dispose()
