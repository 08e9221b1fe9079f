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
from engine.access import Principal
from engine.errors import InputInvalid, PaichaError
from engine.subject_rows import Progress, no_progress
from engine.vocabulary import DECLARED_BY, WHAT, Vocabulary
from engine.vocabulary import Kind as Word
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
SINGULAR: dict[Kind, str] = {"orgs": "org", "units": "unit"}
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
        lines.append(f"{action} {SINGULAR[kind]} {key}  {written}")
    counts = outcome.counts
    if dry_run:
        lines.append(f"dry run, nothing written: would create {counts['created']}, update "
                     f"{counts['updated']}; {counts['unchanged']} unchanged")
    else:
        lines.append(f"{counts['created']} created, {counts['updated']} updated, "
                     f"{counts['unchanged']} unchanged")
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
                                 f"paicha {command}: {exc}; nothing written"]) from None
        raise CommandFailed([f"paicha {command}: {exc}"]) from None
    except PaichaError as exc:
        bar.close()
        raise CommandFailed([f"paicha {command}: {exc}"]) from None
    finally:
        db.dispose()
    bar.close()
    for word in WORDS[kind]:
        if not words.declares(word):
            print(f"paicha {command}: warning: no published campaign declares {WHAT[word]}s "
                  f"({DECLARED_BY[word]}): they are stored as written, unchecked",
                  file=sys.stderr)
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
    parser = commands.add_parser(
        "import", help="create or update orgs or units from a CSV or XLSX file",
        description="Create or update orgs or units from a CSV or XLSX file, as POST "
                    "/orgs/import and /units/import do (docs/import.md): rows matched by id, "
                    "industries, tags and levels by id or the Chinese name the published "
                    "campaigns declare. Every bad row is reported with its line and column, "
                    "and then nothing is written.")
    parser.add_argument("kind", choices=["orgs", "units"],
                        help="orgs (id,name,level,parent) or units (id,name,org,industry,tags)")
    parser.add_argument("file", metavar="FILE", help="a .csv or .xlsx file")
    parser.add_argument("--dry-run", action="store_true",
                        help="check everything and print what would be written; write nothing")
    parser.add_argument("--sheet", metavar="NAME", help="the XLSX sheet (default: the first)")
    parser.add_argument("--charset", metavar="CHARSET",
                        help="the CSV file's charset when it is not UTF-8 (gbk for Excel's "
                             "plain 'CSV (逗号分隔)')")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="a progress bar on stderr (default: on a terminal, for a long "
                             "file)")
    parser.add_argument("--json", action="store_true",
                        help="print the counts and each record written as JSON")
    add_database_option(parser)
    parser.set_defaults(run=cmd_import)
