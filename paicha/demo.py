"""Demo data for `paicha serve --demo`: a small district with one street, its communities and
units, the street's campaigns deployed, and a token per role, printed once.

The same data backs the API tests, so the walkthrough in docs/api.md is what the tests run.
"""

from __future__ import annotations

import datetime as dt
import secrets as random_secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from engine.access import Principal, ScopeKind
from engine.dates import local_date
from storage import obligations, subjects, timers, tokens, users
from storage.campaigns import CampaignRegistry, deployments, latest, vocabulary
from storage.deployments import deploy
from storage.tables import Org

ORGS: tuple[tuple[str, str, str, str | None], ...] = (
    # id, name, level, parent
    ("dongsheng", "东胜区", "county", None),
    ("linyin", "林荫街道", "street", "dongsheng"),
    ("linyin-c1", "林荫街道第一社区", "community", "linyin"),
    ("linyin-c2", "林荫街道第二社区", "community", "linyin"),
    ("jiaotong", "交通街道", "street", "dongsheng"),
    ("jiaotong-c1", "交通街道第一社区", "community", "jiaotong"),
)

UNITS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    # id, name, org, industry, tags
    ("u-chem-01", "示例化工有限公司", "linyin-c1", "hazardous_chemicals",
     ("major_hazard_source",)),
    ("u-mall-01", "示例购物广场", "linyin-c2", "commerce", ("mall", "crowded")),
    ("u-site-01", "示例建筑工地", "linyin-c1", "construction", ()),
    ("u-hotel-01", "示例宾馆", "jiaotong-c1", "culture_tourism", ("hotel",)),
)

# The demo's own campaign: the national 2023 shape on dates around the day the demo starts, so
# that 交通街道 runs a campaign whatever the date (the 2023 plans ended long ago).
DEMO_CAMPAIGN = "demo-special-action"

DEPLOYMENTS = (("special-action-2023-linyin", "linyin"), ("three-year-plan-2024-2026", "linyin"),
               (DEMO_CAMPAIGN, "jiaotong"))


def campaign_text(today: dt.date) -> str:
    """The demo campaign for a demo started on `today`: the national 2023 campaign's checks,
    cases and reports (`extends`) over the year from the first of this month — its phases end
    2 weeks, 6 weeks and 7 months from today, and with the year. The one place the demo's
    dates are decided."""
    start = today.replace(day=1)
    end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
    mobilize, self_check = today + dt.timedelta(days=14), today + dt.timedelta(days=45)
    enforcement = today + dt.timedelta(days=213)
    return f"""paicha: 1
id: {DEMO_CAMPAIGN}
extends: special-action-2023
title: 重大事故隐患专项排查整治行动（演示）
issuer: paicha 演示
# dates made by `paicha serve --demo` on {today}: a year from that month (paicha/demo.py)
period: {{start: "{start}", end: "{end}"}}
phases:
  - {{id: mobilize,    due: "{mobilize}"}}
  - {{id: self_check,  due: "{self_check}"}}
  - {{id: enforcement, due: "{enforcement}"}}
  - {{id: summary,     due: "{end}"}}
checks:
  - {{id: safety_month, due: "{self_check}"}}
"""


def publish_campaign(conn: Connection, registry: CampaignRegistry, *, now: dt.datetime) -> bool:
    """Publish the demo campaign for today unless its newest version runs today already;
    whether a version was published (a demo database started again a year later gets new
    dates as a new version)."""
    today = local_date(now, "Asia/Shanghai")
    current = latest(conn, DEMO_CAMPAIGN)
    if current is not None:
        campaign = registry.get(conn, current.id).loaded.campaign
        if campaign.period_start <= today <= campaign.period_end:
            return False
    row, created = registry.publish(conn, campaign_text(today), f"demo:{DEMO_CAMPAIGN}.yaml",
                                    by=SETUP.name, now=now)
    if created and current is not None:
        # where the demo ran it before, its new year's duties and phase deadlines
        published = registry.get(conn, row.id)
        for place in deployments(conn, DEMO_CAMPAIGN):
            obligations.materialize(conn, published,
                                    obligations.subtree_subjects(conn, place["org_path"]),
                                    since=today, now=now)
            timers.insert_new(conn, timers.phase_timer_rows(published, place["org"],
                                                            place["org_path"], now=now))
    return created

