"""Campaign text -> validated Campaign: parse, schema, `extends`, meaning, then the model.

The loader does no I/O: the schema is handed in, and parents are looked up through a
CampaignSource the caller provides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol

from engine import texts
from engine.build import build_campaign
from engine.document import DocumentError, Mapping, format_path, locate, origin_path, parse
from engine.errors import CampaignInvalid, Problem
from engine.inherit import is_removal, merge, misplaced_drops, removals, unmatched_ids
from engine.model import Campaign
from engine.schema import SchemaChecker, did_you_mean
from engine.semantics import SemanticChecker
from engine.values import as_list, parse_date
from engine.workdays import PACKAGE_ONLY, StatutoryCalendar


class CampaignSource(Protocol):
    """Where parent campaigns are found by id."""

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        """(text, source name) of the campaign with this id, or None."""

    def ids(self) -> Seq[str]:
        """Every id this source knows, for did-you-mean hints."""


class NoParents:
    """A source that knows no campaigns (for standalone files)."""

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        return None

    def ids(self) -> Seq[str]:
        return ()


@dataclass
class Resolved:
    """A campaign document with its parents merged in, and what was found on the way."""

    document: Mapping | None
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    parent: Mapping | None = None
    partial: bool = False  # a child whose parent could not be merged: too incomplete to judge
    own: Mapping | None = None  # the child's own document, before merging

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class Loaded:
    """A valid campaign, its resolved document and any warnings."""

    campaign: Campaign
    document: Mapping
    warnings: list[Problem]
    sources: list[str]


class CampaignLoader:
    """Loads and validates campaigns against one schema and one source of parents."""

    def __init__(self, schema: dict[str, Any], parents: CampaignSource | None = None, *,
                 calendar: StatutoryCalendar = PACKAGE_ONLY) -> None:
        self.schema = SchemaChecker(schema)
        self.parents = parents or NoParents()
        # the statutory calendar with the years offices added: which years a period may reach
        # without a warning
        self.calendar = calendar
        self._parents: dict[tuple[str, str], Resolved] = {}

    def load(self, text: str, source: str) -> Loaded:
        """The validated campaign; raises CampaignInvalid with every problem otherwise."""
        resolved = self.resolve(text, source)
        if resolved.errors or resolved.document is None:
            raise CampaignInvalid(resolved.problems)
        return Loaded(
            build_campaign(resolved.document),
            resolved.document,
            sorted(resolved.warnings),
            resolved.sources,
        )

    def check(self, text: str, source: str) -> list[Problem]:
        """Every problem (errors and warnings) of a campaign text, sorted by position."""
        return sorted(self.resolve(text, source).problems)

    def resolve(self, text: str, source: str) -> Resolved:
        resolved = self._resolve(text, source, chain=())
        if resolved.document is None:
            return resolved
        # Warnings are worked out whatever else is wrong: a run that shows errors shows the
        # warnings too, so that fixing the errors brings no surprise (each reads defensively).
        resolved.problems.extend(_calendar_coverage(resolved.document, self.calendar))
        resolved.problems.extend(_name_differs_from_id(resolved.document))
        if resolved.partial:
            resolved.problems = _dedupe(resolved.problems)
            return resolved
        # Meaning is checked even after shape errors so that one run shows everything; the
        # checker skips what the shape errors make meaningless.
        own = resolved.own
        removed = {} if own is None else {
            item_id: (locate(own, path), origin_path(own, path)) for path, item_id in removals(own)
        }
        resolved.problems.extend(SemanticChecker(resolved.document, removed).run())
        if resolved.parent is not None:
            resolved.problems.extend(_later_than_parent(resolved.document, resolved.parent))
        resolved.problems = _dedupe(resolved.problems)
        return resolved

    def _resolve(self, text: str, source: str, chain: tuple[str, ...]) -> Resolved:
        try:
            document = parse(text, source)
        except DocumentError as exc:
            return Resolved(None, list(exc.problems), [source])
        problems = self.schema.check(document)
        parent_id = document.get("extends")
        own_id = document.get("id")
        if not isinstance(parent_id, str):
            problems.extend(_drop_problems(None, document))
            return Resolved(document, problems, [source])
        mark = locate(document, ["extends"])
        if parent_id == own_id or parent_id in chain:
            problems.append(
                Problem(
                    mark.source,
                    mark.line,
                    mark.column,
                    "$.extends",
                    texts.t("campaign.extends.itself", campaign=parent_id),
                    texts.t("campaign.extends.itself.hint"),
                )
            )
            return Resolved(document, problems, [source], partial=True)
        found = self.parents.find(parent_id)
        if found is None:
            problems.append(
                Problem(
                    mark.source,
                    mark.line,
                    mark.column,
                    "$.extends",
                    texts.t("campaign.extends.unknown", campaign=parent_id),
                    did_you_mean(parent_id, self.parents.ids())
                    or texts.t("campaign.extends.unknown.hint"),
                )
            )
            return Resolved(document, problems, [source], partial=True)
        # A parent is resolved once per loader: validating a folder of local plans must not
        # re-parse their common national plan for each. Only clean results are reused, since
        # what a broken chain reports depends on where it was entered.
        cache_key = (found[1], found[0])
        parent = self._parents.get(cache_key)
        if parent is None:
            parent = self._resolve(
                found[0], found[1], (*chain, own_id if isinstance(own_id, str) else source)
            )
            if not parent.errors and not parent.partial:
                self._parents[cache_key] = parent
        problems.extend(parent.problems)
        if parent.document is None or parent.partial:
            return Resolved(document, problems, [source, *parent.sources], partial=True)
        for path, item_id, known in unmatched_ids(parent.document, document):
            mark = locate(document, path)
            removal = isinstance(path, list) and _is_removal_at(document, path)
            message = texts.t("campaign.extends.no_such_removal" if removal
                              else "campaign.extends.new_item_name", id=item_id)
            problems.append(Problem(mark.source, mark.line, mark.column, format_path(path), message,
                                    did_you_mean(item_id, known)
                                    or texts.t("campaign.extends.check_id")))
        problems.extend(_drop_problems(parent.document, document))
        merged = merge(parent.document, document)
        assert isinstance(merged, Mapping)
        return Resolved(merged, problems, [source, *parent.sources], parent.document,
                        own=document)


def _drop_problems(parent: Mapping | None, document: Mapping) -> list[Problem]:
    found = []
    for path, message, hint in misplaced_drops(parent, document):
        mark = locate(document, path)
        found.append(Problem(mark.source, mark.line, mark.column, format_path(path), message,
                             hint))
    return found


def _is_removal_at(document: Mapping, path: list[str | int]) -> bool:
    node: Any = document
    for step in path:
        node = node[step]
    return is_removal(node)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Every problem once; a generic complaint yields to a specific one on the same line."""
    unique = sorted(set(problems))
    specific = {(p.source, p.line) for p in unique if not p.generic}
    return [p for p in unique if not (p.generic and (p.source, p.line) in specific)]


