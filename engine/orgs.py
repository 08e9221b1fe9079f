"""Orgs (the administrative tree) and units (enterprises), and selectors that match them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.model import Campaign, Selector


@dataclass(frozen=True)
class Org:
    """A node of the administrative tree (区/镇/街道/社区, 部门)."""

    id: str
    name: str
    level: str
    parent: str | None = None


@dataclass(frozen=True)
class Unit:
    """An enterprise or venue (生产经营单位) under an org."""

    id: str
    name: str
    org: str
    industry: str | None = None
    tags: frozenset[str] = frozenset()


def matches(campaign: Campaign, selector_id: str, subject: Unit | Org) -> bool:
    """Whether a unit or org satisfies the named selector (all its parts)."""
    return _matches(campaign, campaign.selectors[selector_id], subject, depth=0)


def _matches(campaign: Campaign, selector: Selector, subject: Unit | Org, depth: int) -> bool:
    if depth > 32:  # cycles are refused at load time; this only guards hand-built models
        raise ValueError(f"selector {selector.id!r} nests too deeply")
    if selector.industries and not (
        isinstance(subject, Unit) and subject.industry in selector.industries
    ):
        return False
    if selector.tags and not (isinstance(subject, Unit) and subject.tags & set(selector.tags)):
        return False
    if selector.levels and not (isinstance(subject, Org) and subject.level in selector.levels):
        return False
    if selector.any_of and not any(
        _matches(campaign, campaign.selectors[s], subject, depth + 1) for s in selector.any_of
    ):
        return False
    return not (
        selector.negated
        and _matches(campaign, campaign.selectors[selector.negated], subject, depth + 1)
    )


def matches_any(campaign: Campaign, selector_ids: tuple[str, ...], subject: Unit | Org) -> bool:
    """Whether the subject satisfies at least one of the named selectors."""
    return any(matches(campaign, s, subject) for s in selector_ids)


def unit_test(campaign: Campaign, unit: Unit | None) -> Callable[[Any], bool] | None:
    """The predicate that answers a condition's `unit:` for `unit` (None: no unit known, and
    every `unit:` test fails). The operand is a selector id, a list of ids (any of them), or
    an inline selector: `{tags: city_managed}`, `{industry: [...]}`, `{not: high_risk}`."""
    if unit is None:
        return None
    found = unit

    def test(operand: Any) -> bool:
        if isinstance(operand, str):
            return operand in campaign.selectors and matches(campaign, operand, found)
        if isinstance(operand, list):
            return any(test(part) for part in operand)
        if isinstance(operand, dict):
            inline = Selector("(unit)", _strs(operand.get("industry")), _strs(operand.get("tags")),
                              (), _strs(operand.get("any")), operand.get("not"))
            return _matches(campaign, inline, found, depth=0)
        return False

    return test


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
