"""Benchmark: load and fully validate each bundled campaign, against a bare-schema reference.

For every campaigns/*.yaml present when the run starts, this times

* ``loader.load(text, name)``: safe parse with positions, JSON Schema, ``extends`` resolution,
  semantic checks and the model build — what ``paicha`` does for a campaign file; and
* the reference: ``yaml.safe_load(text)`` plus a bare
  ``jsonschema.Draft202012Validator(schema).validate(doc)`` of the same text.

Both the loader and the reference validator are built once, outside the timed loops. Each figure is
the median of ``--repeat`` runs after one warm-up run. The bar: the largest bundled campaign (by
bytes) loads and validates in at most 200 ms.

Prints one JSON object to stdout. Exit status: 0 when every campaign was measured, 1 when a
campaign could not be read or did not validate (it is still listed, with an ``error``), 2 when
there is nothing to measure.

Run from the repository root::

    .venv/bin/python -m bench.validate [--repeat N]
    .venv/bin/python bench/validate.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.errors import CampaignInvalid
from engine.loader import CampaignLoader
from paicha.files import bundled_dir, campaign_schema, display_name, loader_for

BAR_MS = 200.0
DEFAULT_REPEAT = 20


@dataclass(frozen=True)
class Campaign:
    """One campaign file as read at the start of the run."""

    path: Path
    text: str
    size: int


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench.validate",
        description="Time loading and validating each bundled campaign (median of N runs).",
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=DEFAULT_REPEAT,
        metavar="N",
        help=f"timed runs per campaign after one warm-up (default {DEFAULT_REPEAT})",
    )
    return parser


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `action` in milliseconds, after one untimed warm-up call."""
    action()
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def _read(paths: Sequence[Path]) -> tuple[list[Campaign], list[dict[str, Any]]]:
    """The campaigns that could be read, and an error entry for each that could not."""
    campaigns: list[Campaign] = []
    unreadable: list[dict[str, Any]] = []
    for path in paths:
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            unreadable.append({"file": path.name, "error": f"unreadable: {exc}"})
            continue
        campaigns.append(Campaign(path, text, len(data)))
    return campaigns, unreadable


def _load_action(loader: CampaignLoader, campaign: Campaign) -> Callable[[], object]:
    source = display_name(campaign.path)

    def action() -> object:
        return loader.load(campaign.text, source)

    return action


def _reference_action(validator: Any, campaign: Campaign) -> Callable[[], object]:
    def action() -> object:
        document = yaml.safe_load(campaign.text)
        # Measured all the same if it fails: a child campaign may lean on its parent's keys.
        with contextlib.suppress(jsonschema.ValidationError):
            validator.validate(document)
        return document

    return action


def _reference_error(validator: Any, campaign: Campaign) -> str | None:
    try:
        validator.validate(yaml.safe_load(campaign.text))
    except (yaml.YAMLError, jsonschema.ValidationError) as exc:
        return str(exc).splitlines()[0]
    return None


def _measure(
    loader: CampaignLoader, validator: Any, campaign: Campaign, repeat: int
) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": campaign.path.name, "bytes": campaign.size}
    try:
        loader.load(campaign.text, display_name(campaign.path))
    except CampaignInvalid as exc:
        entry["error"] = f"invalid: {len(exc.problems)} problem(s); first: {exc.problems[0]}"
        return entry
    try:
        yaml.safe_load(campaign.text)
    except yaml.YAMLError as exc:
        entry["error"] = f"reference cannot parse: {exc}"
        return entry
    load_ms = _median_ms(_load_action(loader, campaign), repeat)
    reference_ms = _median_ms(_reference_action(validator, campaign), repeat)
    entry["load_ms"] = round(load_ms, 3)
    entry["reference_ms"] = round(reference_ms, 3)
    entry["ratio"] = round(load_ms / reference_ms, 2) if reference_ms > 0 else None
    reference_error = _reference_error(validator, campaign)
    if reference_error is not None:
        entry["reference_note"] = f"bare schema rejects the file alone: {reference_error}"
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    repeat: int = args.repeat

    paths = sorted(bundled_dir().glob("*.yaml"))
    campaigns, unreadable = _read(paths)
    report: dict[str, Any] = {"benchmark": "validate", "repeat": repeat}
    if not campaigns:
        report.update(campaigns=unreadable, largest=None, bar_ms=int(BAR_MS), meets_bar=False)
        print(json.dumps(report, ensure_ascii=False, indent=2))
        print(f"no campaign files found in {bundled_dir()}", file=sys.stderr)
        return 2

    loader = loader_for(c.path for c in campaigns)
    validator = jsonschema.Draft202012Validator(campaign_schema())

    entries = [_measure(loader, validator, c, repeat) for c in campaigns] + unreadable
    entries.sort(key=lambda e: str(e["file"]))

    biggest = max(campaigns, key=lambda c: (c.size, c.path.name))
    largest = next(e for e in entries if e["file"] == biggest.path.name)
    largest_ms = largest.get("load_ms")
    report.update(
        campaigns=entries,
        largest={"file": biggest.path.name, "load_ms": largest_ms},
        bar_ms=int(BAR_MS),
        meets_bar=largest_ms is not None and largest_ms <= BAR_MS,
    )
    print(json.dumps(report, ensure_ascii=False, indent=2))
    failed = [e["file"] for e in entries if "error" in e]
    if failed:
        print(f"not measured: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
