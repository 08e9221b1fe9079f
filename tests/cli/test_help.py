"""Every command and every option of the command line says what it is for in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from paicha.cli import build_parser


def _walk(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    """(the command's prog, each of its actions), for the parser and every subcommand below."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        yield parser.prog, action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _walk(sub)


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, bool]]:
    """(prog, subcommand name, has help) for every subcommand at every depth."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                yield parser.prog, name, name in helped
                yield from _subcommands(sub)


def test_every_option_and_argument_has_help() -> None:
    missing = [f"{prog} {'/'.join(action.option_strings) or action.dest}"
               for prog, action in _walk(build_parser())
               if not isinstance(action, argparse._SubParsersAction)
               and not (action.help and action.help.strip())]
    assert not missing, f"options without help text: {missing}"


def test_every_subcommand_has_help() -> None:
    missing = [f"{prog} {name}" for prog, name, helped in _subcommands(build_parser())
               if not helped]
    assert not missing, f"subcommands without help text: {missing}"


def test_the_walk_reaches_the_nested_commands() -> None:
    # a guard on the walk itself: it must see `paicha token create --org`, three levels down
    seen = {(prog, tuple(action.option_strings)) for prog, action in _walk(build_parser())}
    assert ("paicha token create", ("--org",)) in seen
    assert ("paicha db upgrade", ("--database",)) in seen
