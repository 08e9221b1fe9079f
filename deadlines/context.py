"""What a message names besides ids: the units' and orgs' names and the people who hold the
roles that must act, read once per sweep batch (three queries, whatever its size), and the
links under PAICHA_PUBLIC_URL.

The people are the live tokens scoped to the unit, or to an org on the subject's org path,
that hold one of the message's roles: a token's name is the person (or office) it was issued
to. Nothing is read per message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection, or_, select

from storage.tables import Org, Token, Unit

log = logging.getLogger("paicha.messages")

unit_t = Unit.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
token_t = Token.__table__  # type: ignore[attr-defined]

PUBLIC_URL_ENV = "PAICHA_PUBLIC_URL"


def path_ids(org_path: str) -> list[str]:
    """The org ids of an org path, root first (`/city/county/` -> city, county)."""
    return [part for part in org_path.split("/") if part]


def org_of(org_path: str) -> str:
    """The org an org path ends at ("" for the root)."""
    ids = path_ids(org_path)
    return ids[-1] if ids else ""


@dataclass
class Directory:
    """Names of the units and orgs of one batch, and the people holding roles there."""

    units: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)
    # (scope kind, scope id) -> [(token name, its roles)]
    holders: dict[tuple[str, str], list[tuple[str, frozenset[str]]]] = field(
        default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, *, unit_ids: Iterable[str], org_paths: Iterable[str],
             now: dt.datetime) -> Directory:
        """The names a batch's messages need: one query each for units, orgs and people."""
        units = sorted(set(unit_ids))
        orgs = sorted({org_id for path in org_paths for org_id in path_ids(path)})
        found = cls()
        if units:
            found.units = {r.id: r.name for r in conn.execute(
                select(unit_t.c.id, unit_t.c.name).where(unit_t.c.id.in_(units)))}
        if orgs:
            found.orgs = {r.id: r.name for r in conn.execute(
                select(org_t.c.id, org_t.c.name).where(org_t.c.id.in_(orgs)))}
        scopes = [(token_t.c.scope_kind == "unit") & token_t.c.scope_id.in_(units)] if units \
            else []
        if orgs:
            scopes.append((token_t.c.scope_kind == "org") & token_t.c.scope_id.in_(orgs))
        if scopes:
            rows = conn.execute(
                select(token_t.c.name, token_t.c.roles, token_t.c.scope_kind,
                       token_t.c.scope_id)
                .where(or_(*scopes), token_t.c.revoked_at.is_(None),
                       or_(token_t.c.expires_at.is_(None), token_t.c.expires_at > now))
                .order_by(token_t.c.id))
            for row in rows:
                found.holders.setdefault((row.scope_kind, row.scope_id), []).append(
                    (row.name, frozenset(row.roles or ())))
        return found

    def unit(self, unit_id: str | None) -> dict[str, str]:
        """A unit as a template reads it: its id and name (empty when there is none)."""
        if not unit_id:
            return {"id": "", "name": ""}
        return {"id": unit_id, "name": self.units.get(unit_id, unit_id)}

    def org(self, org_id: str) -> dict[str, str]:
        """An org as a template reads it."""
        return {"id": org_id, "name": self.orgs.get(org_id, org_id)}

    def people(self, roles: Iterable[str], *, unit_id: str | None,
               org_path: str) -> list[str]:
        """The names of the live tokens holding one of `roles` for the unit, or for an org on
        `org_path` (nearest first), without repeats."""
        wanted = set(roles)
        scopes = ([("unit", unit_id)] if unit_id else []) + [
            ("org", org_id) for org_id in reversed(path_ids(org_path))]
        names: list[str] = []
        for scope in scopes:
            for name, held in self.holders.get(scope, ()):
                if held & wanted and name not in names:
                    names.append(name)
        return names


@dataclass(frozen=True)
class Links:
    """Where a person opens what a message is about: under the public address of this
    deployment (PAICHA_PUBLIC_URL), or nowhere when it is not set: no link rather than a
    broken one."""

    base: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Links:
        """The links of PAICHA_PUBLIC_URL; a value that is no http(s) address is logged and
        ignored."""
        raw = (os.environ if environ is None else environ).get(PUBLIC_URL_ENV, "").strip()
        if not raw:
            return cls()
        parts = urlsplit(raw)
        # a markdown link ends at `)` and an HTML attribute at `"`: such a base would break
        # the link, and no real address needs them
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
                or parts.fragment or any(ch.isspace() or ch in '()<>"\'' for ch in raw):
            log.warning("public URL ignored", extra={
                "action": "public_url_ignored", "reason": f"{PUBLIC_URL_ENV} is not an http(s) "
                "address without query (e.g. https://paicha.example.gov.cn)"})
            return cls()
        return cls(raw.rstrip("/"))

    def _to(self, *parts: str) -> str:
        if self.base is None:
            return ""
        return self.base + "".join("/" + quote(part, safe="") for part in parts)

    def case(self, case_id: str) -> str:
        return self._to("cases", case_id)

    def obligation(self, obligation_id: Any) -> str:
        return self._to("obligations", str(obligation_id))

    def campaign(self, campaign_id: str) -> str:
        return self._to("campaigns", campaign_id) if campaign_id else ""
