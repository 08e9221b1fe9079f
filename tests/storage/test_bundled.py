"""`paicha serve` and the bundled campaigns: new ids are published, an upgrade's corrected text
too while every version came from the bundled folder, and never a text over a version an
office published through the API (written as the restart that used to revert it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paicha.files import bundled_dir
from paicha.serve import _print_bundled
from storage.bootstrap import Bundled, prepare
from storage.campaigns import API_SOURCE, VersionRow, latest
from tests.support.world import World

NATIONAL = "special-action-2023"
CHILDREN = ("special-action-2023-chongming", "special-action-2023-linyin")


def _restart(world: World, folder: Path | None = None) -> dict[str, Bundled]:
    """What a restart of serve does with the bundled folder (or `folder`)."""
    done = prepare(world.services.db, world.services.registry, folder or bundled_dir(),
                   now=world.clock())
    return {b.campaign_id: b for b in done}


def _newest(world: World, campaign_id: str) -> VersionRow:
    with world.services.db.read() as conn:
        found = latest(conn, campaign_id)
    assert found is not None
    return found


def _publish_through_the_api(world: World, campaign_id: str, old: str, new: str) -> VersionRow:
    text = _newest(world, campaign_id).text.replace(old, new)
    with world.services.db.write() as conn:
        row, created = world.services.registry.publish(conn, text, API_SOURCE, by="demo admin",
                                                       now=world.clock())
    assert created
    return row


def _edited_folder(tmp_path: Path, campaign_file: str, old: str, new: str) -> Path:
    folder = tmp_path / "bundled"
    shutil.copytree(bundled_dir(), folder, ignore=shutil.ignore_patterns("schema"))
    path = folder / campaign_file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_a_restart_keeps_the_version_published_through_the_api(world: World) -> None:
    api = _publish_through_the_api(world, NATIONAL, "title: 重大事故隐患专项排查整治2023行动",
                                   "title: 重大事故隐患专项排查整治2023行动（区修订）")
    assert api.number == 2
    done = _restart(world)
    assert _newest(world, NATIONAL).id == api.id
    assert not any(b.created for b in done.values())
    skipped = done[NATIONAL].skipped
    assert skipped is not None and "version 2 was published through the API" in skipped
    assert (done[NATIONAL].row.id, done[NATIONAL].created) == (api.id, False)
    # the children stay on the parent they were published against, told why
    for child in CHILDREN:
        assert _newest(world, child).number == 1
        reason = done[child].skipped
        assert reason is not None and f"its parent {NATIONAL} has version 2" in reason
    assert _restart(world)[NATIONAL].row.id == api.id  # and again


def test_an_upgrade_brings_a_corrected_bundled_text(world: World, tmp_path: Path) -> None:
    folder = _edited_folder(tmp_path, "three-year-plan-2024-2026.yaml",
                            "title: 安全生产治本攻坚三年行动",
                            "title: 安全生产治本攻坚三年行动（更正）")
    done = _restart(world, folder)
    upgraded = done["three-year-plan-2024-2026"]
    assert (upgraded.created, upgraded.row.number, upgraded.skipped) == (True, 2, None)
    assert upgraded.row.source == "campaigns/three-year-plan-2024-2026.yaml"
    assert not done[NATIONAL].created and done[NATIONAL].skipped is None  # unchanged
    # an older paicha started on the same database does not turn it back
    older = _restart(world)["three-year-plan-2024-2026"]
    assert not older.created and _newest(world, "three-year-plan-2024-2026").number == 2
    assert older.skipped is not None and "older than the newest version 2" in older.skipped


def test_a_corrected_bundled_parent_carries_its_bundled_children(world: World,
                                                                 tmp_path: Path) -> None:
    folder = _edited_folder(tmp_path, "special-action-2023.yaml",
                            "title: 重大事故隐患专项排查整治2023行动",
                            "title: 重大事故隐患专项排查整治2023行动（更正）")
    done = _restart(world, folder)
    parent = done[NATIONAL].row
    assert done[NATIONAL].created and parent.number == 2
    for child in CHILDREN:
        assert done[child].created, done[child]
        assert done[child].row.parent_version_id == parent.id


def test_a_child_edited_through_the_api_is_kept_while_its_bundled_parent_moves_on(
        world: World, tmp_path: Path) -> None:
    child = "special-action-2023-linyin"
    api = _publish_through_the_api(world, child, "title: 林荫街道", "title: （修订）林荫街道")
    folder = _edited_folder(tmp_path, "special-action-2023.yaml",
                            "title: 重大事故隐患专项排查整治2023行动",
                            "title: 重大事故隐患专项排查整治2023行动（更正）")
    done = _restart(world, folder)
    assert done[NATIONAL].created
    assert done[child].skipped is not None and not done[child].created
    assert _newest(world, child).id == api.id


def test_serve_says_what_it_skipped_and_why(world: World,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _publish_through_the_api(world, NATIONAL, "title: 重大事故隐患专项排查整治2023行动",
                             "title: 重大事故隐患专项排查整治2023行动（区修订）")
    _print_bundled(world.services.db.url, list(_restart(world).values()))
    err = capsys.readouterr().err
    assert (f"paicha: bundled {NATIONAL} not published, v2 stays the newest: version 2 was "
            f"published through the API (by demo admin") in err
    assert "paicha: bundled special-action-2023-linyin not published, v1 stays" in err
