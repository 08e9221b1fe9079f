"""Request and response bodies of obligations (规定动作) and their completions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import JsonObject, RequestModel, example

_OBLIGATION: dict[str, Any] = {
    "id": 118, "campaign": "special-action-2023-linyin", "check": "principal_inspection",
    "name": "主要负责人带队检查本单位重大事故隐患排查整治情况", "role": "principal",
    "subject_kind": "unit", "subject": "u-chem-01", "org_path": "/dongsheng/linyin/linyin-c1/",
    "period": "2023-06", "due": "2023-06-30", "times": 1, "done": 0, "status": "open",
    "variant": "stricter: high_risk", "report": None, "completed_at": None,
    "provisional": False}

_EVIDENCE = {"inspected_at": "2023-06-12", "record": "检查记录第2023-06号（存档备查）",
             "hazards_found": 1}

_COMPLETION = {"id": 7, "obligation_id": 118, "actor": "demo principal", "role": "principal",
               "at": "2023-06-12T02:00:00Z", "evidence": _EVIDENCE, "late": False}


class ObligationPublic(BaseModel):
    """One dated duty of a role for a unit or an org; `status` is derived from `done`,
    `times` and today's date."""

    model_config = example(**_OBLIGATION)
    id: int
    campaign: str
    check: str = Field(description="the check (规定动作) of the campaign this obligation is of")
    name: str
    role: str = Field(description="the role that must complete it")
    subject_kind: Literal["unit", "org"]
    subject: str = Field(description="the unit or org id")
    org_path: str = Field(description="the unit's org, or the org itself, as a path")
    period: str | None = Field(description="2023-06, 2023Q3, 2023H2 …; null for a one-off")
    due: dt.date = Field(description="the deadline, already moved off rest days")
    times: int = Field(description="completions required in the period")
    done: int = Field(description="completions recorded")
    status: Literal["open", "done", "missed"] = Field(
        description="done: done ≥ times; missed: not done and the due date has passed; "
                    "open otherwise")
    variant: str | None = Field(description="the stricter variant that applied, if any")
    report: str | None = Field(description="the report this duty fills, for reporting duties")
    completed_at: dt.datetime | None = Field(description="when done reached times")
    provisional: bool = Field(
        default=False, description="the deadline was moved off rest days of a year whose "
        "statutory holidays are not known yet (counted Monday to Friday); it is recomputed "
        "when the year is added (GET /calendar)")


class ObligationDetail(ObligationPublic):
    """An obligation with what a completion needs: the evidence schema of its check."""

    model_config = example(**_OBLIGATION, campaign_version=1, basis=(
        "每季度至少带队检查1次本单位重大事故隐患排查整治情况（高危行业领域企业每月至少1次），"
        "检查记录要存档备查"), evidence_schema={
        "type": "object", "required": ["inspected_at", "record"],
        "properties": {"inspected_at": {"type": "string", "format": "date", "title": "检查日期"},
                       "record": {"type": "string", "title": "检查记录（存档备查）"},
                       "hazards_found": {"type": "integer", "minimum": 0,
                                         "title": "发现隐患数"}}})
    campaign_version: int
    evidence_schema: dict[str, Any] | None = Field(
        description="JSON Schema the evidence of a completion must satisfy; null: any")
    basis: str | None = Field(description="the words of the source document")


class CompletionIn(RequestModel):
    """The evidence of one completion, checked against the obligation's `evidence_schema`."""

    model_config = example(evidence=_EVIDENCE)
    evidence: JsonObject = Field(default_factory=dict)


class CompletionPublic(BaseModel):
    """One recorded completion; `late` when made after the obligation's due date."""

    model_config = example(**_COMPLETION)
    id: int
    obligation_id: int
    actor: str
    role: str
    at: dt.datetime
    evidence: dict[str, Any]
    late: bool


class CompletionResult(BaseModel):
    """The completion just recorded and the obligation after it."""

    model_config = example(completion=_COMPLETION, obligation={
        **_OBLIGATION, "done": 1, "status": "done", "completed_at": "2023-06-12T02:00:00Z"})
    completion: CompletionPublic
    obligation: ObligationPublic
