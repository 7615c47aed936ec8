"""Sweeps: grid/zip/random/sobol expansion, one tagged version per variant with its overrides recorded,
common random numbers, skip on re-run, resume after a kill, and every bad input of the issue."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth import api
from synth.errors import RecipeError
from synth.data.sweep import run_sweep, status
from synth.recipe.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[2]

BASE = """name: base
scene: shapes
count: 6
seed: 4
params:
  width: 48
  height: 48
  num_objects: {randint: [1, 4]}
  size: {uniform: [0.1, 0.3]}
  rotation_deg: {uniform: [0, 360]}
  background:
    brightness: {uniform: [0.2, 0.8]}
"""


def sweep_file(write_recipe, body: str) -> Path:
    write_recipe(BASE, "base.yaml")
    return write_recipe("name: sw\nrecipe: base.yaml\n" + body, "sweep.yaml")


def props(ws, version: int) -> dict:
    txn = ws.manifest.dataset().read_transaction(version)
    return dict(txn.transaction_properties)


def rows_of(ws, recipe_hash: str) -> dict[int, dict]:
    table = ws.manifest.to_table()
    return {r["index"]: r for r in table.to_pylist() if r["recipe_hash"] == recipe_hash}


def test_grid_variants_are_tagged_versions_with_overrides_and_common_seeds(write_recipe, ws_path):
    path = sweep_file(write_recipe, "mode: grid\nsweep:\n  params.size: [0.1, 0.2]\n"
                                    "  params.background.kind: [flat, noise]\n")
    sweep = load_sweep(path)
    assert [v.overrides for v in sweep.variants] == [
        {"params.size": a, "params.background.kind": b} for a in (0.1, 0.2) for b in ("flat", "noise")]
    ws = api.open_workspace(ws_path, create=True)
    outcomes = run_sweep(sweep, ws, workers=1)
    tags = ws.manifest.dataset().tags.list()
    for o in outcomes:
        assert tags[o.variant.tag]["version"] == o.version and o.new_rows == 6
        p = props(ws, o.version)
        assert p["sweep"] == "sw" and p["variant"] == o.variant.id
        assert json.loads(p["overrides"]) == o.variant.overrides
    assert ws.manifest.to_table().num_rows == 24
    # common random numbers: sample i of every variant has the same seed and the same unswept draws
    per_variant = [rows_of(ws, o.variant.recipe.hash) for o in outcomes]
    for i in range(6):
        rows = [v[i] for v in per_variant]
        assert len({r["seed"] for r in rows}) == 1
        params = [json.loads(r["params"]) for r in rows]
        for key in ("num_objects", "background.brightness"):  # per-sample draws (size, rotation are per object)
            assert len({p[key] for p in params}) == 1, key
        assert [p["size"] for p in params] == [0.1, 0.1, 0.2, 0.2]
        assert [p["background.kind"] for p in params] == ["flat", "noise", "flat", "noise"]


def test_rerun_skips_finished_variants_and_status_shows_them(write_recipe, ws_path, tmp_path):
    path = sweep_file(write_recipe, "mode: zip\ncount: 3\nsweep:\n  params.size: [0.1, 0.2]\n"
                                    "  params.rotation_deg: [0, 90]\n")
    ws = api.open_workspace(ws_path, create=True)
    first = run_sweep(load_sweep(path), ws, workers=1)
    versions = len(ws.manifest.versions())
    again = run_sweep(load_sweep(path), ws, workers=1)
    assert all(o.skipped and o.new_rows == 0 for o in again)
    assert [o.version for o in again] == [o.version for o in first]
    assert len(ws.manifest.versions()) == versions
    table = status(ws, "sw")
    assert [(r["state"], r["rows"]) for r in table] == [("done", 3), ("done", 3)]
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "sweep", "status", "-w", ws_path],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "params.size=0.1 params.rotation_deg=0" in proc.stdout and "2/2 variants done" in proc.stdout


def test_independent_seeds_differ_per_variant(write_recipe, ws_path):
    path = sweep_file(write_recipe, "mode: grid\ncount: 2\nseeds: independent\nsweep:\n  params.size: [0.1, 0.2]\n")
    sweep = load_sweep(path)
    assert len({v.recipe.seed for v in sweep.variants}) == 2
    ws = api.open_workspace(ws_path, create=True)
    a, b = (rows_of(ws, o.variant.recipe.hash) for o in run_sweep(sweep, ws, workers=1))
    assert a[0]["seed"] != b[0]["seed"]
    assert json.loads(a[0]["params"])["background.brightness"] != json.loads(b[0]["params"])["background.brightness"]


def test_random_and_sobol_draw_within_ranges(write_recipe):
    rnd = load_sweep(sweep_file(write_recipe, "mode: random\nn: 5\nseed: 3\nsweep:\n"
                                              "  params.size: {uniform: [0.1, 0.3]}\n"
                                              "  params.background.kind: [flat, noise]\n"))
    assert len(rnd.variants) == 5
    assert all(0.1 <= v.overrides["params.size"] <= 0.3 for v in rnd.variants)
    assert [v.overrides for v in rnd.variants] == [v.overrides for v in load_sweep(rnd.file).variants]
    sob = load_sweep(sweep_file(write_recipe, "mode: sobol\nn: 8\nsweep:\n  params.size: {uniform: [0.1, 0.3]}\n"
                                              "  params.num_objects: {randint: [1, 8]}\n"))
    sizes = sorted(v.overrides["params.size"] for v in sob.variants)
    assert len(sob.variants) == 8 and not sob.warnings
    # a Sobol sequence puts exactly one of 8 points in each eighth of the range
    assert [int((s - 0.1) / 0.2 * 8) for s in sizes] == list(range(8))
    assert all(1 <= v.overrides["params.num_objects"] <= 8 for v in sob.variants)


def test_sobol_n_not_a_power_of_two_is_rounded_up_with_a_warning(write_recipe, tmp_path):
    sweep = load_sweep(sweep_file(write_recipe, "mode: sobol\nn: 6\nsweep:\n  params.size: {uniform: [0.1, 0.3]}\n"))
    assert len(sweep.variants) == 8
    assert sweep.warnings == ["sobol n=6 is not a power of two: rounded up to 8"]
    path = sweep_file(write_recipe, "mode: sobol\nn: 3\nsweep:\n  params.size: {uniform: [0.1, 0.3]}\n")
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "sweep", str(path), "-n", "1", "-j", "1", "-w",
                           str(tmp_path / "ws")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "rounded up to 4" in proc.stderr
    assert proc.stdout.count("1 new samples") == 4


@pytest.mark.parametrize("body, line, expected", [
    ("sweep:\n  params.sise: [0.1, 0.2]\n", 4, "sweep.params.sise: scene 'shapes' has no parameter 'sise' "
                                              "(did you mean 'size'?)"),
    ("sweep:\n  params.size: [0.1, 7.0]\n", 4, "sweep.params.size: "),
    ("sweep:\n  colour: [red]\n", 4, "unknown key 'colour'"),
    ("mode: zip\nsweep:\n  params.size: [0.1, 0.2]\n  params.rotation_deg: [0, 10, 20]\n", 4,
     "zip mode needs lists of equal length, got params.size: 2, params.rotation_deg: 3"),
    ("mode: random\nsweep:\n  params.size: {uniform: [0.1, 0.3]}\n", 3, "random mode needs n"),
    ("mode: random\nn: 2\nsweep:\n  params.size: {uniform: [0.1, 9]}\n", 6, "outside the allowed range"),
    ("mode: sobol\nn: 4\nsweep:\n  params.size: {normal: [0.2, 0.1]}\n", 6, "sobol mode maps its points"),
    ("mode: grd\nsweep:\n  params.size: [0.1]\n", 3, "mode"),
    ("sweeps:\n  params.size: [0.1]\n", 3, "unknown key 'sweeps' (did you mean 'sweep'?)"),
    ("seeds: independent\nsweep:\n  seed: [1, 2]\n", 5, "do not sweep it too"),
])
def test_bad_sweep_files_are_clear_errors_with_exit_code_2(write_recipe, tmp_path, body, line, expected):
    path = sweep_file(write_recipe, body)
    with pytest.raises(RecipeError) as info:
        load_sweep(path)
    assert expected in str(info.value)
    assert info.value.file == str(path) and info.value.line == line
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "sweep", str(path), "-w", str(tmp_path / "ws")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {path}:{line}: ") and "Traceback" not in proc.stderr
    assert not (tmp_path / "ws").exists()  # nothing written on a failed validation


def test_value_outside_bounds_names_the_allowed_range(write_recipe):
    path = sweep_file(write_recipe, "sweep:\n  params.size: [0.1, 7.0]\n")
    with pytest.raises(RecipeError, match=r"outside the allowed range \[0\.01, 1\.0\] of shapes\.size \(value 7\.0"):
        load_sweep(path)


def test_killed_sweep_resumes_without_duplicates(write_recipe, tmp_path):
    path = sweep_file(write_recipe, "mode: grid\ncount: 400\nsweep:\n  params.size: [0.1, 0.15, 0.2]\n")
    ws_dir = tmp_path / "ws"
    cmd = [sys.executable, "-m", "synth.cli", "sweep", str(path), "-j", "1", "-w", str(ws_dir)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (ws_dir / "manifest.lance" / "_versions").exists() or not _staged(ws_dir):
        assert proc.poll() is None, f"finished before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    ws = api.open_workspace(str(ws_dir))
    table = ws.manifest.to_table()
    ids = table.column("sample_id").to_pylist()
    assert len(ids) == len(set(ids)) == 1200
    variant_versions = [v for v in ws.manifest.versions() if v.operation == "generate"]
    assert len(variant_versions) == 3 and all(len(v.tags) == 1 for v in variant_versions)
    fresh = api.open_workspace(str(tmp_path / "fresh"), create=True)
    run_sweep(load_sweep(path), fresh, workers=1)
    assert ws.manifest.fingerprint() == fresh.manifest.fingerprint()


def _staged(ws_dir: Path) -> bool:
    staging = ws_dir / "staging"
    return staging.exists() and any(f.startswith("shard-") for _, _, files in os.walk(staging) for f in files)


@pytest.mark.parametrize("name", ["sweep_lighting.yaml", "sweep_shapes.yaml"])
def test_shipped_sweep_files_validate(name):
    sweep = load_sweep(ROOT / "recipes" / name, count=2)
    assert sweep.variants and all(v.recipe.count == 2 for v in sweep.variants)
    assert len({v.recipe.hash for v in sweep.variants}) == len(sweep.variants)


def test_shipped_shapes_sweep_runs(tmp_path):
    ws = api.open_workspace(str(tmp_path / "ws"), create=True)
    outcomes = run_sweep(load_sweep(ROOT / "recipes" / "sweep_shapes.yaml", count=2), ws, workers=1)
    assert [o.new_rows for o in outcomes] == [2] * 6
