"""The database of a command: its `--database` option, and opening it the one way every command
does — refused with the fix unless it is migrated, with the audit log's key, and, for a command
that writes, refused without the key the log was sealed with (what it appends would be
unsigned)."""

from __future__ import annotations

import argparse

from engine import texts
from engine.errors import PaichaError
from paicha.files import CommandFailed
from storage import audit_key, audit_seal
from storage.db import Database, database_url
from storage.readiness import check_current


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """`--database URL` on a command that opens the database."""
    parser.add_argument("--database", metavar="URL", help=texts.t("cli.database_help"))


def open_database(args: argparse.Namespace, command: str, *, writes: bool = False) -> Database:
    """The command's database (see the module's docstring); `command` names it in refusals,
    e.g. `token create`."""
    url = args.database or database_url()
    check_current(url)
    try:
        db = Database(url, audit_key=audit_key.configured(url))
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command=command, error=exc)]) from None
    if writes:
        try:
            audit_seal.check_key(db)
        except PaichaError as exc:
            db.dispose()
            raise CommandFailed([texts.t("cli.failed", command=command, error=exc)]) from None
    return db
