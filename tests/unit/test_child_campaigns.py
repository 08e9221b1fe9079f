"""A child campaign against the bundled 2023 plan: `drop: [key]` removes an inherited key, and
a mistake the child causes in an inherited part is reported at the child's own item."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import CampaignInvalid, Problem
from engine.model import Campaign
from paicha.files import loader_for

HEAD = """\
paicha: 1
id: town-2023
extends: special-action-2023
title: 某镇重大事故隐患专项排查整治2023行动实施方案
"""
SOURCE = "campaigns/town-2023.yaml"


def load(body: str) -> Campaign:
    try:
        return loader_for().load(HEAD + body, SOURCE).campaign
    except CampaignInvalid as exc:
        raise AssertionError("\n".join(map(str, exc.problems))) from None


def errors(body: str) -> list[Problem]:
    return [p for p in loader_for().check(HEAD + body, SOURCE) if p.severity == "error"]


def test_drop_removes_an_inherited_due_so_a_one_off_check_can_recur() -> None:
    # 安全生产月 is one-off in the parent (due 2023-06-30); a town makes it monthly
    campaign = load("checks:\n  - id: safety_month\n    every: month\n    drop: [due]\n")
    check = next(c for c in campaign.checks if c.id == "safety_month")
    assert check.every == "month" and check.period_due is None and check.deadlines == ()
    assert check.name == "组织开展“安全生产月”专题活动"  # the rest is inherited


def test_drop_is_not_left_in_the_resolved_document() -> None:
    loaded = loader_for().load(
        HEAD + "checks:\n  - id: dispatch_report\n    every: week\n    drop: [due]\n", SOURCE)
    item = next(c for c in loaded.document["checks"] if c["id"] == "dispatch_report")
    assert "drop" not in item and "due" not in item and item["every"] == "week"


def test_an_inherited_due_that_no_longer_fits_is_reported_at_the_child_item() -> None:
    found = errors("checks:\n  - id: dispatch_report\n    every: week\n")
    assert len(found) == 1
    problem = found[0]
    assert (problem.source, problem.line, problem.path) == (SOURCE, 6, "$.checks[0]")
    assert "inherited from" in problem.message and "special-action-2023.yaml" in problem.message
    assert "$.checks[15].due.day" in problem.message  # where it came from, for reading
    assert problem.hint.startswith("in this file, override `due:` with a value that fits, or "
                                   "drop the inherited one: `drop: [due]`")


def test_the_hinted_fix_makes_it_valid() -> None:
    load("checks:\n  - id: dispatch_report\n    every: week\n    drop: [due]\n")
    load("checks:\n  - id: dispatch_report\n    every: week\n    due: {weekday: friday}\n")


@pytest.mark.parametrize(("body", "path", "message"), [
    ("checks:\n  - id: safety_month\n    drop: [name]\n", "$.checks[0].drop[0]",
     "`name` cannot be dropped"),
    ("checks:\n  - id: safety_month\n    drop: [every]\n", "$.checks[0].drop[0]",
     "the parent's 'safety_month' has no `every` to drop"),
    ("checks:\n  - id: safety_month\n    drop: [due]\n    due: 2023-06-20\n",
     "$.checks[0].drop[0]", "`due` is both dropped and set here"),
    ("phases:\n  - {id: mobilize, drop: [due]}\n", "$.phases[0].drop[0]",
     "`due` cannot be dropped: every phase needs it"),
])
def test_a_drop_that_cannot_be_honoured_is_refused_once(body: str, path: str,
                                                       message: str) -> None:
    found = errors(body)
    assert [(p.path, message in p.message) for p in found] == [(path, True)], found


def test_a_parent_error_the_child_cannot_touch_stays_where_it_is(tmp_path: Path) -> None:
    # a broken parent is reported in the parent: the child did not cause it
    parent = tmp_path / "broken-parent.yaml"
    parent.write_text("paicha: 1\nid: broken-parent\ntitle: 坏的母方案\n"
                      "period: {start: 2023-05-01, end: 2023-12-31}\nroles: {}\n"
                      "checks:\n  - {id: a, name: 甲, who: nobody, for: units, every: month}\n",
                      encoding="utf-8")
    child = "paicha: 1\nid: child\nextends: broken-parent\ntitle: 子方案\n"
    found = [p for p in loader_for([parent]).check(child, "child.yaml")
             if p.severity == "error"]
    assert [(p.source, p.path) for p in found] == [(str(parent), "$.checks[0].who")]
