"""`paicha audit verify | seal | export`: checking, sealing and keeping the heads of the audit
log from the shell, with the deployment's key ($PAICHA_AUDIT_KEY or its key file)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.services import system_clock
from engine import texts
from engine.errors import PaichaError
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed
from storage import audit_export, audit_seal, audit_verify
from storage.audit_key import AuditKey
from storage.db import Database


def cmd_verify(args: argparse.Namespace) -> int:
    db = open_database(args, "audit verify")
    try:
        with _exported(args.heads) as exported, db.read() as conn:
            verdict = audit_verify.verify(conn, exported=exported, limit=args.limit)
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="audit verify", error=exc)]) from None
    finally:
        db.dispose()
    if args.json:
        print(json.dumps({"ok": verdict.ok, "entries": verdict.entries,
                          "streams": verdict.streams, "unsigned": verdict.unsigned,
                          "keyed": verdict.keyed, "sealed": verdict.sealed,
                          "breaks": [b.as_dict() for b in verdict.breaks]}, ensure_ascii=False))
    else:
        for item in verdict.breaks:
            print(_break_line(item))
    result = (texts.t("audit.verify.intact") if verdict.ok else
              texts.t("audit.verify.broken", count=len(verdict.breaks)))
    signed = (texts.t("audit.verify.signatures_checked") if verdict.keyed else
              texts.t("audit.verify.not_signed", unsigned=verdict.unsigned)
              if not verdict.sealed else texts.t("audit.verify.signatures_not_checked"))
    heads = (texts.t("audit.verify.reaches_heads", file=args.heads)
             if args.heads and verdict.ok else "")
    print(texts.t("audit.verify.summary", result=result, entries=verdict.entries,
                  streams=verdict.streams, signed=signed, heads=heads), file=sys.stderr)
    return 0 if verdict.ok else 1


def _break_line(item: audit_verify.Break) -> str:
    """A break as a line: where (a stream's entry, or the whole log) and what."""
    if item.stream == audit_verify.WHOLE_LOG:
        return texts.t("audit.verify.break_log", problem=item.problem)
    return texts.t("audit.verify.break", stream=item.stream, seq=item.seq, problem=item.problem)


@contextlib.contextmanager
def _exported(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield ()
        return
    try:
        with path.open(encoding="utf-8") as lines:
            yield audit_export.read_export(lines, str(path))
    except OSError as exc:
        raise CommandFailed([texts.t("audit.verify.cannot_read", path=path,
                                     reason=exc.strerror)], code=2) from None


def cmd_seal(args: argparse.Namespace) -> int:
    db = open_database(args, "audit seal")
    try:
        with db.write() as conn:
            sealed = audit_seal.seal(conn, now=system_clock(), by="paicha audit seal")
    except audit_seal.SealRefused as exc:
        lines = [_break_line(b) for b in exc.breaks]
        raise CommandFailed([*lines, texts.t("cli.failed", command="audit seal",
                                             error=exc)]) from None
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="audit seal", error=exc)]) from None
    finally:
        db.dispose()
    print(texts.t("audit.seal.done", fingerprint=sealed.fingerprint, entries=sealed.entries,
                  heads=sealed.heads), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    db = open_database(args, "audit export")
    try:
        with db.read() as conn, _output(args.output) as out:
            count = audit_export.export(conn, out, now=system_clock())
    finally:
        db.dispose()
    print(texts.t("audit.export.done_to", count=count, file=args.output) if args.output
          else texts.t("audit.export.done", count=count), file=sys.stderr)
    return 0


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    try:
        with path.open("x", encoding="utf-8") as out:  # never over an older export
            yield out
    except FileExistsError:
        raise CommandFailed([texts.t("audit.export.exists", path=path)], code=2) from None


def register(commands: Any) -> None:
    """Add `paicha audit` with its help in the command's language (chosen before the parser
    is built)."""
    parser = commands.add_parser("audit", help=texts.t("audit.help.audit"),
                                 description=texts.t("audit.help.description"))
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help=texts.t("audit.help.verify"))
    verify.add_argument("--heads", type=Path, metavar="FILE", help=texts.t("audit.help.heads"))
    verify.add_argument("--limit", type=int, default=100, metavar="N",
                        help=texts.t("audit.help.limit"))
    verify.add_argument("--json", action="store_true", help=texts.t("audit.help.json"))
    add_database_option(verify)
    verify.set_defaults(run=cmd_verify)
    seal = actions.add_parser("seal", help=texts.t("audit.help.seal"),
                              description=texts.t("audit.help.seal_description"))
    add_database_option(seal)
    seal.set_defaults(run=cmd_seal)
    export = actions.add_parser("export", help=texts.t("audit.help.export"))
    export.add_argument("--output", type=Path, metavar="FILE",
                        help=texts.t("audit.help.output"))
    add_database_option(export)
    export.set_defaults(run=cmd_export)


# -- paicha serve and paicha scheduler --------------------------------------------------------

def key_for_serving(url: str) -> tuple[AuditKey, bool]:
    """The deployment's audit key, made on the first `paicha serve` (then True)."""
    try:
        return audit_seal.key_for_serving(url)
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="serve", error=exc)]) from None


def seal_for_serving(db: Database, *, created: bool, now: dt.datetime) -> str:
    """Seal the log if it should be (storage.audit_seal.seal_on_start); a line saying so."""
    assert db.audit_key is not None
    try:
        return texts.t("audit.serve.line", key=audit_seal.describe(db.audit_key, created),
                       sealed=audit_seal.seal_on_start(db, created=created, now=now))
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="serve", error=exc)]) from None


def require_key(db: Database, command: str) -> None:
    """Refuse to go on writing a sealed log without its key."""
    try:
        audit_seal.check_key(db)
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command=command, error=exc)]) from None
