"""The README opens with the two commands for a fresh machine; CI runs the second verbatim and
docs/api.md starts from the first."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _first_block(text: str) -> list[str]:
    found = re.search(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    assert found is not None
    return found.group(1).strip().splitlines()


def test_the_readme_starts_with_two_commands_that_ci_and_the_walkthrough_use() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.index("```sh") < readme.index("\n## "), "the commands come first"
    serve, test = _first_block(readme)
    assert serve.endswith("paicha serve --demo")
    assert test.endswith(".venv/bin/pytest -q") and "ruff check" in test and "mypy" in test
    for command in (serve, test):
        assert "pip install -q -c constraints.txt -e " in command  # the tested versions
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci
    assert ci.index(test) < ci.index(".ci/wheel-check")
    assert _first_block((ROOT / "docs" / "api.md").read_text(encoding="utf-8")) == [serve]
