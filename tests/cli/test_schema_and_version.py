"""`paicha schema` prints the campaign schema; `paicha --version` says which paicha this is."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from paicha.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_schema_prints_the_schema_as_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    shipped = (ROOT / "campaigns/schema/campaign.schema.json").read_text(encoding="utf-8")
    assert printed == shipped
    assert json.loads(printed)["title"] == "paicha campaign"


def test_version_is_the_project_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert capsys.readouterr().out == f"paicha {project['version']}\n"
