"""Checking the audit log: every chain, every signature, every head, and every case row
against its stream, in one pass and constant memory.

The entries come sorted by stream and number, the heads (`audit_head` rows and case rows)
sorted by stream, and `walk` merges the two as a zip merges sorted lists: it holds one stream
at a time, never a table of all heads. Both sides must be sorted as Python compares text (by
code point): SQLite compares bytes, which agrees; PostgreSQL is told `COLLATE "C"`, since its
default collation may not (`walk` refuses input out of that order rather than report false
breaks).

A case row is checked against its stream: its `state` is where the last entry left it
(`to_state`), its `data` the opening entry's `data["data"]` updated, in order, with every later
entry's `data` (what storage.cases writes), and its `type`, `unit_id`,
`campaign_version_id` and `unit_terms` (the unit's industry and tags its conditions are judged
by) are those the opening entry names; a case opened before the opening entry named its unit's
terms (migration 0010 filled them from the unit) has nothing to check them against.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.sql.elements import ColumnElement

from engine import texts
from storage import audit
from storage.audit import GENESIS, entry_hash, key_of
from storage.audit_key import AuditKey
from storage.tables import AuditEntry, AuditHead, AuditSeal, Case

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]
seal_t = AuditSeal.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]

WHOLE_LOG = "*"  # the stream named by a problem of the whole log (its key, its seal)
Tally = Literal["entry", "stream", "unsigned"]


@dataclass(frozen=True)
class Break:
    """One place where the log does not hold."""

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
    unsigned: int = 0  # entries and heads without a signature
    keyed: bool = False  # signatures were checked with the log's key
    sealed: bool = False

    @property
    def ok(self) -> bool:
        return not self.breaks


class Head(NamedTuple):
    """Where a stream ends, as kept apart from its entries; `case` is the case row of a
    case's stream (its head is on it)."""

    stream: str
    seq: int
    hash: str
    mac: str | None
    case: Any = None


class Exported(NamedTuple):
    """A head as `paicha audit export` wrote it (storage.audit_export)."""

    stream: str
    seq: int
    hash: str
    mac: str | None


class Seal(NamedTuple):
    fingerprint: str
    sealed_at: Any
    sealed_by: str


# -- what the database holds, streamed in Python's order of text ------------------------------

def _in_order(conn: Connection, column: ColumnElement[str]) -> ColumnElement[str]:
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def entries(conn: Connection, *, batch: int = 5000,
            opened: contextlib.ExitStack | None = None) -> Iterator[Any]:
    """Every entry, by stream and number, fetched `batch` rows at a time; its cursor closed
    with `opened`, if given."""
    rows = conn.execute(select(entry_t).order_by(_in_order(conn, entry_t.c.stream),
                                                  entry_t.c.seq)
                        .execution_options(yield_per=batch))
    return iter(opened.enter_context(rows) if opened is not None else rows)


def heads(conn: Connection, *, batch: int = 5000,
          opened: contextlib.ExitStack | None = None) -> Iterator[Head]:
    """Every stream head, by stream: audit_head's rows merged with the case rows'; their
    cursors closed with `opened`, if given."""
    kept = conn.execute(select(head_t.c.stream, head_t.c.seq, head_t.c.hash, head_t.c.mac)
                        .order_by(_in_order(conn, head_t.c.stream))
                        .execution_options(yield_per=batch))
    cases = conn.execute(select(case_t.c.id, case_t.c.audit_seq, case_t.c.audit_hash,
                                case_t.c.audit_mac, case_t.c.state, case_t.c.data,
                                case_t.c.type, case_t.c.unit_id, case_t.c.campaign_version_id,
                                case_t.c.unit_terms)
                         .order_by(_in_order(conn, case_t.c.id))  # "case:" + id: same order
                         .execution_options(yield_per=batch))
    if opened is not None:
        opened.enter_context(kept)
        opened.enter_context(cases)
    return heapq.merge(
        (Head(r.stream, r.seq, r.hash, r.mac) for r in kept),
        (Head(f"case:{r.id}", r.audit_seq, r.audit_hash, r.audit_mac, r) for r in cases),
        key=attrgetter("stream"))


def seal_of(conn: Connection) -> Seal | None:
    """The log's seal, if it was sealed."""
    row = conn.execute(select(seal_t.c.fingerprint, seal_t.c.sealed_at, seal_t.c.sealed_by)
                       ).first()
    return Seal(row.fingerprint, row.sealed_at, row.sealed_by) if row else None


# -- the walk ---------------------------------------------------------------------------------

