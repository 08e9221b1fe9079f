"""Request and response bodies, one family per resource, each with an OpenAPI example."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.door import unstorable
from engine.document import format_path
from engine.limits import MAX_DEPTH
from engine.subject_rows import ID_PATTERN, ID_RULE
from engine.texts import t
from storage.query import CURSOR_PATTERN, MAX_CURSOR

T = TypeVar("T")


def example(**example: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


def plain_json(value: Any) -> Any:
    """`value` (text, or JSON made of lists and objects), or ValueError naming the first
    thing no database would store as sent: NaN or Infinity (JSON has neither, but Python's
    parser lets them through; PostgreSQL would refuse them, and the audit hash of a value that
    stores as something else would not hold), text with NUL or a lone surrogate, in a value
    or a key, or data nested deeper than a case keeps (engine.limits) — refused here, before
    anything walks it recursively (the idempotency record serializes the body: 255 levels
    failed there with a 500). (Event data passes here: the walk is kept lean, and the path of
    a fault is found only once there is one.)"""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if unstorable(item) is not None:
                raise ValueError(_fault(value))
        elif isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise ValueError(_too_deep())
            for key in item:
                if isinstance(key, str) and unstorable(key) is not None:
                    raise ValueError(_fault(value))
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise ValueError(_too_deep())
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(_fault(value))
    return value


def _too_deep() -> str:
    return t("api.json.too_deep", depth=MAX_DEPTH)


def _fault(value: Any) -> str:
    """What `plain_json` refuses in `value`, at its JSON path."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        at = t("api.at", path=format_path(path)) if path else ""
        if isinstance(item, str) and (reason := unstorable(item)) is not None:
            return t("api.json.text", at=at, reason=reason)
        if isinstance(item, float) and not math.isfinite(item):
            return t("api.json.not_finite", at=at)
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and (reason := unstorable(key)) is not None:
                    return t("api.json.key", at=at, reason=reason)
                stack.append((inner, (*path, key)))
        elif isinstance(item, list):
            stack.extend((inner, (*path, index)) for index, inner in enumerate(item))
    return t("api.json.unstorable")


# Fields, data and evidence a client sends, as a JSON object.
JsonObject = Annotated[dict[str, Any], AfterValidator(plain_json)]


class RequestModel(BaseModel):
    """A body a client sends: a key the model does not declare is refused (422 naming it),
    never ignored (`{"id": [3]}` to a route that takes `ids` must not act on everything), and
    text no database stores is refused wherever it sits."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # JSON objects (JsonObject) are walked by their own validator
        return plain_json(value) if isinstance(value, str | list) else value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # pydantic would read "0" or "1700000000" as a Unix time: a date here is YYYY-MM-DD
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError(t("api.date.format"))
    return value


# A calendar date in a query parameter, as documented (`format: date`) and nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]

# The `cursor` query parameter of every list: what `next_cursor` gave. Its shape is documented,
# and checked (with what it holds) when it is read: anything not given out is `bad_cursor`.
Cursor = Annotated[str | None, Query(
    description="the `next_cursor` of the previous page, unchanged",
    json_schema_extra={"minLength": 1, "maxLength": MAX_CURSOR, "pattern": CURSOR_PATTERN})]


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next page."""

    data: list[T]
    next_cursor: str | None = None


# -- orgs and units --------------------------------------------------------------------------

_WORD = ("{} of the published campaigns, by id or by the Chinese name a campaign declares "
         "(e.g. {}), stored as the id; an unknown one is refused (422 unknown_term)")


class OrgCreate(RequestModel):
    model_config = example(id="linyin", name="林荫街道", level="street", parent="dongsheng")
    id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN.pattern,
                    description=f"your id for the org (external id): {ID_RULE}")
    name: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=64,
                       description=_WORD.format("an org level", "street, 街道, community, 社区"))
    parent: str | None = Field(default=None, max_length=64)


def _not_null(schema: dict[str, Any]) -> None:
    """Document an update's field that may be left out but not nulled (`_no_nulls`) as the
    type it is: `anyOf [X, null]` becomes X."""
    kinds = [k for k in schema.pop("anyOf", []) if k.get("type") != "null"]
    if len(kinds) == 1:
        schema.update(kinds[0])


def _no_nulls(model: BaseModel, *names: str) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(t("api.field.not_null", name=name))


