"""Sealing the audit log, and making sure that whoever writes it holds its key.

Entries written before the log had a key are unsigned. Sealing checks the whole log as it is
(chains, heads, case rows, and the signatures already there) and, only if it holds, signs every
unsigned entry and head and records the key's fingerprint in `audit_seal`. From then on an
unsigned entry or head is a break (storage.audit_verify), and a process that would write
without the key, or with another, refuses to start (`check_key`).

`paicha serve` seals by itself when it has just made the key, or when nothing in the log is
unsigned (sealing then signs nothing, so it cannot bless anything written without the key).
Otherwise — a key set by hand on a log that has unsigned entries — sealing is a decision for
`paicha audit seal`: unsigned entries in a log that was sealed before mean that someone wrote
it without the key, or that the seal record was removed with the signatures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, exists, insert, select, update

from engine import texts
from engine.errors import Conflict, PaichaError
from storage import audit
from storage.audit_key import AuditKey, AuditKeyInvalid, configured, create, key_file
from storage.audit_verify import (
    Break,
    case_t,
    entries,
    entry_t,
    head_t,
    heads,
    seal_of,
    seal_t,
    walk,
)
from storage.db import Database

SEAL_STREAM = "audit"  # where sealing itself is recorded
SEALED = "audit_sealed"  # the code of the Conflict when the log was sealed already


class SealRefused(PaichaError):
    """The log does not hold as it is: signing it would vouch for its breaks."""

    code = "audit_seal_refused"

    def __init__(self, breaks: Sequence[Break]) -> None:
        self.breaks = tuple(breaks)
        first = breaks[0]
        super().__init__(texts.t("audit.seal.refused", count=len(breaks), stream=first.stream,
                                 seq=first.seq, problem=first.problem))


@dataclass(frozen=True)
class Sealed:
    fingerprint: str
    entries: int  # entries signed now
    heads: int  # heads signed now (audit_head rows and case rows)


def seal(conn: Connection, *, now: dt.datetime, by: str, batch: int = 5000,
         limit: int = 100) -> Sealed:
    """Check the log and sign what is unsigned with `conn`'s key, in `conn`'s transaction."""
    key = audit.key_of(conn)
    if key is None:
        raise AuditKeyInvalid(texts.t("audit.seal.needs_key"))
    if conn.dialect.name == "postgresql":
        # Nobody writes the log while it is checked and signed, and of two processes sealing
        # at once (replicas starting together) the second sees the first's seal. SQLite's
        # write lock does both.
        conn.exec_driver_sql("LOCK TABLE audit_entry, audit_head, case_record, audit_seal "
                             "IN SHARE ROW EXCLUSIVE MODE")
    found = seal_of(conn)
    if found is not None:
        _same_key(found.fingerprint, key)
        raise Conflict(texts.t("audit.seal.already", day=f"{found.sealed_at:%Y-%m-%d}",
                               by=found.sealed_by), code=SEALED)
    breaks: list[Break] = []
    for item in walk(entries(conn, batch=batch), heads(conn, batch=batch), key=key,
                     require_macs=False):
        if isinstance(item, Break):
            breaks.append(item)
            if len(breaks) >= limit:
                break
    if breaks:
        raise SealRefused(breaks)
    signed = _sign_entries(conn, key, batch)
    moved = _sign_heads(conn, key, batch) + _sign_cases(conn, key, batch)
    conn.execute(insert(seal_t).values(id=1, fingerprint=key.fingerprint, sealed_at=now,
                                       sealed_by=by))
    audit.append(conn, stream=SEAL_STREAM, at=now, actor=by, role=None, action="seal",
                 data={"fingerprint": key.fingerprint, "signed_entries": signed,
                       "signed_heads": moved})
    return Sealed(key.fingerprint, signed, moved)


def _sign_entries(conn: Connection, key: AuditKey, batch: int) -> int:
    sign = update(entry_t).where(entry_t.c.id == bindparam("b_id")).values(mac=bindparam("b_mac"))
    count, last = 0, 0
    while rows := conn.execute(select(entry_t.c.id, entry_t.c.hash)
                               .where(entry_t.c.mac.is_(None), entry_t.c.id > last)
                               .order_by(entry_t.c.id).limit(batch)).all():
        conn.execute(sign, [{"b_id": r.id, "b_mac": key.entry_mac(r.hash)} for r in rows])
        count, last = count + len(rows), rows[-1].id
    return count


def _sign_heads(conn: Connection, key: AuditKey, batch: int) -> int:
    sign = (update(head_t).where(head_t.c.stream == bindparam("b_stream"))
            .values(mac=bindparam("b_mac")))
    count, last = 0, ""
    while rows := conn.execute(select(head_t.c.stream, head_t.c.seq, head_t.c.hash)
                               .where(head_t.c.mac.is_(None), head_t.c.stream > last)
                               .order_by(head_t.c.stream).limit(batch)).all():
        conn.execute(sign, [{"b_stream": r.stream,
                             "b_mac": key.head_mac(r.stream, r.seq, r.hash)} for r in rows])
        count, last = count + len(rows), rows[-1].stream
    return count


def _sign_cases(conn: Connection, key: AuditKey, batch: int) -> int:
    sign = (update(case_t).where(case_t.c.id == bindparam("b_id"))
            .values(audit_mac=bindparam("b_mac")))
    count, last = 0, ""
    while rows := conn.execute(select(case_t.c.id, case_t.c.audit_seq, case_t.c.audit_hash)
                               .where(case_t.c.audit_mac.is_(None), case_t.c.id > last)
                               .order_by(case_t.c.id).limit(batch)).all():
        conn.execute(sign, [{"b_id": r.id, "b_mac": key.head_mac(f"case:{r.id}", r.audit_seq,
                                                                 r.audit_hash)} for r in rows])
        count, last = count + len(rows), rows[-1].id
    return count


def unsigned_anything(conn: Connection) -> bool:
    """Whether any entry or head of the log lacks a signature."""
    return bool(conn.execute(select(
        exists().where(entry_t.c.mac.is_(None))
        | exists().where(head_t.c.mac.is_(None))
        | exists().where(case_t.c.audit_mac.is_(None)))).scalar())


def _same_key(fingerprint: str, key: AuditKey | None) -> None:
    if key is None:
        raise AuditKeyInvalid(texts.t("audit.key.missing_for_sealed", fingerprint=fingerprint))
    if key.fingerprint != fingerprint:
        raise AuditKeyInvalid(texts.t("audit.key.other", key=key.fingerprint, source=key.source,
                                      fingerprint=fingerprint))


def check_key(db: Database) -> None:
    """Refuse a process that would write a sealed log without its key, or with another."""
    with db.read() as conn:
        found = seal_of(conn)
    if found is not None:
        _same_key(found.fingerprint, db.audit_key)


# -- paicha serve ---------------------------------------------------------------------------

def key_for_serving(url: str) -> tuple[AuditKey, bool]:
    """The deployment's key, made now (and True) when there is none and the log was never
    sealed; refused, before anything is written, when the log was sealed with another key or
    one this process cannot find."""
    key = configured(url)
    db = Database(url)
    try:
        with db.read() as conn:
            found = seal_of(conn)
    finally:
        db.dispose()
    if key is not None:
        if found is not None:
            _same_key(found.fingerprint, key)
        return key, False
    path = key_file(url)
    if found is not None:
        raise AuditKeyInvalid(texts.t("audit.key.file_missing_for_sealed",
                                      fingerprint=found.fingerprint, path=path))
    return create(path), True


def seal_on_start(db: Database, *, created: bool, now: dt.datetime) -> str:
    """Seal the log when that vouches for nothing written without the key; what happened."""
    key = db.audit_key
    try:
        with db.write() as conn:
            found = seal_of(conn)
            if found is not None:
                _same_key(found.fingerprint, key)
                return texts.t("audit.serve.sealed_before", fingerprint=found.fingerprint)
            if not created and unsigned_anything(conn):
                return texts.t("audit.serve.unsigned_warning")
            sealed = seal(conn, now=now, by="paicha serve")
    except SealRefused as exc:
        return texts.t("audit.serve.not_sealed", reason=exc)
    except Conflict as exc:
        if exc.code != SEALED:
            raise
        return texts.t("audit.serve.sealed_by_other")
    return texts.t("audit.seal.done", fingerprint=sealed.fingerprint, entries=sealed.entries,
                   heads=sealed.heads)


def describe(key: AuditKey, created: bool) -> str:
    made = texts.t("audit.key.made") if created else texts.t("audit.key.found")
    return texts.t("audit.key.describe", fingerprint=key.fingerprint, source=key.source,
                   made=made)

