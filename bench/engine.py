"""Benchmark: events per second through `Lifecycle.fire`, against a bare `transitions.Machine`.

Loads campaigns/special-action-2023.yaml and builds its lifecycles once. On the one ``hazard``
lifecycle, reused for every case, it opens ``--cases`` major hazards (timed apart), then fires the
happy path on each, step by step across all cases, keeping only each case's latest ``Case``:

    plan (the six parts of the 治理方案, with a deadline date) → submit →
    accept × 4 (the sign-off chain acceptance_team, locality, regulator, government) →
    report_closure

Every ``fire`` call counts as one event: 7 per case. The reference fires the same number of events
on a bare ``transitions.Machine`` with the case type's states and transitions (no conditions, no
checks, no clocks, ``auto_transitions=False``), one ``Machine(model=None)`` shared by all cases and
driven as ``machine.events[trigger].trigger(cursor)`` on a slotted one-attribute cursor per case
(``add_model`` per case is dearer: it binds every trigger on each model and scans the model list).
A bare machine has no sign-off chain, so its one ``accept`` closes the case; the engine's three
state-preserving sign-offs are matched there by state-preserving (internal) events,
``report_closure`` from ``closed``:

    plan → submit → accept → report_closure × 4

Memory: tracemalloc, started after the lifecycle is built and warm, measures what stays allocated
while the N latest cases (and the list holding them) are held, then the same for N bare cursors
driven to ``closed``. Both memory passes run apart from the timed passes.

Prints one JSON object to stdout. Exit status: 0 when measured, 1 when the campaign cannot be
loaded or the happy path is refused.

Run from the repository root::

    .venv/bin/python -m bench.engine [--cases N]
    .venv/bin/python bench/engine.py [--cases N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script, bench/ leads sys.path and this very file would shadow the engine package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from transitions import Machine
from transitions.core import MachineError

from engine.errors import CampaignInvalid, PaichaError
from engine.lifecycle import Actor, Case, Lifecycle, lifecycles
from engine.model import CaseType
from paicha.files import bundled_dir, display_name, loader_for

CAMPAIGN_FILE = "special-action-2023.yaml"
CASE_TYPE = "hazard"
DEFAULT_CASES = 100_000
WARMUP_CASES = 200
MB = 1024.0 * 1024.0

# One fixed, aware instant for every call: the clock is never read inside the timed loops.
NOW = dt.datetime(2023, 6, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))

OPEN_DATA: Mapping[str, Any] = {
    "source": "self_inspection",
    "grade": "major",  # major: acceptance takes the four-step sign-off chain
    "industry": "hazardous_chemicals",
    "description": "储罐区可燃气体报警装置失效",
    "location": "罐区",
    "criterion": "危险化学品企业重大隐患判定标准第十二条",
    "found_on": "2023-05-20",
    "found_by": "企业自查",
}

# (trigger, data, role of the actor who fires it)
ENGINE_SCRIPT: tuple[tuple[str, Mapping[str, Any], str], ...] = (
    (
        "plan",
        {
            "goals_and_tasks": "恢复报警装置并接入中控室",
            "measures": "更换探头，校验联锁",
            "funds_and_materials": "企业自筹，备件已到货",
            "funds_amount": 12.5,
            "responsible": "设备部 张工",
            "deadline": "2023-07-31",
            "safety_measures": "整改期间人工巡检每2小时一次，启用应急预案",
        },
        "principal",
    ),
    ("submit", {"rectified_on": "2023-07-20", "rectification_result": "已更换并校验"}, "principal"),
    ("accept", {}, "acceptance_team"),
    ("accept", {}, "locality"),
    ("accept", {}, "regulator"),
    ("accept", {"acceptance_opinion": "验收合格，同意销号"}, "government"),
    ("report_closure", {"closure_reported_on": "2023-07-25"}, "locality"),
)

BARE_SCRIPT: tuple[str, ...] = (
    "plan",
    "submit",
    "accept",
    "report_closure",
    "report_closure",
    "report_closure",
    "report_closure",
)

BARE_USAGE = (
    "one Machine(model=None, auto_transitions=False) shared by all cases; "
    "machine.events[trigger].trigger(cursor) on a __slots__=('state',) cursor per case; "
    "no add_model"
)


class BareCursor:
    """The trivial per-case model of the reference: the state and nothing else."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _positive(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench.engine",
        description="Time Lifecycle.fire over many cases against a bare transitions.Machine.",
    )
    parser.add_argument(
        "--cases",
        type=_positive,
        default=DEFAULT_CASES,
        metavar="N",
        help=f"hazard cases driven through the happy path (default {DEFAULT_CASES})",
    )
    return parser


def _lifecycle() -> Lifecycle:
    path = bundled_dir() / CAMPAIGN_FILE
    text = path.read_text(encoding="utf-8")
    campaign = loader_for([path]).load(text, display_name(path)).campaign
    return lifecycles(campaign)[CASE_TYPE]


def _bare_machine(case_type: CaseType) -> Machine:
    machine = Machine(
        model=None,
        states=list(case_type.states),
        initial=case_type.initial,
        auto_transitions=False,
    )
    for transition in case_type.transitions:
        machine.add_transition(
            transition.trigger, source=list(transition.sources), dest=transition.target
        )
    return machine


def _initial(machine: Machine) -> str:
    initial = machine.initial
    if initial is None:
        raise RuntimeError("bare machine has no initial state")
    return initial


def _actors() -> dict[str, Actor]:
    roles = {role for _, _, role in ENGINE_SCRIPT}
    return {role: Actor(f"{role}-1", frozenset({role})) for role in roles}


