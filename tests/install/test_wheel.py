"""The wheel carries everything an installed paicha reads: every module, the bundled campaigns
with their calendars and JSON Schema, the Alembic migrations and the API docs' assets. Built
in-process from a copy of the source (with a calendar file added, as an office would), the way
pip builds it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("engine", "storage", "api", "deadlines", "paicha", "web")
BUILD = "from setuptools import build_meta; print(build_meta.build_wheel('dist'))"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _build(tmp_path: Path) -> zipfile.ZipFile:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in (*CODE, "campaigns"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    calendars = source / "campaigns" / "calendars"
    calendars.mkdir(exist_ok=True)
    (calendars / "2099.yaml").write_text("# a year an office adds\n", encoding="utf-8")
    built = subprocess.run([sys.executable, "-c", BUILD], cwd=source, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = source / "dist" / built.stdout.strip().splitlines()[-1]
    return zipfile.ZipFile(wheel)


def test_the_wheel_carries_code_campaigns_calendars_schema_and_migrations(
        tmp_path: Path) -> None:
    with _build(tmp_path) as wheel:
        names = set(wheel.namelist())
        entry_points = next(wheel.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
    expected = {p.relative_to(ROOT).as_posix() for folder in CODE
                for p in _files(ROOT / folder) if p.suffix == ".py"}
    expected |= {p.relative_to(ROOT).as_posix() for p in _files(ROOT / "storage/migrations")}
    # the messages' default wording (deadlines.rendering reads them as package data)
    expected |= {p.relative_to(ROOT).as_posix()
                 for p in _files(ROOT / "deadlines/message_templates")}
    expected |= {"deadlines/message_templates/zh/remind.j2",
                 "deadlines/message_templates/en/remind.j2"}  # one folder per language
    # what people read, Chinese and English (engine.texts reads them as package data)
    expected |= {p.relative_to(ROOT).as_posix() for p in _files(ROOT / "engine/locale")}
    expected |= {"engine/locale/zh/core.po", "engine/locale/en/core.po"}
    # the docs pages' scripts and styles, with their licences (no CDN: api/routes/docs.py)
    expected |= {p.relative_to(ROOT).as_posix() for p in _files(ROOT / "api/assets")}
    # the screens' templates, scripts and styles, with the vendored scripts' licences
    expected |= {p.relative_to(ROOT).as_posix() for folder in ("web/templates", "web/static")
                 for p in _files(ROOT / folder)}
    expected |= {"web/templates/base.html", "web/static/htmx.min.js",
                 "web/static/mermaid.min.js", "web/static/mermaid.LICENSE.txt"}
    # campaigns/ is installed as the package paicha.campaigns: all of it, at any depth
    expected |= {f"paicha/{p.relative_to(ROOT).as_posix()}" for p in _files(ROOT / "campaigns")}
    expected |= {"paicha/campaigns/schema/campaign.schema.json",
                 "paicha/campaigns/calendars/2099.yaml",
                 "storage/migrations/env.py", "storage/migrations/script.py.mako"}
    assert sorted(expected - names) == []
    assert any(n.startswith("paicha/campaigns/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("storage/migrations/versions/") for n in names)
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", "campaigns")]
    assert "paicha = paicha.cli:main" in entry_points
