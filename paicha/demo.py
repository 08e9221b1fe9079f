"""Demo data for `paicha serve --demo`: a small district with one street, its communities and
units, the street's campaigns deployed, and a token per role, printed once.

The same data backs the API tests, so the walkthrough in docs/api.md is what the tests run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.access import Principal, ScopeKind
from storage import subjects, tokens
from storage.campaigns import CampaignRegistry, declared_roles
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

DEPLOYMENTS = (("special-action-2023-linyin", "linyin"), ("three-year-plan-2024-2026", "linyin"),
               ("special-action-2023", "jiaotong"))

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

SETUP = Principal(0, "paicha serve --demo", frozenset(), "admin")


@dataclass(frozen=True)
class Demo:
    tokens: dict[str, str]  # name -> secret


def load(conn: Connection, registry: CampaignRegistry, *, now: dt.datetime) -> Demo | None:
    """Load the demo once; None when its orgs exist already (tokens were printed then)."""
    org_t = Org.__table__  # type: ignore[attr-defined]
    if conn.execute(select(org_t.c.id).where(org_t.c.id == ORGS[0][0])).first() is not None:
        return None
    for org_id, name, level, parent in ORGS:
        subjects.create_org(conn, SETUP, id=org_id, name=name, level=level, parent=parent,
                            now=now, registry=registry)
    for unit_id, name, org, industry, tags in UNITS:
        subjects.create_unit(conn, SETUP, id=unit_id, name=name, org=org, industry=industry,
                             tags=list(tags), now=now, registry=registry)
    for campaign_id, org in DEPLOYMENTS:
        deploy(conn, SETUP, registry.newest(conn, campaign_id), org, now=now)
    secrets = {}
    known = declared_roles(registry, conn)
    for name, (roles, kind, scope) in TOKENS.items():
        issued = tokens.create(conn, name=f"demo {name}", roles=roles, scope_kind=kind,
                               scope_id=scope, now=now, by=SETUP.name, known_roles=known)
        secrets[name] = issued.secret
    return Demo(secrets)