class OrgUpdate(RequestModel):
    model_config = example(name="林荫街道办事处", version=1)

    @model_validator(mode="after")
    def _required_stay(self) -> OrgUpdate:
        _no_nulls(self, "name", "level")
        return self

    name: str | None = Field(default=None, min_length=1, max_length=200,
                             json_schema_extra=_not_null)
    level: str | None = Field(default=None, min_length=1, max_length=64,
                              json_schema_extra=_not_null,
                              description=_WORD.format("an org level", "street, 社区"))
    parent: str | None = Field(default=None, max_length=64)
    version: int | None = Field(default=None, ge=1,
                                description="the version you read; 409 if it changed since")


class OrgPublic(BaseModel):
    model_config = example(id="linyin", name="林荫街道", level="street", parent="dongsheng",
                            path="/dongsheng/linyin/", version=1,
                            created_at="2023-05-22T01:00:00Z", updated_at="2023-05-22T01:00:00Z")
    id: str
    name: str
    level: str
    parent: str | None
    path: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class UnitCreate(RequestModel):
    model_config = example(id="u-chem-01", name="东胜化工有限公司", org="linyin-1",
                            industry="hazardous_chemicals", tags=["major_hazard_source"])
    id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN.pattern,
                    description=f"your id for the unit: {ID_RULE}")
    name: str = Field(min_length=1, max_length=200)
    org: str = Field(min_length=1, max_length=64)
    industry: str | None = Field(default=None, max_length=64, description=_WORD.format(
        "an industry", "hazardous_chemicals, 危险化学品"))
    tags: list[str] = Field(default_factory=list, max_length=50, description=_WORD.format(
        "tags", "major_hazard_source, 人员密集场所"))


class UnitUpdate(RequestModel):
    model_config = example(tags=["major_hazard_source", "key_enterprise"], version=1)

    @model_validator(mode="after")
    def _required_stay(self) -> UnitUpdate:
        _no_nulls(self, "name", "org", "tags")
        return self

    name: str | None = Field(default=None, min_length=1, max_length=200,
                             json_schema_extra=_not_null)
    org: str | None = Field(default=None, max_length=64, json_schema_extra=_not_null)
    industry: str | None = Field(default=None, max_length=64, description=_WORD.format(
        "an industry", "hazardous_chemicals, 危险化学品"))
    tags: list[str] | None = Field(default=None, max_length=50, json_schema_extra=_not_null,
                                   description=_WORD.format("tags", "hotel, 宾馆"))
    version: int | None = Field(default=None, ge=1)


class UnitPublic(BaseModel):
    model_config = example(id="u-chem-01", name="东胜化工有限公司", org="linyin-1",
                            industry="hazardous_chemicals", tags=["major_hazard_source"],
                            version=1, created_at="2023-05-22T01:00:00Z",
                            updated_at="2023-05-22T01:00:00Z")
    id: str
    name: str
    org: str
    industry: str | None
    tags: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# -- cases -----------------------------------------------------------------------------------

_HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
           "description": "储罐区可燃气体报警装置失效", "found_on": "2023-06-01"}


class CaseCreate(RequestModel):
    model_config = example(campaign="special-action-2023-linyin", type="hazard",
                            unit="u-chem-01", data=_HAZARD)
    campaign: str = Field(min_length=1, max_length=64)
    type: str = Field(default="hazard", min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=64)
    data: JsonObject = Field(default_factory=dict)
    found_on: dt.date | None = Field(
        default=None, description="the day the case was found, when it is recorded late: after "
        "the campaign's end a case is opened only if found on a day of the campaign's period "
        "(409 `campaign_ended` otherwise); not in the future, not before the campaign's start. "
        "Fills the case type's `found_on` field when it has one (the case's own `found_on` "
        "counts the same when this is not given)")


class SignaturePublic(BaseModel):
    """One signature of a sign-off chain, with what its signer sent: their own fields (each
    level's 意见, kept with the signature and not in the case's data) and any case field."""

    model_config = example(transition="accept", role="acceptance_team", actor="token:5",
                            actor_name="林荫街道验收组", at="2026-12-11T02:00:00Z",
                            data={"opinion": "整改到位，同意销号"}, completed=False, step=0)
    transition: str
    role: str = Field(description="the role signed for")
    actor: str = Field(description="who signed, stable: `token:<id>`")
    actor_name: str = Field(description="the signer's name when they signed")
    at: dt.datetime
    data: dict[str, Any] = Field(description="the data this signer sent")
    completed: bool = Field(description="true once the chain is complete (the case moved "
                                        "on); false while it waits for more signatures")
    step: int | None = Field(default=None, description=(
        "the place of the signature's step in the transition's `signoffs` (0 first); steps "
        "whose `when` does not hold for the case and its unit are skipped, so a 市直部门直管 "
        "enterprise's chain reads 0, 1, 4. Null for a signature recorded before steps"))


