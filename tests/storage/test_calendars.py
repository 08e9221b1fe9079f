"""Calendar years in the database: versioned and audited, bundled files fill only years nobody
added, and a process sees a year another one added within its refresh bound."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from api.services import campaign_loader
from paicha.cli import main
from paicha.files import bundled_dir
from storage import calendars
from storage.bootstrap import publish_folder
from storage.calendars import CalendarCache
from storage.campaigns import CampaignRegistry
from storage.db import Database
from storage.tables import AuditEntry

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
DATA = Path(__file__).resolve().parents[1] / "data" / "calendars"
NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
TEXT = (DATA / "2027-test.yaml").read_text(encoding="utf-8")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def test_a_year_is_versioned_and_audited(db: Database) -> None:
    with db.write() as conn:
        first, created = calendars.add_year(conn, TEXT, "2027.yaml", by="安委办管理员", now=NOW)
        assert (first.version, created) == (1, True)
        again, created = calendars.add_year(conn, TEXT, "2027.yaml", by="安委办管理员", now=NOW)
        assert (again.id, created) == (first.id, False)  # the same file adds nothing
        changed = TEXT.replace("2027-10-09]", "2027-10-09, 2027-10-10]")
        second, created = calendars.add_year(conn, changed, "2027.yaml", by="安委办管理员",
                                             now=NOW)
        assert (second.version, created) == (2, True)
    with db.read() as conn:
        (newest,) = calendars.newest(conn)
        assert newest.version == 2 and dt.date(2027, 10, 10) in newest.schedule.workdays
        assert calendars.stamp(conn) == second.id
        entries = conn.execute(select(entry_t).where(entry_t.c.stream == "calendar:2027")
                               .order_by(entry_t.c.seq)).all()
        coverage = calendars.coverage(conn)
    assert [(e.action, e.actor, e.data["version"]) for e in entries] == [
        ("add", "安委办管理员", 1), ("add", "安委办管理员", 2)]
    assert coverage[-1]["year"] == 2027 and coverage[-1]["version"] == 2
    assert coverage[-2] == {"year": 2026, "covered_by": "package", "version": None,
                            "source": coverage[-2]["source"]}
    assert coverage[-2]["source"].startswith("chinesecalendar ")


def test_bundled_files_fill_only_the_years_nobody_added(db: Database, tmp_path: Path) -> None:
    shutil.copy(DATA / "2027-test.yaml", tmp_path / "2027.yaml")
    with db.write() as conn:
        (row, created), = calendars.add_folder(conn, tmp_path, by="paicha serve", now=NOW)
        assert created and row.year == 2027
        assert calendars.add_folder(conn, tmp_path, by="paicha serve", now=NOW) == []
    # an office's own text of the year stays when a bundled file differs
    (tmp_path / "2027.yaml").write_text(TEXT.replace("2027-10-09]", "2027-10-09, 2027-10-10]"),
                                        encoding="utf-8")
    with db.write() as conn:
        assert calendars.add_folder(conn, tmp_path, by="paicha serve", now=NOW) == []
        assert [r.version for r in calendars.newest(conn)] == [1]


def test_a_process_sees_a_year_another_added_within_its_refresh_bound(db: Database) -> None:
    patient, eager = CalendarCache(3600), CalendarCache(0)
    with db.read() as conn:
        assert not patient.current(conn)[1].covers(2027)
        assert not eager.current(conn)[1].covers(2027)
    with db.write() as conn:  # another process adds the year
        calendars.add_year(conn, TEXT, "2027.yaml", by="admin", now=NOW)
    with db.read() as conn:
        assert not patient.current(conn)[1].covers(2027)  # trusted for its hour
        assert eager.current(conn)[1].covers(2027)
        patient.invalidate()  # what the process that adds a year does
        assert patient.current(conn)[1].covers(2027)


def test_cached_lifecycles_are_rebuilt_on_the_added_year(db: Database) -> None:
    registry = CampaignRegistry(campaign_loader, calendars=CalendarCache(0))
    with db.write() as conn:
        rows = publish_folder(registry, conn, bundled_dir(), by="test", now=NOW)
        version = next(b.row.id for b in rows if b.campaign_id == "three-year-plan-2024-2026")
        before = registry.get(conn, version)
        assert not before.deadlines.calendar.covers(2027)
        assert registry.get(conn, version) is before  # cached
        calendars.add_year(conn, TEXT, "2027.yaml", by="admin", now=NOW)
        after = registry.get(conn, version)
    assert after is not before and after.loaded is before.loaded  # rebuilt, not reloaded
    assert after.deadlines.calendar.covers(2027)
    assert after.lifecycles["hazard"].deadlines is after.deadlines


def test_calendar_show_lists_each_year_and_its_source(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(database_url)
    try:
        with db.write() as conn:
            calendars.add_year(conn, TEXT, "2027.yaml", by="安委办管理员", now=NOW)
    finally:
        db.dispose()
    assert main(["calendar", "show", "--database", database_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2004  package ")
    assert out[-2].startswith("2026  package ") and "chinesecalendar" in out[-2]
    assert out[-1].startswith("2027  added    v1    测试用（非国务院通知）（2026-11-01）")
    assert "by 安委办管理员" in out[-1]


def test_calendar_add_of_a_malformed_file_stores_nothing_and_names_every_problem(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = str(DATA / "2027-broken.yaml")
    good = str(DATA / "2027-test.yaml")
    assert main(["calendar", "add", good, broken, "--database", database_url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 11 and all("2027-broken.yaml:" in line for line in err)
    db = Database(database_url)
    try:
        with db.read() as conn:
            assert calendars.newest(conn) == []  # not even the good file of the same run
    finally:
        db.dispose()
