"""The audit log: every event appended to its stream, each entry hashing the one before it.

Streams are per record (`case:<id>`, `org:<id>`, `unit:<id>`, `campaign:<id>`) so that writers of
different cases never contend for one chain head. Each stream's last hash is kept apart from its
entries, so that cutting off a stream's newest entries is detected too: a case's on its row
(`audit_seq`, `audit_hash`, written with the event that appends), every other stream's in
`audit_head`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from engine.errors import Conflict
from storage.prepared import Prepared
from storage.tables import AuditEntry, AuditHead, Case

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]

GENESIS = "0" * 64


# one encoder for every entry: json.dumps with options builds a new one per call
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str)


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def entry_hash(
    *, stream: str, seq: int, at: dt.datetime, actor: str, role: str | None, action: str,
    from_state: str | None, to_state: str | None, data: Mapping[str, Any], prev_hash: str,
) -> str:
    body = canonical([stream, seq, at.astimezone(dt.UTC).isoformat(), actor, role, action,
                      from_state, to_state, data, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Built once and run on SQLite's driver (storage.prepared): appending is on every event's path.
HEAD = Prepared(select(head_t.c.seq, head_t.c.hash)
                .where(head_t.c.stream == bindparam("b_stream")))
HEAD_NEW = Prepared(insert(head_t), columns=("stream", "seq", "hash"))
HEAD_MOVE = Prepared(update(head_t)
                     .where(head_t.c.stream == bindparam("b_stream"),
                            head_t.c.seq == bindparam("b_seq"))
                     .values(seq=bindparam("b_next"), hash=bindparam("b_hash")))
ENTRY = Prepared(insert(entry_t), columns=(
    "stream", "seq", "at", "actor", "role", "action", "from_state", "to_state", "data",
    "prev_hash", "hash"))


@dataclass(frozen=True)
class Draft:
    """An entry ready to append, its hash computed from the stream's head as it was read."""

    stream: str
    head_seq: int | None  # None: the stream is new
    entry: Mapping[str, Any]  # the audit_entry row

    @property
    def hash(self) -> str:
        return str(self.entry["hash"])

    @property
    def seq(self) -> int:
        return int(self.entry["seq"])

    def head_new(self) -> dict[str, Any]:
        """The parameters of HEAD_NEW for this entry (the stream is new)."""
        return {"stream": self.stream, "seq": self.entry["seq"], "hash": self.hash}

    def head_move(self) -> dict[str, Any]:
        """The parameters of HEAD_MOVE for this entry (the stream exists)."""
        return {"b_stream": self.stream, "b_seq": self.head_seq,
                "b_next": self.entry["seq"], "b_hash": self.entry["hash"]}