class UnitTerms(BaseModel):
    """A unit's industry and tags as a case keeps them from its opening."""

    industry: str | None
    tags: list[str]


class CasePublic(BaseModel):
    model_config = example(
        id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", campaign="special-action-2023-linyin",
        campaign_version=1, type="hazard", unit="u-chem-01", unit_name="示例化工有限公司",
        state="rectifying",
        state_name="整改中", final=False, data=_HAZARD, signatures=[],
        clocks={"rectification": {"due": "2023-07-31", "gen": 1, "provisional": False}},
        provisional=False, next_due="2023-07-31", overdue=False, version=2,
        unit_terms={"industry": "hazardous_chemicals", "tags": []},
        opened_by="林荫化工主要负责人",
        opened_at="2023-06-01T01:00:00Z", updated_at="2023-06-02T01:00:00Z")
    id: str
    campaign: str
    campaign_version: int
    type: str
    unit: str
    unit_name: str | None = Field(default=None, description="the unit's name, as people read "
                                  "it (null for a unit removed since)")
    state: str
    state_name: str
    final: bool
    data: dict[str, Any]
    signatures: list[SignaturePublic] = Field(description=(
        "every signature of the case's sign-off chains, in order: role, signer, time and the "
        "fields they gave; the chain waiting for signatures (`completed` false) and every chain "
        "completed (a 销号's signatures stay on the closed case); a rejection voids a pending "
        "one (its signatures remain in /history)"))
    clocks: dict[str, Any] = Field(description=(
        "each clock: `due` (null when stopped), `gen`, and `provisional`: the deadline was "
        "counted over a year whose statutory holidays are not known yet (Monday to Friday), "
        "with `needs_year`; it is recomputed when that year is added"))
    provisional: bool = Field(default=False,
                              description="a running clock's deadline is provisional")
    next_due: dt.date | None
    overdue: bool
    version: int
    unit_terms: UnitTerms | None = Field(default=None, description=(
        "the unit's industry and tags as registered when the case was opened: conditions on "
        "the unit (`when: {unit: …}`, e.g. a 市直部门直管 enterprise's shorter sign-off chain) "
        "are judged by these for the case's whole life, not by the unit as it is now. "
        "Read-only; null only for a case some tool stored without them"))
    opened_by: str
    opened_at: dt.datetime
    updated_at: dt.datetime


class EventIn(RequestModel):
    model_config = example(trigger="plan", version=1, data={
        "goals_and_tasks": "更换报警装置", "measures": "停用储罐区，更换并校验",
        "funds_and_materials": "企业自筹", "responsible": "设备部", "deadline": "2023-07-31",
        "safety_measures": "停用期间专人巡检"})
    trigger: str = Field(min_length=1, max_length=64)
    data: JsonObject = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1,
                                description="the case version you read; 409 if it changed")


class DeadlineSet(BaseModel):
    clock: str
    due: dt.date
    provisional: bool = Field(description=(
        "counted over a year whose statutory holidays are not known yet (Monday to Friday); "
        "recomputed when the year is added (GET /calendar)"))


class EventResult(BaseModel):
    model_config = example(case_id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", trigger="plan",
                            from_state="reported", state="rectifying", state_name="整改中",
                            completed=True, version=2, role="principal",
                            clocks_started=["rectification"], clocks_stopped=[],
                            deadlines=[{"clock": "rectification", "due": "2023-07-31",
                                        "provisional": False}])
    case_id: str
    trigger: str
    from_state: str | None
    state: str
    state_name: str
    completed: bool = Field(description="false while a sign-off chain still waits for signers")
    version: int
    role: str | None
    clocks_started: list[str]
    clocks_stopped: list[str]
    deadlines: list[DeadlineSet] = Field(
        default_factory=list, description="the deadline of each clock the event started")


class TriggersPublic(BaseModel):
    model_config = example(case_id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", state="rectifying",
                            version=2, triggers=["submit"])
    case_id: str
    state: str
    version: int
    triggers: list[str]


class HistoryEntry(BaseModel):
    model_config = example(seq=1, at="2023-06-01T01:00:00Z", actor="token:3",
                            actor_name="林荫化工主要负责人", role="principal", action="open",
                            from_state=None, to_state="reported", data={}, hash="9f2c…")
    seq: int
    at: dt.datetime
    actor: str = Field(description="who acted, stable: `token:<id>`, or `system` (a clock)")
    actor_name: str = Field(description="the token's name (the actor itself for `system`)")
    role: str | None
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    hash: str


# -- campaigns -------------------------------------------------------------------------------

