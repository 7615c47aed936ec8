"""Every bad recipe named in the engine issue: a clear message with file:line and field, exit code 2,
no traceback, nothing written."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """name: ok
scene: shapes
count: 3
params:
  width: 64
  height: 64
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "SYNTH_WORKSPACE": str(cwd / "ws")})


CASES = [
    ("unknown key", GOOD + "lightning: 3\n", "recipe.yaml:7", "unknown key 'lightning'"),
    ("did you mean", GOOD.replace("count:", "cuont:"), "recipe.yaml:3", "did you mean 'count'"),
    ("unknown param", GOOD + "  widht: 3\n", "recipe.yaml:7", "did you mean 'width'"),
    ("unknown scene", GOOD.replace("scene: shapes", "scene: shaeps"), "recipe.yaml:2", "did you mean 'shapes'"),
    ("unknown distribution", GOOD + "  num_objects: {unifrom: [1, 3]}\n", "recipe.yaml:7",
     "unknown distribution 'unifrom' (did you mean 'uniform'?)"),
    ("wrong arity", GOOD + "  border_margin: {uniform: [1]}\n", "recipe.yaml:7", "takes 2 arguments"),
    ("reversed bounds", GOOD + "  border_margin: {uniform: [0.3, 0.1]}\n", "recipe.yaml:7", "must not exceed"),
    ("negative std", GOOD + "  background.brightness: {normal: {mean: 0.5, std: -1}}\n", "recipe.yaml:7",
     "std must be >= 0"),
    ("normal exceeds bounds", GOOD + "  background.brightness: {normal: [0.5, 0.1]}\n", "recipe.yaml:7",
     "use truncnormal"),
    ("support exceeds bounds", GOOD + "  border_margin: {uniform: [0, 2]}\n", "recipe.yaml:7",
     "outside the allowed range [0, 1.0]"),
    ("constant out of bounds", GOOD.replace("width: 64", "width: 5"), "recipe.yaml:5", "greater than or equal to 16"),
    ("choice value out of bounds", GOOD + "  num_objects: {choice: [1, 2, 500]}\n", "recipe.yaml:7",
     "choice can draw 500"),
    ("float dist for int", GOOD + "  num_objects: {uniform: [1, 4]}\n", "recipe.yaml:7", "use randint or choice"),
    ("wrong type", GOOD.replace("width: 64", "width: wide"), "recipe.yaml:5", "valid integer"),
    ("count zero", GOOD.replace("count: 3", "count: 0"), "recipe.yaml:3", "count must be a positive integer"),
    ("count negative", GOOD.replace("count: 3", "count: -5"), "recipe.yaml:3", "count must be a positive integer"),
    ("yaml syntax", GOOD + "  height: [1, 2\n", "recipe.yaml:", "YAML syntax error"),
    ("python tag", GOOD + "description: !!python/object/apply:os.system ['touch pwned']\n", "recipe.yaml:7",
     "tag '!!python/object/apply:os.system' is not allowed"),
    ("empty file", "", "recipe.yaml", "the file is empty"),
    ("not a mapping", "- a\n- b\n", "recipe.yaml:1", "a recipe is a mapping"),
    ("split sum", GOOD + "split: {train: 0.5, test: 0.2}\n", "recipe.yaml:7", "must sum to 1"),
    ("missing extends", "extends: nowhere.yaml\nname: x\n", "recipe.yaml:1", "missing file"),
]


@pytest.mark.parametrize("label, text, where, message", CASES, ids=[c[0] for c in CASES])
def test_bad_recipe_gives_clear_error_and_writes_nothing(tmp_path, label, text, where, message):
    (tmp_path / "recipe.yaml").write_text(text)
    for command in (["validate", "recipe.yaml"], ["generate", "recipe.yaml", "-q"]):
        proc = run_cli(*command, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert where in proc.stderr and message in proc.stderr, proc.stderr
    assert not (tmp_path / "ws").exists()
    assert not (tmp_path / "pwned").exists()


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    proc = run_cli("validate", "a.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "'extends' cycle: a.yaml -> b.yaml -> a.yaml" in proc.stderr


def test_missing_recipe_file(tmp_path):
    proc = run_cli("validate", "nope.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "nope.yaml: file not found" in proc.stderr


def test_workspace_that_is_not_a_workspace(tmp_path):
    (tmp_path / "recipe.yaml").write_text(GOOD)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "holiday.jpg").write_text("x")
    proc = run_cli("generate", "recipe.yaml", "-q", cwd=tmp_path)
    assert proc.returncode == 2 and "is not a synth workspace" in proc.stderr
    assert sorted(os.listdir(tmp_path / "ws")) == ["holiday.jpg"]
    (tmp_path / "file_ws").write_text("x")
    proc = run_cli("generate", "recipe.yaml", "-q", "--workspace", str(tmp_path / "file_ws"), cwd=tmp_path)
    assert proc.returncode == 2 and "is a file, not a workspace" in proc.stderr


def test_extends_overrides_params(tmp_path):
    (tmp_path / "base.yaml").write_text(GOOD + "  num_objects: {randint: [1, 3]}\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\nparams:\n  num_objects: 9\n")
    from synth.api import validate
    r = validate(tmp_path / "child.yaml")
    assert r.name == "child" and r.count == 3
    assert r.specs["num_objects"].to_yaml() == 9 and r.specs["width"].to_yaml() == 64
