"""The message templates' check (engine.templates): the packaged defaults pass it, a campaign's
own template is kept in the Campaign (and inherited), and what is wrong is named at its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deadlines.rendering import default_template
from engine.templates import KINDS, VARIABLES, template_problems
from paicha.files import loader_for

ROOT = Path(__file__).resolve().parents[2]
CHILD = """paicha: 1
id: {id}
extends: special-action-2023
title: 某区重大事故隐患专项排查整治2023行动实施方案
messages:
  check_reminder: |
    {{{{ unit.name or org.name }}}}：{{{{ check.name }}}}，{{{{ deadline.text }}}}。
"""


@pytest.mark.parametrize("kind", KINDS)
def test_every_packaged_template_uses_only_its_kinds_variables(kind: str) -> None:
    assert template_problems(kind, default_template(kind)) == []


def test_a_campaigns_template_is_kept_and_inherited(tmp_path: Path) -> None:
    parent = tmp_path / "msg-parent.yaml"
    parent.write_text(CHILD.format(id="msg-parent"), encoding="utf-8")
    child = tmp_path / "msg-child.yaml"
    child.write_text("paicha: 1\nid: msg-child\nextends: msg-parent\ntitle: 某镇方案\n"
                     "messages:\n  remind: \"{{ unit.name }}：{{ deadline.text }}\"\n",
                     encoding="utf-8")
    loader = loader_for([parent, child])
    campaign = loader.load(child.read_text(encoding="utf-8"), str(child)).campaign
    assert campaign.messages == {
        "check_reminder": "{{ unit.name or org.name }}：{{ check.name }}，{{ deadline.text }}。\n",
        "remind": "{{ unit.name }}：{{ deadline.text }}"}


@pytest.mark.parametrize(("source", "line", "message"), [
    ("{{ unit['nam'] }}", 1, "unknown variable unit.nam in remind messages"),
    ("第一行\n{% if case.grade %}\n{{ case.grde }}{% endif %}", 3,
     "unknown variable case.grde in remind messages"),
    ("{% for role in roles %}{{ role }}{% endfor %}{{ rol }}", 1,
     "unknown variable 'rol' in remind messages"),
    ("{{ deadline.text", 1, "template syntax error"),
    ("{{ unit.name|nope }}", 1, "template cannot be rendered: No filter named 'nope'"),
    ("{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}", 1,
     "a message template has no `*`"),
    ("{{ unit.name }}\n{{ 'x' * 10 ** 9 }}", 2, "a message template has no `*`"),
    ("{% for a in text %}\n" + "{% for b in text %}" * 7 + "x" + "{% endfor %}" * 8, 2,
     "a message template has no `*`, `**`, range(), lipsum(), cycler() nor a loop inside"),
])
def test_what_is_wrong_is_named_at_its_line(source: str, line: int, message: str) -> None:
    problems = template_problems("remind", source)
    assert [(p.line, p.message[:len(message)]) for p in problems] == [(line, message)]


def test_a_loop_variable_and_a_set_variable_are_known() -> None:
    source = ("{% set who = roles|join('、') %}{% for name in people %}{{ name }}{% endfor %}"
              "{{ who }}{{ loop_free|default('') if false else '' }}")
    assert [p.message for p in template_problems("remind", source)] == [
        "unknown variable 'loop_free' in remind messages"]


def test_every_kind_offers_the_common_variables() -> None:
    for kind in KINDS:
        assert {"org", "deadline", "roles", "people", "link", "campaign", "text", "kind_name",
                "late"} <= set(VARIABLES[kind])
    # the unit where a message is about one
    assert [k for k in KINDS if "unit" in VARIABLES[k]] == [
        "remind", "overdue", "overdue_repeat", "escalate", "check_reminder", "check_due"]


def test_the_references_example_validates_as_a_child_of_the_linyin_plan() -> None:
    reference = (ROOT / "docs/campaign-language.md").read_text(encoding="utf-8")
    section = reference.split("## 16. Message wording")[1]
    example = re.findall(r"^```yaml\n(.*?)^```", section, re.MULTILINE | re.DOTALL)[0]
    text = ("paicha: 1\nid: linyin-wording\nextends: special-action-2023-linyin\n"
            "title: 林荫街道关于重大事故隐患专项排查整治2023行动实施方案\n" + example)
    linyin = ROOT / "campaigns/special-action-2023-linyin.yaml"
    loaded = loader_for([linyin]).load(text, "linyin-wording.yaml")
    assert set(loaded.campaign.messages) == {"remind", "check_reminder"}
