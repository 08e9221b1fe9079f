"""Migration 0010 on a database holding cases opened before it, on SQLite and PostgreSQL: each
case gets its unit's industry and tags as the unit stands at the upgrade, the case_history
trigger of 0009 survives (the column is added, the table not rebuilt) and copies nothing for
the fill, and the migration goes down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, func, inspect, select, text, update

from storage.db import alembic_config
from storage.tables import Case, CaseHistory, Unit
from tests.api.test_record_integrity import PLAN_2023
from tests.support.world import HAZARD, LINYIN, World

case_t = Case.__table__  # type: ignore[attr-defined]
history_t = CaseHistory.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]


def _terms(conn: Connection) -> dict[str, object]:
    return {row.id: row.unit_terms for row in conn.execute(
        select(case_t.c.id, case_t.c.unit_terms).order_by(case_t.c.id))}


def _history(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(history_t)).scalar_one())


def _has_trigger(conn: Connection) -> bool:
    if conn.dialect.name == "postgresql":
        found = "SELECT count(*) FROM pg_trigger WHERE tgname = 'case_history_keep'"
    else:
        found = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' " \
                "AND name = 'case_history_keep'"
    return bool(conn.execute(text(found)).scalar_one())


def test_the_migration_gives_every_case_its_units_terms(world: World) -> None:
    config = alembic_config(world.services.settings.database_url)
    db = world.services.db
    chem = world.open_hazard()
    with db.write() as conn:
        site, _ = world.services.cases.open(
            conn, world.principal("community"), campaign_id=LINYIN, case_type="hazard",
            unit_id="u-site-01", data=HAZARD, now=world.clock())
        opened = _terms(conn)
    assert opened == {chem: {"industry": "hazardous_chemicals", "tags": ["major_hazard_source"]},
                      site.id: {"industry": "construction", "tags": []}}

    command.downgrade(config, "0009")  # the cases are now as a 0009 release stored them
    with db.write() as conn:
        assert "unit_terms" not in {c["name"] for c in inspect(conn).get_columns("case_record")}
        assert _has_trigger(conn)
        # re-registered while on 0009: the upgrade takes the unit as it stands then
        conn.execute(update(unit_t).where(unit_t.c.id == "u-chem-01")
                     .values(industry="fireworks", tags=["city_managed"]))
        units = {row.id: {"industry": row.industry, "tags": list(row.tags)} for row in
                 conn.execute(select(unit_t.c.id, unit_t.c.industry, unit_t.c.tags))}
        owners = dict(conn.execute(select(case_t.c.id, case_t.c.unit_id)).all())
        kept = _history(conn)

    command.upgrade(config, "head")
    with db.write() as conn:
        filled = _terms(conn)
        assert filled == {case_id: units[unit] for case_id, unit in owners.items()}
        assert filled == {chem: {"industry": "fireworks", "tags": ["city_managed"]},
                          site.id: opened[site.id]}
        assert _history(conn) == kept  # the fill gave no case a new version
        assert _has_trigger(conn)
        world.services.cases.fire(conn, world.principal("principal"), chem, trigger="plan",
                                  data=PLAN_2023, expected_version=None, now=world.clock())
        assert _history(conn) == kept + 1  # and the trigger still keeps each version
        assert world.services.cases.get(conn, world.principal("locality"), chem
                                        ).unit_terms == filled[chem]

    command.downgrade(config, "0009")
    command.upgrade(config, "head")
    with db.read() as conn:
        assert _terms(conn) == filled
        assert _has_trigger(conn)
