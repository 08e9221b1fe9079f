"""POST /orgs/import and /units/import: CSV, XLSX and multipart; idempotent by id; every bad row
reported and nothing written; scoped to the token."""

from __future__ import annotations

import io
from typing import Any

import httpx
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from storage import audit
from storage.subjects import case_t, obligation_t, org_t, unit_t
from tests.support.world import World

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# children before their parents, on purpose
ORGS = ("id,name,level,parent\n"
        "linyin-c3-g1,林荫街道第三社区第一网格,社区/村,linyin-c3\n"
        "linyin-c3,林荫街道第三社区,community,linyin\n")
UNITS = ("id,name,org,industry,tags\n"
         "u-gas-01,示例加油站,linyin-c3,hazardous_chemicals,major_hazard_source；重点企业\n"
         "u-ktv-01,示例歌厅,linyin-c3-g1,culture_tourism,entertainment;crowded\n"
         "u-shop-01,示例五金店,linyin-c1,,\n")


def send(client: TestClient, what: str, body: bytes | str, headers: dict[str, str], *,
         media: str = CSV, **params: Any) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return client.post(f"/{what}/import", content=data, params=params,
                       headers={**headers, "Content-Type": media})


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "单位"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def imported(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    r = send(client, "orgs", ORGS, admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "unchanged": 0, "dry_run": False}
    r = send(client, "units", UNITS, admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": False}


def test_import_orgs_and_units_then_again_changes_nothing(client: TestClient,
                                                          world: World) -> None:
    imported(client, world)
    admin = world.auth("admin")
    grid = client.get("/orgs/linyin-c3-g1", headers=admin).json()
    assert grid["path"] == "/dongsheng/linyin/linyin-c3/linyin-c3-g1/"
    gas = client.get("/units/u-gas-01", headers=admin).json()
    assert (gas["org"], gas["industry"], gas["tags"]) == (
        "linyin-c3", "hazardous_chemicals", ["key_enterprise", "major_hazard_source"])
    assert client.get("/units/u-shop-01", headers=admin).json()["tags"] == []

    again = [send(client, "orgs", ORGS, admin).json(), send(client, "units", UNITS, admin).json()]
    assert again == [{"created": 0, "updated": 0, "unchanged": 2, "dry_run": False},
                     {"created": 0, "updated": 0, "unchanged": 3, "dry_run": False}]
    page = client.get("/units", params={"org": "linyin-c3"}, headers=admin).json()
    assert [u["id"] for u in page["data"]] == ["u-gas-01", "u-ktv-01"]
    assert client.get("/units/u-gas-01", headers=admin).json()["version"] == 1

    changed = UNITS.replace("示例加油站", "示例加油站（改名）")
    r = send(client, "units", changed, admin)
    assert r.json() == {"created": 0, "updated": 1, "unchanged": 2, "dry_run": False}
    gas = client.get("/units/u-gas-01", headers=admin).json()
    assert (gas["name"], gas["version"]) == ("示例加油站（改名）", 2)
    with world.services.db.read() as conn:
        entries = audit.history(conn, "unit:u-gas-01")
        assert [(e["action"], e["data"].get("name")) for e in entries] == [
            ("import", "示例加油站"), ("import", "示例加油站（改名）")]
        assert audit.history(conn, "unit:u-ktv-01")[-1]["seq"] == 1
        assert audit.history(conn, "org:linyin-c3")[0]["action"] == "import"
        assert audit.verify(conn).ok


def test_every_bad_row_is_reported_and_nothing_written(client: TestClient,
                                                       world: World) -> None:
    bad = ("id,name,org,industry,tags\n"
           "u-good-01,好单位,linyin-c1,,\n"
           "bad id!,坏编号,linyin-c1,,\n"
           "u-good-01,重复,linyin-c2,,\n"
           "u-lost-01,无处,nowhere,,\n")
    r = send(client, "units", bad, world.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "import_invalid"
    assert body["detail"] == "3 problem(s) in the units file"
    assert [(p["line"], p["field"], p["column"]) for p in body["problems"]] == [
        (3, "id", 1), (4, "id", 1), (5, "org", 3)]
    assert "first on line 2" in body["problems"][1]["message"]
    assert "unknown org 'nowhere'" in body["problems"][2]["message"]
    r = client.get("/units/u-good-01", headers=world.auth("admin"))
    assert r.status_code == 404


def test_xlsx_with_chinese_headers_imports_as_the_csv(client: TestClient,
                                                      world: World) -> None:
    imported(client, world)
    admin = world.auth("admin")
    rows: list[list[Any]] = [["东胜区生产经营单位台账"],  # a title row above the header
                             ["序号", "单位编号", "单位名称", "所属社区", "行业领域", "标签"]]
    for number, line in enumerate(UNITS.splitlines()[1:], start=1):
        rows.append([number, *line.split(",")])
    r = send(client, "units", xlsx(rows), admin, media=XLSX)
    assert r.json() == {"created": 0, "updated": 0, "unchanged": 3, "dry_run": False}, r.text

    rows.append([4, "u-new-01", "", "linyin-c1", None, None])  # no name: cell C5
    r = client.post("/units/import", headers=admin,
                    files={"file": ("台账.xlsx", xlsx(rows), XLSX)})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "1 problem(s) in 台账.xlsx"
    problem = r.json()["problems"][0]
    assert (problem["line"], problem["cell"], problem["header"]) == (6, "C6", "单位名称")

    orgs = xlsx([["组织编号", "名称", "层级", "上级"], ["linyin-c3", "林荫街道第三社区",
                                                      "community", "linyin"]])
    r = send(client, "orgs", orgs, admin, media=XLSX)
    assert r.json()["unchanged"] == 1, r.text


def test_multipart_csv_and_a_moved_org_carries_its_units(client: TestClient,
                                                         world: World) -> None:
    admin = world.auth("admin")
    moved = "id,name,level,parent\nlinyin-c1,林荫街道第一社区,community,linyin-c2\n"
    r = client.post("/orgs/import", headers=admin,
                    files={"file": ("orgs.csv", moved.encode(), CSV)})
    assert r.json() == {"created": 0, "updated": 1, "unchanged": 0, "dry_run": False}, r.text
    assert client.get("/orgs/linyin-c1", headers=admin).json()["path"] == (
        "/dongsheng/linyin/linyin-c2/linyin-c1/")
    page = client.get("/units", params={"org": "linyin-c2"}, headers=admin).json()
    assert {u["id"] for u in page["data"]} == {"u-chem-01", "u-mall-01", "u-site-01"}


def test_loops_and_unknown_parents_are_reported(client: TestClient, world: World) -> None:
    looped = ("id,name,level,parent\n"
              "a,甲,community,b\n"
              "b,乙,community,a\n"
              "c,丙,community,missing\n"
              "linyin,林荫街道,street,linyin-c1\n")
    r = send(client, "orgs", looped, world.auth("admin"))
    assert r.status_code == 422, r.text
    messages = [(p["line"], p["message"]) for p in r.json()["problems"]]
    assert messages == [
        (2, "org 'a' would be its own ancestor: a → b → a"),
        (3, "org 'b' would be its own ancestor: b → a → b"),
        (4, "unknown parent org 'missing'"),
        (5, "org 'linyin' would be its own ancestor: linyin → linyin-c1 → linyin")]


def test_an_org_token_imports_only_inside_its_subtree(client: TestClient,
                                                      world: World) -> None:
    locality = world.auth("locality")  # org linyin
    units = ("id,name,org\n"
             "u-inside-01,街道内,linyin-c1\n"
             "u-outside-01,别的街道,jiaotong-c1\n"
             "u-hotel-01,示例宾馆,linyin-c1\n")  # stored in jiaotong
    r = send(client, "units", units, locality)
    assert r.status_code == 422, r.text
    assert [(p["line"], p["field"]) for p in r.json()["problems"]] == [(3, "org"), (4, "id")]
    assert "outside your token's scope (org linyin)" in r.json()["problems"][0]["message"]
    r = send(client, "units", units.split("u-outside")[0], locality)
    assert r.json()["created"] == 1, r.text

    orgs = "id,name,level,parent\nx-root,根,county,\nx-other,别处,community,jiaotong\n"
    r = send(client, "orgs", orgs, locality)
    assert [p["message"] for p in r.json()["problems"]] == [
        "a root org (no parent) needs an admin token",
        "parent org 'jiaotong' is outside your token's scope (org linyin)"]


def test_a_unit_token_may_not_import(client: TestClient, world: World) -> None:
    r = send(client, "units", UNITS, world.auth("principal"))
    assert r.status_code == 403, r.text
    assert send(client, "orgs", ORGS, {}).status_code == 401


def test_dry_run_counts_and_writes_nothing(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    r = send(client, "orgs", ORGS, admin, dry_run="true")
    assert r.json() == {"created": 2, "updated": 0, "unchanged": 0, "dry_run": True}, r.text
    assert client.get("/orgs/linyin-c3", headers=admin).status_code == 404
    r = send(client, "units", UNITS, admin, dry_run="true")
    assert r.status_code == 422  # its orgs do not exist yet: the dry run says so
    with world.services.db.read() as conn:
        assert audit.history(conn, "org:linyin-c3") == []


def test_encodings_media_types_and_limits(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    gbk = "id,name,level,parent\nlinyin-c3,林荫街道第三社区,community,linyin\n".encode("gbk")
    r = send(client, "orgs", gbk, admin)
    assert r.status_code == 422 and "GBK" in r.json()["problems"][0]["message"], r.text
    assert "charset=gbk" in r.json()["problems"][0]["hint"]
    r = send(client, "orgs", gbk, admin, media=f"{CSV}; charset=gbk")
    assert r.json()["created"] == 1, r.text
    bom = "\ufeff" + UNITS.split("u-gas")[0] + "u-bom-01,有BOM,linyin-c1,,\n"
    assert send(client, "units", bom, admin).json()["created"] == 1

    r = send(client, "units", "id,name,org\nu-nul-01,空\x00字符,linyin-c1\n", admin)
    assert r.json()["problems"][0]["message"] == "contains a control character", r.text

    r = send(client, "units", "id,name\n", admin, media="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_media_type")
    r = send(client, "units", b"PK\x03\x04 not a zip", admin, media=XLSX)
    assert r.json()["problems"][0]["message"] == "not a readable XLSX file", r.text
    r = send(client, "units", b"a" * (20 * 1024 * 1024 + 1), admin)
    assert (r.status_code, r.json()["code"]) == (413, "import_too_large"), r.text


def paths_hold(world: World) -> int:
    """Every stored path is its parent's path plus its id; units, their cases and their
    obligations sit at their org's path. The number of unit obligations checked."""
    with world.services.db.read() as conn:
        orgs = {r.id: r for r in conn.execute(select(org_t))}
        for org in orgs.values():
            above = orgs[org.parent_id].path if org.parent_id else "/"
            assert org.path == f"{above}{org.id}/", org.id
        units = {r.id: r.org_path for r in conn.execute(select(unit_t))}
        for unit in conn.execute(select(unit_t)):
            assert unit.org_path == orgs[unit.org_id].path, unit.id
        for case in conn.execute(select(case_t)):
            assert case.org_path == units[case.unit_id], case.id
        checked = 0
        for ob in conn.execute(select(obligation_t)):
            checked += ob.subject_kind == "unit"
            expected = units[ob.subject_id] if ob.subject_kind == "unit" else (
                orgs[ob.subject_id].path)
            assert ob.org_path == expected, (ob.subject_id, ob.check_id)
        return checked


def test_moves_in_one_file_keep_every_path_in_step(client: TestClient, world: World) -> None:
    r = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": "special-action-2023-linyin", "type": "hazard", "unit": "u-chem-01",
        "data": {"source": "self_inspection", "grade": "major",
                 "industry": "hazardous_chemicals", "description": "报警装置失效",
                 "found_on": "2023-06-01"}})
    assert r.status_code == 201, r.text
    admin = world.auth("admin")
    # jiaotong moves under linyin-c1, which moves under the new linyin-c9; a new grid hangs
    # from jiaotong-c1, which is not in the file but moves along with jiaotong
    orgs = ("id,name,level,parent\n"
            "jc1-g1,交通街道第一社区第一网格,community,jiaotong-c1\n"
            "jiaotong,交通街道,street,linyin-c1\n"
            "linyin-c1,林荫街道第一社区,community,linyin-c9\n"
            "linyin-c9,林荫街道第九社区,community,linyin\n")
    r = send(client, "orgs", orgs, admin)
    assert r.json() == {"created": 2, "updated": 2, "unchanged": 0, "dry_run": False}, r.text
    assert client.get("/orgs/jc1-g1", headers=admin).json()["path"] == (
        "/dongsheng/linyin/linyin-c9/linyin-c1/jiaotong/jiaotong-c1/jc1-g1/")
    paths_hold(world)

    units = ("id,name,org\n"
             "u-chem-01,示例化工有限公司,linyin-c2\n"
             "u-hotel-01,示例宾馆,jc1-g1\n")  # no industry or tags column: both kept
    r = send(client, "units", units, admin)
    assert r.json() == {"created": 0, "updated": 2, "unchanged": 0, "dry_run": False}, r.text
    chem = client.get("/units/u-chem-01", headers=admin).json()
    assert (chem["org"], chem["industry"], chem["tags"]) == (
        "linyin-c2", "hazardous_chemicals", ["major_hazard_source"])
    assert paths_hold(world) > 0


def test_imported_units_owe_the_deployed_campaigns_checks(client: TestClient,
                                                         world: World) -> None:
    r = send(client, "units", "id,name,org,industry,tags\n"
             "u-new-01,示例新化工厂,linyin-c2,hazardous_chemicals,\n", world.auth("locality"))
    assert r.status_code == 200, r.text
    duties = client.get("/obligations", params={"unit": "u-new-01", "limit": 500},
                        headers=world.auth("locality")).json()["data"]
    # added on 1 June: it owes what falls due from then, the June inspection first
    inspections = [d["due"] for d in duties if d["check"] == "principal_inspection"]
    assert inspections[:2] == ["2023-06-30", "2023-07-31"]
    upcoming = client.get("/deadlines", params={"unit": "u-new-01"},
                          headers=world.auth("locality")).json()["data"]
    assert upcoming and all(d["roles"] == ["principal"] for d in upcoming
                            if d["kind"].startswith("check"))