class _Sorted:
    """Items sorted by stream, looked at one ahead; refuses one out of order."""

    def __init__(self, items: Iterable[Any], what: str) -> None:
        self._items = iter(items)
        self._what = what
        self._last = ""
        self._next = self._advance()

    def _advance(self) -> Any:
        item = next(self._items, None)
        if item is not None:
            if item.stream < self._last:
                raise RuntimeError(
                    f"{self._what} are not sorted by stream as Python compares text "
                    f"({self._last!r} came before {item.stream!r}): the database sorts by "
                    "another collation")
            self._last = item.stream
        return item

    def before(self, stream: str | None) -> Iterator[Any]:
        """The items of streams that sort before `stream` (all that are left for None)."""
        while self._next is not None and (stream is None or self._next.stream < stream):
            item, self._next = self._next, self._advance()
            yield item

    def take(self, stream: str) -> list[Any]:
        """The items of `stream` (one, or none; more only in a tampered log)."""
        found = []
        while self._next is not None and self._next.stream == stream:
            found.append(self._next)
            self._next = self._advance()
        return found


class _Stream:
    """One stream as the walk goes through its entries."""

    def __init__(self, name: str, head: Head | None, exported: Exported | None,
                 key: AuditKey | None, require_macs: bool) -> None:
        self.name, self.head, self.exported = name, head, exported
        self.key, self.require_macs = key, require_macs
        self.seq, self.prev = 0, GENESIS
        self.reached_export = False
        self.is_case = head is not None and head.case is not None
        self.opening: Mapping[str, Any] | None = None  # a case's opening entry's data
        self.state: str | None = None
        self.data: dict[str, Any] = {}

    def add(self, row: Any) -> Iterator[Break | Tally]:
        self.seq += 1
        if row.seq != self.seq:
            yield Break(row.stream, row.seq, texts.t("audit.break.entries_missing", seq=self.seq))
            self.seq = row.seq
        if row.prev_hash != self.prev:
            yield Break(row.stream, row.seq, texts.t("audit.break.unlinked"))
        digest = entry_hash(stream=row.stream, seq=row.seq, at=row.at, actor=row.actor,
                            role=row.role, action=row.action, from_state=row.from_state,
                            to_state=row.to_state, data=row.data, prev_hash=row.prev_hash)
        if digest != row.hash:
            yield Break(row.stream, row.seq, texts.t("audit.break.hash_mismatch"))
        if row.mac is None:
            yield "unsigned"
            if self.require_macs:
                yield Break(row.stream, row.seq, texts.t("audit.break.unsigned_entry"))
        elif self.key is not None and not self.key.signs_entry(row.hash, row.mac):
            yield Break(row.stream, row.seq, texts.t("audit.break.entry_signature"))
        if self.exported is not None and row.seq == self.exported.seq:
            self.reached_export = True
            if row.hash != self.exported.hash:
                yield Break(row.stream, row.seq, texts.t("audit.break.differs_from_export"))
        if self.is_case:
            self._fold(row)
        self.prev = row.hash

    def _fold(self, row: Any) -> None:
        data = row.data if isinstance(row.data, Mapping) else {}
        if row.seq == 1 and row.action == "open":
            self.opening = data
            opened = data.get("data")
            self.data = dict(opened) if isinstance(opened, Mapping) else {}
        elif row.action not in audit.BOOKKEEPING_ACTIONS:
            self.data.update((k, v) for k, v in data.items() if k != audit.SIGNER_FIELDS)
        self.state = row.to_state

    def close(self) -> Iterator[Break | Tally]:
        head, name, seq = self.head, self.name, self.seq
        if head is None:
            yield Break(name, seq, texts.t("audit.break.no_head"))
        else:
            reached = (head.seq, head.hash) == (seq, self.prev)
            if not reached:
                yield Break(name, seq, texts.t("audit.break.head_mismatch", seq=seq,
                                               head=head.seq))
            yield from _head_signature(head, self.key, self.require_macs)
            if head.case is not None and reached:  # else the row is ahead of what is left
                yield from self._case(head.case)
        if self.exported is not None and not self.reached_export:
            yield Break(name, seq, texts.t("audit.break.below_export", seq=seq,
                                           exported=self.exported.seq))

    def _case(self, case: Any) -> Iterator[Break]:
        name, seq = self.name, self.seq
        if self.opening is None:
            yield Break(name, 1, texts.t("audit.break.no_opening"))
            return
        if case.state != self.state:
            yield Break(name, seq, texts.t("audit.break.case_state", state=case.state,
                                           expected=self.state))
        if case.data != self.data:
            fields = sorted(k for k in {*case.data, *self.data}
                            if case.data.get(k, _ABSENT) != self.data.get(k, _ABSENT))
            yield Break(name, seq, texts.t("audit.break.case_data",
                                           fields=texts.listed(fields[:10])))
        opened = {"type": self.opening.get("type"), "unit": self.opening.get("unit"),
                  "campaign_version_id": self.opening.get("campaign_version_id")}
        stored = {"type": case.type, "unit": case.unit_id,
                  "campaign_version_id": case.campaign_version_id}
        if "unit_terms" in self.opening:
            opened["unit_terms"] = self.opening["unit_terms"]
            stored["unit_terms"] = case.unit_terms
        for field, value in opened.items():
            if stored[field] != value:
                yield Break(name, seq, texts.t("audit.break.case_opened", field=field,
                                               stored=stored[field], value=value))


