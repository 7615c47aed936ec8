"""Every recipe in recipes/ validates and generates a small count, so the examples stay current."""
from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest

from synth import api
from synth.recipe.yamlio import load

ROOT = Path(__file__).resolve().parents[2]
RECIPES = [Path(p) for p in sorted(glob.glob(str(ROOT / "recipes" / "*.yaml")))]


def is_sweep(path: Path) -> bool:
    data, _ = load(path)
    return isinstance(data, dict) and "sweep" in data


@pytest.mark.parametrize("path", [p for p in RECIPES if not is_sweep(p)], ids=lambda p: p.name)
def test_recipe_validates_and_generates(path, tmp_path):
    recipe = api.validate(path)
    assert recipe.count > 0 and recipe.name
    result = api.generate(recipe, str(tmp_path / "ws"), count=2, workers=1, message=f"test {path.name}")
    assert result.new_rows == 2 and result.version == 1
    ws = api.open_workspace(str(tmp_path / "ws"))
    rows = ws.manifest.to_table().to_pylist()
    for row in rows:
        assert row["recipe_name"] == recipe.name and row["origin"] == "synthetic"
        params = json.loads(row["params"])
        assert set(params) == set(recipe.specs)  # every sampled parameter is recorded
        for payload in json.loads(row["payloads"]).values():
            assert "value" in payload or ws.store.exists(payload["hash"])


def test_there_are_recipes_for_every_registered_scene():
    from synth.core.scene import scene_names
    used = {api.validate(p).model.scene for p in RECIPES if not is_sweep(p)}
    assert set(scene_names()) <= used
