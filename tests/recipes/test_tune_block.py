"""The `tune:` block: what a search may move, checked when the recipe loads (file:line on a bad range)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from synth.errors import RecipeError
from synth.recipe import load_recipe
from synth.recipe.tune import parse_tune

BASE = """name: tb
scene: shapes
count: 10
params:
  width: 64
  height: 64
  size: {uniform: [0.1, 0.3]}
tune:
"""


def write(tmp_path: Path, tune: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(BASE + tune)
    return path


def test_a_valid_block_gives_one_dimension_per_range(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, "  size: {uniform: [[0.05, 0.2], [0.25, 0.4]]}\n"
                                    "  num_objects: {randint: [1, [2, 5]]}\n"
                                    "  texture: {choice: {solid: [0, 1], noise: [0, 1]}}\n"
                                    "  rotation_deg: [0, 90]\n"))
    space = parse_tune(r.model.tune, r.lines, r.file)
    dims = {d.name: d for d in space.dimensions()}
    assert set(dims) == {"size:uniform.0", "size:uniform.1", "num_objects:randint.1", "texture:choice.solid",
                         "texture:choice.noise", "rotation_deg"}
    assert dims["num_objects:randint.1"].integer and not dims["size:uniform.0"].integer
    over = space.overrides({"size:uniform.0": 0.3, "size:uniform.1": 0.26, "num_objects:randint.1": 4,
                            "texture:choice.solid": 3.0, "texture:choice.noise": 1.0, "rotation_deg": 12.5})
    assert over["params.size"] == {"uniform": [0.26, 0.3]}  # sorted: never low > high
    assert over["params.num_objects"] == {"randint": [1, 4]}
    assert over["params.texture"] == {"choice": {"values": ["solid", "noise"], "weights": [0.75, 0.25]}}
    assert over["params.rotation_deg"] == 12.5
    assert r.hash == load_recipe(write(tmp_path, "  rotation_deg: [0, 10]\n")).hash  # tune is not identity


@pytest.mark.parametrize("tune, message", [
    ("  size: {uniform: [[0.05, 0.2], [0.25, 1.5]]}\n", "outside the allowed range"),
    ("  sise: {uniform: [[0.05, 0.2], [0.25, 0.4]]}\n", "did you mean 'size'"),
    ("  size: {uniform: [[0.3, 0.2], [0.25, 0.4]]}\n", "min 0.3 is above max 0.2"),
    ("  size: {uniform: [[0.1, 0.2]]}\n", "uniform takes 2 arguments"),
    ("  size: {cauchy: [[0, 1], [1, 2]]}\n", "cannot tune 'cauchy'"),
    ("  size: {uniform: [[0.1, 0.2], hello]}\n", "give a number or a [min, max] range"),
    ("  texture: {choice: {solid: [-1, 1], noise: [0, 1]}}\n", "weights must be >= 0"),
    ("  size: 3\n", "give [min, max] for a constant"),
])
def test_bad_ranges_are_errors_on_the_tune_line(tmp_path: Path, tune: str, message: str) -> None:
    with pytest.raises(RecipeError, match=re.escape(message)) as err:
        load_recipe(write(tmp_path, tune))
    assert err.value.line == 9 and err.value.field.startswith("tune.")
