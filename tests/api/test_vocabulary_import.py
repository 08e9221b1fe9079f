"""One vocabulary and one importer: units written by id or by Chinese name, in CSV or XLSX,
through the API or `paicha import`, are stored alike and owe alike; an unknown word is refused
with did-you-mean and nothing is stored; the CLI's dry run writes nothing; every bad row is
reported with its line and column."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from paicha.cli import main
from paicha.importing import import_file
from storage import audit
from storage.subjects import obligation_t, org_t, unit_t
from tests.support.world import World, shell_has_the_worlds_key

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# the same three units, once in ids and once in the campaigns' Chinese names
BY_ID = [["chem", "示例化工", "linyin-c1", "hazardous_chemicals", "major_hazard_source"],
         ["mall", "示例商场", "linyin-c2", "commerce", "mall;crowded"],
         ["shop", "示例五金店", "linyin-c1", "other", ""]]
BY_NAME = [["chem", "示例化工", "linyin-c1", "危险化学品", "重大危险源"],
           ["mall", "示例商场", "linyin-c2", "商贸服务", "商场；人员密集场所"],
           ["shop", "示例五金店", "linyin-c1", "其他", ""]]
HEADER = ["id", "name", "org", "industry", "tags"]


def rows_for(prefix: str, rows: list[list[str]]) -> list[list[str]]:
    return [[f"{prefix}-{row[0]}", *row[1:]] for row in rows]


def as_csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in [HEADER, *rows]).encode() + b"\n"


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored(world: World, prefix: str) -> tuple[list[Any], list[Any]]:
    """The units of a prefix and their obligation rows, the prefix taken off the ids."""
    with world.services.db.read() as conn:
        units = [(r.id.removeprefix(prefix), r.name, r.org_id, r.industry, sorted(r.tags),
                  r.org_path) for r in conn.execute(
                      select(unit_t).where(unit_t.c.id.like(f"{prefix}-%")).order_by(unit_t.c.id))]
        duties = sorted((r.subject_id.removeprefix(prefix), r.campaign_id, r.check_id,
                         r.role, str(r.due), r.period, r.times, r.variant, r.org_path)
                        for r in conn.execute(select(obligation_t).where(
                            obligation_t.c.subject_kind == "unit",
                            obligation_t.c.subject_id.like(f"{prefix}-%"))))
    return units, duties


def test_by_id_or_by_chinese_name_csv_or_xlsx_api_or_cli_the_same_units_and_duties(
        client: TestClient, world: World, tmp_path: Path) -> None:
    admin = world.auth("admin")
    imports: list[str] = []
    for words, rows in (("id", BY_ID), ("name", BY_NAME)):
        for form, write, media in (("csv", as_csv, CSV), ("xlsx", as_xlsx, XLSX)):
            prefix = f"api{form}{words}"
            r = client.post("/units/import", content=write(rows_for(prefix, rows)),
                            headers={**admin, "Content-Type": media})
            assert r.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": False}, (
                prefix, r.text)
            imports.append(prefix)
            prefix = f"cli{form}{words}"
            path = tmp_path / f"{prefix}.{form}"
            path.write_bytes(write(rows_for(prefix, rows)))
            outcome, _ = import_file(world.services.db, world.services.registry, "units", path,
                                     now=world.clock())
            assert outcome.counts == {"created": 3, "updated": 0, "unchanged": 0}, prefix
            imports.append(prefix)
    first_units, first_duties = stored(world, imports[0])
    assert [u[3] for u in first_units] == ["hazardous_chemicals", "commerce", "other"]
    assert [u[4] for u in first_units] == [["major_hazard_source"], ["crowded", "mall"], []]
    assert len(first_duties) > 10
    for prefix in imports[1:]:
        units, duties = stored(world, prefix)
        assert units == first_units, prefix
        assert duties == first_duties, prefix


def _inspections(client: TestClient, world: World, unit: str) -> list[str]:
    duties = client.get("/obligations", params={"unit": unit, "limit": 500,
                                                "check": "principal_inspection"},
                        headers=world.auth("admin")).json()["data"]
    return sorted(d["due"] for d in duties if d["campaign"] == "special-action-2023-linyin")


def test_a_chinese_industry_gets_the_stricter_high_risk_schedule(client: TestClient,
                                                                 world: World) -> None:
    admin = world.auth("admin")
    for unit, industry in (("u-zh-01", "危险化学品"), ("u-plain-01", "其他行业领域")):
        r = client.post("/units", headers=admin, json={
            "id": unit, "name": "示例单位", "org": "linyin-c1", "industry": industry})
        assert r.status_code == 201, r.text
    assert client.get("/units/u-zh-01", headers=admin).json()["industry"] == (
        "hazardous_chemicals")
    # 高危行业领域企业每月至少1次 (the 2023 plan's stricter variant), others once a quarter
    assert _inspections(client, world, "u-zh-01")[:3] == ["2023-06-30", "2023-07-31",
                                                          "2023-08-31"]
    # (the third quarter's last day, a Saturday before 中秋/国庆, rolls to the 7 October)
    assert _inspections(client, world, "u-plain-01")[:2] == ["2023-06-30", "2023-10-07"]
    r = client.post("/units/import", headers={**admin, "Content-Type": CSV}, content=(
        "单位编号,单位名称,所属社区,行业领域\nu-zh-02,示例化工二厂,linyin-c2,危险化学品\n").encode())
    assert r.status_code == 200, r.text
    assert _inspections(client, world, "u-zh-02") == _inspections(client, world, "u-zh-01")


def test_unknown_words_are_refused_with_did_you_mean_and_nothing_stored(
        client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    r = client.post("/units", headers=admin, json={
        "id": "u-typo-01", "name": "示例", "org": "linyin-c1", "industry": "危化品",
        "tags": ["劳动密集型企业"]})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_term"), r.text
    assert [(p["field"], p["message"]) for p in r.json()["problems"]] == [
        ("industry", "unknown industry '危化品'"), ("tags", "unknown tag '劳动密集型企业'")]
    hints = [p["hint"] for p in r.json()["problems"]]
    assert hints[0] == "did you mean '危险化学品'?"
    assert hints[1].startswith("write one of: above_scale (规模以上企业), ")
    assert client.get("/units/u-typo-01", headers=admin).status_code == 404
    r = client.post("/orgs", headers=admin, json={
        "id": "linyin-c7", "name": "第七社区", "level": "社群", "parent": "linyin"})
    assert (r.status_code, r.json()["problems"][0]["field"]) == (422, "level"), r.text
    r = client.patch("/units/u-chem-01", headers=admin, json={"tags": ["宾官"]})
    assert r.json()["problems"][0]["hint"] == "did you mean '宾馆'?", r.text
    assert client.get("/units/u-chem-01", headers=admin).json()["tags"] == [
        "major_hazard_source"]
    r = client.post("/units/import", headers={**admin, "Content-Type": CSV}, content=(
        "id,name,org,industry,tags\nu-typo-02,甲,linyin-c1,危化品,\n"
        "u-typo-03,乙,linyin-c1,other,hotel;宾官\n").encode())
    assert r.status_code == 422, r.text
    assert [(p["line"], p["column"], p["field"], p["hint"]) for p in r.json()["problems"]] == [
        (2, 4, "industry", "did you mean '危险化学品'?"), (3, 5, "tags", "did you mean '宾馆'?")]
    assert client.get("/units/u-typo-03", headers=admin).status_code == 404


def test_an_org_level_is_an_id_or_a_declared_name(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    r = client.patch("/orgs/linyin-c2", headers=admin, json={"level": "nonsense"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_term"), r.text
    assert r.json()["problems"][0]["hint"].startswith("write one of: city (市), community")
    assert client.get("/orgs/linyin-c2", headers=admin).json()["version"] == 1
    r = client.post("/orgs", headers=admin, json={
        "id": "linyin-c8", "name": "第八社区", "level": "社区", "parent": "linyin"})
    assert r.json()["level"] == "community", r.text
    # an org written 社区 owes what a community owes
    owed = client.get("/obligations", params={"org": "linyin-c8", "limit": 500},
                      headers=admin).json()["data"]
    assert any(d["subject"] == "linyin-c8" for d in owed)
    listed = client.get("/orgs", params={"level": "社区/村", "under": "linyin"},
                        headers=admin).json()["data"]
    assert "linyin-c8" in [o["id"] for o in listed]


def test_cli_import_dry_run_writes_nothing_then_imports(world: World, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    shell_has_the_worlds_key(monkeypatch)
    url = world.services.db.url
    orgs = tmp_path / "orgs.xlsx"
    book = Workbook()
    book.active.append(["组织编号", "名称", "层级", "上级"])
    book.active.append(["linyin-c5", "林荫街道第五社区", "社区/村", "linyin"])
    book.save(orgs)
    code = main(["import", "orgs", str(orgs), "--dry-run", "--database", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [
        "create org linyin-c5  name=林荫街道第五社区  level=community  parent=linyin",
        "dry run, nothing written: would create 1, update 0; 0 unchanged"]
    with world.services.db.read() as conn:
        assert conn.execute(select(org_t).where(org_t.c.id == "linyin-c5")).first() is None
        assert audit.history(conn, "org:linyin-c5") == []
    code = main(["import", "orgs", str(orgs), "--database", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["created"] == 1
    with world.services.db.read() as conn:
        row = conn.execute(select(org_t).where(org_t.c.id == "linyin-c5")).one()
        assert (row.level, row.path) == ("community", "/dongsheng/linyin/linyin-c5/")
        assert audit.history(conn, "org:linyin-c5")[0]["actor"] == "paicha import orgs"


def test_cli_import_reports_every_bad_row_with_line_and_column(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    shell_has_the_worlds_key(monkeypatch)
    units = tmp_path / "units.csv"
    units.write_text("id,name,org,industry,tags\n"
                     "u-ok-01,好单位,linyin-c1,危险化学品,\n"
                     "u-bad-01,坏行业,linyin-c1,危化品,\n"
                     "u-bad-02,,linyin-c1,other,\n"
                     "u-bad-03,坏标签,linyin-c1,other,hotel;宾官\n"
                     "u-bad-04,无处,nowhere,other,\n", encoding="utf-8")
    code = main(["import", "units", str(units), "--database", world.services.db.url,
                 "--no-progress"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    located = [line.split("  ")[0].rsplit("units.csv:", 1)[1] for line in err[:-1]]
    assert located == ["3:4", "4:2", "5:5", "6:3"], err
    assert "unknown industry '危化品'  (did you mean '危险化学品'?)" in err[0]
    assert err[-1].startswith("paicha import units: 4 problem(s) in ")
    assert err[-1].endswith("units.csv; nothing written")
    with world.services.db.read() as conn:
        assert conn.execute(select(unit_t).where(unit_t.c.id == "u-ok-01")).first() is None
    sheet = tmp_path / "台账.xlsx"
    sheet.write_bytes(as_xlsx([["u-ok-02", "好单位", "linyin-c1", "危险化学品", ""],
                               ["u-bad-05", "坏标签", "linyin-c1", "other", "宾官"]]))
    assert main(["import", "units", str(sheet), "--database", world.services.db.url]) == 1
    err = capsys.readouterr().err
    assert "台账.xlsx:3:5  tags (E3)  unknown tag '宾官'  (did you mean '宾馆'?)" in err


def test_cli_import_draws_a_progress_bar_when_asked(world: World, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    shell_has_the_worlds_key(monkeypatch)
    units = tmp_path / "units.csv"
    units.write_text("id,name,org\n" + "".join(f"u-many-{n:04},单位{n},linyin-c1\n"
                                               for n in range(600)), encoding="utf-8")
    url = world.services.db.url
    assert main(["import", "units", str(units), "--database", url, "--dry-run",
                 "--progress"]) == 0
    err = capsys.readouterr().err
    assert "\r" in err and "checking  [" in err and "600/600 rows" in err
    assert main(["import", "units", str(units), "--database", url, "--dry-run"]) == 0
    assert "\r" not in capsys.readouterr().err  # not a terminal, not asked: no bar


def test_token_roles_by_chinese_name_and_unknown_ones_refused(
        world: World, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    shell_has_the_worlds_key(monkeypatch)
    url = world.services.db.url
    code = main(["token", "create", "--org", "linyin", "--role", "安委会办公室", "--json",
                 "--database", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["roles"] == ["safety_office"]
    code = main(["token", "create", "--org", "linyin", "--role", "安委办公室",
                 "--database", url])
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown role '安委办公室', declared by no published campaign" in err
    assert "did you mean '安委会办公室'?" in err


def test_a_unit_token_may_not_change_its_units_words(client: TestClient, world: World) -> None:
    principal = world.auth("principal")  # the chemical plant's own token
    before = client.get("/units/u-chem-01", headers=world.auth("admin")).json()
    owed = stored(world, "u")[1]
    for change in ({"tags": []}, {"tags": ["重大危险源", "宾馆"]}, {"industry": "其他"},
                   {"industry": "no-such-word"}, {"org": "jiaotong-c1"}):
        r = client.patch("/units/u-chem-01", headers=principal, json=change)
        assert r.status_code == 403, (change, r.text)
    assert client.get("/units/u-chem-01", headers=world.auth("admin")).json() == before
    assert stored(world, "u")[1] == owed  # no duty withdrawn nor added


def test_a_huge_word_is_refused_without_being_looked_up(client: TestClient,
                                                         world: World) -> None:
    admin = world.auth("admin")
    huge = "危" * 5000
    for path, params in (("/units", {"industry": huge}), ("/units", {"tag": huge}),
                         ("/orgs", {"level": huge})):
        # refused by its length, as in a body: not looked up, nor echoed back
        r = client.get(path, params=params, headers=admin)
        assert r.status_code == 422, (path, r.status_code)
        assert huge not in r.text and len(r.content) < len(huge.encode()), (path, r.text[:200])
    assert client.get("/units", params={"industry": "危险化学品"},
                      headers=admin).json()["data"], "a declared name still filters"
    for change in ({"industry": huge}, {"tags": [huge]}):
        r = client.patch("/units/u-chem-01", headers=admin, json=change)
        assert r.status_code == 422, r.text
    r = client.patch("/orgs/linyin-c2", headers=admin, json={"level": huge})
    assert r.status_code == 422, r.text
    assert client.get("/units/u-chem-01", headers=admin).json()["version"] == 1
