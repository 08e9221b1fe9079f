"""`paicha diagram`: the Mermaid state diagram of a case lifecycle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine import texts
from engine.diagram import mermaid
from engine.schema import did_you_mean
from paicha.files import CommandFailed, load_for_command


def run(args: argparse.Namespace) -> int:
    campaign = load_for_command(Path(args.file)).campaign
    case_type = campaign.cases.get(args.case)
    if case_type is None:
        hint = did_you_mean(args.case, campaign.cases)
        raise CommandFailed([texts.t("cli.diagram.no_case_type", file=args.file, case=args.case,
                                     hint=hint)], code=2)
    sys.stdout.write(mermaid(campaign, case_type))
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("diagram", help=texts.t("cli.diagram.help"),
                                 description=texts.t("cli.diagram.description"))
    parser.add_argument("file", metavar="FILE", help=texts.t("cli.campaign_file_help"))
    parser.add_argument("--case", default="hazard", help=texts.t("cli.diagram.case_help"))
    parser.set_defaults(run=run)
