"""Someone who can write the database but does not hold the audit key changes the record as
well as they can (recomputing every hash they touch); `audit verify` finds it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, insert, select, update

from engine.errors import Conflict
from storage import audit, audit_seal, audit_verify
from storage.audit_key import AuditKey
from storage.db import Database
from storage.tables import AuditEntry, AuditHead, Case
from tests.deadlines.test_sweep import planned_hazard
from tests.support.world import World

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]


def breaks(db: Database) -> list[tuple[str, int, str]]:
    with db.read() as conn:
        return [(b.stream, b.seq, b.problem) for b in audit.verify(conn).breaks]


def _entries(conn: Connection, stream: str) -> list[Any]:
    return list(conn.execute(select(entry_t).where(entry_t.c.stream == stream)
                             .order_by(entry_t.c.seq)))


def rechain(conn: Connection, stream: str, *, seq: int, data: dict[str, Any]) -> str:
    """Give entry `seq` of `stream` new data and recompute every hash from it on, as anyone
    can; the signatures stay as they were (nobody here has the key). The new last hash."""
    rows = _entries(conn, stream)
    prev = rows[seq - 2].hash if seq > 1 else audit.GENESIS
    for row in rows[seq - 1:]:
        content = data if row.seq == seq else row.data
        digest = audit.entry_hash(stream=stream, seq=row.seq, at=row.at, actor=row.actor,
                                  role=row.role, action=row.action, from_state=row.from_state,
                                  to_state=row.to_state, data=content, prev_hash=prev)
        conn.execute(update(entry_t).where(entry_t.c.id == row.id)
                     .values(data=content, prev_hash=prev, hash=digest))
        prev = digest
    return prev


def _case_row(conn: Connection, case_id: str) -> Any:
    return conn.execute(select(case_t).where(case_t.c.id == case_id)).one()


# -- case rows against their streams ----------------------------------------------------------

def test_a_case_state_changed_by_sql_is_found(world: World) -> None:
    case_id = planned_hazard(world)  # rectifying
    with world.services.db.write() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id)
                     .values(state="closed", final=True))
    assert breaks(world.services.db) == [
        (f"case:{case_id}", 2, "the case row's state 'closed' is not 'rectifying', where its "
                               "audit stream leaves it: the row was changed outside the log")]


def test_case_data_changed_by_sql_is_found(world: World) -> None:
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        data = dict(_case_row(conn, case_id).data)
        data["grade"] = "general"  # a major hazard quietly made general
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(data=data))
    found = breaks(world.services.db)
    assert [(s, n) for s, n, _ in found] == [(f"case:{case_id}", 2)]
    assert "data differs from what its audit stream records (fields: grade)" in found[0][2]


def test_a_case_moved_to_another_unit_by_sql_is_found(world: World) -> None:
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(unit_id="u-site-01"))
    found = breaks(world.services.db)
    assert [(s, p.split(" is not")[0]) for s, _, p in found] == [
        (f"case:{case_id}", "the case row's unit 'u-site-01'")]


def test_a_cases_unit_terms_changed_by_sql_are_found(world: World) -> None:
    # re-tagging the case's own snapshot would change which conditions on the unit bind it
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(
            unit_terms={"industry": "hazardous_chemicals", "tags": ["city_managed"]}))
    found = breaks(world.services.db)
    assert [(s, p.split(" is not")[0].split(" {")[0]) for s, _, p in found] == [
        (f"case:{case_id}", "the case row's unit_terms")]


def test_the_api_reports_a_tampered_case_row(world: World, client: TestClient) -> None:
    case_id = planned_hazard(world)
    assert client.get("/audit/verify", headers=world.auth("admin")).json()["ok"] is True
    with world.services.db.write() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(state="closed"))
    verdict = client.get("/audit/verify", headers=world.auth("admin")).json()
    assert (verdict["ok"], verdict["keyed"], verdict["sealed"]) == (False, True, True)
    assert [(b["stream"], b["seq"]) for b in verdict["breaks"]] == [(f"case:{case_id}", 2)]


# -- entries and heads without the key --------------------------------------------------------

def test_an_entry_changed_and_rechained_without_the_key_is_found(world: World) -> None:
    """The open entry's grade changed, every later hash and the head recomputed, and the case
    row's data made to agree: every hash holds, only the signatures do not."""
    case_id = planned_hazard(world)
    stream = f"case:{case_id}"
    with world.services.db.write() as conn:
        opening = dict(_entries(conn, stream)[0].data)
        opening["data"] = {**opening["data"], "grade": "general"}
        last = rechain(conn, stream, seq=1, data=opening)
        data = {**_case_row(conn, case_id).data, "grade": "general"}
        conn.execute(update(case_t).where(case_t.c.id == case_id)
                     .values(data=data, audit_hash=last))
    assert breaks(world.services.db) == [
        (stream, 1, "signature does not match: the entry was changed or added outside the "
                    "log, or signed with another key"),
        (stream, 2, "signature does not match: the entry was changed or added outside the "
                    "log, or signed with another key"),
        (stream, 2, "the head's signature does not match: the head was moved outside the log "
                    "(cut back to an earlier entry?), or signed with another key")]


def test_a_case_head_rewound_is_found(world: World) -> None:
    """The newest entry removed and the row put back where the one before left it (state,
    data, head), even with that entry's signature in place of the head's."""
    case_id = planned_hazard(world)
    stream = f"case:{case_id}"
    with world.services.db.write() as conn:
        first = _entries(conn, stream)[0]
        conn.execute(delete(entry_t).where(entry_t.c.stream == stream, entry_t.c.seq == 2))
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(
            state=first.to_state, data=first.data["data"], audit_seq=1, audit_hash=first.hash,
            audit_mac=first.mac))
    assert breaks(world.services.db) == [
        (stream, 1, "the head's signature does not match: the head was moved outside the log "
                    "(cut back to an earlier entry?), or signed with another key")]


