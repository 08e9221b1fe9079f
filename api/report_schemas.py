"""Request and response bodies of reports (调度表), submissions and targets, and the JSON of a
report view (storage.report_views) as the API and `paicha report --format json` give it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import JsonObject, RequestModel, example

_FIGURES = {"self_found": 2, "self_fixed": 1, "dept_found": 1, "penalties.1": 3,
            "penalties.2": 12.5}
_SUBMISSION: dict[str, Any] = {
    "id": 4, "org": "linyin-c1", "period": "2023-06", "as_of": "2023-06-28",
    "figures": _FIGURES, "manual": {"penalties.1": 3, "penalties.2": 12.5},
    "submitted_by": "demo community", "submitted_at": "2023-06-27T02:00:00Z", "late": False,
    "replaces": None}
_ROW = {"id": "penalties", "section": "enforcement", "section_name": "部门精准严格执法情况",
        "number": 9, "name": "行政处罚（次，万元）", "unit": None,
        "figures": [{"key": "penalties.1", "name": "次", "value": 3, "manual": "integer"},
                    {"key": "penalties.2", "name": "万元", "value": 12.5,
                     "manual": "number"}]}
_TARGET = {"id": "stock_cleared",
           "name": "2024年底前基本消除2023年及以前排查发现的重大事故隐患存量",
           "by": "2024-12-31", "value": 3, "goal": "≤ 0", "status": "at_risk",
           "rule": "not met with 30 days or fewer left", "percent": False}


class FigureOut(BaseModel):
    key: str = Field(description="the figure's place in the form: the row id, or row.1, "
                                 "row.2 … for a row of several figures")
    name: str
    value: int | float | str | bool | None
    manual: str | None = Field(description="the type of a manual figure (integer, number, "
                                           "boolean, text); null for a computed one")


class RowOut(BaseModel):
    id: str
    section: str
    section_name: str
    number: int = Field(description="the item's number on the paper form")
    name: str
    unit: str | None
    figures: list[FigureOut]


class OrgRef(BaseModel):
    id: str
    name: str
    level: str


class SubmissionPublic(BaseModel):
    """A report as an org submitted it: every figure frozen, the manual ones it entered."""

    model_config = example(**_SUBMISSION)
    id: int
    org: str
    period: str
    as_of: dt.date = Field(description="the date the computed figures were counted at")
    figures: dict[str, Any]
    manual: dict[str, Any]
    submitted_by: str
    submitted_at: dt.datetime
    late: bool = Field(description="submitted after the reporting obligation's due date")
    replaces: int | None = Field(description="the earlier submission this one replaces")


class ChildOut(BaseModel):
    org: OrgRef
    status: Literal["submitted", "late", "missing", "not_yet"] = Field(
        description="submitted (on time), late (submitted after the due date), missing (not "
                    "submitted and past due), not_yet (not submitted, not yet due)")
    due: dt.date | None
    figures: dict[str, Any] = Field(description="the child's live computed figures")
    submitted: SubmissionPublic | None


class TargetOut(BaseModel):
    model_config = example(**_TARGET)
    id: str
    name: str
    by: dt.date
    value: float | int | None = Field(description="the measured value at as_of (a "
                                                  "percentage when the target has `per`)")
    goal: str
    status: Literal["met", "on_track", "at_risk", "missed"]
    rule: str = Field(description="why this status (docs/reports.md lists the rules)")
    percent: bool


class ReportOut(BaseModel):
    """An org's report at a date: the form's rows with their figures, each child's figures
    and submission status, the org's own submission for the period, and the targets."""

    model_config = example(
        campaign="special-action-2023-linyin", report="dispatch",
        title="东胜区林荫街道重大事故隐患专项排查整治行动进展情况调度表",
        org={"id": "linyin", "name": "林荫街道", "level": "street"}, as_of="2023-06-28",
        period="2023-06", layout="pairs", rows=[_ROW], figures=_FIGURES,
        own={"self_found": 0}, children_submitted={"self_found": 2, "penalties.1": 3},
        children=[{
            "org": {"id": "linyin-c1", "name": "林荫街道第一社区", "level": "community"},
            "status": "submitted", "due": "2023-06-28", "figures": {"self_found": 2},
            "submitted": _SUBMISSION}],
        submission=None, notes=["调度表每月28日前上报当月的累计情况。"], targets=[_TARGET])
    campaign: str
    report: str
    title: str
    org: OrgRef
    as_of: dt.date
    period: str
    layout: Literal["list", "pairs"]
    rows: list[RowOut]
    figures: dict[str, Any] = Field(description="every figure by key")
    own: dict[str, Any] = Field(description="figures of the units directly under the org")
    children_submitted: dict[str, Any] = Field(
        description="the children's latest submitted figures for the period, added up (null "
                    "where none submitted one), to set beside the live `figures`")
    children: list[ChildOut]
    submission: SubmissionPublic | None = Field(
        description="the org's latest submission for the period")
    notes: list[str]
    targets: list[TargetOut]


class SubmissionIn(RequestModel):
    model_config = example(period="2023-06", figures={"penalties.1": 3, "penalties.2": 12.5})
    period: str = Field(max_length=16, pattern=r"^[0-9A-Za-z-]+$",
                        description="the period reported on: 2023-06 (month), 2024Q2, 2024H1, "
                                    "2024")
    figures: JsonObject = Field(default_factory=dict, description=(
        "the manual figures by key (computed ones come from the record and are refused)"))
