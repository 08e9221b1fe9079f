"""The `paicha` command line."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from engine import texts
from engine.document import plain
from paicha.files import (
    CommandFailed,
    bundled_dir,
    campaign_schema_text,
    display_name,
    load_for_command,
    loader_for,
    read_campaign,
)
from storage.readiness import DatabaseNotReady


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or sorted(bundled_dir().glob("*.yaml"))
    loader = loader_for(paths)
    results = []
    errors = warnings = 0
    for path in paths:
        problems = loader.check(read_campaign(path), display_name(path))
        errors += sum(p.severity == "error" for p in problems)
        warnings += sum(p.severity == "warning" for p in problems)
        results.append(
            {
                "file": display_name(path),
                "valid": not any(p.severity == "error" for p in problems),
                "problems": [p.as_dict() for p in problems],
            }
        )
        if args.format == "text":
            for problem in problems:
                print(problem, file=sys.stdout)
    if args.format == "json":
        json.dump(
            {"files": results, "errors": errors, "warnings": warnings},
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
    else:
        verdict = "ok" if not errors else "invalid"
        print(
            f"{verdict}: {len(paths)} file(s), {errors} error(s), {warnings} warning(s)",
            file=sys.stderr,
        )
    return 1 if errors else 0


def cmd_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(campaign_schema_text())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    loaded = load_for_command(Path(args.file))
    document = plain(loaded.document)
    print(f"# {loaded.campaign.id}: resolved from {' <- '.join(loaded.sources)}")
    yaml.safe_dump(document, sys.stdout, allow_unicode=True, sort_keys=False, width=100)
    return 0


# Modules that add a command: each has `register(commands)` adding its subparser.
_COMMAND_MODULES: list[str] = [
    "paicha.diagram", "paicha.timeline", "paicha.simulate", "paicha.serve", "paicha.admin",
    "paicha.calendars", "paicha.report", "paicha.importing",
]


def installed_version() -> str:
    """paicha's version as installed (the wheel's or the editable checkout's metadata)."""
    try:
        return importlib.metadata.version("paicha")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout never installed
        return "unknown (not installed; pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paicha", description="Workflow engine for work-safety governance campaigns."
    )
    parser.add_argument("--version", action="version", version=f"paicha {installed_version()}",
                        help="print paicha's version and exit")
    parser.add_argument("--lang", choices=texts.LANGUAGES, default=None,
                        help="the language of what simulate and timeline print: zh (default) "
                             "or en; PAICHA_LANG says it for every command")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check campaign files and report every problem",
        description="Check campaign files; exit 0 when valid, 1 with every problem otherwise. "
        "Without files, checks the bundled campaigns.",
    )
    validate.add_argument("files", nargs="*", metavar="FILE",
                          help="campaign YAML files (default: the bundled campaigns)")
    validate.add_argument("--format", choices=["text", "json"], default="text",
                          help="text: one problem a line (default); json: for machines")
    validate.set_defaults(run=cmd_validate)

    show = commands.add_parser("show", help="print a campaign with its parents merged in")
    show.add_argument("file", metavar="FILE", help="campaign YAML file")
    show.set_defaults(run=cmd_show)

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of campaign files",
        description="Print the JSON Schema that campaign files follow, for editors that "
                    "complete and check YAML as you type (save it beside your campaigns and "
                    "name it in the file's first line). A running server serves the same "
                    "document at /schema/campaign.json.")
    schema.set_defaults(run=cmd_schema)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    """`paicha token create` for the messages: the command and its action (`<command>_command`
    is the dest of a command's actions)."""
    action = getattr(args, f"{args.command}_command", None)
    return " ".join(["paicha", args.command, *([action] if action else [])])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # --lang, else PAICHA_LANG: the command's language and, for `serve`, the answers'
        texts.set_default(args.lang or os.environ.get("PAICHA_LANG"))
        with texts.use(texts.default()):
            code: int = args.run(args)
        sys.stdout.flush()
    except CommandFailed as failed:
        for line in failed.lines:
            print(line, file=sys.stderr)
        return failed.code
    except DatabaseNotReady as exc:  # any command that opens the database checks it first
        print(f"{_command_name(args)}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `paicha show … | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
