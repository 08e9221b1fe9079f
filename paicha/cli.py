"""The `paicha` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from engine.errors import CampaignInvalid
from paicha.files import bundled_dir, display_name, loader_for


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SystemExit(f"paicha: {path}: no such file") from None
    except UnicodeDecodeError:
        raise SystemExit(f"paicha: {path}: not UTF-8 text; save the file as UTF-8") from None


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or sorted(bundled_dir().glob("*.yaml"))
    loader = loader_for(paths)
    results = []
    errors = warnings = 0
    for path in paths:
        problems = loader.check(_read(path), display_name(path))
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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def cmd_show(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        loaded = loader_for([path]).load(_read(path), display_name(path))
    except CampaignInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    document = _plain(loaded.document)
    print(f"# {loaded.campaign.id}: resolved from {' <- '.join(loaded.sources)}")
    yaml.safe_dump(document, sys.stdout, allow_unicode=True, sort_keys=False, width=100)
    return 0


# Modules that add a command: each has `register(commands)` adding its subparser.
_COMMAND_MODULES: list[str] = ["paicha.diagram", "paicha.timeline", "paicha.simulate"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paicha", description="Workflow engine for work-safety governance campaigns."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check campaign files and report every problem",
        description="Check campaign files; exit 0 when valid, 1 with every problem otherwise. "
        "Without files, checks the bundled campaigns.",
    )
    validate.add_argument("files", nargs="*", metavar="FILE")
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.set_defaults(run=cmd_validate)

    show = commands.add_parser("show", help="print a campaign with its parents merged in")
    show.add_argument("file", metavar="FILE")
    show.set_defaults(run=cmd_show)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `paicha show … | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