def test_an_org_head_rewound_is_found(world: World) -> None:
    stream = "org:linyin-c1"
    with world.services.db.write() as conn:
        rows = _entries(conn, stream)
        assert len(rows) == 1
        audit.append(conn, stream=stream, at=world.clock(), actor="tester", role=None,
                     action="update", data={"name": "改名"})
    with world.services.db.write() as conn:
        conn.execute(delete(entry_t).where(entry_t.c.stream == stream, entry_t.c.seq == 2))
        conn.execute(update(head_t).where(head_t.c.stream == stream)
                     .values(seq=1, hash=rows[0].hash))
    assert breaks(world.services.db) == [
        (stream, 1, "the head's signature does not match: the head was moved outside the log "
                    "(cut back to an earlier entry?), or signed with another key")]


def test_an_entry_added_without_the_key_is_found(world: World) -> None:
    """A well-chained entry appended by SQL, its head moved: both unsigned."""
    stream = "org:linyin-c1"
    with world.services.db.write() as conn:
        last = _entries(conn, stream)[-1]
        digest = audit.entry_hash(stream=stream, seq=2, at=world.clock(), actor="someone",
                                  role=None, action="update", from_state=None, to_state=None,
                                  data={"name": "x"}, prev_hash=last.hash)
        conn.execute(insert(entry_t).values(
            stream=stream, seq=2, at=world.clock(), actor="someone", role=None,
            action="update", from_state=None, to_state=None, data={"name": "x"},
            prev_hash=last.hash, hash=digest, mac=None))
        conn.execute(update(head_t).where(head_t.c.stream == stream)
                     .values(seq=2, hash=digest, mac=None))
    assert breaks(world.services.db) == [
        (stream, 2, "unsigned entry in a sealed log: written without the audit key, or added "
                    "or changed outside the log"),
        (stream, 2, "unsigned head in a sealed log: moved without the audit key, or outside "
                    "the log")]


def test_an_event_written_without_the_key_after_sealing_is_found(world: World) -> None:
    keyless = Database(world.services.settings.database_url)
    try:
        with keyless.write() as conn:
            stored, _ = world.services.cases.open(
                conn, world.principal("principal"), campaign_id="special-action-2023-linyin",
                case_type="hazard", unit_id="u-chem-01", data={
                    "source": "self_inspection", "grade": "general",
                    "industry": "hazardous_chemicals", "description": "无钥匙",
                    "found_on": "2023-06-01"}, now=world.clock())
    finally:
        keyless.dispose()
    assert [(s, p.split(":")[0]) for s, _, p in breaks(world.services.db)] == [
        (f"case:{stored.id}", "unsigned entry in a sealed log"),
        (f"case:{stored.id}", "unsigned head in a sealed log")]


def test_an_entry_signature_cannot_stand_in_for_a_head(world: World) -> None:
    """Cutting a stream back and giving its head the signature of the entry it now ends at."""
    stream = "org:linyin-c1"
    with world.services.db.write() as conn:
        audit.append(conn, stream=stream, at=world.clock(), actor="tester", role=None,
                     action="update", data={"name": "改名"})
    with world.services.db.write() as conn:
        first = _entries(conn, stream)[0]
        conn.execute(delete(entry_t).where(entry_t.c.stream == stream, entry_t.c.seq == 2))
        conn.execute(update(head_t).where(head_t.c.stream == stream)
                     .values(seq=1, hash=first.hash, mac=first.mac))
    assert [(s, n) for s, n, _ in breaks(world.services.db)] == [(stream, 1)]


# -- the key and the seal ---------------------------------------------------------------------

def test_verify_with_another_key_or_none_says_so(world: World) -> None:
    url = world.services.settings.database_url
    for key in (AuditKey(b"another key, thirty-two characters long", "elsewhere"), None):
        db = Database(url, audit_key=key)
        try:
            with db.read() as conn:
                verdict = audit_verify.verify(conn)
        finally:
            db.dispose()
        assert (verdict.ok, verdict.keyed, verdict.sealed) == (False, False, True)
        assert [(b.stream, b.seq) for b in verdict.breaks] == [(audit_verify.WHOLE_LOG, 0)]
        assert ("not the key" if key else "no audit key was given") in verdict.breaks[0].problem


def test_a_removed_seal_is_found(world: World) -> None:
    with world.services.db.write() as conn:
        conn.execute(delete(audit_verify.seal_t))
    found = breaks(world.services.db)
    assert [(s, p.split(" (")[0]) for s, _, p in found] == [("*", "the log is not sealed")]


def test_sealing_refuses_a_broken_log_and_a_sealed_one(world: World) -> None:
    with world.services.db.write() as conn:
        with pytest.raises(Conflict, match="sealed already"):
            audit_seal.seal(conn, now=world.clock(), by="tests")
        conn.execute(delete(audit_verify.seal_t))
        conn.execute(update(entry_t).where(entry_t.c.stream == "org:linyin-c1")
                     .values(actor="someone else", mac=None))
        with pytest.raises(audit_seal.SealRefused) as refused:
            audit_seal.seal(conn, now=world.clock(), by="tests")
    assert [(b.stream, b.seq) for b in refused.value.breaks] == [("org:linyin-c1", 1)]
    assert "content does not match its hash" in refused.value.breaks[0].problem
