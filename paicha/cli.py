"""The `paicha` command line."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        verdict = "cli.validate.ok" if not errors else "cli.validate.invalid"
        print(texts.t(verdict, files=len(paths), errors=errors, warnings=warnings),
              file=sys.stderr)
    return 1 if errors else 0


def cmd_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(campaign_schema_text())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    loaded = load_for_command(Path(args.file))
    document = plain(loaded.document)
    print(texts.t("cli.show.resolved", campaign=loaded.campaign.id,
                  sources=" <- ".join(loaded.sources)))
    yaml.safe_dump(document, sys.stdout, allow_unicode=True, sort_keys=False, width=100)
    return 0


# Modules that add a command: each has `register(commands)` adding its subparser.
_COMMAND_MODULES: list[str] = [
    "paicha.diagram", "paicha.timeline", "paicha.simulate", "paicha.serve", "paicha.admin",
    "paicha.calendars", "paicha.report", "paicha.importing", "paicha.user_commands",
]


def installed_version() -> str:
    """paicha's version as installed (the wheel's or the editable checkout's metadata)."""
    try:
        return importlib.metadata.version("paicha")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout never installed
        return texts.t("cli.version.unknown")


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, its help in the current language (engine.texts): build it
    after the language is chosen (`main` does)."""
    t = texts.t
    parser = argparse.ArgumentParser(prog="paicha", description=t("cli.paicha.description"))
    parser.add_argument("--version", action="version", version=f"paicha {installed_version()}",
                        help=t("cli.paicha.version_help"))
    parser.add_argument("--lang", choices=texts.LANGUAGES, default=None,
                        help=t("cli.paicha.lang_help"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help=t("cli.validate.help"), description=t("cli.validate.description"))
    validate.add_argument("files", nargs="*", metavar="FILE", help=t("cli.validate.files_help"))
    validate.add_argument("--format", choices=["text", "json"], default="text",
                          help=t("cli.validate.format_help"))
    validate.set_defaults(run=cmd_validate)

    show = commands.add_parser("show", help=t("cli.show.help"))
    show.add_argument("file", metavar="FILE", help=t("cli.campaign_file_help"))
    show.set_defaults(run=cmd_show)

    schema = commands.add_parser("schema", help=t("cli.schema.help"),
                                 description=t("cli.schema.description"))
    schema.set_defaults(run=cmd_schema)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    """`paicha token create` for the messages: the command and its action (`<command>_command`
    is the dest of a command's actions)."""
    action = getattr(args, f"{args.command}_command", None)
    return " ".join(["paicha", args.command, *([action] if action else [])])


def asked_language(argv: Sequence[str]) -> str | None:
    """The language `--lang` names before the command (`--lang en` or `--lang=en`), read
    before the parser is built, since its help speaks the language; None when not named, or
    named wrongly (the parser then refuses it)."""
    words = iter(argv)
    for word in words:
        if word == "--":
            break
        if word == "--lang":
            value = next(words, None)
        elif word.startswith("--lang="):
            value = word.partition("=")[2]
        else:
            if not word.startswith("-"):
                break  # the command: what follows is its own
            continue
        return value if value in texts.LANGUAGES else None
    return None


# argparse's own words (usage, errors, the -h option) and the catalogue's ids for them
_ARGPARSE_WORDS = {
    "usage: ": "cli.argparse.usage",
    "positional arguments": "cli.argparse.positional",
    "options": "cli.argparse.options",
    "show this help message and exit": "cli.argparse.help",
    "%(prog)s: error: %(message)s\n": "cli.argparse.error",
    "the following arguments are required: %s": "cli.argparse.required",
    "unrecognized arguments: %s": "cli.argparse.unrecognized",
    "argument %(argument_name)s: %(message)s": "cli.argparse.argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli.argparse.invalid_choice",
    "invalid %(type)s value: %(value)r": "cli.argparse.invalid_value",
    "expected one argument": "cli.argparse.expected_one",
    "not allowed with argument %s": "cli.argparse.not_allowed_with",
    "ambiguous option: %(option)s could match %(matches)s": "cli.argparse.ambiguous",
}


def _argparse_word(message: str) -> str:
    key = _ARGPARSE_WORDS.get(message)
    return message if key is None else texts.t(key)


@contextmanager
def argparse_speaks() -> Iterator[None]:
    """argparse's own words in the current language while the block builds and parses (they
    are %-formatted by argparse: the catalogue keeps its %(name)s)."""
    before = argparse._  # type: ignore[attr-defined]
    argparse._ = _argparse_word  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = before  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # --lang, else PAICHA_LANG: the command's language (its help's too, so chosen before the
    # parser is built) and, for `serve`, the answers'
    texts.set_default(asked_language(argv) or os.environ.get("PAICHA_LANG"))
    with texts.use(texts.default()):
        with argparse_speaks():
            args = build_parser().parse_args(argv)
        try:
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
