"""Command-line options shared by the commands that work over a date window."""

from __future__ import annotations

import argparse
import datetime as dt

from engine import texts
from paicha.files import CommandFailed


def date_argument(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(texts.t("cli.not_a_date", text=text)) from None


def check_window(start: dt.date | None, end: dt.date | None) -> None:
    """Refuse --to before --from as a usage error (exit 2)."""
    if start and end and end < start:
        raise CommandFailed([texts.t("cli.window_reversed", end=end, start=start)], code=2)