class CampaignSummary(BaseModel):
    model_config = example(campaign="special-action-2023-linyin", version=1, version_id=2,
                            title="林荫街道关于重大事故隐患专项排查整治2023行动实施方案",
                            sha256="4c1d…", source="campaigns/special-action-2023-linyin.yaml",
                            published_at="2023-05-22T01:00:00Z", published_by="serve",
                            owner_org=None)
    campaign: str
    version: int
    version_id: int
    title: str
    sha256: str
    source: str
    published_at: dt.datetime
    published_by: str
    owner_org: str | None = Field(description="the org whose safety office may publish the "
                                              "next version (or one above it); none: only an "
                                              "admin may")


class ProblemItem(BaseModel):
    source: str
    line: int
    column: int
    path: str
    message: str
    hint: str
    severity: str


class ValidationResult(BaseModel):
    model_config = example(valid=False, problems=[{
        "source": "request", "line": 42, "column": 7, "path": "$.cases.hazard.transitions[3].to",
        "message": "unknown state 'rectifyng'", "hint": "did you mean 'rectifying'?",
        "severity": "error"}])
    valid: bool
    problems: list[ProblemItem]


class PublishResult(BaseModel):
    model_config = example(created=True, version={
        "campaign": "my-town-2024", "version": 1, "version_id": 5, "title": "某镇实施方案",
        "sha256": "4c1d…", "source": "api", "published_at": "2024-03-01T01:00:00Z",
        "published_by": "admin"}, warnings=[])
    created: bool
    version: CampaignSummary
    warnings: list[ProblemItem]


class DeploymentIn(RequestModel):
    model_config = example(org="linyin")
    org: str = Field(min_length=1, max_length=64)


class DeploymentPublic(BaseModel):
    model_config = example(campaign="special-action-2023-linyin", org="linyin",
                            org_path="/dongsheng/linyin/", created_at="2023-05-22T01:00:00Z")
    campaign: str
    org: str
    org_path: str
    created_at: dt.datetime


class UndeploymentPublic(BaseModel):
    model_config = example(campaign="three-year-plan-2024-2026", org="linyin-c2",
                            org_path="/dongsheng/linyin/linyin-c2/",
                            undeployed_at="2024-03-01T01:00:00Z", obligations_removed=48,
                            obligations_kept=3, timers_cancelled=97, still_covered_by=[])
    campaign: str
    org: str
    org_path: str
    undeployed_at: dt.datetime
    obligations_removed: int = Field(description="open obligations with no completion, gone")
    obligations_kept: int = Field(description="open obligations with a completion recorded, "
                                              "kept with their evidence (no more reminders)")
    timers_cancelled: int = Field(description="pending phase and obligation reminders")
    still_covered_by: list[str] = Field(description="orgs above where the campaign is "
                                                    "deployed too: the subtree's duties stay")


class TokenPublic(BaseModel):
    model_config = example(id=7, name="林荫街道安委办", roles=["safety_office"], scope="org",
                            scope_id="linyin", created_at="2024-03-01T01:00:00Z",
                            expires_at="2024-05-30T01:00:00Z", revoked_at=None,
                            state="active")
    id: int
    name: str
    roles: list[str]
    scope: str
    scope_id: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    state: str = Field(description="active, expired or revoked")


class AuditVerdict(BaseModel):
    model_config = example(ok=True, entries=1520, streams=212, unsigned=0, keyed=True,
                           sealed=True, breaks=[])
    ok: bool
    entries: int
    streams: int
    unsigned: int = Field(description="entries and heads without a signature")
    keyed: bool = Field(description="signatures were checked with the log's key")
    sealed: bool = Field(description="the log was sealed: an unsigned entry is a break")
    breaks: list[dict[str, Any]]


class Health(BaseModel):
    model_config = example(status="ok", version="0.1.0", database="sqlite")
    status: str = Field(description="always `ok`: the process answers")
    version: str = Field(description="paicha's version")
    database: str = Field(description="the kind of database configured (not asked: `/ready` "
                                      "asks it)")


class ReadyCheck(BaseModel):
    name: str = Field(description="database, migrations or scheduler")
    ok: bool
    detail: str


class Readiness(BaseModel):
    model_config = example(status="ready", checks=[
        {"name": "database", "ok": True, "detail": "postgresql answers"},
        {"name": "migrations", "ok": True, "detail": "at the newest migration"},
        {"name": "scheduler", "ok": True,
         "detail": "last sweep 4 s ago by sweeper-1:4242"}])
    status: str = Field(description="`ready` (a 503 problem `not_ready` says otherwise)")
    checks: list[ReadyCheck]
