"""`paicha diagram`: the Mermaid state diagram of a case lifecycle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.diagram import mermaid
from engine.schema import did_you_mean
from paicha.files import CommandFailed, load_for_command


def run(args: argparse.Namespace) -> int:
    campaign = load_for_command(Path(args.file)).campaign
    case_type = campaign.cases.get(args.case)
    if case_type is None:
        hint = did_you_mean(args.case, campaign.cases)
        raise CommandFailed([f"paicha: {args.file}: no case type {args.case!r} ({hint})"], code=2)
    sys.stdout.write(mermaid(campaign, case_type))
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "diagram", help="print the Mermaid state diagram of a case lifecycle",
        description="Print a Mermaid stateDiagram of one case type (paste it into any Mermaid "
                    "viewer or a Markdown file between ```mermaid fences).")
    parser.add_argument("file", metavar="FILE", help="campaign YAML file")
    parser.add_argument("--case", default="hazard", help="case type id (default: hazard)")
    parser.set_defaults(run=run)
