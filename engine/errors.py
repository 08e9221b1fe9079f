"""The error tree of the core: every domain failure is a PaichaError."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from engine import texts
from engine.texts import listed

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a campaign, located by file, line, column and JSON path."""

    source: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""
    severity: Severity = "error"
    # A catch-all complaint ("not a valid value here") that a specific one on the same line
    # makes redundant.
    generic: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        text = f"{self.source}:{self.line}:{self.column}  {self.path}  {self.message}"
        if self.severity == "warning":
            text = (f"{self.source}:{self.line}:{self.column}  {self.path}  "
                    f"{texts.t('errors.warning', message=self.message)}")
        return f"{text}  ({self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


class PaichaError(Exception):
    """Root of every error the engine raises on purpose."""

    code = "paicha_error"


class CampaignInvalid(PaichaError):
    """A campaign failed validation; carries every problem found, sorted by position."""

    code = "campaign_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(texts.t("errors.campaign_invalid.first", count=len(errors),
                                 first=errors[0]) if errors else
                         texts.t("errors.campaign_invalid", count=0))


class CalendarInvalid(PaichaError):
    """A year's holiday schedule (a calendar file) failed validation; carries every problem."""

    code = "calendar_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        count = len(self.problems)
        super().__init__(texts.t("errors.calendar_invalid.first", count=count,
                                 first=self.problems[0]) if self.problems else
                         texts.t("errors.calendar_invalid", count=0))


class CaseNotFound(PaichaError):
    """No case with this id."""

    code = "case_not_found"

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(texts.t("problem.case_not_found.detail", case=case_id))


class Refused(PaichaError):
    """An event the lifecycle will not accept; the message says why and what would work."""

    code = "refused"


class TransitionNotAllowed(Refused):
    """The trigger cannot fire in the case's current state."""

    code = "transition_not_allowed"

    def __init__(self, case_id: str, state: str, trigger: str, allowed: Sequence[str]) -> None:
        self.case_id, self.state, self.trigger = case_id, state, trigger
        self.allowed = list(allowed)
        super().__init__(texts.t("problem.transition_not_allowed.detail", case=case_id,
                                 trigger=trigger, state=state,
                                 allowed=listed(self.allowed) or
                                 texts.t("simulate.refused.closed")))


class RoleNotAllowed(Refused):
    """The actor holds none of the roles the transition (or the next sign-off) needs."""

    code = "role_not_allowed"

    def __init__(self, case_id: str, trigger: str, required: Sequence[str],
                 held: Iterable[str], *, signoff: bool = False) -> None:
        self.case_id, self.trigger = case_id, trigger
        self.required, self.held = list(required), sorted(held)
        self.signoff = signoff
        which = "signoff" if signoff else "detail"
        super().__init__(texts.t(f"problem.role_not_allowed.{which}", case=case_id,
                                 trigger=trigger, required=listed(self.required),
                                 held=listed(self.held) or texts.t("problem.no_role")))


class SameSigner(Refused):
    """The actor already signed this sign-off chain: each signature is another person's."""

    code = "same_signer"

    def __init__(self, case_id: str, trigger: str, role: str, *, signer: str,
                 signed_as: str) -> None:
        self.case_id, self.trigger, self.role = case_id, trigger, role
        self.signer, self.signed_as = signer, signed_as
        super().__init__(texts.t("errors.same_signer", case=case_id, signer=signer,
                                 trigger=trigger, signed_as=signed_as, role=role))


def kind_name(kind: str) -> str:
    """What people call a kind of record (`org` -> 组织机构); a kind the catalogue does not name
    is shown as it is."""
    key = "errors.kind." + kind.replace(" ", "_")
    return texts.t(key) if texts.has(key, "en") else kind


def scope_words(scope: str) -> str:
    """A token's scope as `Principal.scope` gives it (`admin`, `org d1`, `unit u1`), in words
    of the current language."""
    if scope == "admin":
        return texts.t("errors.scope.admin")
    kind, _, key = scope.partition(" ")
    return texts.t(f"errors.scope.{kind}", id=key) if kind in ("org", "unit") and key else scope


def _clipped(name: str) -> str:
    """A name sent by a client, cut short enough to repeat in an answer."""
    return name if len(name) <= 60 else name[:57] + "..."


