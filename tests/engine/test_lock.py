"""`synth lock` / `synth lock --check`: the locked fingerprint is `synth generate -n N`'s, an unchanged
recipe checks clean from the cache, a changed recipe is named with its first differing sample and
parameter (or payload), a moved library is named, and the cache stays next to the lock file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synth import api
from synth.cli import main

RECIPE = """name: lockme
scene: shapes
count: 500
seed: 11
params:
  width: 48
  height: 48
  num_objects: {randint: [1, 5]}
"""


def synth_json(*args: str) -> tuple[int, dict]:
    """Run the CLI in this process; (exit code, the --json result)."""
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    code = 0
    with redirect_stdout(out):
        try:
            main([*args, "--json"])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, json.loads(out.getvalue())


@pytest.fixture
def locked(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.yaml").write_text(RECIPE)
    code, result = synth_json("lock", "r.yaml", "-n", "6")
    assert code == 0
    return tmp_path, result


def test_lock_records_what_generate_makes(locked):
    tmp, result = locked
    [entry] = result["recipes"]
    assert entry["status"] == "locked" and entry["count"] == 6 and not entry["cached"]
    generated = api.generate(tmp / "r.yaml", str(tmp / "ws"), count=6, workers=1)
    assert entry["fingerprint"] == generated.fingerprint
    lock = json.loads((tmp / "synth.lock").read_text())["recipes"]["r.yaml"]
    assert lock["recipe_hash"] == generated.recipe_hash and lock["count"] == 6
    assert lock["scene"] == {"name": "shapes", "version": api.validate(tmp / "r.yaml").scene_cls.version}
    assert {"numpy", "opencv-python-headless", "pillow", "python"} <= set(lock["libraries"])
    rows = sorted(api.open_workspace(str(tmp / "ws")).manifest.to_table().to_pylist(), key=lambda r: r["index"])
    assert [s["params"] for s in lock["samples"]] == [json.loads(r["params"]) for r in rows]
    assert [s["payloads"]["image"] for s in lock["samples"]] == \
        [json.loads(r["payloads"])["image"]["hash"][:16] for r in rows]
    # the cache lives next to the lock file, and the scratch workspace is gone
    assert [p.name for p in (tmp / ".synth-cache").iterdir()] == ["lock"]
    assert [p.suffix for p in (tmp / ".synth-cache" / "lock").iterdir()] == [".json"]


def test_unchanged_recipe_checks_clean_from_the_cache(locked):
    tmp, _ = locked
    code, result = synth_json("lock", "--check")
    assert code == 0 and result["changed"] == 0
    [entry] = result["recipes"]
    assert entry["status"] == "ok" and entry["cached"] and entry["reasons"] == []
    code, result = synth_json("lock", "--check", "--no-cache")  # rendered again: the same bytes
    assert code == 0 and not result["recipes"][0]["cached"] and result["recipes"][0]["status"] == "ok"


def test_changed_param_names_the_recipe_first_sample_and_param(locked):
    tmp, _ = locked
    lock = json.loads((tmp / "synth.lock").read_text())["recipes"]["r.yaml"]
    before = [s["params"]["num_objects"] for s in lock["samples"]]
    expected = next(i for i, n in enumerate(before) if n != 3)  # the first sample that did not already have 3
    (tmp / "r.yaml").write_text(RECIPE.replace("{randint: [1, 5]}", "3"))
    code, result = synth_json("lock", "--check")
    assert code == 1 and result["changed"] == 1
    [entry] = result["recipes"]
    assert entry["recipe"] == "r.yaml" and entry["status"] == "changed" and not entry["cached"]
    assert entry["first_difference"] == {"index": expected, "what": "param num_objects",
                                         "old": before[expected], "new": 3}
    assert any(r.startswith("recipe changed (params.num_objects:") for r in entry["reasons"])
    assert any(r.startswith("bytes changed") for r in entry["reasons"])
    # re-locking accepts the change; the check is clean again
    assert synth_json("lock", "r.yaml")[0] == 0
    assert synth_json("lock", "--check")[0] == 0


def test_same_params_different_pixels_names_the_payload(locked):
    tmp, _ = locked
    (tmp / "r.yaml").write_text(RECIPE + "outputs: {image_format: jpg}\n")
    code, result = synth_json("lock", "--check")
    first = result["recipes"][0]["first_difference"]
    assert code == 1 and first["index"] == 0 and first["what"] == "payload image"


def test_moved_library_is_named(locked):
    tmp, _ = locked
    data = json.loads((tmp / "synth.lock").read_text())
    data["recipes"]["r.yaml"]["libraries"]["numpy"] = "1.0.0"
    (tmp / "synth.lock").write_text(json.dumps(data))
    code, result = synth_json("lock", "--check")
    reasons = result["recipes"][0]["reasons"]
    import numpy
    assert code == 1 and reasons[0] == f"library numpy 1.0.0 -> {numpy.__version__}"
    assert reasons[-1].startswith("bytes unchanged")


def test_library_on_one_side_only_is_a_note_when_the_bytes_agree(locked):
    tmp, _ = locked
    data = json.loads((tmp / "synth.lock").read_text())
    data["recipes"]["r.yaml"]["libraries"]["opencv-python"] = "5.0.0"  # the locked environment had the GUI build
    data["recipes"]["r.yaml"]["libraries"].pop("numpy")  # ... and this one lacks a library the lock named
    (tmp / "synth.lock").write_text(json.dumps(data))
    code, result = synth_json("lock", "--check")
    [entry] = result["recipes"]
    assert code == 0 and entry["status"] == "ok" and entry["reasons"] == []
    import numpy
    assert entry["notes"] == [f"library numpy not installed -> {numpy.__version__}", "library opencv-python 5.0.0 -> not installed"]
    data["recipes"]["r.yaml"]["fingerprint"] = "0" * 64  # with other bytes the notes become reasons
    (tmp / "synth.lock").write_text(json.dumps(data))
    code, result = synth_json("lock", "--check")
    reasons = result["recipes"][0]["reasons"]
    assert code == 1 and reasons[:2] == entry["notes"] and reasons[-1].startswith("bytes changed")


def test_check_exit_codes_from_the_command_line(locked):
    tmp, _ = locked
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    ok = subprocess.run([sys.executable, "-m", "synth.cli", "lock", "--check"], cwd=tmp, capture_output=True,
                        text=True, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("ok       r.yaml  (6 samples, cached"), ok.stdout
    (tmp / "r.yaml").write_text(RECIPE.replace("seed: 11", "seed: 12"))
    changed = subprocess.run([sys.executable, "-m", "synth.cli", "lock", "--check"], cwd=tmp,
                             capture_output=True, text=True, env=env)
    assert changed.returncode == 1
    assert changed.stdout.startswith("changed  r.yaml: recipe changed (seed: 11 -> 12)")
    assert "first differing sample 0, param num_objects" in changed.stdout
    (tmp / "synth.lock").write_text("not json")
    bad = subprocess.run([sys.executable, "-m", "synth.cli", "lock", "--check"], cwd=tmp, capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "not a synth lock file" in bad.stderr and "Traceback" not in bad.stderr


def test_shipped_ci_examples_run_the_check(locked):
    """The GitHub Actions workflow and both pre-commit entries run a command that passes on a clean lock."""
    import shlex

    from ruamel.yaml import YAML

    tmp, _ = locked
    root = Path(__file__).resolve().parents[2]
    yaml = YAML(typ="safe")
    steps = yaml.load((root / "examples/ci/synth-lock.yml").read_text())["jobs"]["lock-check"]["steps"]
    commands = [s["run"] for s in steps if "run" in s and s["run"].startswith("synth ")]
    hooks = yaml.load((root / ".pre-commit-hooks.yaml").read_text())
    local = yaml.load((root / "examples/ci/pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    commands += [h["entry"] for h in [*hooks, *local]]
    assert len(commands) == 3
    for command in commands:
        args = shlex.split(command)
        assert args[:3] == ["synth", "lock", "--check"]
        code, result = synth_json(*args[1:])
        assert code == 0 and result["recipes"][0]["status"] == "ok", command
