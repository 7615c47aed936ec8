"""The Ray executor on a local Ray with 2 CPUs: the same rows and blobs as the local executor, a worker
killed mid-shard is retried to the same result, and an unreachable address is a clear error."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import ray

from synth import api
from synth.engine.executors.ray import CRASH_HOOK

RECIPE = """name: {name}
scene: shapes
count: 24
seed: 5
params:
  width: 64
  height: 64
  num_objects: {{randint: [1, 4]}}
"""


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    marker = tmp_path_factory.mktemp("crash") / "crashed"
    # Ray's worker processes inherit the environment at init: arm the crash hook for one recipe only
    os.environ[CRASH_HOOK] = f"ray_crash:1:{marker}"
    with warnings.catch_warnings():  # Lance warns on any fork; Ray's fork+exec of its daemons is safe
        warnings.filterwarnings("ignore", message="lance is not fork-safe")
        ray.init(num_cpus=2, include_dashboard=False, logging_level="warning", _node_ip_address="127.0.0.1")
    yield marker
    ray.shutdown()
    os.environ.pop(CRASH_HOOK, None)


def blobs(ws: str) -> dict[str, bytes]:
    w = api.open_workspace(ws)
    return {d: w.store.get(d) for d in w.store.iter_digests()}


def rows_by_index(ws: str) -> list[dict]:
    table = api.open_workspace(ws).manifest.to_table()
    return sorted(table.to_pylist(), key=lambda r: r["index"])


def test_ray_gives_the_same_rows_and_blobs_as_local(local_ray, tmp_path, write_recipe):
    recipe = write_recipe(RECIPE.format(name="ray_same"))
    local = api.generate(recipe, str(tmp_path / "local"), workers=1)  # 1 vs 2 workers: tests/engine
    on_ray = api.generate(recipe, str(tmp_path / "ray"), workers=2, executor="ray")
    assert on_ray.rows == local.rows == 24
    assert on_ray.fingerprint == local.fingerprint
    assert rows_by_index(str(tmp_path / "ray")) == rows_by_index(str(tmp_path / "local"))
    assert blobs(str(tmp_path / "ray")) == blobs(str(tmp_path / "local"))
    assert not (tmp_path / "ray" / "staging").exists() or not any((tmp_path / "ray" / "staging").iterdir())


def test_worker_killed_mid_shard_is_retried_to_the_same_result(local_ray, tmp_path, write_recipe):
    marker = local_ray
    recipe = write_recipe(RECIPE.format(name="ray_crash"))
    on_ray = api.generate(recipe, str(tmp_path / "ray"), workers=2, executor="ray")
    assert marker.exists(), "the crash hook did not fire: the retry was not exercised"
    pid = int(marker.read_text().split()[0])
    assert pid != os.getpid()  # it was a Ray worker that died, not the driver
    local = api.generate(recipe, str(tmp_path / "local"), workers=1)
    assert on_ray.rows == 24
    assert on_ray.fingerprint == local.fingerprint
    ids = api.open_workspace(str(tmp_path / "ray")).manifest.to_table().column("sample_id").to_pylist()
    assert len(ids) == len(set(ids)) == 24
    assert blobs(str(tmp_path / "ray")) == blobs(str(tmp_path / "local"))


def test_sweep_on_ray_matches_the_local_sweep(local_ray, tmp_path, write_recipe):
    from synth.data.sweep import run_sweep
    from synth.recipe.sweep import load_sweep

    write_recipe(RECIPE.format(name="ray_sweep"), "base.yaml")
    path = write_recipe("name: rs\nrecipe: base.yaml\ncount: 8\nsweep:\n  params.num_objects: [1, 3]\n", "sweep.yaml")
    results = {}
    for executor in ("ray", "local"):
        ws = api.open_workspace(str(tmp_path / executor), create=True)
        outcomes = run_sweep(load_sweep(path), ws, workers=2 if executor == "ray" else 1, executor=executor)
        assert [o.new_rows for o in outcomes] == [8, 8]
        results[executor] = ws.manifest.fingerprint()
    assert results["ray"] == results["local"]
    assert ray.is_initialized()  # the sweep reused the caller's Ray instead of shutting it down


@pytest.mark.parametrize("address", ["ray://127.0.0.1:1", "no-such-host.invalid:6379", "ray://"])
def test_unreachable_address_is_a_clear_error(tmp_path: Path, write_recipe, address):
    write_recipe(RECIPE.format(name="ray_unreachable"))
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "generate", "recipe.yaml", "-q", "-w", "ws",
                           "--executor", "ray", "--address", address], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: --address:"), proc.stderr
    assert "Ray" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "ws" / "manifest.lance").exists()