class FieldsNotSettable(Refused):
    """The event's data holds fields its transition does not declare (`requires`, `sets`)."""

    code = "fields_not_settable"

    def __init__(self, case_id: str, trigger: str, refused: Sequence[str],
                 settable: Sequence[str], *, hints: Sequence[str] = ()) -> None:
        self.case_id, self.trigger = case_id, trigger
        self.refused = [_clipped(name) for name in refused]
        self.settable = list(settable)
        self.hints = list(hints)
        more = (texts.t("errors.fields_not_settable.hints",
                        hints=listed(self.hints, "list.semicolon")) if self.hints else "")
        super().__init__(texts.t(
            "errors.fields_not_settable", case=case_id, trigger=trigger,
            refused=listed(map(repr, self.refused)),
            settable=listed(self.settable) or texts.t("errors.no_field"), more=more))


class MissingFields(Refused):
    """Fields the transition requires are not filled."""

    code = "missing_fields"

    def __init__(self, case_id: str, trigger: str, fields: Sequence[str]) -> None:
        self.case_id, self.trigger, self.fields = case_id, trigger, list(fields)
        super().__init__(texts.t("problem.missing_fields.detail", case=case_id,
                                 trigger=trigger, fields=listed(self.fields)))


class ConditionFailed(Refused):
    """The case's data does not satisfy the transition's condition."""

    code = "condition_failed"

    def __init__(self, case_id: str, trigger: str, conditions: Sequence[str]) -> None:
        self.case_id, self.trigger, self.conditions = case_id, trigger, list(conditions)
        super().__init__(texts.t("errors.condition_failed", case=case_id, trigger=trigger,
                                 conditions=listed(self.conditions, "errors.list.or")))


class InvalidData(Refused):
    """Event or case data does not fit the case type's field schema."""

    code = "invalid_data"

    def __init__(self, case_id: str, problems: Sequence[str]) -> None:
        self.case_id, self.problems = case_id, list(problems)
        super().__init__(texts.t("errors.invalid_data", case=case_id,
                                 problems=listed(self.problems, "list.semicolon")))


class NotFound(PaichaError):
    """No such record (org, unit, campaign, obligation …)."""

    code = "not_found"

    def __init__(self, kind: str, key: object, hint: str = "") -> None:
        self.kind, self.key, self.hint = kind, key, hint
        super().__init__(texts.t("errors.not_found.hinted" if hint else "errors.not_found",
                                 kind=kind_name(kind), key=key, hint=hint))


class StaleVersion(PaichaError):
    """A write based on an old version of a record; nothing was changed."""

    code = "stale_version"

    def __init__(self, kind: str, key: str, expected: int, current: int) -> None:
        self.kind, self.key, self.expected, self.current = kind, key, expected, current
        super().__init__(texts.t("problem.stale_version.detail", kind=kind_name(kind), key=key,
                                 current=current, expected=expected))


class Conflict(PaichaError):
    """The request clashes with what is stored (an id taken, a key reused with other data)."""

    code = "conflict"

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        self.code = code
        super().__init__(message)


class CampaignEnded(Conflict):
    """A case opened after its campaign's end, not recorded late as found inside the period."""

    def __init__(self, campaign: str, ended: object, found_on: object | None) -> None:
        self.campaign, self.ended, self.found_on = campaign, ended, found_on
        found = texts.t("errors.campaign_ended.found", found_on=found_on) if found_on else ""
        super().__init__(texts.t("errors.campaign_ended", campaign=campaign, ended=ended,
                                 found=found), code="campaign_ended")


class OutOfScope(PaichaError):
    """The caller's token does not reach this org or unit."""

    code = "out_of_scope"

    def __init__(self, what: str, scope: str) -> None:
        self.what, self.scope = what, scope
        super().__init__(texts.t("errors.out_of_scope", what=what, scope=scope_words(scope)))


class Forbidden(PaichaError):
    """The caller's roles do not allow this action; `required_roles` (when the action needs
    one of some roles) and `held_roles` say which would."""

    code = "forbidden"

    def __init__(self, action: str, needs: str, *, required_roles: Iterable[str] = (),
                 held_roles: Iterable[str] = ()) -> None:
        self.action, self.needs = action, needs
        self.required_roles, self.held_roles = sorted(required_roles), sorted(held_roles)
        super().__init__(texts.t("errors.forbidden", action=action, needs=needs))


class NotCampaignOwner(Forbidden):
    """A campaign's next version from an office that does not own the campaign."""

    code = "not_campaign_owner"


class InputInvalid(PaichaError):
    """Request data that cannot be used; `problems` lists each, located where possible."""

    code = "input_invalid"

    def __init__(self, message: str, problems: Sequence[object] = (), *,
                 code: str = "input_invalid") -> None:
        self.code = code
        self.problems = list(problems)
        super().__init__(message)
