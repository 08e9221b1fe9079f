"""The core stays pure: no adapter libraries, no clock reads."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = {"fastapi", "sqlmodel", "sqlalchemy", "apscheduler", "httpx", "uvicorn", "starlette"}


def test_importing_engine_pulls_in_no_adapter_library() -> None:
    script = (
        "import importlib, json, pkgutil, sys, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ENGINE.parent,
    )
    loaded = set(json.loads(result.stdout))
    assert not loaded & FORBIDDEN, f"engine imports adapter libraries: {loaded & FORBIDDEN}"


def _clock_reads(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = node.func.value
            owner_name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else ""
            )
            if (
                name in {"now", "today", "utcnow"} and owner_name in {"datetime", "date", "dt"}
            ) or (name in {"time", "monotonic"} and owner_name == "time"):
                found.append(f"line {node.lineno}: {owner_name}.{name}()")
    return found


def test_engine_never_reads_the_clock() -> None:
    offenders = {}
    for path in ENGINE.rglob("*.py"):
        reads = _clock_reads(ast.parse(path.read_text(encoding="utf-8")))
        if reads:
            offenders[path.name] = reads
    assert not offenders, f"pass `now` in instead of reading the clock: {offenders}"


def test_the_clock_scan_would_catch_a_read() -> None:
    assert _clock_reads(ast.parse("import datetime as dt\nx = dt.datetime.now()"))
