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
        raise CommandFailed([f"paicha audit verify: {exc}"]) from None
    finally:
        db.dispose()
    if args.json:
        print(json.dumps({"ok": verdict.ok, "entries": verdict.entries,
                          "streams": verdict.streams, "unsigned": verdict.unsigned,
                          "keyed": verdict.keyed, "sealed": verdict.sealed,
                          "breaks": [b.as_dict() for b in verdict.breaks]}, ensure_ascii=False))
    else:
        for item in verdict.breaks:
            where = "the log" if item.stream == audit_verify.WHOLE_LOG else \
                f"{item.stream} #{item.seq}"
            print(f"{where}: {item.problem}")
    result = "intact" if verdict.ok else f"BROKEN in {len(verdict.breaks)} place(s)"
    signed = ("signatures checked" if verdict.keyed else
              f"not signed: no audit key, {verdict.unsigned} unsigned" if not verdict.sealed
              else "signatures NOT checked")
    heads = f"; reaches every head of {args.heads}" if args.heads and verdict.ok else ""
    print(f"audit log {result}: {verdict.entries} entries in {verdict.streams} streams, "
          f"{signed}{heads}", file=sys.stderr)
    return 0 if verdict.ok else 1


@contextlib.contextmanager
def _exported(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield ()
        return
    try:
        with path.open(encoding="utf-8") as lines:
            yield audit_export.read_export(lines, str(path))
    except OSError as exc:
        raise CommandFailed([f"paicha audit verify: cannot read {path}: {exc.strerror}"],
                            code=2) from None


def cmd_seal(args: argparse.Namespace) -> int:
    db = open_database(args, "audit seal")
    try:
        with db.write() as conn:
            sealed = audit_seal.seal(conn, now=system_clock(), by="paicha audit seal")
    except audit_seal.SealRefused as exc:
        lines = [f"{b.stream} #{b.seq}: {b.problem}" for b in exc.breaks]
        raise CommandFailed([*lines, f"paicha audit seal: {exc}"]) from None
    except PaichaError as exc:
        raise CommandFailed([f"paicha audit seal: {exc}"]) from None
    finally:
        db.dispose()
    print(f"audit log sealed with key {sealed.fingerprint}: {sealed.entries} entries and "
          f"{sealed.heads} heads signed", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    db = open_database(args, "audit export")
    try:
        with db.read() as conn, _output(args.output) as out:
            count = audit_export.export(conn, out, now=system_clock())
    finally:
        db.dispose()
    where = f" to {args.output}" if args.output else ""
    print(f"exported the heads of {count} streams{where}; keep the file apart from the "
          "database, and check it later with `paicha audit verify --heads FILE`",
          file=sys.stderr)
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
        raise CommandFailed([f"paicha audit export: {path} exists; name a new file"],
                            code=2) from None


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "audit", help="check, seal and export the audit log",
        description="The audit log's key comes from $PAICHA_AUDIT_KEY, else the file "
                    "$PAICHA_AUDIT_KEY_FILE, else the file beside the SQLite database "
                    "(paicha.db.audit-key) or paicha-audit.key in the working directory.")
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check every chain, signature, head and case row; exit 1 on a break")
    verify.add_argument("--heads", type=Path, metavar="FILE",
                        help="also check that the log still reaches every head of an export")
    verify.add_argument("--limit", type=int, default=100, metavar="N",
                        help="report at most N breaks (default 100)")
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    add_database_option(verify)
    verify.set_defaults(run=cmd_verify)
    seal = actions.add_parser(
        "seal", help="sign the entries written before the log had a key (once)",
        description="Check the whole log and, if it holds, sign every unsigned entry and "
                    "head with the audit key; from then on an unsigned entry is a break. "
                    "`paicha serve` does this by itself when it makes the key.")
    add_database_option(seal)
    seal.set_defaults(run=cmd_seal)
    export = actions.add_parser(
        "export", help="write every stream's signed head (JSON lines), to keep elsewhere")
    export.add_argument("--output", type=Path, metavar="FILE",
                        help="a new file to write (default: standard output)")
    add_database_option(export)
    export.set_defaults(run=cmd_export)


# -- paicha serve and paicha scheduler --------------------------------------------------------

def key_for_serving(url: str) -> tuple[AuditKey, bool]:
    """The deployment's audit key, made on the first `paicha serve` (then True)."""
    try:
        return audit_seal.key_for_serving(url)
    except PaichaError as exc:
        raise CommandFailed([f"paicha serve: {exc}"]) from None


def seal_for_serving(db: Database, *, created: bool, now: dt.datetime) -> str:
    """Seal the log if it should be (storage.audit_seal.seal_on_start); a line saying so."""
    assert db.audit_key is not None
    try:
        return (f"{audit_seal.describe(db.audit_key, created)}; "
                f"{audit_seal.seal_on_start(db, created=created, now=now)}")
    except PaichaError as exc:
        raise CommandFailed([f"paicha serve: {exc}"]) from None


def require_key(db: Database, command: str) -> None:
    """Refuse to go on writing a sealed log without its key."""
    try:
        audit_seal.check_key(db)
    except PaichaError as exc:
        raise CommandFailed([f"paicha {command}: {exc}"]) from None
