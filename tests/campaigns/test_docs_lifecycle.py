"""The reference's examples of unit conditions, sign-off steps, each signer's own fields and
clocks limited by a condition (sections 9.6 and 10.5) are the tested example file's own text,
and that file validates and builds what the text says."""

from __future__ import annotations

import re
from pathlib import Path

from paicha.files import loader_for

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs/campaign-language.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "tests/campaigns/docs_example/city-managed-example.yaml"


def section(start: str, end: str) -> list[str]:
    part = REFERENCE[REFERENCE.index(start):REFERENCE.index(end)]
    return re.findall(r"^```yaml\n(.*?)^```", part, re.MULTILINE | re.DOTALL)


def test_the_examples_are_the_tested_file() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    chain = section("#### Steps that depend on the case", "\n## 10. Clocks")
    clock = section("### 10.5 Clocks for some cases only", "\n## 11. Reports")
    assert len(chain) == 1 and len(clock) == 1
    assert chain[0].strip() in text
    clocks = clock[0][clock[0].index("    clocks:"):]
    assert clocks.strip() in text


def test_the_example_builds_what_the_text_says() -> None:
    loaded = loader_for([EXAMPLE]).load(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name)
    assert loaded.warnings == []
    hazard = loaded.campaign.cases["hazard"]
    accept = next(t for t in hazard.transitions if t.id == "accept_major")
    assert accept.signoffs == ("acceptance_team", "locality", "regulator", "government",
                               "city_regulator")
    assert [s.when for s in accept.steps] == [
        None, None, {"not": {"unit": "city_managed"}}, {"not": {"unit": "city_managed"}}, None]
    assert all(list(s.fields) == ["opinion"] and s.required == ("opinion",)
               for s in accept.steps)
    assert "opinion" not in hazard.fields
    ledger = next(c for c in hazard.clocks if c.id == "ledger_report")
    assert ledger.when == {"grade": "major"}
