"""`paicha import orgs|units FILE`: the API's import (POST /orgs/import, /units/import) from the
shell, into the database of `--database`.

The same reader (paicha.sheets), row checks (engine.subject_rows), vocabulary (the published
campaigns' words, by id or Chinese name) and storage (storage.bulk) as the API: all or nothing,
idempotent by id, and new records owe what the deployed campaigns ask. Every bad row is printed
as FILE:LINE:COLUMN; `--dry-run` checks everything and prints what it would write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from api.services import campaign_loader, system_clock
from engine import texts
from engine.access import Principal
from engine.errors import InputInvalid, PaichaError
from engine.subject_rows import Progress, no_progress
from engine.vocabulary import Kind as Word
from engine.vocabulary import Vocabulary
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed, display_name
from paicha.progress import Bar, wanted
from paicha.sheets import Kind
from paicha.subjects import SubjectsInvalid, as_problem, read_bytes, read_sheet
from storage import bulk
from storage.campaigns import CampaignRegistry, vocabulary
from storage.db import Database

IMPORTERS: dict[Kind, Callable[..., bulk.Outcome]] = {"orgs": bulk.import_orgs,
                                                      "units": bulk.import_units}
WORDS: dict[Kind, tuple[Word, ...]] = {"orgs": ("level",), "units": ("industry", "tag")}


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ";".join(value) or "—"
    return str(value)


def describe(kind: Kind, outcome: bulk.Outcome, *, dry_run: bool) -> list[str]:
    """One line per record created or updated (with the values written), then the counts."""
    lines = []
    for action, key, values in outcome.records():
        written = "  ".join(f"{name}={_shown(value)}" for name, value in values.items())
        lines.append(texts.t(f"cli.import.{action}.{kind}", key=key, values=written))
    counts = outcome.counts
    lines.append(texts.t("cli.import.dry_run" if dry_run else "cli.import.done", **counts))
    return lines


def import_file(db: Database, registry: CampaignRegistry, kind: Kind, path: Path, *,
                now: dt.datetime, dry_run: bool = False, sheet: str | None = None,
                charset: str | None = None, data: bytes | None = None,
                progress: Progress = no_progress) -> tuple[bulk.Outcome, Vocabulary]:
    """Import a file as `paicha import` does, at `now` (as an admin of the shell); the outcome
    and the vocabulary it was checked with. SubjectsInvalid or InputInvalid (every problem)
    when the file cannot be imported; then nothing is written."""
    principal = Principal(0, f"paicha import {kind}", frozenset(), "admin")
    table = read_sheet(path, kind, sheet=sheet, charset=charset, data=data, progress=progress)
    # a dry run only reads: it takes no write lock and appends nothing to the audit log
    with db.read() if dry_run else db.write() as conn:
        words = vocabulary(registry, conn)
        outcome = IMPORTERS[kind](conn, principal, table, now, dry_run=dry_run,
                                  registry=registry, vocabulary=words, progress=progress)
    return outcome, words


def cmd_import(args: argparse.Namespace) -> int:
    kind: Kind = args.kind
    command = f"import {kind}"
    path = Path(args.file)
    try:
        data = read_bytes(path)
    except SubjectsInvalid as exc:
        raise CommandFailed(exc.problems) from None
    bar = Bar(sys.stderr, display_name(path), shown=wanted(args.progress, sys.stderr,
                                                            len(data)))
    db = open_database(args, command, writes=not args.dry_run)
    try:
        outcome, words = import_file(db, CampaignRegistry(campaign_loader), kind, path,
                                     now=system_clock(), dry_run=args.dry_run, sheet=args.sheet,
                                     charset=args.charset, data=data, progress=bar)
    except SubjectsInvalid as exc:
        bar.close()
        raise CommandFailed(exc.problems) from None
    except InputInvalid as exc:
        bar.close()
        if exc.problems:
            source = display_name(path)
            raise CommandFailed([*(as_problem(source, p) for p in exc.problems
                                   if isinstance(p, Mapping)),
                                 texts.t("cli.import.nothing_written", command=command,
                                         error=exc)]) from None
        raise CommandFailed([texts.t("cli.failed", command=command, error=exc)]) from None
    except PaichaError as exc:
        bar.close()
        raise CommandFailed([texts.t("cli.failed", command=command, error=exc)]) from None
    finally:
        db.dispose()
    bar.close()
    for word in WORDS[kind]:
        if not words.declares(word):
            print(texts.t(f"cli.import.undeclared.{word}", command=command), file=sys.stderr)
    if args.json:
        print(json.dumps({**outcome.counts, "dry_run": args.dry_run,
                          "records": [{"action": action, "id": key, "values": values}
                                      for action, key, values in outcome.records()]},
                         ensure_ascii=False))
    else:
        lines = describe(kind, outcome, dry_run=args.dry_run)
        if args.dry_run:
            print("\n".join(lines))
        else:
            print(f"{display_name(path)}: {lines[-1]}", file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    """Add the `import` subcommand."""
    t = texts.t
    parser = commands.add_parser("import", help=t("cli.import.help"),
                                 description=t("cli.import.description"))
    parser.add_argument("kind", choices=["orgs", "units"], help=t("cli.import.kind_help"))
    parser.add_argument("file", metavar="FILE", help=t("cli.import.file_help"))
    parser.add_argument("--dry-run", action="store_true", help=t("cli.import.dry_run_help"))
    parser.add_argument("--sheet", metavar="NAME", help=t("cli.import.sheet_help"))
    parser.add_argument("--charset", metavar="CHARSET", help=t("cli.import.charset_help"))
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help=t("cli.import.progress_help"))
    parser.add_argument("--json", action="store_true", help=t("cli.import.json_help"))
    add_database_option(parser)
    parser.set_defaults(run=cmd_import)