# name -> (roles, scope kind, scope id)
TOKENS: dict[str, tuple[tuple[str, ...], ScopeKind, str | None]] = {
    "admin": ((), "admin", None),
    "principal": (("principal",), "unit", "u-chem-01"),
    "hotel_principal": (("principal",), "unit", "u-hotel-01"),
    "community": (("community", "grid_worker"), "org", "linyin-c1"),
    "locality": (("locality",), "org", "linyin"),
    "acceptance_team": (("acceptance_team",), "org", "linyin"),
    "government": (("government",), "org", "linyin"),
    "safety_office": (("safety_office",), "org", "linyin"),
    "regulator": (("regulator", "enforcement"), "org", "dongsheng"),
    "other_street": (("locality", "community", "acceptance_team", "government",
                      "safety_office", "regulator"), "org", "jiaotong"),
}

# The people of the demo, one per token above (the same roles and scope), who sign in to the
# screens: login -> the name shown.
PEOPLE: dict[str, str] = {
    "admin": "系统管理员", "principal": "示例化工有限公司主要负责人",
    "hotel_principal": "示例宾馆主要负责人", "community": "林荫街道第一社区网格员",
    "locality": "林荫街道属地负责人", "acceptance_team": "林荫街道验收组",
    "government": "林荫街道办事处", "safety_office": "林荫街道安委办",
    "regulator": "东胜区应急管理局执法人员", "other_street": "交通街道工作人员",
}

SETUP = Principal(0, "paicha serve --demo", frozenset(), "admin")


def random_password(login: str) -> str:
    return random_secrets.token_urlsafe(9)


@dataclass(frozen=True)
class Demo:
    tokens: dict[str, str]  # name -> secret
    passwords: dict[str, str] = field(default_factory=dict)  # login -> password


def load(conn: Connection, registry: CampaignRegistry, *, now: dt.datetime,
         password: Callable[[str], str] = random_password) -> Demo | None:
    """Load the demo once; None when its orgs exist already (tokens and passwords were printed
    then). Each person's password is `password(login)`: random unless a test says."""
    org_t = Org.__table__  # type: ignore[attr-defined]
    if conn.execute(select(org_t.c.id).where(org_t.c.id == ORGS[0][0])).first() is not None:
        return None
    for org_id, name, level, parent in ORGS:
        subjects.create_org(conn, SETUP, id=org_id, name=name, level=level, parent=parent,
                            now=now, registry=registry)
    for unit_id, name, org, industry, tags in UNITS:
        subjects.create_unit(conn, SETUP, id=unit_id, name=name, org=org, industry=industry,
                             tags=list(tags), now=now, registry=registry)
    publish_campaign(conn, registry, now=now)
    for campaign_id, org in DEPLOYMENTS:
        deploy(conn, SETUP, registry.newest(conn, campaign_id), org, now=now)
    secrets = {}
    words = vocabulary(registry, conn)
    for name, (roles, kind, scope) in TOKENS.items():
        issued = tokens.create(conn, name=f"demo {name}", roles=roles, scope_kind=kind,
                               scope_id=scope, now=now, by=SETUP.name, vocabulary=words)
        secrets[name] = issued.secret
    passwords = {}
    for login, shown in PEOPLE.items():
        roles, kind, scope = TOKENS[login]
        passwords[login] = password(login)
        users.create(conn, login=login, name=shown, password=passwords[login], roles=roles,
                     scope_kind=kind, scope_id=scope, now=now, by=SETUP.name, vocabulary=words)
    return Demo(secrets, passwords)


# -- activity: a few hazards, a check done and a report submitted -----------------------------
# So that the demo's reports are not empty: `serve --demo` adds these in the three-year plan
# while it runs (to 2026), at the street 林荫街道, on the day it loads the demo.

PLAN = "three-year-plan-2024-2026"
_SIX_PARTS = {"plan_goal": "消除重大事故隐患", "plan_measures": "更换老化线路、加装监测",
              "plan_funds": "企业自筹，已落实", "plan_organization": "设备科，张工",
              "plan_emergency": "施工期间停电隔离，配备灭火器材"}


