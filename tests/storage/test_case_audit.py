"""A case's audit stream keeps its head on the case row: verified like any other stream, and
moved there (and back) by migration 0003 without breaking a chain."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import delete, select

from storage import audit, audit_seal
from storage.db import alembic_config, upgrade
from storage.tables import AuditEntry, AuditHead, Case
from tests.deadlines.test_sweep import planned_hazard
from tests.support.world import World

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]


def _head(world: World, case_id: str) -> tuple[int, str, list[Any]]:
    """The head on the case row, and the stream's rows in audit_head."""
    with world.services.db.read() as conn:
        row = conn.execute(select(case_t.c.audit_seq, case_t.c.audit_hash)
                           .where(case_t.c.id == case_id)).one()
        kept = list(conn.execute(select(head_t).where(head_t.c.stream == f"case:{case_id}")))
    return row.audit_seq, row.audit_hash, kept


def _breaks(world: World) -> list[tuple[str, int, str]]:
    with world.services.db.read() as conn:
        return [(b.stream, b.seq, b.problem) for b in audit.verify(conn).breaks]


def test_an_event_moves_the_head_on_the_case_row(world: World) -> None:
    case_id = planned_hazard(world)  # opened, then planned: two entries
    with world.services.db.read() as conn:
        newest = audit.history(conn, f"case:{case_id}")[-1]
    assert _head(world, case_id) == (2, newest["hash"], [])
    assert _breaks(world) == []


def test_cutting_off_a_cases_newest_entry_is_found(world: World) -> None:
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        conn.execute(delete(entry_t).where(entry_t.c.stream == f"case:{case_id}",
                                           entry_t.c.seq == 2))
    assert _breaks(world) == [(f"case:{case_id}", 1, "stream ends at 1 but its head says 2: "
                                                     "entries were removed or added outside "
                                                     "the log")]


def test_migration_0003_moves_case_heads_both_ways(world: World) -> None:
    case_id = planned_hazard(world)
    seq, digest, _ = _head(world, case_id)
    url = world.services.settings.database_url
    world.services.db.dispose()
    command.downgrade(alembic_config(url), "0002")
    with world.services.db.read() as conn:
        assert conn.execute(select(head_t.c.seq, head_t.c.hash).where(
            head_t.c.stream == f"case:{case_id}")).one() == (seq, digest)
    world.services.db.dispose()
    upgrade(url)
    assert _head(world, case_id) == (seq, digest, [])
    with world.services.db.write() as conn:  # going below 0008 dropped the signatures
        audit_seal.seal(conn, now=world.clock(), by="tests")
    assert _breaks(world) == []