_ABSENT = object()


def _head_signature(head: Head, key: AuditKey | None, require_macs: bool
                    ) -> Iterator[Break | Tally]:
    if head.mac is None:
        yield "unsigned"
        if require_macs:
            yield Break(head.stream, head.seq, texts.t("audit.break.unsigned_head"))
    elif key is not None and not key.signs_head(head.stream, head.seq, head.hash, head.mac):
        yield Break(head.stream, head.seq, texts.t("audit.break.head_signature"))


def _exported_signature(exported: Exported, key: AuditKey | None) -> Iterator[Break]:
    if key is not None and exported.mac is not None and not key.signs_head(
            exported.stream, exported.seq, exported.hash, exported.mac):
        yield Break(exported.stream, exported.seq, texts.t("audit.break.export_signature"))


def walk(entries: Iterable[Any], heads: Iterable[Head], exported: Iterable[Exported] = (), *,
         key: AuditKey | None, require_macs: bool) -> Iterator[Break | Tally]:
    """Merge the sorted entries with the sorted heads (and exported heads), one stream at a
    time: yields every break, "stream" as each stream starts, "entry" after each entry, and
    "unsigned" for each entry or head without a signature. With `key`, signatures are checked;
    with `require_macs` (a sealed log), a missing one is a break."""
    pending, past = _Sorted(heads, "heads"), _Sorted(exported, "exported heads")
    current: _Stream | None = None
    for row in _Sorted(entries, "entries").before(None):
        if current is None or row.stream != current.name:
            if current is not None:
                yield from current.close()
            yield from _without_entries(pending, past, row.stream, key, require_macs)
            found, marks = pending.take(row.stream), past.take(row.stream)
            for extra in found[1:]:
                yield Break(row.stream, extra.seq, texts.t("audit.break.second_head"))
            for mark in marks:
                yield from _exported_signature(mark, key)
            current = _Stream(row.stream, found[0] if found else None,
                              marks[0] if marks else None, key, require_macs)
            yield "stream"
        yield from current.add(row)
        yield "entry"
    if current is not None:
        yield from current.close()
    yield from _without_entries(pending, past, None, key, require_macs)


def _without_entries(pending: _Sorted, past: _Sorted, upto: str | None, key: AuditKey | None,
                     require_macs: bool) -> Iterator[Break | Tally]:
    """The heads, and exported heads, of streams before `upto` that have no entries."""
    for head in pending.before(upto):
        if head.case is not None:
            yield Break(head.stream, head.seq, texts.t("audit.break.case_without_entries"))
        else:
            yield Break(head.stream, head.seq, texts.t("audit.break.head_without_entries"))
        yield from _head_signature(head, key, require_macs)
    for mark in past.before(upto):
        yield from _exported_signature(mark, key)
        yield Break(mark.stream, mark.seq, texts.t("audit.break.export_gone"))


# -- verify -----------------------------------------------------------------------------------

def verify(conn: Connection, *, exported: Iterable[Exported] = (), batch: int = 5000,
           limit: int = 100) -> Verdict:
    """Check the whole log with `conn`'s key (storage.audit.key_of); report up to `limit`
    breaks. `exported`: heads an export wrote, which the log must still reach."""
    key, seal = key_of(conn), seal_of(conn)
    first: list[Break] = []
    checking: AuditKey | None = key
    if seal is not None and key is None:
        checking = None
        first.append(Break(WHOLE_LOG, 0, texts.t("audit.break.sealed_no_key",
                                                 fingerprint=seal.fingerprint)))
    elif seal is not None and key is not None and seal.fingerprint != key.fingerprint:
        checking = None
        first.append(Break(WHOLE_LOG, 0, texts.t("audit.break.other_key", key=key.fingerprint,
                                                 source=key.source,
                                                 fingerprint=seal.fingerprint)))
    tally = {"entry": 0, "stream": 0, "unsigned": 0}
    breaks = first
    # the cursors are closed however the walk ends: an unreadable export stops it midway, and
    # PostgreSQL's server-side cursors must not be left to the garbage collector
    with contextlib.ExitStack() as opened:
        for item in walk(entries(conn, batch=batch, opened=opened),
                         heads(conn, batch=batch, opened=opened), exported, key=checking,
                         require_macs=seal is not None and checking is not None):
            if isinstance(item, Break):
                if len(breaks) < limit:
                    breaks.append(item)
            else:
                tally[item] += 1
    if seal is None and key is not None:
        breaks.insert(0, Break(WHOLE_LOG, 0, texts.t("audit.break.not_sealed",
                                                     unsigned=tally["unsigned"])))
    return Verdict(tally["entry"], tally["stream"], tuple(breaks[:limit]), tally["unsigned"],
                   checking is not None, seal is not None)