def draft(
    conn: Connection, *, stream: str, at: dt.datetime, actor: str, role: str | None,
    action: str, from_state: str | None = None, to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Draft:
    """The next entry of `stream`, chained to its head in audit_head as read in `conn`."""
    head = HEAD.one_or_none(conn, {"b_stream": stream})
    return draft_after(head.seq if head else None, head.hash if head else GENESIS,
                       stream=stream, at=at, actor=actor, role=role, action=action,
                       from_state=from_state, to_state=to_state, data=data)


def draft_after(
    head_seq: int | None, head_hash: str, *, stream: str, at: dt.datetime, actor: str,
    role: str | None, action: str, from_state: str | None = None, to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Draft:
    """The next entry of `stream` after its head (`head_seq` None, `head_hash` GENESIS: new)."""
    seq = head_seq + 1 if head_seq else 1
    payload = dict(data or {})
    digest = entry_hash(stream=stream, seq=seq, at=at, actor=actor, role=role, action=action,
                        from_state=from_state, to_state=to_state, data=payload,
                        prev_hash=head_hash)
    return Draft(stream, head_seq, {
        "stream": stream, "seq": seq, "at": at, "actor": actor, "role": role,
        "action": action, "from_state": from_state, "to_state": to_state, "data": payload,
        "prev_hash": head_hash, "hash": digest})


def write(conn: Connection, entry: Draft) -> str:
    """Append a drafted entry; Conflict if the stream moved on since it was drafted."""
    if entry.head_seq is None:
        HEAD_NEW.rowcount(conn, entry.head_new())
    elif HEAD_MOVE.rowcount(conn, entry.head_move()) != 1:
        raise Conflict(f"audit stream {entry.stream} moved on during this write; retry",
                       code="concurrent_write")
    return write_entry(conn, entry)


def write_entry(conn: Connection, entry: Draft) -> str:
    """Append a drafted entry whose head the caller keeps (a case's, on its row)."""
    ENTRY.rowcount(conn, entry.entry)
    return entry.hash


def append(
    conn: Connection, *, stream: str, at: dt.datetime, actor: str, role: str | None,
    action: str, from_state: str | None = None, to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> str:
    """Append one entry to `stream` inside the caller's transaction; returns its hash."""
    return write(conn, draft(conn, stream=stream, at=at, actor=actor, role=role, action=action,
                             from_state=from_state, to_state=to_state, data=data))


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    stream: str
    seq: int
    problem: str

    def as_dict(self) -> dict[str, object]:
        return {"stream": self.stream, "seq": self.seq, "problem": self.problem}


@dataclass(frozen=True)
class Verdict:
    entries: int
    streams: int
    breaks: tuple[Break, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _breaks(conn: Connection, batch: int) -> Iterator[Break | int]:
    """Walk every stream in order, yielding breaks and, per stream, its entry count."""
    heads = {row.stream: (row.seq, row.hash) for row in conn.execute(select(head_t))}
    heads.update((f"case:{row.id}", (row.audit_seq, row.audit_hash)) for row in conn.execute(
        select(case_t.c.id, case_t.c.audit_seq, case_t.c.audit_hash)
        .where(case_t.c.audit_seq > 0)))
    seen: set[str] = set()
    stream, expected_seq, prev = None, 0, GENESIS
    rows = conn.execution_options(yield_per=batch).execute(
        select(entry_t).order_by(entry_t.c.stream, entry_t.c.seq))

    def close(name: str, seq: int, last: str) -> Iterator[Break]:
        head = heads.get(name)
        if head is None:
            yield Break(name, seq, "stream has no head record")
        elif head != (seq, last):
            yield Break(name, seq, f"stream ends at {seq} but its head says {head[0]}: entries "
                                   "were removed or added outside the log")

    for row in rows:
        if row.stream != stream:
            if stream is not None:
                yield from close(stream, expected_seq, prev)
            stream, expected_seq, prev = row.stream, 0, GENESIS
            seen.add(row.stream)
            yield 0
        expected_seq += 1
        if row.seq != expected_seq:
            yield Break(row.stream, row.seq, f"expected entry {expected_seq}: entries missing")
            expected_seq = row.seq
        if row.prev_hash != prev:
            yield Break(row.stream, row.seq, "does not link to the entry before it")
        digest = entry_hash(stream=row.stream, seq=row.seq, at=row.at, actor=row.actor,
                            role=row.role, action=row.action, from_state=row.from_state,
                            to_state=row.to_state, data=row.data, prev_hash=row.prev_hash)
        if digest != row.hash:
            yield Break(row.stream, row.seq, "content does not match its hash: changed after "
                                             "it was written")
        prev = row.hash
        yield 1
    if stream is not None:
        yield from close(stream, expected_seq, prev)
    for name in sorted(set(heads) - seen):
        yield Break(name, heads[name][0], "head record without entries: the stream was removed")


def verify(conn: Connection, *, batch: int = 5000, limit: int = 100) -> Verdict:
    """Recompute every hash of every stream; report up to `limit` breaks."""
    entries = streams = 0
    breaks: list[Break] = []
    for item in _breaks(conn, batch):
        if isinstance(item, Break):
            if len(breaks) < limit:
                breaks.append(item)
        elif item:
            entries += 1
        else:
            streams += 1
    return Verdict(entries, streams, tuple(breaks))


def history(conn: Connection, stream: str) -> list[dict[str, Any]]:
    """A stream's entries, oldest first."""
    rows = conn.execute(select(entry_t).where(entry_t.c.stream == stream)
                        .order_by(entry_t.c.seq))
    return [
        {"seq": r.seq, "at": r.at, "actor": r.actor, "role": r.role, "action": r.action,
         "from_state": r.from_state, "to_state": r.to_state, "data": r.data, "hash": r.hash}
        for r in rows
    ]
