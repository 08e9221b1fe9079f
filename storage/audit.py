"""The audit log: every event appended to its stream, each entry hashing the one before it.

Streams are per record (`case:<id>`, `org:<id>`, `unit:<id>`, `campaign:<id>`) so that writers of
different cases never contend for one chain head. Each stream's last hash is kept apart from its
entries, so that cutting off a stream's newest entries is detected too: a case's on its row
(`audit_seq`, `audit_hash`, written with the event that appends), every other stream's in
`audit_head`.

The chain alone can be recomputed by anyone who can write the database. So each entry is also
signed with the audit key (storage.audit_key), which lives outside it: `mac`, an HMAC of the
entry's hash; and each head too (`audit_head.mac`, `case_record.audit_mac`), so that a stream
cannot be cut back to an earlier entry either. The key travels with the connection (the
Database's execution options, `key_of`): signing costs two HMACs and no database round trip.
A connection without a key writes unsigned entries, which a sealed log reports as breaks
(storage.audit_verify).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from engine import texts
from engine.errors import Conflict
from storage.audit_key import AuditKey
from storage.db import AUDIT_KEY_OPTION
from storage.prepared import Prepared
from storage.tables import AuditEntry, AuditHead, Case

if TYPE_CHECKING:
    from storage.audit_verify import Verdict

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]

GENESIS = "0" * 64

# Entries of a case's stream whose `data` tells what the system did to the case's bookkeeping
# (its clocks re-dated when a calendar year was added), not fields the case holds: every other
# entry's `data` is merged into the case's data, which `audit verify` replays (audit_verify).
CLOCK_REDATE = "calendar_redate"
BOOKKEEPING_ACTIONS = frozenset({CLOCK_REDATE})
# In a sign-off's entry, the signer's own fields (each level's 意见): they stay with the signature
# and are not merged into the case's data. No field can be named so (ids start with a letter).
SIGNER_FIELDS = "_signature"


def key_of(conn: Connection) -> AuditKey | None:
    """The audit key the connection's Database was opened with, if any."""
    key: AuditKey | None = conn.get_execution_options().get(AUDIT_KEY_OPTION)
    return key


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
HEAD_NEW = Prepared(insert(head_t), columns=("stream", "seq", "hash", "mac"))
HEAD_MOVE = Prepared(update(head_t)
                     .where(head_t.c.stream == bindparam("b_stream"),
                            head_t.c.seq == bindparam("b_seq"))
                     .values(seq=bindparam("b_next"), hash=bindparam("b_hash"),
                             mac=bindparam("b_mac")))
ENTRY = Prepared(insert(entry_t), columns=(
    "stream", "seq", "at", "actor", "role", "action", "from_state", "to_state", "data",
    "prev_hash", "hash", "mac"))


@dataclass(frozen=True)
class Draft:
    """An entry ready to append, its hash computed from the stream's head as it was read, and
    signed with the key, as is the head it becomes (`head_mac`)."""

    stream: str
    head_seq: int | None  # None: the stream is new
    entry: Mapping[str, Any]  # the audit_entry row
    head_mac: str | None  # the signature of the stream's head once this entry is appended

    @property
    def hash(self) -> str:
        return str(self.entry["hash"])

    @property
    def seq(self) -> int:
        return int(self.entry["seq"])

    def head_new(self) -> dict[str, Any]:
        """The parameters of HEAD_NEW for this entry (the stream is new)."""
        return {"stream": self.stream, "seq": self.entry["seq"], "hash": self.hash,
                "mac": self.head_mac}

    def head_move(self) -> dict[str, Any]:
        """The parameters of HEAD_MOVE for this entry (the stream exists)."""
        return {"b_stream": self.stream, "b_seq": self.head_seq,
                "b_next": self.entry["seq"], "b_hash": self.entry["hash"],
                "b_mac": self.head_mac}


def draft(
    conn: Connection, *, stream: str, at: dt.datetime, actor: str, role: str | None,
    action: str, from_state: str | None = None, to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Draft:
    """The next entry of `stream`, chained to its head in audit_head as read in `conn` and
    signed with `conn`'s key."""
    head = HEAD.one_or_none(conn, {"b_stream": stream})
    return draft_after(head.seq if head else None, head.hash if head else GENESIS,
                       key=key_of(conn), stream=stream, at=at, actor=actor, role=role,
                       action=action, from_state=from_state, to_state=to_state, data=data)


def draft_after(
    head_seq: int | None, head_hash: str, *, key: AuditKey | None, stream: str,
    at: dt.datetime, actor: str, role: str | None, action: str, from_state: str | None = None,
    to_state: str | None = None, data: Mapping[str, Any] | None = None,
) -> Draft:
    """The next entry of `stream` after its head (`head_seq` None, `head_hash` GENESIS: new),
    signed with `key` (unsigned without one)."""
    seq = head_seq + 1 if head_seq else 1
    payload = dict(data or {})
    digest = entry_hash(stream=stream, seq=seq, at=at, actor=actor, role=role, action=action,
                        from_state=from_state, to_state=to_state, data=payload,
                        prev_hash=head_hash)
    return Draft(stream, head_seq, {
        "stream": stream, "seq": seq, "at": at, "actor": actor, "role": role,
        "action": action, "from_state": from_state, "to_state": to_state, "data": payload,
        "prev_hash": head_hash, "hash": digest,
        "mac": key.entry_mac(digest) if key else None},
        key.head_mac(stream, seq, digest) if key else None)


def write(conn: Connection, entry: Draft) -> str:
    """Append a drafted entry; Conflict if the stream moved on since it was drafted."""
    if entry.head_seq is None:
        HEAD_NEW.rowcount(conn, entry.head_new())
    elif HEAD_MOVE.rowcount(conn, entry.head_move()) != 1:
        raise Conflict(texts.t("audit.stream_moved", stream=entry.stream),
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


def history(conn: Connection, stream: str) -> list[dict[str, Any]]:
    """A stream's entries, oldest first."""
    rows = conn.execute(select(entry_t).where(entry_t.c.stream == stream)
                        .order_by(entry_t.c.seq))
    return [
        {"seq": r.seq, "at": r.at, "actor": r.actor, "role": r.role, "action": r.action,
         "from_state": r.from_state, "to_state": r.to_state, "data": r.data, "hash": r.hash}
        for r in rows
    ]



def verify(conn: Connection, **options: Any) -> Verdict:
    """Check the whole log (storage.audit_verify.verify, which builds on this module)."""
    from storage import audit_verify

    return audit_verify.verify(conn, **options)
