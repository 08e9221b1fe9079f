"""`paicha validate` shows every warning of a file, also when the same file has errors, and
warns when a file's name is not its campaign's id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paicha.cli import main

# A town's child plan: a phase later than the parent's (a warning), a period reaching years
# no statutory notice covers yet (a warning), and a misspelt `times` (an error).
CHILD = """\
paicha: 1
id: town-2023
extends: special-action-2023
title: 某镇重大事故隐患专项排查整治2023行动实施方案
period: {start: 2023-05-01, end: 2031-12-31}
phases:
  - {id: mobilize, due: 2023-05-25}
checks:
  - id: safety_month
    times: {text}
"""


def write(tmp_path: Path, name: str, times: str) -> Path:
    path = tmp_path / name
    path.write_text(CHILD.replace("{text}", times), encoding="utf-8")
    return path


def validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_warnings_are_shown_next_to_errors(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "town-2023.yaml", "zero")
    code, out, err = validate(capsys, str(path))
    assert code == 1
    assert "$.checks[0].times  expected a whole number, got 'zero'" in out
    assert "$.phases[0].due  warning: phase mobilize is due 2023-05-25, later than the " \
           "parent's 2023-05-15" in out
    assert "$.period.end  warning: the statutory holidays of" in out
    assert "invalid: 1 file(s), 1 error(s), 2 warning(s)" in err


def test_the_same_warnings_without_the_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = validate(capsys, str(write(tmp_path, "town-2023.yaml", "2")))
    assert code == 0
    assert "ok: 1 file(s), 0 error(s), 2 warning(s)" in err


def test_json_lists_warnings_of_an_invalid_file(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "town-2023.yaml", "zero")
    code, out, _ = validate(capsys, "--format", "json", str(path))
    report = json.loads(out)
    assert code == 1 and report["errors"] == 1 and report["warnings"] == 2
    severities = sorted(p["severity"] for p in report["files"][0]["problems"])
    assert severities == ["error", "warning", "warning"]


def test_a_file_named_other_than_its_id_is_warned_with_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "town.yaml", "2")
    code, out, err = validate(capsys, str(path))
    assert code == 0  # a warning, not an error
    line = next(text for text in out.splitlines() if "$.id" in text)
    assert line.startswith(f"{path}:2:5  $.id  warning: the file is named town.yaml but the "
                           "campaign's id is 'town-2023'")
    assert "rename the file to town-2023.yaml, or write `id: town`" in line
    assert "3 warning(s)" in err


def test_a_file_named_after_its_id_gets_no_such_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = validate(capsys, str(write(tmp_path, "town-2023.yaml", "2")))
    assert "$.id" not in out
