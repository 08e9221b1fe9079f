"""The broken-campaign corpus: every file in invalid/ has one deliberate mistake.

Each file starts with its expectation as comments:

    # expect-line: 17
    # expect-path: $.cases.hazard.transitions[2].to
    # expect-message: unknown state 'rectifyng'      (a substring of the message)
    # expect-hint: did you mean 'rectifying'?         (optional; a substring of the hint)

and the loader must report an error at exactly that line and path, in that file. Child
campaigns (`extends: special-action-2023`) are resolved against the bundled parent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

from engine.errors import CampaignInvalid, Problem
from paicha.cli import main
from paicha.files import loader_for

INVALID_DIR = Path(__file__).resolve().parent / "invalid"
CORPUS: list[Path] = sorted(INVALID_DIR.glob("*.yaml"))
CHILDREN: list[Path] = [
    p for p in CORPUS if re.search(r"^extends:", p.read_text(encoding="utf-8"), re.MULTILINE)
]

_NAME = re.compile(r"^\d{2,}-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml$")
_EXPECT = re.compile(r"^# expect-(line|path|message|hint): (.*?)\s*$")


@dataclass(frozen=True)
class Expectation:
    line: int
    path: str
    message: str
    hint: str | None


def read_expectation(path: Path) -> Expectation:
    """The `# expect-…` comments at the top of a corpus file."""
    found: dict[str, str] = {}
    for text_line in path.read_text(encoding="utf-8").splitlines():
        if not text_line.startswith("#"):
            break
        match = _EXPECT.match(text_line)
        if match:
            found[match.group(1)] = match.group(2)
    missing = {"line", "path", "message"} - found.keys()
    assert not missing, f"{path.name}: no `# expect-{'`, `# expect-'.join(sorted(missing))}` header"
    return Expectation(int(found["line"]), found["path"], found["message"], found.get("hint"))


@dataclass(frozen=True)
class Outcome:
    """What one loader made of a file: check()'s problems and what load() raised."""

    problems: tuple[Problem, ...]
    raised: BaseException | None


@cache
def outcome(path: Path) -> Outcome:
    """Load a file once: check() must return problems, load() must raise CampaignInvalid."""
    loader = loader_for([path])
    text = path.read_text(encoding="utf-8")
    problems = tuple(loader.check(text, str(path)))
    try:
        loader.load(text, str(path))
    except Exception as exc:  # recorded and judged by the tests below
        return Outcome(problems, exc)
    return Outcome(problems, None)


def check(path: Path) -> list[Problem]:
    """Every problem the loader reports for a file (computed once per file)."""
    return list(outcome(path).problems)


def listing(problems: list[Problem]) -> str:
    return "\n".join(f"  {p}" for p in problems) or "  (no problems at all)"


def corpus_params(paths: list[Path]) -> list[object]:
    return [pytest.param(p, id=p.name) for p in paths]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40, f"only {len(CORPUS)} broken campaigns in {INVALID_DIR}"


@pytest.mark.parametrize("path", corpus_params(CORPUS))
def test_file_name_and_header(path: Path) -> None:
    assert _NAME.match(path.name), f"{path.name}: name it NN-short-name.yaml"
    read_expectation(path)


@pytest.mark.parametrize("path", corpus_params(CORPUS))
def test_error_is_reported_where_expected(path: Path) -> None:
    expected = read_expectation(path)
    problems = check(path)
    errors = [p for p in problems if p.severity == "error"]
    assert errors, f"{path.name}: the mistake was not found\n{listing(problems)}"
    matching = [
        p for p in errors
        if p.source == str(path)
        and p.line == expected.line
        and p.path == expected.path
        and expected.message in p.message
        and (expected.hint is None or expected.hint in p.hint)
    ]
    hint = f"  ({expected.hint})" if expected.hint else ""
    assert matching, (
        f"{path.name}: expected an error at line {expected.line}, {expected.path}: "
        f"{expected.message!r}{hint}\nthe loader reported:\n{listing(problems)}")


