"""Message templates: the variables each kind of notice offers, the sandbox they are rendered in,
and the check a campaign's own templates (`messages:`) pass when the campaign is validated.

Jinja2 is a pure library (no I/O: templates here are strings, never files), so the check lives in
the core beside the other semantic checks, where it reports the campaign file's line; the
packaged default templates and the per-channel rendering are deadlines' (deadlines.templates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from engine import texts
from engine.document import Mapping as DocumentMapping
from engine.document import locate, origin_path
from engine.errors import Problem
from engine.notices import KINDS as NOTICE_KINDS
from engine.schema import did_you_mean

# What every kind offers; each name maps to its attributes (None: a plain value or a list).
_COMMON: dict[str, frozenset[str] | None] = {
    "kind_name": None,  # 到期提醒 …
    "text": None,  # the core's sentence: 整改期限：12月18日到期，还有3个工作日
    "late": None,  # sent after downtime, late
    "roles": None,  # the names of the roles that must act (企业主要负责人 …)
    "people": None,  # the names of the people known to hold them (tokens' names)
    "link": None,  # the case's or obligation's address under PAICHA_PUBLIC_URL, or ""
    "campaign": frozenset({"id", "title"}),
    "org": frozenset({"id", "name"}),
    "deadline": frozenset({"date", "day", "text", "days_left", "days_overdue", "working",
                           "span", "overdue", "provisional"}),
}
_UNIT = {"unit": frozenset({"id", "name"})}
_CASE = {**_UNIT, "case": frozenset({"id", "type", "type_name", "summary", "grade", "state",
                                     "state_name"}),
         "clock": frozenset({"id", "name"})}
_CHECK = {**_UNIT, "check": frozenset({"id", "name", "period", "times", "done"})}
_PHASE = {"phase": frozenset({"id", "name", "nominal"})}
_TARGET = {"target": frozenset({"id", "name", "value", "goal"})}
_CALENDAR = {"calendar": frozenset({"year", "first_day", "from_due", "check", "period"})}

VARIABLES: Mapping[str, Mapping[str, frozenset[str] | None]] = {
    **{kind: {**_COMMON, **_CASE}
       for kind in ("remind", "overdue", "overdue_repeat", "escalate")},
    **{kind: {**_COMMON, **_CHECK} for kind in ("check_reminder", "check_due")},
    "phase_due": {**_COMMON, **_PHASE},
    "target_at_risk": {**_COMMON, **_TARGET},
    "calendar_redated": {**_COMMON, **_CALENDAR},
    "calendar_missing": {**_COMMON, **_CALENDAR},
}
# A digest has no template of its own: it is its items' texts grouped by kind and due date
# (deadlines.digests), each item worded by its own kind's template.
KINDS: tuple[str, ...] = tuple(kind for kind in NOTICE_KINDS if kind != "digest")
assert set(VARIABLES) == set(KINDS), "every kind of notice has its variables"


def sample(kind: str) -> dict[str, Any]:
    """A context of `kind` with every variable set (the check renders a template against it)."""
    values: dict[str, Any] = {}
    for name, attributes in VARIABLES[kind].items():
        if attributes is None:
            values[name] = [] if name in ("roles", "people") else ""
        else:
            values[name] = dict.fromkeys(attributes, "")
    values["late"] = False
    values["deadline"].update(days_left=0, days_overdue=0, working=False, overdue=False,
                              provisional=False)
    values.get("check", {}).update(times=1, done=0)
    return values


def sandbox(*, autoescape: bool = False,
            finalize: Callable[[Any], Any] | None = None) -> SandboxedEnvironment:
    """The environment every message template is rendered in: sandboxed (a template can read
    its values, never call into Python nor change them), strict (a misspelt name is an error,
    not an empty string), and escaping for its format (`autoescape` for HTML, `finalize` for
    markdown)."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape,
                               finalize=finalize, keep_trailing_newline=False,
                               trim_blocks=True, lstrip_blocks=True)
    return env


@lru_cache(maxsize=1)
def _checking() -> SandboxedEnvironment:
    return sandbox()


