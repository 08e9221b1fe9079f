"""Request and response bodies, one family per resource, each with an OpenAPI example."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


def example(**example: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity (Python's parser lets them through): refuse them before
    they reach a case, where PostgreSQL would refuse them anyway and the audit hash of a value
    that stores as something else would not hold."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite: JSON has no NaN or Infinity")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


# Fields, data and evidence a client sends, as a JSON object.
JsonObject = Annotated[dict[str, Any], AfterValidator(_finite)]


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next page."""

    data: list[T]
    next_cursor: str | None = None


# -- orgs and units --------------------------------------------------------------------------

class OrgCreate(BaseModel):
    model_config = example(id="linyin", name="林荫街道", level="street", parent="dongsheng")
    id: str = Field(min_length=1, max_length=64, description="your id for the org (external id)")
    name: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=64,
                       description="an org level of the campaigns: street, community …")
    parent: str | None = Field(default=None, max_length=64)


def _no_nulls(model: BaseModel, *names: str) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null; leave it out to keep it")


class OrgUpdate(BaseModel):
    model_config = example(name="林荫街道办事处", version=1)

    @model_validator(mode="after")
    def _required_stay(self) -> OrgUpdate:
        _no_nulls(self, "name", "level")
        return self

    name: str | None = Field(default=None, min_length=1, max_length=200)
    level: str | None = Field(default=None, min_length=1, max_length=64)
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


class UnitCreate(BaseModel):
    model_config = example(id="u-chem-01", name="东胜化工有限公司", org="linyin-1",
                            industry="hazardous_chemicals", tags=["major_hazard_source"])
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    org: str = Field(min_length=1, max_length=64)
    industry: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=50)


class UnitUpdate(BaseModel):
    model_config = example(tags=["major_hazard_source", "key_enterprise"], version=1)

    @model_validator(mode="after")
    def _required_stay(self) -> UnitUpdate:
        _no_nulls(self, "name", "org")
        return self

    name: str | None = Field(default=None, min_length=1, max_length=200)
    org: str | None = Field(default=None, max_length=64)
    industry: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=50)
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


class CaseCreate(BaseModel):
    model_config = example(campaign="special-action-2023-linyin", type="hazard",
                            unit="u-chem-01", data=_HAZARD)
    campaign: str = Field(min_length=1, max_length=64)
    type: str = Field(default="hazard", min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=64)
    data: JsonObject = Field(default_factory=dict)


class SignaturePublic(BaseModel):
    transition: str
    role: str
    actor: str
    at: dt.datetime


class CasePublic(BaseModel):
    model_config = example(
        id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", campaign="special-action-2023-linyin",
        campaign_version=1, type="hazard", unit="u-chem-01", state="rectifying",
        state_name="整改中", final=False, data=_HAZARD, signatures=[],
        clocks={"rectification": {"due": "2023-07-31", "gen": 1}}, next_due="2023-07-31",
        overdue=False, version=2, opened_by="林荫化工主要负责人",
        opened_at="2023-06-01T01:00:00Z", updated_at="2023-06-02T01:00:00Z")
    id: str
    campaign: str
    campaign_version: int
    type: str
    unit: str
    state: str
    state_name: str
    final: bool
    data: dict[str, Any]
    signatures: list[SignaturePublic]
    clocks: dict[str, Any]
    next_due: dt.date | None
    overdue: bool
    version: int
    opened_by: str
    opened_at: dt.datetime
    updated_at: dt.datetime


class EventIn(BaseModel):
    model_config = example(trigger="plan", version=1, data={
        "goals_and_tasks": "更换报警装置", "measures": "停用储罐区，更换并校验",
        "funds_and_materials": "企业自筹", "responsible": "设备部", "deadline": "2023-07-31",
        "safety_measures": "停用期间专人巡检"})
    trigger: str = Field(min_length=1, max_length=64)
    data: JsonObject = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1,
                                description="the case version you read; 409 if it changed")


class EventResult(BaseModel):
    model_config = example(case_id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", trigger="plan",
                            from_state="reported", state="rectifying", state_name="整改中",
                            completed=True, version=2, role="principal",
                            clocks_started=["rectification"], clocks_stopped=[])
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


class TriggersPublic(BaseModel):
    model_config = example(case_id="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", state="rectifying",
                            version=2, triggers=["submit"])
    case_id: str
    state: str
    version: int
    triggers: list[str]


class HistoryEntry(BaseModel):
    model_config = example(seq=1, at="2023-06-01T01:00:00Z", actor="林荫化工主要负责人",
                            role="principal", action="open", from_state=None,
                            to_state="reported", data={}, hash="9f2c…")
    seq: int
    at: dt.datetime
    actor: str
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
                            published_at="2023-05-22T01:00:00Z", published_by="serve")
    campaign: str
    version: int
    version_id: int
    title: str
    sha256: str
    source: str
    published_at: dt.datetime
    published_by: str


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


class DeploymentIn(BaseModel):
    model_config = example(org="linyin")
    org: str = Field(min_length=1, max_length=64)


class DeploymentPublic(BaseModel):
    model_config = example(campaign="special-action-2023-linyin", org="linyin",
                            org_path="/dongsheng/linyin/", created_at="2023-05-22T01:00:00Z")
    campaign: str
    org: str
    org_path: str
    created_at: dt.datetime


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
    model_config = example(status="ok", database="sqlite", campaigns=4)
    status: str
    database: str
    campaigns: int
