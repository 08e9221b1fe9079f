"""Exporting the audit log's heads, to keep apart from the database, and reading them back for
`paicha audit verify --heads`: a stream removed whole, cut back, or put back to an older copy
after an export no longer reaches the head exported (storage.audit_verify checks that).

An export is JSON lines: a header (format, time, the fingerprint of the key the log was sealed
with), then one line per stream in the order verify walks them — stream, seq, hash and the
head's signature.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy import Connection

from engine import texts
from engine.errors import InputInvalid
from storage.audit_verify import Exported, heads, seal_of

EXPORT_FORMAT = "paicha-audit-heads/1"


def export(conn: Connection, out: IO[str], *, now: dt.datetime, batch: int = 5000) -> int:
    """Write every stream's head, signed, as JSON lines (a header first); how many."""
    seal = seal_of(conn)
    out.write(json.dumps({"format": EXPORT_FORMAT, "exported_at": now.isoformat(),
                          "sealed_with": seal.fingerprint if seal else None}) + "\n")
    count = 0
    for head in heads(conn, batch=batch):
        out.write(json.dumps({"stream": head.stream, "seq": head.seq, "hash": head.hash,
                              "mac": head.mac}, ensure_ascii=False) + "\n")
        count += 1
    return count


def read_export(lines: Iterable[str], source: str) -> Iterator[Exported]:
    """The heads of an export, as `walk` takes them; InputInvalid on a line it cannot read."""
    header_seen, last = False, ""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not header_seen:
                if item.get("format") != EXPORT_FORMAT:
                    raise ValueError(texts.t("audit.export.not_an_export",
                                             format=EXPORT_FORMAT))
                header_seen = True
                continue
            exported = Exported(str(item["stream"]), int(item["seq"]), str(item["hash"]),
                                None if item.get("mac") is None else str(item["mac"]))
            if exported.stream <= last:
                raise ValueError(texts.t("audit.export.out_of_order", stream=exported.stream,
                                         last=last))
            last = exported.stream
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputInvalid(texts.t("audit.export.unreadable", source=source, line=number,
                                       reason=exc), code="audit_export_invalid") from None
        yield exported