@pytest.mark.parametrize("path", corpus_params(CORPUS))
def test_load_raises_only_campaign_invalid(path: Path) -> None:
    raised = outcome(path).raised
    assert raised is not None, f"{path.name}: load() accepted a broken campaign"
    if not isinstance(raised, CampaignInvalid):
        raise AssertionError(f"{path.name}: load() raised {type(raised).__name__}, "
                             "not CampaignInvalid") from raised
    assert any(p.severity == "error" for p in raised.problems)


@pytest.mark.parametrize("path", corpus_params(CORPUS))
def test_cli_validate_fails(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip(), f"{path.name}: validate printed no problem"


def test_cli_json_over_the_whole_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", *map(str, CORPUS)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["files"]) == len(CORPUS)
    valid = [f["file"] for f in report["files"] if f["valid"]]
    assert not valid, f"reported valid: {valid}"
    assert report["errors"] >= len(CORPUS)


@pytest.mark.parametrize("path", corpus_params(CORPUS))
def test_no_duplicate_errors(path: Path) -> None:
    """One mistake is reported once at a place, not twice in different words."""
    seen: dict[tuple[str, int, int, str, str], Problem] = {}
    duplicates: list[Problem] = []
    for problem in check(path):
        if problem.severity != "error":
            continue
        key = (problem.source, problem.line, problem.column, problem.path, problem.message)
        if key in seen:
            duplicates.append(problem)
        seen[key] = problem
    assert not duplicates, f"{path.name}: reported more than once:\n{listing(duplicates)}"


@pytest.mark.parametrize("path", corpus_params(CHILDREN))
def test_child_errors_stay_in_the_child(path: Path) -> None:
    """The bundled parent is valid on its own, so a child's mistake is reported in the child."""
    elsewhere = [p for p in check(path) if p.severity == "error" and p.source != str(path)]
    assert not elsewhere, (
        f"{path.name}: errors located in another file (the parent is valid on its own):\n"
        f"{listing(elsewhere)}")


def test_bundled_parent_is_valid() -> None:
    """The child files rely on the bundled parent being valid by itself."""
    parent = Path(__file__).resolve().parents[2] / "campaigns" / "special-action-2023.yaml"
    problems = loader_for([parent]).check(parent.read_text(encoding="utf-8"), str(parent))
    assert not [p for p in problems if p.severity == "error"], listing(problems)


# -- generated files -----------------------------------------------------------------------

_HEAD = """paicha: 1
id: generated
title: 生成的专项行动
period: {start: "2023-05-01", end: "2023-12-31"}
"""


def test_oversized_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filler = "".join(f"  - 第{i}条说明：本行用于把文件撑到超过大小上限。\n" for i in range(40_000))
    text = _HEAD + "notes:\n" + filler
    assert len(text.encode("utf-8")) > 1_000_000
    path = tmp_path / "oversized.yaml"
    path.write_text(text, encoding="utf-8")

    problems = check(path)
    errors = [p for p in problems if p.severity == "error"]
    assert any("larger than" in p.message for p in errors), listing(problems)
    assert main(["validate", str(path)]) == 1
    capsys.readouterr()


def test_generated_alias_bomb_is_refused(tmp_path: Path) -> None:
    """Twelve levels of ten aliases (10 ** 12 values): refused, not expanded."""
    names = "abcdefghijkl"
    lines = ["tags:", "  a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for previous, current in pairwise(names):
        lines.append(f"  {current}: &{current} [" + ", ".join([f"*{previous}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text(_HEAD + "\n".join(lines) + "\n", encoding="utf-8")

    problems = check(path)
    errors = [p for p in problems if p.severity == "error"]
    assert any("alias" in p.message for p in errors), listing(problems)
    with pytest.raises(CampaignInvalid):
        loader_for([path]).load(path.read_text(encoding="utf-8"), str(path))


def test_corpus_alias_bomb_is_refused() -> None:
    bombs = [p for p in CORPUS if p.name.endswith("-alias-bomb.yaml")]
    assert bombs, "the corpus must contain an alias bomb"
    for path in bombs:
        errors = [p for p in check(path) if p.severity == "error"]
        assert any("alias" in p.message for p in errors), listing(errors)