def activity(conn: Connection, registry: CampaignRegistry, demo: Demo, *,
             now: dt.datetime) -> list[str]:
    """Open and move the demo's hazards, complete a check, submit a community's report; the
    ids of the hazards opened. Runs once, right after `load`."""
    from storage import submissions
    from storage.cases import CaseStore

    cases = CaseStore(registry)
    who: dict[str, Principal | None] = {
        name: tokens.resolve(conn, secret) for name, secret in demo.tokens.items()}
    # the building site's principal has no printed token: the demo acts for them
    who["principal_site"] = Principal(0, "demo 示例建筑工地 principal", frozenset({"principal"}),
                                      "unit", "u-site-01",
                                      unit_org_path="/dongsheng/linyin/linyin-c1/")
    today = local_date(now, "Asia/Shanghai")
    if registry.newest(conn, PLAN).loaded.campaign.period_end < today:
        return []  # the plan has ended: no case may be opened under it any more

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    def hazard(by: str, unit: str, **data: object) -> str:
        principal = who[by]
        assert principal is not None
        stored, _ = cases.open(conn, principal, campaign_id=PLAN, case_type="hazard",
                               unit_id=unit, data=data, now=now)
        return stored.id

    def fire(by: str, case_id: str, trigger: str, **data: object) -> None:
        principal = who[by]
        assert principal is not None
        cases.fire(conn, principal, case_id, trigger=trigger, data=data,
                   expected_version=None, now=now)

    base = {"industry": "hazardous_chemicals", "found_on": day(-40)}
    # a major hazard the plant found itself, being rectified under its plan
    rectifying = hazard("principal", "u-chem-01", source="self_inspection", grade="major",
                        description="储罐区可燃气体报警装置失效", **base)
    fire("principal", rectifying, "plan", deadline=day(30), funds_amount=8.5, **_SIX_PARTS)
    # a major hazard a grid worker found at the building site, rectified and signed off
    closed = hazard("community", "u-site-01", source="grid_inspection", grade="major",
                    description="深基坑未按方案支护", **{**base, "industry": "construction"})
    fire("principal_site", closed, "plan", deadline=day(10), funds_amount=20, **_SIX_PARTS)
    fire("principal_site", closed, "submit", rectified_on=day(-2),
         rectification_report="已按方案完成支护并经监测", **_SIX_PARTS, deadline=day(10))
    for signer in ("acceptance_team", "community", "regulator", "government"):
        fire(signer, closed, "accept", acceptance_opinion="同意销号")
    # the district's inspection found one at the mall, with a fine
    fined = hazard("regulator", "u-mall-01", source="department_inspection", grade="major",
                   description="疏散通道被占用、安全出口锁闭", **{**base, "industry": "commerce"})
    fire("regulator", fined, "enforce", enforcement_action="fine", fine_amount=3)
    # a general hazard fixed at once
    fixed = hazard("principal", "u-chem-01", source="self_inspection", grade="general",
                   description="消防通道堆放杂物", **base)
    fire("principal", fixed, "fix_now", rectified_on=day(-1), rectification_report="已清理")
    # the plant's principal inspected this period
    plant, community = who["principal"], who["community"]
    assert plant is not None and community is not None
    due = obligations.list_obligations(
        conn, plant, unit="u-chem-01", org=None, status="open", due_from=today, due_to=None,
        check="principal_inspection", campaign=PLAN, role=None, limit=1, cursor=None,
        today=today)[0]
    if due:
        obligations.complete(conn, plant, due[0]["id"], registry=registry, now=now,
                             evidence={"inspected_on": day(-3), "record": "带队检查记录（演示）",
                                       "findings": 2})
    # the first community filed this month's 调度表 with its manual figures
    submissions.submit(conn, registry, community, campaign_id=PLAN, report_id="dispatch",
                       org_id="linyin-c1", period=f"{today:%Y-%m}",
                       manual={"mutual_aid": 1, "window_bars": 3}, now=now)
    return [rectifying, closed, fined, fixed]
