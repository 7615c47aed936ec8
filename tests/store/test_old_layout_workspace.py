"""A workspace written by the flat layout (synth before the move into layers) opens and works: versions,
tags, label corrections, verify, exports, and new versions on top of it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synth import api
from synth.store.verify import verify

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "layout_v0"


@pytest.fixture()
def old_ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE / "workspace", ws)
    shutil.copy(FIXTURE / "shapes_tiny.yaml", tmp_path / "shapes_tiny.yaml")
    return ws


def test_history_tags_and_fingerprints_read_back(old_ws: Path) -> None:
    versions = api.log(str(old_ws))
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.fingerprint[:16] for v in versions] == ["4553a0831181f20a", "4e1f0bda75bc125e", "cf1375abeaab6581"]
    assert versions[0].tags == ["first"]
    info = api.show(str(old_ws))
    assert info["origins"] == {"real": 4, "synthetic": 6}
    assert info["classes"]["dog"] == 2 and info["classes"]["cat"] == 2  # the correction is current


def test_verify_and_export_the_old_workspace(old_ws: Path, tmp_path: Path) -> None:
    ws = api.open_workspace(str(old_ws))
    rep = verify(ws, None)
    assert rep.ok, rep.as_dict()
    res = api.export(tmp_path / "coco", "coco", ws, version="first")
    assert res["images"] == 6
    coco = json.loads((tmp_path / "coco" / "annotations.json").read_text())
    assert len(coco["annotations"]) == res["annotations"] > 0


def test_the_same_recipe_adds_nothing_and_a_larger_count_extends(old_ws: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "shapes_tiny.yaml"
    again = api.generate(recipe, str(old_ws), workers=1)
    assert again.new_rows == 0  # the rows the old layout wrote have the same ids and hashes today
    more = api.generate(recipe, str(old_ws), count=8, workers=1)
    assert more.new_rows == 2 and more.version == 4
    fresh = api.generate(recipe, str(tmp_path / "fresh"), workers=1)
    assert fresh.fingerprint == api.log(str(old_ws))[0].fingerprint  # same bytes as the old layout made

