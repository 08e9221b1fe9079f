"""Verify walks the log in one pass without holding its heads; exported heads catch a stream
put back to an older copy; migrations keep the log verifiable; every path that writes a case
keeps its row where its audit stream leaves it."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench import seed
from deadlines.sweep import Sweeper
from paicha.cli import main
from storage import audit, audit_export, audit_key, audit_seal, audit_verify
from storage.audit_key import AuditKey
from storage.db import Database, alembic_config, upgrade
from storage.tables import AuditEntry, Case
from tests.deadlines.test_sweep import local, planned_hazard
from tests.support.db import postgres_url
from tests.support.world import AUDIT_KEY, World

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]
AT = dt.datetime(2023, 6, 1, 1, 0, tzinfo=dt.UTC)


# -- one pass, constant memory ----------------------------------------------------------------

class Counted:
    """An iterator that counts what was taken from it."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = iter(items)
        self.taken = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        item = next(self.items)
        self.taken += 1
        return item


class Streams:
    """The entries' iterator, counting the streams begun."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = iter(items)
        self.begun = 0
        self.last: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = next(self.items)
        if row.stream != self.last:
            self.begun, self.last = self.begun + 1, row.stream
        return row


def _lookahead(entries: Streams, heads: Counted, walking: Iterator[Any]) -> int:
    """The most heads the walk ever held beyond the streams it had begun."""
    most = 0
    for _ in walking:
        most = max(most, heads.taken - entries.begun)
    return most


def test_verify_takes_heads_no_faster_than_it_walks_streams(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with world.services.db.write() as conn:
        for n in range(300):
            audit.append(conn, stream=f"subscription:{n:04d}", at=AT, actor="tester", role=None,
                         action="create", data={"n": n})
    seen: dict[str, Any] = {}
    real_entries, real_heads = audit_verify.entries, audit_verify.heads

    def entries(conn: Any, **options: Any) -> Streams:
        seen["entries"] = Streams(real_entries(conn, **options))
        return seen["entries"]  # type: ignore[no-any-return]

    def heads(conn: Any, **options: Any) -> Counted:
        seen["heads"] = Counted(real_heads(conn, **options))
        return seen["heads"]  # type: ignore[no-any-return]

    real_walk = audit_verify.walk
    most: list[int] = []

    def walk(*args: Any, **options: Any) -> Iterator[Any]:
        for item in real_walk(*args, **options):
            most.append(seen["heads"].taken - seen["entries"].begun)
            yield item

    monkeypatch.setattr(audit_verify, "entries", entries)
    monkeypatch.setattr(audit_verify, "heads", heads)
    monkeypatch.setattr(audit_verify, "walk", walk)
    with world.services.db.read() as conn:
        verdict = audit_verify.verify(conn, batch=50)
    assert verdict.ok, verdict.breaks
    assert verdict.streams > 300
    assert seen["heads"].taken == verdict.streams  # every head was read, once
    assert max(most) <= 1  # never more than the one it looks ahead


def test_the_walk_holds_one_stream_of_a_hundred_thousand() -> None:
    """Generated lazily, so the walk may only take them one by one."""
    count = 100_000
    key = AuditKey(b"a walk of many streams, kept small", "tests")

    def rows() -> Iterator[Any]:
        for n in range(count):
            stream = f"org:{n:06d}"
            digest = audit.entry_hash(stream=stream, seq=1, at=AT, actor="a", role=None,
                                      action="create", from_state=None, to_state=None,
                                      data={}, prev_hash=audit.GENESIS)
            yield _Row(stream, 1, AT, "a", None, "create", None, None, {}, audit.GENESIS,
                       digest, key.entry_mac(digest))

    def head_rows() -> Iterator[audit_verify.Head]:
        for row in rows():
            yield audit_verify.Head(row.stream, 1, row.hash,
                                    key.head_mac(row.stream, 1, row.hash))

    entries, heads = Streams(rows()), Counted(head_rows())
    breaks = [i for i in audit_verify.walk(entries, heads, key=key, require_macs=True)
              if isinstance(i, audit_verify.Break)]
    assert breaks == []
    assert heads.taken == count
    entries, heads = Streams(rows()), Counted(head_rows())
    assert _lookahead(entries, heads, audit_verify.walk(entries, heads, key=key,
                                                        require_macs=True)) <= 1


class _Row:
    def __init__(self, *values: Any) -> None:
        (self.stream, self.seq, self.at, self.actor, self.role, self.action, self.from_state,
         self.to_state, self.data, self.prev_hash, self.hash, self.mac) = values


def test_postgresql_sorts_streams_as_python_does_whatever_its_collation(
        tmp_path: Path) -> None:
    """On a database whose collation puts 'a' before 'B' (Python puts 'B' first)."""
    base = postgres_url()
    if base is None:
        pytest.skip("the collation question is PostgreSQL's (SQLite compares bytes); "
                    "set PAICHA_TEST_POSTGRES_URL")
    name = f"paicha_icu_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                          "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        db = Database(url, audit_key=AUDIT_KEY)
        try:
            with db.write() as conn:
                for stream in ("org:a1", "org:B1", "org:b2", "org:A2", "org:_x", "org:-y"):
                    audit.append(conn, stream=stream, at=AT, actor="t", role=None,
                                 action="create")
                assert conn.execute(text("SELECT 'a' < 'B'")).scalar() is True
                audit_seal.seal(conn, now=AT, by="tests")
            with db.read() as conn:
                verdict = audit_verify.verify(conn)
        finally:
            db.dispose()
        assert (verdict.ok, verdict.streams) == (True, 7), verdict.breaks
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- exported heads ---------------------------------------------------------------------------

@pytest.fixture
def keyed_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line holds the world's key."""
    monkeypatch.setenv(audit_key.ENV_KEY, AUDIT_KEY.secret.decode())


