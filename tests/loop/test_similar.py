"""Similar samples on real handwritten digits: neighbours by the built-in features share the query's class,
the Lance vector index finds what the exact search finds, and Label Studio tasks are written."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_digits

from synth import api
from synth.data.importer import ImportOptions, import_data
from synth.errors import SynthError
from synth.loop.similar import export_label_studio, read_queries, similar

N = 400


@pytest.fixture(scope="module")
def digits_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict[str, str]]:
    root = tmp_path_factory.mktemp("similar")
    d = load_digits()
    for i in range(N):
        folder = root / "real" / str(d.target[i])
        folder.mkdir(parents=True, exist_ok=True)
        img = cv2.resize((d.images[i] / 16 * 255).astype(np.uint8), (28, 28), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"{i:04d}.png"), img)
    ws = api.open_workspace(str(root / "ws"), create=True)
    import_data(ws, "images", root / "real", options=ImportOptions(split={"train": 1.0}))
    rows = ws.manifest.to_table(None, columns=["sample_id", "labels"]).to_pylist()
    return ws, {r["sample_id"]: json.loads(r["labels"])["class"] for r in rows}


def test_neighbours_share_the_true_class(digits_ws: tuple[object, dict[str, str]]) -> None:
    ws, cls = digits_ws
    queries = sorted(cls)[:20]
    found = similar(ws, queries, None, k=10)
    assert len(found) == 200 and not any(n.sample_id in queries for n in found)
    same = np.mean([cls[n.sample_id] == cls[n.query] for n in found])
    assert same >= 0.8, same
    assert similar(ws, queries, None, k=10) == found  # deterministic


def test_the_vector_index_agrees_with_the_exact_search(digits_ws: tuple[object, dict[str, str]]) -> None:
    ws, cls = digits_ws
    queries = sorted(cls)[20:30]
    exact = {(n.query, n.sample_id) for n in similar(ws, queries, None, k=5)}
    indexed = similar(ws, queries, None, k=5, index_from=100)
    overlap = len(exact & {(n.query, n.sample_id) for n in indexed}) / len(exact)
    assert overlap >= 0.6, overlap
    assert list(Path(ws.root, "vectors").glob("*.lance"))  # built on demand, kept in the workspace


def test_label_studio_tasks_and_bad_queries(digits_ws: tuple[object, dict[str, str]], tmp_path: Path) -> None:
    ws, cls = digits_ws
    queries = sorted(cls)[:3]
    path = export_label_studio(ws, similar(ws, queries, None, k=4), tmp_path / "ls")
    tasks = json.loads(path.read_text())
    assert 4 <= len(tasks) <= 12 and all((tmp_path / "ls" / t["data"]["image"]).is_file() for t in tasks)
    assert {"sample_id", "similar_to", "distance", "image"} <= set(tasks[0]["data"])
    (tmp_path / "ids.txt").write_text("\n".join(queries) + "\n")
    assert read_queries(ws, str(tmp_path / "ids.txt")) == queries
    with pytest.raises(SynthError, match="not in the workspace"):
        similar(ws, ["nope"], None, k=3)
    with pytest.raises(SynthError, match="at least 1"):
        similar(ws, queries, None, k=0)


def test_the_command_tags_and_exports(digits_ws: tuple[object, dict[str, str]], tmp_path: Path) -> None:
    import subprocess
    import sys

    ws, cls = digits_ws
    queries = sorted(cls)[:2]
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "similar", "--to", ",".join(queries), "-k", "3",
                           "--tag", "near", "--label-studio", str(tmp_path / "ls"), "-w", ws.root, "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert len(res["neighbours"]) == 6 and res["tag"] == "near" and Path(res["label_studio"]).is_file()
    assert len(read_queries(ws, "near")) == len({n["sample_id"] for n in res["neighbours"]})
    bad = subprocess.run([sys.executable, "-m", "synth.cli", "similar", "--to", "x", "--tag", "../up", "-w",
                          ws.root], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