def _name_differs_from_id(document: Mapping) -> list[Problem]:
    """A warning where a campaign file's name is not its id: `extends` finds a parent by id,
    people find it by file name, and the two must not lead to different files."""
    source = document.mark.source
    stem, dot, suffix = PurePosixPath(source.replace("\\", "/")).name.rpartition(".")
    campaign_id = document.get("id")
    if not dot or suffix not in ("yaml", "yml") or not isinstance(campaign_id, str) \
            or stem == campaign_id:
        return []
    mark = locate(document, ["id"])
    return [Problem(
        mark.source, mark.line, mark.column, "$.id",
        texts.t("campaign.file_name", stem=stem, suffix=suffix, id=campaign_id),
        texts.t("campaign.file_name.hint", stem=stem, suffix=suffix, id=campaign_id),
        "warning",
    )]


def _calendar_coverage(document: Mapping, calendar: StatutoryCalendar) -> list[Problem]:
    """A warning where the period reaches a year no statutory schedule covers yet: its working
    days are counted Monday to Friday, marked provisional, until the year is added."""
    if document.get("calendar", "cn") != "cn" or not isinstance(document.get("period"), dict):
        return []
    start = parse_date(document["period"].get("start"))
    end = parse_date(document["period"].get("end"))
    if start is None or end is None:
        return []
    missing = [year for year in range(start.year, end.year + 1) if not calendar.covers(year)]
    if not missing:
        return []
    key = "start" if missing[0] == start.year else "end"
    mark = locate(document, ["period", key])
    years = "、".join(str(year) for year in missing)
    return [Problem(
        mark.source, mark.line, mark.column, f"$.period.{key}",
        texts.t("campaign.calendar.unknown_years", years=years),
        texts.t("campaign.calendar.unknown_years.hint", year=missing[0]),
        "warning",
    )]


def _one_off_dates(document: Mapping
                   ) -> dict[tuple[str, str], tuple[list[str | int], dt.date]]:
    """Phase deadlines and dated one-off checks, by (list, id), with the path of each date."""
    found: dict[tuple[str, str], tuple[list[str | int], dt.date]] = {}
    for index, phase in enumerate(as_list(document.get("phases"))):
        day = parse_date(phase.get("due")) if isinstance(phase, dict) else None
        if day and isinstance(phase.get("id"), str):
            found["phase", phase["id"]] = (["phases", index, "due"], day)
    for index, check in enumerate(as_list(document.get("checks"))):
        if isinstance(check, dict) and "every" not in check and isinstance(check.get("id"), str):
            day = parse_date(check.get("due"))
            if day:
                found["check", check["id"]] = (["checks", index, "due"], day)
    return found


def _later_than_parent(child: Mapping, parent: Mapping) -> list[Problem]:
    """Warn where a child's deadline is later than the one its parent sets for the same item."""
    theirs = _one_off_dates(parent)
    problems = []
    for key, (path, day) in _one_off_dates(child).items():
        if key in theirs and day > theirs[key][1]:
            mark = locate(child, path)
            problems.append(
                Problem(
                    mark.source,
                    mark.line,
                    mark.column,
                    origin_path(child, path),
                    texts.t(f"campaign.later_than_parent.{key[0]}", id=key[1], day=day,
                            parent=theirs[key][1]),
                    texts.t("campaign.later_than_parent.hint"),
                    "warning",
                )
            )
    return problems
