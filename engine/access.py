"""Who is asking: a token's roles and the org subtree or unit they reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine import texts
from engine.errors import OutOfScope

ScopeKind = Literal["admin", "org", "unit"]


def org_path(ancestors: list[str]) -> str:
    """The materialized path of an org from its ancestors' ids, root first: `/d/s/c/`."""
    return "/" + "".join(f"{a}/" for a in ancestors)


@dataclass(frozen=True)
class Principal:
    """The holder of a token or a person's account: roles within one org's subtree, or one
    unit, or setup rights."""

    token_id: int
    name: str
    roles: frozenset[str]
    scope_kind: ScopeKind
    scope_id: str | None = None
    scope_path: str | None = None  # the org's path, for org tokens
    unit_org_path: str | None = None  # the unit's org path, for unit tokens
    user_id: int | None = None  # a person signed in to the screens (storage.users)

    @property
    def actor(self) -> str:
        """Who acts, as the audit log names them: `user:<id>` for a person signed in, the
        token's name for a machine (and for the CLI and seeders, which have no token)."""
        return f"user:{self.user_id}" if self.user_id else self.name

    @property
    def admin(self) -> bool:
        return self.scope_kind == "admin"

    @property
    def scope(self) -> str:
        return "admin" if self.admin else f"{self.scope_kind} {self.scope_id}"

    def reaches_org(self, path: str) -> bool:
        """Whether the org at `path` is inside the token's subtree."""
        if self.admin:
            return True
        if self.scope_kind == "org":
            return path.startswith(self.scope_path or "\0")
        return False

    def reaches_unit(self, unit_id: str, path: str) -> bool:
        """Whether the unit (under the org at `path`) is inside the token's scope."""
        if self.scope_kind == "unit":
            return unit_id == self.scope_id
        return self.reaches_org(path)

    def sees_org(self, path: str) -> bool:
        """Whether the org may be read: inside the subtree, or the org of the token's unit or
        one of its ancestors (a principal sees where its unit sits)."""
        if self.scope_kind == "unit":
            return (self.unit_org_path or "").startswith(path)
        return self.reaches_org(path)

    def require_unit(self, unit_id: str, path: str) -> None:
        if not self.reaches_unit(unit_id, path):
            raise OutOfScope(texts.t("errors.what.unit", id=unit_id), self.scope)

    def require_org(self, org_id: str, path: str) -> None:
        if not self.reaches_org(path):
            raise OutOfScope(texts.t("errors.what.org", id=org_id), self.scope)