def _case_ids(count: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:07d}" for i in range(count)]


def _open_all(lifecycle: Lifecycle, ids: Sequence[str], actor: Actor) -> list[Case]:
    open_ = lifecycle.open
    return [open_(case_id, OPEN_DATA, actor, NOW).case for case_id in ids]


def _fire_all(lifecycle: Lifecycle, cases: list[Case], actors: Mapping[str, Actor]) -> int:
    """Drive every case through the happy path, step by step; returns the fire calls made."""
    fire = lifecycle.fire
    events = 0
    for trigger, data, role in ENGINE_SCRIPT:
        actor = actors[role]
        for i, case in enumerate(cases):
            cases[i] = fire(case, trigger, data, actor, NOW).case
        events += len(cases)
    return events


def _bare_all(machine: Machine, cursors: list[BareCursor]) -> int:
    events = 0
    for trigger in BARE_SCRIPT:
        fire = machine.events[trigger].trigger
        for cursor in cursors:
            fire(cursor)
        events += len(cursors)
    return events


def _check_engine(cases: Sequence[Case]) -> None:
    expected_version = 1 + len(ENGINE_SCRIPT)
    wrong = [c for c in cases if c.state != "closed" or c.version != expected_version]
    if wrong:
        raise RuntimeError(f"{len(wrong)} case(s) off the happy path, first: {wrong[0]!r}")


def _check_bare(cursors: Sequence[BareCursor]) -> None:
    wrong = sum(1 for c in cursors if c.state != "closed")
    if wrong:
        raise RuntimeError(f"{wrong} bare cursor(s) did not reach 'closed'")


def _timed_engine(lifecycle: Lifecycle, count: int) -> tuple[int, float, float]:
    """(events, seconds firing, seconds opening) for `count` cases."""
    actors = _actors()
    ids = _case_ids(count, "H")
    gc.collect()
    start = time.perf_counter()
    cases = _open_all(lifecycle, ids, actors["principal"])
    opened = time.perf_counter()
    events = _fire_all(lifecycle, cases, actors)
    done = time.perf_counter()
    _check_engine(cases)
    return events, done - opened, opened - start


def _timed_bare(machine: Machine, count: int) -> tuple[int, float]:
    initial = _initial(machine)
    cursors = [BareCursor(initial) for _ in range(count)]
    gc.collect()
    start = time.perf_counter()
    events = _bare_all(machine, cursors)
    seconds = time.perf_counter() - start
    _check_bare(cursors)
    return events, seconds


def _held(build: Callable[[], object]) -> tuple[int, int]:
    """(bytes still allocated while the built values are held, peak bytes while building)."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        values = build()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        del values
    finally:
        tracemalloc.stop()
    return current - base, peak - base


def _engine_memory(lifecycle: Lifecycle, count: int) -> tuple[int, int]:
    actors = _actors()

    def build() -> list[Case]:
        # The id strings count: each case holds its own. The list of ids is dropped.
        cases = _open_all(lifecycle, _case_ids(count, "M"), actors["principal"])
        _fire_all(lifecycle, cases, actors)
        return cases

    held, peak = _held(build)
    return held, peak


def _bare_memory(machine: Machine, count: int) -> tuple[int, int]:
    initial = _initial(machine)

    def build() -> list[BareCursor]:
        cursors = [BareCursor(initial) for _ in range(count)]
        _bare_all(machine, cursors)
        return cursors

    return _held(build)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    count: int = args.cases

    try:
        lifecycle = _lifecycle()
    except (OSError, UnicodeDecodeError, CampaignInvalid, KeyError) as exc:
        print(f"cannot load {CAMPAIGN_FILE} / {CASE_TYPE}: {exc!r}", file=sys.stderr)
        return 1
    machine = _bare_machine(lifecycle.type)

    try:
        # Warm-up: validators, clocks and the machines see every step once before timing.
        _timed_engine(lifecycle, WARMUP_CASES)
        _timed_bare(machine, WARMUP_CASES)
        events, fire_s, open_s = _timed_engine(lifecycle, count)
        bare_events, bare_s = _timed_bare(machine, count)
        cases_bytes, cases_peak = _engine_memory(lifecycle, count)
        cursor_bytes, _ = _bare_memory(machine, count)
    except (PaichaError, MachineError, RuntimeError) as exc:  # a broken benchmark, not a result
        print(f"happy path failed: {exc!r}", file=sys.stderr)
        return 1

    fire_rate = events / fire_s
    bare_rate = bare_events / bare_s
    report: dict[str, Any] = {
        "benchmark": "engine",
        "campaign": CAMPAIGN_FILE,
        "case_type": CASE_TYPE,
        "cases": count,
        "events": events,
        "fire_events_per_s": round(fire_rate, 1),
        "bare_events_per_s": round(bare_rate, 1),
        "ratio": round(fire_rate / bare_rate, 4),
        "fire_us_per_event": round(fire_s / events * 1e6, 3),
        "bare_us_per_event": round(bare_s / bare_events * 1e6, 3),
        "open_per_s": round(count / open_s, 1),
        "cases_memory_mb": round(cases_bytes / MB, 3),
        "cases_peak_memory_mb": round(cases_peak / MB, 3),
        "bare_cursor_memory_mb": round(cursor_bytes / MB, 3),
        "per_case_bytes": round(cases_bytes / count, 1),
        "per_bare_cursor_bytes": round(cursor_bytes / count, 1),
        "fire_script": [trigger for trigger, _, _ in ENGINE_SCRIPT],
        "bare_script": list(BARE_SCRIPT),
        "bare_events": bare_events,
        "bare_usage": BARE_USAGE,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