@dataclass(frozen=True)
class TemplateProblem:
    """What is wrong in a template, at its own 1-based line."""

    line: int
    message: str
    hint: str = ""


def template_problems(kind: str, source: str) -> list[TemplateProblem]:
    """Everything wrong with a template for notices of `kind`: its syntax, each unknown
    variable or attribute (at its line), and what rendering it with every variable set says."""
    env = _checking()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno or 1,
                                texts.t("campaign.template.syntax", problem=exc.message),
                                texts.t("campaign.template.syntax.hint"))]
    known = VARIABLES[kind]
    # The sandbox keeps a template from Python, not from spending time: a message needs no
    # arithmetic on numbers or text and no ranges, which are how a template loops for minutes
    # or builds a string of gigabytes ({% for i in range(99999) %}, 'x' * 10**9).
    # A loop inside a loop multiplies: eight loops over a 20-character value's letters are
    # 20**8 turns, though each value is short and the check renders them empty.
    costly = list(tree.find_all((nodes.Mul, nodes.Pow))) + [
        n for n in tree.find_all(nodes.Call)
        if isinstance(n.node, nodes.Name) and n.node.name in ("range", "lipsum", "cycler")] + [
        inner for outer in tree.find_all(nodes.For) for inner in outer.find_all(nodes.For)]
    if costly:
        return [TemplateProblem(n.lineno, texts.t("campaign.template.costly"),
                                texts.t("campaign.template.costly.hint"))
                for n in {n.lineno: n for n in costly}.values()]
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    problems: list[TemplateProblem] = []
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in known and node.name not in bound:
            elsewhere = [k for k, names in VARIABLES.items() if node.name in names]
            separator = texts.t("list.separator")
            hint = (texts.t("campaign.template.elsewhere", name=node.name,
                            kinds=separator.join(elsewhere), kind=kind,
                            known=separator.join(sorted(known))) if elsewhere else
                    did_you_mean(node.name, known)
                    or texts.t("campaign.known", choices=separator.join(sorted(known))))
            problems.append(TemplateProblem(
                node.lineno, texts.t("campaign.template.unknown", name=node.name, kind=kind),
                hint))
    for access in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attribute: object = None
        if isinstance(access, nodes.Getattr):
            owner, attribute = access.node, access.attr
        elif isinstance(access, nodes.Getitem):
            owner = access.node
            attribute = access.arg.value if isinstance(access.arg, nodes.Const) else None
        else:
            continue
        if not (isinstance(owner, nodes.Name) and owner.name in known
                and owner.name not in bound and isinstance(attribute, str)):
            continue
        fields = known[owner.name]
        if fields is not None and attribute not in fields:
            problems.append(TemplateProblem(
                access.lineno, texts.t("campaign.template.unknown_attribute", name=owner.name,
                                       attribute=attribute, kind=kind),
                did_you_mean(attribute, fields)
                or texts.t("campaign.template.attributes", name=owner.name,
                           attributes=texts.listed(sorted(fields)))))
    if problems:
        return problems
    try:
        env.from_string(tree).render(sample(kind))
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or 1
        return [TemplateProblem(line, texts.t("campaign.template.render", problem=exc),
                                texts.t("campaign.template.render.hint"))]
    return []


def message_problems(document: Mapping[str, Any]) -> list[Problem]:
    """The problems of a campaign's `messages:` templates, each at its line in the campaign
    file: a template in a block scalar (`|`) starts on the line after its key."""
    found: list[Problem] = []
    templates = document.get("messages")
    if not isinstance(templates, dict) or not isinstance(document, DocumentMapping):
        return found
    for kind, source in templates.items():
        if kind not in VARIABLES or not isinstance(source, str):
            continue  # the schema reported it
        path: list[str | int] = ["messages", kind]
        mark = locate(document, path)
        block = "\n" in source
        for problem in template_problems(kind, source):
            line = mark.line + problem.line - (0 if block else 1)
            column = 1 if block else mark.column
            found.append(Problem(mark.source, line, column, origin_path(document, path),
                                 problem.message, problem.hint))
    return found
