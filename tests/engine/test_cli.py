"""The CLI verbs on a real workspace: generate --json, log, show, query, scenes, schema."""
from __future__ import annotations

import json
import os
import subprocess
import sys

RECIPE = """name: cli
scene: shapes
count: 12
params: {width: 64, height: 64, num_objects: {randint: [1, 3]}}
split: {train: 0.5, test: 0.5}
"""


def synth(*args, cwd, check=True):
    proc = subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "SYNTH_WORKSPACE": str(cwd / "ws")})
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_generate_log_show_query(tmp_path):
    (tmp_path / "r.yaml").write_text(RECIPE)
    out = json.loads(synth("generate", "r.yaml", "--json", "-j", "1", "-m", "first batch", cwd=tmp_path).stdout)
    assert out["version"] == 1 and out["rows"] == 12 and len(out["fingerprint"]) == 64
    log = json.loads(synth("log", "--json", cwd=tmp_path).stdout)
    assert [(v["version"], v["message"], v["rows"]) for v in log] == [(1, "first batch", 12)]
    assert log[0]["fingerprint"] == out["fingerprint"]
    show = json.loads(synth("show", "--json", cwd=tmp_path).stdout)
    assert show["rows"] == 12 and sum(show["splits"].values()) == 12
    assert set(show["params"]) == {"width", "height", "num_objects"}
    assert show["params"]["num_objects"]["min"] >= 1 and show["params"]["num_objects"]["max"] <= 3
    rows = json.loads(synth("query", "SELECT split, count(*) AS n FROM manifest GROUP BY 1 ORDER BY 1", "--json",
                            cwd=tmp_path).stdout)
    assert sum(r["n"] for r in rows) == 12 and {r["split"] for r in rows} <= {"train", "test"}
    human = synth("show", cwd=tmp_path).stdout
    assert "num_objects" in human and "fingerprint" in human
    bad = synth("query", "SELECT nope FROM manifest", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "query failed" in bad.stderr and "Traceback" not in bad.stderr
    missing = synth("show", "99", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "no version 99" in missing.stderr


def test_progress_bar_shows_rate(tmp_path):
    (tmp_path / "r.yaml").write_text(RECIPE)
    proc = synth("generate", "r.yaml", "-j", "1", cwd=tmp_path)
    assert "samples/s" in proc.stderr and "12/12" in proc.stderr


def test_scenes_and_schema(tmp_path):
    scenes = json.loads(synth("scenes", "--json", cwd=tmp_path).stdout)
    shapes = next(s for s in scenes if s["name"] == "shapes")
    width = next(p for p in shapes["params"] if p["path"] == "width")
    assert width["default"] == 256 and width["bounds"] == "16, 4096" and width["description"]
    schema = json.loads(synth("schema", cwd=tmp_path).stdout)
    assert {"name", "scene", "count", "seed", "params", "outputs", "split", "extends"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_no_workspace_yet(tmp_path):
    proc = synth("log", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "no workspace at" in proc.stderr