def _submit(world: World, case_id: str) -> None:
    with world.services.db.write() as conn:
        world.services.cases.fire(conn, world.principal("principal"), case_id,
                                  trigger="submit", data={"rectified_on": "2023-06-20",
                                                          "rectification_result": "已更换"},
                                  expected_version=None, now=world.clock())


def test_exported_heads_catch_a_case_put_back_to_an_older_copy(
        world: World, tmp_path: Path, keyed_shell: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A case row copied while the case was being rectified, put back (with its signed head)
    after it was submitted, and the newer entry removed: every signature holds, so only the
    heads exported in between tell."""
    url = world.services.settings.database_url
    case_id = planned_hazard(world)
    with world.services.db.read() as conn:
        copied = dict(conn.execute(select(case_t).where(case_t.c.id == case_id)).one()._mapping)
    _submit(world, case_id)
    exported = tmp_path / "heads.jsonl"
    assert main(["audit", "export", "--database", url, "--output", str(exported)]) == 0
    assert main(["audit", "verify", "--database", url, "--heads", str(exported)]) == 0
    assert "reaches every head" in capsys.readouterr().err
    assert main(["audit", "export", "--database", url, "--output", str(exported)]) == 2
    shuffled = tmp_path / "shuffled.jsonl"
    header, *lines = exported.read_text().splitlines()
    shuffled.write_text("\n".join([header, *reversed(lines)]) + "\n")
    assert main(["audit", "verify", "--database", url, "--heads", str(shuffled)]) == 1
    assert "shuffled.jsonl:3: stream" in capsys.readouterr().err
    assert main(["audit", "verify", "--database", url, "--heads", str(tmp_path)]) == 2
    capsys.readouterr()

    with world.services.db.write() as conn:
        conn.execute(delete(entry_t).where(entry_t.c.stream == f"case:{case_id}",
                                           entry_t.c.seq == 3))
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(**copied))
    assert main(["audit", "verify", "--database", url]) == 0  # the older copy holds
    capsys.readouterr()
    assert main(["audit", "verify", "--database", url, "--heads", str(exported)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"case:{case_id} #2: stream ends at 2, below the exported head 3: entries were removed "
        "since the export"]


def test_exported_heads_catch_a_removed_stream_and_a_changed_export(
        world: World, tmp_path: Path) -> None:
    stream = "org:linyin-c2"
    exported = tmp_path / "heads.jsonl"
    with world.services.db.read() as conn, exported.open("w") as out:
        count = audit_export.export(conn, out, now=AT)
    lines = exported.read_text().splitlines()
    assert len(lines) == count + 1 and '"sealed_with"' in lines[0]
    with world.services.db.write() as conn:  # the stream and its head, gone together
        conn.execute(delete(entry_t).where(entry_t.c.stream == stream))
        conn.execute(delete(audit_verify.head_t).where(audit_verify.head_t.c.stream == stream))

    def problems(path: Path) -> list[tuple[str, int, str]]:
        with world.services.db.read() as conn, path.open() as heads:
            found = audit_verify.verify(conn, exported=audit_export.read_export(heads, "x"))
        return [(b.stream, b.seq, b.problem) for b in found.breaks]

    with world.services.db.read() as conn:
        assert audit_verify.verify(conn).ok  # nothing left to say it was there
    assert problems(exported) == [(stream, 1, "the exported stream is gone: its entries were "
                                              "removed since the export")]
    # lowering an exported head to hide that is seen too: its signature no longer holds
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join(line.replace('"seq": 1', '"seq": 0') if stream in line
                                 else line for line in lines) + "\n")
    assert [p.split(":")[0] for _, _, p in problems(changed)] == [
        "the exported head's signature does not match", "the exported stream is gone"]


# -- migrations -------------------------------------------------------------------------------

def _plain_chains_hold(db: Database) -> bool:
    """Every stream's hashes recomputed by hand (the schema below 0008 has no signatures)."""
    with db.read() as conn:
        rows = conn.execute(select(entry_t.c.stream, entry_t.c.seq, entry_t.c.at,
                                   entry_t.c.actor, entry_t.c.role, entry_t.c.action,
                                   entry_t.c.from_state, entry_t.c.to_state, entry_t.c.data,
                                   entry_t.c.prev_hash, entry_t.c.hash)
                            .order_by(entry_t.c.stream, entry_t.c.seq)).all()
    for _, group in itertools.groupby(rows, key=lambda r: r.stream):
        prev = audit.GENESIS
        for row in group:
            if row.prev_hash != prev or row.hash != audit.entry_hash(
                    stream=row.stream, seq=row.seq, at=row.at, actor=row.actor, role=row.role,
                    action=row.action, from_state=row.from_state, to_state=row.to_state,
                    data=row.data, prev_hash=row.prev_hash):
                return False
            prev = row.hash
    return True


def test_migration_0008_down_and_up_keeps_the_log_verifiable(world: World) -> None:
    case_id = planned_hazard(world)
    url = world.services.settings.database_url
    db = world.services.db
    db.dispose()
    command.downgrade(alembic_config(url), "0003")
    assert _plain_chains_hold(db)
    db.dispose()
    upgrade(url)
    with db.read() as conn:
        verdict = audit_verify.verify(conn)
    assert [b.problem.split(" (")[0] for b in verdict.breaks] == ["the log is not sealed"]
    with db.write() as conn:
        sealed = audit_seal.seal(conn, now=world.clock(), by="tests")
    assert sealed.entries == verdict.entries and sealed.heads == verdict.streams
    _submit(world, case_id)
    with db.read() as conn:
        assert audit_verify.verify(conn).ok


# -- every path that writes a case keeps its row where its stream leaves it --------------------

def test_the_sweeps_escalation_keeps_the_case_where_its_stream_leaves_it(world: World) -> None:
    case_id = planned_hazard(world)
    world.clock.now = local("2023-08-01", 10, 0)
    assert Sweeper(world.services.db, world.services.registry, clock=world.clock
                   ).sweep().fired == 1
    with world.services.db.read() as conn:
        assert conn.execute(select(case_t.c.state).where(case_t.c.id == case_id)
                            ).scalar() == "supervised"
        verdict = audit_verify.verify(conn)
    assert (verdict.ok, verdict.keyed, verdict.sealed) == (True, True, True), verdict.breaks


def test_a_seeded_benchmark_database_verifies(tmp_path: Path) -> None:
    seed.seed(tmp_path / "seeded.db", cases=80, units=40, batch=30, check=0)
    db = Database(f"sqlite:///{tmp_path / 'seeded.db'}")
    try:
        with db.read() as conn:
            verdict = audit_verify.verify(conn)
    finally:
        db.dispose()
    assert verdict.ok, verdict.breaks
    assert verdict.entries > 80
